"""moto's server keeping its connections open, as AWS's endpoints do.

moto's `ThreadedMotoServer` runs on werkzeug's development server, which answers every
request with `Connection: close` and then waits up to 10 ms for stray bytes before it
lets the connection go: every AWS call of the fleet opened and closed a connection (a
burst of 300 submissions left over 2,000 sockets in TIME_WAIT) and paid a thread's start.
`MotoServer` serves the same moto application through a handler that reads the request's
body by its length and sends the answer with its length, so that one connection carries
the next request; a request with a chunked body, an HTTP/1.0 request without keep-alive,
or an error ends the connection after its answer, as before. A connection idle for
`KeepAliveHandler.timeout` seconds is closed (clients reopen one, as with AWS).
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

#: The open connections of each server (by id): a stopped server ends them, so that a client
#: never goes on talking to the state of a server that is gone.
_open: dict[int, set[Any]] = {}
_open_lock = threading.Lock()


class KeepAliveHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's `Connection: close`."""

    #: Seconds a kept-alive connection may stay idle before its thread lets it go.
    timeout = 300

    def setup(self) -> None:
        """Count the connection as open (`MotoServer.stop` ends it)."""
        super().setup()
        with _open_lock:
            _open.setdefault(id(self.server), set()).add(self.connection)

    def finish(self) -> None:
        """The connection is over."""
        with _open_lock:
            _open.get(id(self.server), set()).discard(self.connection)
        super().finish()

    def run_wsgi(self) -> None:
        """Serve one request; leave the connection open unless it asked otherwise."""
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            self.close_connection = True  # werkzeug reads it to its end; nothing may follow
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length > 0 else b"")
        answer: dict[str, Any] = {"written": []}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, headers
            return answer["written"].append

        try:
            result = self.server.app(environ, start_response)
            try:
                body = b"".join([*answer["written"], *result])
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception as exc:  # noqa: BLE001 - werkzeug's server answers a 500 the same way
            self.server.log("error", f"Error on request: {exc!r}")
            answer = {"status": "500 INTERNAL SERVER ERROR", "headers": [("Content-Type", "text/plain")]}
            body = b"Internal Server Error"
            self.close_connection = True
        code_text, _, reason = answer["status"].partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        names = set()
        for name, value in answer["headers"]:
            self.send_header(name, value)
            names.add(name.lower())
        bodiless = environ["REQUEST_METHOD"] == "HEAD" or 100 <= code < 200 or code in (204, 304)
        if "content-length" not in names and not bodiless:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Head and body in one write: two small writes meet Nagle's algorithm and the
        # client's delayed ACK on a kept-alive connection (a 40 ms stall a call).
        self._headers_buffer.append(b"\r\n")
        if body and not bodiless:
            self._headers_buffer.append(body)
        self.flush_headers()


class MotoServer:
    """moto's server (every service, one state) on a thread of this process, connections kept alive."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5000, wrap: Any = None) -> None:
        self.host, self.port = host, port
        #: Middleware around moto's application (`fleet.runtime.moto_split.ForwardDynamoDb`), or None.
        self.wrap = wrap
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen, and serve on a thread; return once the port takes connections."""
        app: Any = DomainDispatcherApplication(create_backend_app)
        if self.wrap is not None:
            app = self.wrap(app)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=KeepAliveHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking connections, close the port and end every open connection."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with _open_lock:
                connections = _open.pop(id(self._server), set())
            for connection in connections:
                with contextlib.suppress(OSError):  # closed meanwhile
                    connection.shutdown(socket.SHUT_RDWR)
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

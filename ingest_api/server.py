"""Serving the API over HTTP: the request limits, and the server's own errors in the one format.

What the app never sees (a request line or headers too large, an HTTP version it does not
speak, a client that stops sending) is answered by the server, in the same JSON as the
app's errors: `error_answer` writes that answer for any server (`fleet.runtime.gunicorn_app`
serves the fleet's API under gunicorn with it); `make_api_server` is the threaded Werkzeug
server the tests run in their own process. The numbers are `ingest_api.limits`; the
silence allowed is the `request_timeout` setting.
"""

from __future__ import annotations

import json
import selectors
import socket
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, ClassVar

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ingest_api.errors import error_document, http_error_code
from ingest_api.limits import HTTP_VERSIONS, MAX_HEADER_FIELD_BYTES, MAX_HEADER_FIELDS, MAX_REQUEST_LINE_BYTES
from ingest_api.security import API_CSP, SECURITY_HEADERS

_MESSAGES = {
    400: "The request line or a header is malformed.",
    408: "The request did not arrive in time.",
    414: f"The request line is longer than {MAX_REQUEST_LINE_BYTES} bytes.",
    431: f"The headers are more than {MAX_HEADER_FIELDS} fields, or a field is longer than {MAX_HEADER_FIELD_BYTES} bytes.",
    505: f"Only {' and '.join(HTTP_VERSIONS)} are served.",
}


def error_answer(status: int, message: str | None = None, head_only: bool = False) -> bytes:
    """The whole HTTP/1.1 answer of an error the server itself meets, JSON in the one format, closing."""
    # The standard library's message may quote the request; ours names the limit instead.
    text = _MESSAGES.get(status) or message or "Error."
    body = json.dumps(error_document(http_error_code(status), text), separators=(",", ":")).encode()
    headers = {
        "Date": formatdate(usegmt=True),
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
        **SECURITY_HEADERS,
        "Content-Security-Policy": API_CSP,
    }
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    head = [f"HTTP/1.1 {status} {phrase}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)


def make_api_server(host: str, port: int, app: Any, timeout: float) -> BaseWSGIServer:
    """A threaded Werkzeug server of `app` whose connections end after `timeout` seconds of silence."""
    handler = type("ApiRequestHandler", (ApiRequestHandler,), {"timeout": timeout})
    return make_server(host, port, app, threaded=True, request_handler=handler)


class ApiRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, bounded by `ingest_api.limits`, answering its own errors in JSON."""

    protocol_version = "HTTP/1.1"
    #: Seconds a read or a write may wait on the client (the socket's timeout); see `make_api_server`.
    timeout: ClassVar[float | None] = None

    def parse_request(self) -> bool:
        """Parse the request line and headers, refusing what the limits and versions do not allow."""
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.command, self.request_version, self.requestline = "", "", line
        if len(self.raw_requestline) > MAX_REQUEST_LINE_BYTES:
            self.send_error(414)
            return False
        if len(line.split()) == 2:  # `GET /`: HTTP/0.9, whose answer would have no status line
            self.send_error(505)
            return False
        try:
            parsed = super().parse_request()
        except TimeoutError:  # the headers stopped arriving
            self.send_error(408)
            return False
        if not parsed:
            return False
        if self.request_version not in HTTP_VERSIONS:
            self.send_error(505)
            return False
        fields = self.headers.items()
        if len(fields) > MAX_HEADER_FIELDS or any(len(k) + 2 + len(v) > MAX_HEADER_FIELD_BYTES for k, v in fields):
            self.send_error(431)
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer `code` in the one JSON error format, then close (the request was not read through)."""
        self.close_connection = True
        self.log_request(code)
        try:
            # Written whole: `send_response` writes no status line to a request taken as HTTP/0.9.
            self.wfile.write(error_answer(code, message, head_only=self.command == "HEAD"))
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            return  # the client is gone
        self._discard_input()

    def send_response(self, code: int, message: str | None = None) -> None:
        """Begin the app's answer; from now on, what the client still sends is only discarded."""
        self._close_sent = False
        super().send_response(code, message)
        # After the answer, Werkzeug discards unread input with one buffered read of 10 MB,
        # which waits for a client that has stopped sending to close; take what has arrived.
        if not isinstance(self.rfile, _WhatHasArrived):
            # A stand-in that delegates all but read() to the real reader, not a BufferedIOBase.
            self.rfile = _WhatHasArrived(self.rfile)  # type: ignore[assignment]

    def send_header(self, keyword: str, value: str) -> None:
        """Send a header; `Connection: close` once (the app may say it before Werkzeug does)."""
        if keyword.lower() == "connection" and value.strip().lower() == "close":
            if getattr(self, "_close_sent", False):
                return
            self._close_sent = True
        super().send_header(keyword, value)

    def _discard_input(self) -> None:
        """Read what the client still sends, briefly: a close with unread input resets the answer away."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            try:
                for _ in range(1000):
                    if not selector.select(timeout=0.05) or not self.connection.recv(65536):
                        return
            except OSError:
                return


class _WhatHasArrived:
    """A connection's input once its answer has begun: a read takes what has arrived, never waits."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of what has arrived (one receive at most); nothing once it timed out."""
        try:
            return self._reader.read1(size if size > 0 else 65536)
        except (OSError, ValueError):
            return b""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

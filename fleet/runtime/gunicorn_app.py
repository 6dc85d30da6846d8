"""The API in a process of its own under gunicorn: `python -m fleet.runtime.gunicorn_app --port 8080`.

gunicorn's threaded worker, bounded by `ingest_api.limits` and the `request_timeout`
setting, answering what the app never sees (a request line or headers too large or too
slow, a version it does not speak) in the one JSON error format (`ingest_api.server`).
"""

from __future__ import annotations

import argparse
import importlib
import re
import socket
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

from fleet.runtime.processes import API_THREADS, API_WORKERS
from ingest_api.limits import HTTP_VERSIONS, MAX_HEADER_FIELD_BYTES, MAX_HEADER_FIELDS, MAX_REQUEST_LINE_BYTES
from ingest_api.server import error_answer
from lambda_platform import settings

#: A version of the form HTTP/d.d that we do not serve is a 505; anything else there is a 400.
_VERSION = re.compile(r"HTTP/[0-9]+\.[0-9]+")
#: The API on the local stage; the tests name an app of their own on the fakes.
DEFAULT_APP = "fleet.runtime.local:local_app"


class HeadTimeout(Exception):
    """The request line or the headers stopped arriving (not an OSError: gunicorn would drop it silently)."""


class _TimedSocket(socket.socket):
    """A client connection whose blocking reads wait at most the request timeout.

    gthread reads a request on a socket without a timeout, so a client that stops
    sending would hold a thread for ever. While the head is read, silence is a
    `HeadTimeout` (answered 408 by the worker); in the body it is the `TimeoutError`
    that `ingest_api.bodies` answers 408.
    """

    request_timeout: float | None = None
    reading_head = True

    def setblocking(self, flag: bool) -> None:
        """Blocking means blocking for at most the request timeout."""
        if flag:
            self.settimeout(self.request_timeout)
        else:
            super().setblocking(False)

    def recv(self, size: int, *args: Any) -> bytes:
        """Receive; silence past the timeout while the head is read is a `HeadTimeout`."""
        try:
            return super().recv(size, *args)
        except TimeoutError:
            if self.reading_head:
                raise HeadTimeout() from None
            raise


class ApiWorker(ThreadWorker):
    """gunicorn's gthread worker: reads bounded in time, the server's own errors in JSON."""

    def enqueue_req(self, conn: Any) -> None:
        """Hand a connection to a thread, its socket first made a `_TimedSocket`."""
        if not isinstance(conn.sock, _TimedSocket):
            timed = _TimedSocket(fileno=conn.sock.detach())
            timed.request_timeout = settings.current().request_timeout
            timed.setblocking(False)  # as gthread left it, until a thread takes it
            conn.sock = timed
        super().enqueue_req(conn)

    def handle_request(self, req: Any, conn: Any) -> bool:
        """Serve one request: its head is read, so silence now is the body's (or the app's) to answer."""
        conn.sock.reading_head = False
        if req.version not in ((1, 0), (1, 1)):  # gunicorn serves any HTTP/1.x
            raise http_errors.InvalidHTTPVersion(req.version)
        try:
            return super().handle_request(req, conn)
        finally:
            conn.sock.reading_head = True

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Answer an error met outside the app in the one JSON format, and log it as gunicorn does."""
        status = error_status(exc)
        if status == 500:
            self.log.error("Error handling request", exc_info=exc)
        else:
            self.log.info("refused a request from %s: %s %s", (addr or ("",))[0], status, exc)
        try:
            client.sendall(error_answer(status))
        except OSError:
            self.log.debug("the client left before its error answer")


def error_status(exc: BaseException) -> int:
    """The HTTP status of an error gunicorn meets before or around the app."""
    if isinstance(exc, HeadTimeout):
        return 408
    if isinstance(exc, http_errors.LimitRequestLine):
        return 414
    if isinstance(exc, http_errors.LimitRequestHeaders):
        return 431
    if isinstance(exc, http_errors.InvalidHTTPVersion):
        # gunicorn names a version it parsed as a tuple, and one it could not as the text sent.
        version = getattr(exc, "version", "")
        if isinstance(version, tuple):
            return 505
        return 505 if _VERSION.fullmatch(str(version)) and version not in HTTP_VERSIONS else 400
    if isinstance(exc, http_errors.InvalidRequestLine):
        line = str(getattr(exc, "req", ""))
        # `GET /`: HTTP/0.9, whose answer would have no status line.
        return 505 if len(line.split()) == 2 else 400
    if isinstance(exc, http_errors.UnsupportedTransferCoding):
        return 501
    if isinstance(exc, http_errors.ParseException):
        return 400
    return 500


class _Input:
    """`wsgi.input` whose parse errors (a malformed chunk) are ValueErrors, as `ingest_api.bodies` expects."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, size: int | None = None) -> bytes:
        """Read from the body; a malformed body is a ValueError."""
        try:
            return self._stream.read(size)
        except http_errors.ParseException as exc:
            raise ValueError(str(exc)) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def with_plain_input(app: Callable) -> Callable:
    """The WSGI app with gunicorn's body reader wrapped (see `_Input`)."""

    def serve(environ: dict[str, Any], start_response: Callable) -> Any:
        environ["wsgi.input"] = _Input(environ["wsgi.input"])
        return app(environ, start_response)

    return serve


class ApiApplication(BaseApplication):
    """gunicorn, configured here rather than from a file or its command line."""

    def __init__(self, options: dict[str, Any], app_spec: str, url: str) -> None:
        self.options = options
        self.app_spec = app_spec
        self.url = url
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's configuration."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable:
        """Build the app in each worker: `module:factory`, called with no arguments."""
        from events.topology import TOPOLOGY
        from fleet.runtime.credentials import learn_account
        from fleet.runtime.local import serve_local_issuer
        from ingest_api.services import prepare
        from lambda_platform.resources import function_arn

        learn_account(lambda: function_arn(TOPOLOGY.api))  # as Zappa's context gives it on Lambda
        module, _, name = self.app_spec.partition(":")
        app = getattr(importlib.import_module(module), name)()
        prepare(app)  # the queue URLs, looked up once here rather than on a request
        serve_local_issuer(app, self.url)
        return with_plain_input(app)


def gunicorn_options(host: str, port: int, workers: int = API_WORKERS, threads: int = API_THREADS) -> dict:
    """gunicorn's settings for the API: the limits of `ingest_api.limits`, our worker, logs to stderr."""
    timeout = settings.current().request_timeout
    return {
        "bind": f"{host}:{port}",
        "worker_class": f"{__name__}.ApiWorker",
        "workers": workers,
        "threads": threads,
        "limit_request_line": MAX_REQUEST_LINE_BYTES,
        "limit_request_fields": MAX_HEADER_FIELDS,
        "limit_request_field_size": MAX_HEADER_FIELD_BYTES,
        # An idle kept-alive connection is held as long as a request may stay silent.
        "keepalive": max(1, int(timeout)),
        # A worker whose main loop is silent this long is killed (gthread's loop beats each second).
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "fleet-api",
        # A reload starts the new API beside the old on the same port, then stops the old.
        "reuse_port": True,
        "post_worker_init": _announce_ready,
    }


def _announce_ready(worker: Any) -> None:
    """A worker has built the app: the code imports, and the API serves."""
    from fleet.runtime.processes import READY, say

    say(f"{READY}: worker {worker.pid}")


def main(argv: list[str] | None = None) -> None:
    """Serve the API under gunicorn until SIGTERM (graceful) or SIGINT."""
    parser = argparse.ArgumentParser(prog="fleet.runtime.gunicorn_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=API_WORKERS)
    parser.add_argument("--threads", type=int, default=API_THREADS)
    parser.add_argument("--app", default=DEFAULT_APP, help="module:factory of the WSGI app")
    args = parser.parse_args(argv)
    from fleet.runtime.processes import exit_with_parent

    exit_with_parent()
    options = gunicorn_options(args.host, args.port, args.workers, args.threads)
    ApiApplication(options, args.app, f"http://{args.host}:{args.port}").run()


if __name__ == "__main__":
    main()

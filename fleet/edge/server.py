"""The local edge in a process of `fleet up`: `python -m fleet.edge.server --port 8081 --api-url URL`.

It runs under the API's gunicorn setup (`fleet.runtime.gunicorn_app`: its worker, its
limits, its errors in JSON) with one worker process, since the cache lives in that
process's memory; `EdgeServer` serves the same app on a thread, for the tests.

Both servers write a `Date` of their own on every answer, and gunicorn drops the app's as
if it were hop-by-hop: a cache must pass its origin's `Date` on (RFC 9110 §6.6.1; the age
of a stored answer is counted from it), so in the edge's server the app's `Date` stands
(the edge writes one on every answer).
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from events.topology import TOPOLOGY
from fleet.edge.origins import ApiOrigin, OriginStats, SiteOrigin, page_upload_origins
from fleet.edge.proxy import Edge

#: Threads of the edge's one worker: a download holds one for as long as it streams.
EDGE_THREADS = 16


def make_edge(api_url: str) -> Edge:
    """The topology's distribution over this stage's site bucket and the API at `api_url`."""
    from lambda_platform.resources import bucket_name

    if TOPOLOGY.site is None:
        raise RuntimeError("the topology declares no site: there is no distribution to serve")
    distribution = TOPOLOGY.site.distribution
    stats = OriginStats()
    site = SiteOrigin(bucket_name(distribution.site_bucket), stats)
    return Edge(distribution, site, ApiOrigin(api_url, stats), stats, upload_origins=page_upload_origins())


class _KeepTheAppsDate(WSGIRequestHandler):
    """Werkzeug's handler, less the `Date` http.server writes on every answer (the edge writes its own)."""

    def send_response(self, code: int, message: str | None = None) -> None:
        """The status line and `Server`; no `Date`."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


class EdgeServer:
    """The edge on a threaded Werkzeug server in this process (the tests' fleet)."""

    def __init__(self, api_url: str, host: str = "127.0.0.1", port: int = 0, edge: Edge | None = None) -> None:
        from werkzeug.serving import make_server

        self.edge = edge if edge is not None else make_edge(api_url)
        self._server = make_server(host, port, self.edge, threaded=True, request_handler=_KeepTheAppsDate)
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="edge", daemon=True)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.shutdown()
        self._thread.join(timeout=5)


def keep_the_apps_date() -> None:
    """In this process, gunicorn passes the app's `Date` on and writes its own only when the app sent none.

    gunicorn lists `date` among the hop-by-hop headers it drops from an app's answer
    (`gunicorn.util.hop_headers`) and always writes its own. Only the edge's process is
    changed: the API's answers are generated where they are served."""
    import gunicorn.http.wsgi as gunicorn_wsgi
    import gunicorn.util as gunicorn_util

    gunicorn_util.hop_headers.discard("date")
    default_headers = gunicorn_wsgi.Response.default_headers
    if getattr(default_headers, "keeps_the_apps_date", False):
        return

    def without_a_second_date(self: Any) -> list[str]:
        lines = default_headers(self)
        if any(name.lower() == "date" for name, _ in self.headers):
            lines = [line for line in lines if not line.lower().startswith("date:")]
        return lines

    without_a_second_date.keeps_the_apps_date = True  # type: ignore[attr-defined]
    gunicorn_wsgi.Response.default_headers = without_a_second_date


def serve(build: Callable[[], Edge], host: str, port: int, threads: int = EDGE_THREADS, name: str = "fleet-edge") -> None:
    """Serve the edge `build` makes under gunicorn (in its one worker, where its cache lives) until SIGTERM."""
    from gunicorn.app.base import BaseApplication

    from fleet.runtime.gunicorn_app import gunicorn_options, with_plain_input

    options = {**gunicorn_options(host, port, workers=1, threads=threads), "proc_name": name}

    class EdgeApplication(BaseApplication):
        """gunicorn, configured here, serving the edge."""

        def load_config(self) -> None:
            """Apply our options to gunicorn's configuration."""
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Callable:
            """Build the edge in the worker, where its cache lives."""
            return with_plain_input(build())

    keep_the_apps_date()
    EdgeApplication().run()


def main(argv: list[str] | None = None) -> None:
    """Serve the edge under gunicorn until SIGTERM."""
    from fleet.runtime.processes import exit_with_parent

    parser = argparse.ArgumentParser(prog="fleet.edge.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--api-url", default="http://127.0.0.1:8080")
    parser.add_argument("--threads", type=int, default=EDGE_THREADS)
    args = parser.parse_args(argv)
    exit_with_parent()
    serve(lambda: make_edge(args.api_url), args.host, args.port, args.threads)


if __name__ == "__main__":
    main()

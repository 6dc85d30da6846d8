"""The local edge in a process of `fleet up`: `python -m fleet.edge.server --port 8081 --api-url URL`.

It runs under the API's gunicorn setup (`fleet.runtime.gunicorn_app`: its worker, its
limits, its errors in JSON) with one worker process, since the cache lives in that
process's memory; `EdgeServer` serves the same app on a thread, for the tests.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from typing import Any

from events.topology import TOPOLOGY
from fleet.edge.origins import ApiOrigin, OriginStats, SiteOrigin
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
    return Edge(distribution, SiteOrigin(bucket_name(distribution.site_bucket), stats), ApiOrigin(api_url, stats), stats)


class EdgeServer:
    """The edge on a threaded Werkzeug server in this process (the tests' fleet)."""

    def __init__(self, api_url: str, host: str = "127.0.0.1", port: int = 0) -> None:
        from werkzeug.serving import make_server

        self.edge = make_edge(api_url)
        self._server = make_server(host, port, self.edge, threaded=True)
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


def _application(api_url: str, options: dict[str, Any]) -> Any:
    from gunicorn.app.base import BaseApplication

    from fleet.runtime.gunicorn_app import with_plain_input

    class EdgeApplication(BaseApplication):
        """gunicorn, configured here, serving the edge."""

        def load_config(self) -> None:
            """Apply our options to gunicorn's configuration."""
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Callable:
            """Build the edge in the worker, where its cache lives."""
            return with_plain_input(make_edge(api_url))

    return EdgeApplication()


def main(argv: list[str] | None = None) -> None:
    """Serve the edge under gunicorn until SIGTERM."""
    from fleet.runtime.gunicorn_app import gunicorn_options
    from fleet.runtime.processes import exit_with_parent

    parser = argparse.ArgumentParser(prog="fleet.edge.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--api-url", default="http://127.0.0.1:8080")
    parser.add_argument("--threads", type=int, default=EDGE_THREADS)
    args = parser.parse_args(argv)
    exit_with_parent()
    options = {**gunicorn_options(args.host, args.port, workers=1, threads=args.threads), "proc_name": "fleet-edge"}
    _application(args.api_url, options).run()


if __name__ == "__main__":
    main()

"""The local edge in front of the caching tests' origin: one catch-all behaviour, as `fleet up` serves it.

    python -m tests.conformance.edge --origin http://127.0.0.1:PORT [--port 0] [--port-file F] [--server gunicorn|werkzeug]

The behaviour is what a CloudFront distribution in front of any origin would declare: path
`*`, the origin as a custom origin, every method CloudFront accepts, the origin's
`Cache-Control` honoured (minimum and default TTL 0, maximum a year), and the suite's one
query-string name (`test`) in the key and forwarded. Under gunicorn (the default) it runs
exactly as `fleet up` runs the edge (`fleet.edge.server.serve`). It prints
`EDGE_URL=http://...` once it listens.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import threading

from events.edge import CacheBehaviour, Distribution
from fleet.edge.origins import ApiOrigin, OriginStats, SiteOrigin
from fleet.edge.proxy import Edge

#: Every method CloudFront accepts and forwards.
ALL_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
ONE_YEAR = 365 * 24 * 3600


def catch_all() -> Distribution:
    """One behaviour for every path, to the origin under test, the origin's Cache-Control honoured."""
    behaviour = CacheBehaviour(
        "*", origin="api", min_ttl=0, default_ttl=0, max_ttl=ONE_YEAR, query_strings=("test",), allowed_methods=ALL_METHODS
    )
    return Distribution("cache-tests", site_bucket="unused", behaviours=(behaviour,))


def make_edge(origin: str) -> Edge:
    """The edge of `catch_all` in front of `origin` (its site origin is never asked)."""
    stats = OriginStats()
    return Edge(catch_all(), SiteOrigin("unused", stats), ApiOrigin(origin, stats), stats)


def _announce(url: str, port_file: str | None) -> None:
    print(f"EDGE_URL={url}", flush=True)
    if port_file:
        with open(port_file + ".tmp", "w") as out:
            out.write(url + "\n")
        os.replace(port_file + ".tmp", port_file)


def main() -> None:
    """Serve the edge in front of `--origin` until SIGTERM."""
    parser = argparse.ArgumentParser(prog="tests.conformance.edge")
    parser.add_argument("--origin", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    args = parser.parse_args()
    if args.server == "werkzeug":
        from fleet.edge.server import EdgeServer

        server = EdgeServer(args.origin, args.host, args.port, edge=make_edge(args.origin))
        server.start()
        _announce(server.url, args.port_file)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
        server.stop()
        return
    from fleet.edge.server import serve

    port = args.port
    if port == 0:  # gunicorn binds a number: take a free one
        with socket.socket() as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    _announce(f"http://{args.host}:{port}", args.port_file)
    serve(lambda: make_edge(args.origin), args.host, port, name="cache-tests-edge")


if __name__ == "__main__":
    main()

"""The API on the in-memory fakes, as a factory a server process can import (`module:factory`)."""

from __future__ import annotations

from flask import Flask

from ingest_api import create_app
from lambda_platform.composition import Ports
from tests.fakes import fake_ports

#: Two stored articles of `create_blog_app`, First and Second (the edge's smuggling tests read them).
FIRST_ARTICLE = "11111111-1111-4111-8111-111111111111"
SECOND_ARTICLE = "22222222-2222-4222-8222-222222222222"


def create_fake_app() -> Flask:
    """The app with every port a fake: no AWS needed."""
    return create_app({"SERVICES": Ports(**fake_ports()), "LOCAL": True})


def create_blog_app() -> Flask:
    """The app on the fakes with two published articles, `FIRST_ARTICLE` and `SECOND_ARTICLE`."""
    from datetime import UTC, datetime

    from events.messages.blog import PublishArticle
    from workers.blog import store_article

    ports = fake_ports()
    received = datetime.now(UTC).isoformat()
    for article_id, title in ((FIRST_ARTICLE, "First"), (SECOND_ARTICLE, "Second")):
        store_article(PublishArticle(article_id, title, f"Text of {title}.", "Ada", True, received), ports["articles"])
    return create_app({"SERVICES": Ports(**ports), "LOCAL": True})


class GunicornApi:
    """`fleet.runtime.gunicorn_app` serving an app factory on a free loopback port, in its own process."""

    def __init__(self, app: str, env: dict[str, str]) -> None:
        import subprocess
        import sys
        from pathlib import Path

        from tests.conftest import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "fleet.runtime.gunicorn_app", "--port", str(self.port), "--app", app]
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(argv, env=env, cwd=root, stdout=subprocess.PIPE, text=True)

    def start(self) -> None:
        """Wait until a worker has built the app and serves."""
        for line in self.process.stdout:
            if line.startswith("ready"):
                return
        raise RuntimeError(f"gunicorn ended with exit code {self.process.wait()} before it was ready")

    def stop(self) -> None:
        """SIGTERM (a graceful stop) and wait."""
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()

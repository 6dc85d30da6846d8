"""The EdgeCache port's adapters: one CloudFront invalidation (a stub client), the local
edge's purge (a loopback server standing in for it), the fake, and the choice by stage."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from lambda_platform import settings
from lambda_platform.adapters.edge import PURGE_PATH, CloudFrontEdge, LocalEdgePurge, distribution_comment
from lambda_platform.composition import Ports
from lambda_platform.errors import RetryLater
from tests.fakes.edge import FakeEdgeCache


@pytest.fixture
def stage(monkeypatch):
    """Set FLEET_STAGE (and FLEET_EDGE_URL when given) for the settings read next."""

    def use(name: str, edge_url: str | None = None) -> settings.Settings:
        monkeypatch.setenv("FLEET_STAGE", name)
        if edge_url is None:
            monkeypatch.delenv("FLEET_EDGE_URL", raising=False)
        else:
            monkeypatch.setenv("FLEET_EDGE_URL", edge_url)
        settings.reset()
        return settings.current()

    yield use
    settings.reset()


# --- the setting and the choice by stage ----------------------------------------------------


def test_the_local_stage_purges_the_local_edge_on_its_default_port(stage):
    assert stage("local").edge_url == "http://127.0.0.1:8081"
    edge = Ports().edge
    assert isinstance(edge, LocalEdgePurge)
    assert edge.base_url == "http://127.0.0.1:8081"


def test_fleet_edge_url_moves_the_local_edge(stage):
    assert stage("local", "http://127.0.0.1:9191/").edge_url == "http://127.0.0.1:9191"
    assert Ports().edge.base_url == "http://127.0.0.1:9191"


def test_another_stage_has_no_edge_url_and_invalidates_cloudfront(stage):
    assert stage("prod").edge_url == ""
    assert isinstance(Ports().edge, CloudFrontEdge)  # and no client made until it is used


def test_the_distribution_is_found_by_its_physical_name(stage):
    stage("prod")
    assert distribution_comment() == settings.current().name("site")


# --- CloudFront ---------------------------------------------------------------------------


class StubCloudFront:
    """list_distributions in pages and create_invalidation, recording every call."""

    def __init__(self, pages: list[list[dict]], refuse: str | None = None) -> None:
        self.pages = pages
        self.refuse = refuse
        self.calls: list[tuple[str, dict]] = []

    def list_distributions(self, **kwargs):
        self.calls.append(("list_distributions", kwargs))
        index = int(kwargs.get("Marker", 0))
        more = index + 1 < len(self.pages)
        page = {"Items": self.pages[index], "IsTruncated": more}
        if more:
            page["NextMarker"] = str(index + 1)
        return {"DistributionList": page}

    def create_invalidation(self, **kwargs):
        self.calls.append(("create_invalidation", kwargs))
        if self.refuse:
            raise ClientError({"Error": {"Code": self.refuse, "Message": "no"}}, "CreateInvalidation")
        return {"Invalidation": {"Id": f"I{len(self.calls)}", "Status": "InProgress"}}

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def cloudfront(stage, monkeypatch):
    """A prod stage whose CloudFront client is a stub; set its pages before use."""
    stage("prod")
    stub = StubCloudFront([[]])
    monkeypatch.setattr("lambda_platform.aws.client", lambda service: stub if service == "cloudfront" else pytest.fail(service))
    return stub


def ours(distribution_id: str = "E123") -> dict:
    return {"Id": distribution_id, "Comment": distribution_comment()}


def test_one_invalidation_of_the_distribution_with_our_comment_found_on_a_later_page(cloudfront):
    cloudfront.pages = [[{"Id": "EOTHER", "Comment": "someone else's"}], [ours("E123")]]

    made = CloudFrontEdge().invalidate(["/web/entry.html", "/c/*"])

    assert cloudfront.names() == ["list_distributions", "list_distributions", "create_invalidation"]
    sent = cloudfront.calls[-1][1]
    assert sent["DistributionId"] == "E123"
    assert sent["InvalidationBatch"]["Paths"] == {"Quantity": 2, "Items": ["/web/entry.html", "/c/*"]}
    assert sent["InvalidationBatch"]["CallerReference"]
    assert made == "I3"


def test_the_distribution_is_looked_up_once_and_each_invalidation_has_its_own_reference(cloudfront):
    cloudfront.pages = [[ours()]]
    edge = CloudFrontEdge()

    edge.invalidate(["/a"])
    edge.invalidate(["/b"])

    assert cloudfront.names() == ["list_distributions", "create_invalidation", "create_invalidation"]
    references = {call[1]["InvalidationBatch"]["CallerReference"] for call in cloudfront.calls[1:]}
    assert len(references) == 2


def test_no_distribution_yet_invalidates_nothing_and_a_later_one_is_found(cloudfront, caplog):
    edge = CloudFrontEdge()
    with caplog.at_level(logging.INFO, logger="lambda_platform.adapters.edge"):
        assert edge.invalidate(["/a"]) is None
    assert cloudfront.names() == ["list_distributions"]
    assert "nothing invalidated" in caplog.text

    cloudfront.pages = [[ours("ENEW")]]
    assert edge.invalidate(["/a"]) is not None
    assert cloudfront.calls[-1][1]["DistributionId"] == "ENEW"


def test_no_paths_sends_nothing(cloudfront):
    assert CloudFrontEdge().invalidate([]) is None
    assert cloudfront.calls == []


def test_too_many_invalidations_in_progress_is_try_again_later(cloudfront):
    cloudfront.pages = [[ours()]]
    cloudfront.refuse = "TooManyInvalidationsInProgress"
    with pytest.raises(RetryLater):
        CloudFrontEdge().invalidate(["/a"])


def test_a_refused_invalidation_is_an_error(cloudfront):
    cloudfront.pages = [[ours()]]
    cloudfront.refuse = "InvalidArgument"
    with pytest.raises(ClientError):
        CloudFrontEdge().invalidate(["/a"])


# --- the local edge -------------------------------------------------------------------------


class PurgeServer:
    """A loopback server standing in for the local edge's purge endpoint."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[str, str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.received.append((self.path, self.headers["Content-Type"], json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def purge_server():
    made: list[PurgeServer] = []

    def start(status: int = 200) -> PurgeServer:
        made.append(PurgeServer(status))
        return made[-1]

    yield start
    for server in made:
        server.close()


def test_a_purge_posts_the_paths_as_json_to_the_edge(purge_server):
    edge = purge_server()

    assert LocalEdgePurge(edge.url).invalidate(["/v1/articles/a1", "/v1/articles*"]) is not None

    assert edge.received == [(PURGE_PATH, "application/json", {"paths": ["/v1/articles/a1", "/v1/articles*"]})]


def test_a_purge_when_no_edge_runs_is_logged_and_not_an_error(purge_server, caplog):
    edge = purge_server()
    url = edge.url
    edge.close()  # the port answers nothing now: connection refused

    with caplog.at_level(logging.INFO, logger="lambda_platform.adapters.edge"):
        assert LocalEdgePurge(url).invalidate(["/a"]) is None
    assert f"no local edge at {url}" in caplog.text


def test_a_purge_the_edge_refuses_is_an_error(purge_server):
    edge = purge_server(status=403)
    with pytest.raises(RuntimeError, match="403"):
        LocalEdgePurge(edge.url).invalidate(["/a"])


def test_no_paths_purges_nothing(purge_server):
    edge = purge_server()
    assert LocalEdgePurge(edge.url).invalidate([]) is None
    assert edge.received == []


# --- the fake -----------------------------------------------------------------------------


def test_the_fake_records_each_invalidation():
    edge = FakeEdgeCache()
    assert edge.invalidate(["/a", "/c/*"]) == "fake-1"
    assert edge.invalidate([]) is None
    edge.invalidate(["/b"])
    assert edge.invalidations == [("/a", "/c/*"), ("/b",)]
    assert edge.paths == ["/a", "/c/*", "/b"]


def test_the_fake_plays_an_absent_or_a_throttled_edge():
    assert FakeEdgeCache(absent=True).invalidate(["/a"]) is None
    throttled = FakeEdgeCache(throttled=1)
    with pytest.raises(RetryLater):
        throttled.invalidate(["/a"])
    assert throttled.invalidate(["/a"]) == "fake-1"

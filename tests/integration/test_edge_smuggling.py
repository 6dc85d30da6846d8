"""The edge frames what it sends: no viewer framing reaches the API's pooled keep-alive connections.

Raw bytes over real sockets, both ways: the viewer's requests are written by the test, the
API is gunicorn on the fakes (as `fleet up` serves it, keep-alive), and a recording origin
shows exactly what the edge puts on the wire. The poisoning sequence is the one a hostile
probe of `fleet up` found: a GET carrying a `Content-Length` and a body, whose length
covers the start of the next request the edge sends on the same pooled connection, so that
gunicorn reads a smuggled request line from a header of that next request.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

from tests.integration.api_on_fakes import FIRST_ARTICLE, SECOND_ARTICLE, GunicornApi


@pytest.fixture
def api(monkeypatch, tmp_path):
    """gunicorn serving the API on the fakes with two articles, First and Second."""
    from lambda_platform import settings

    monkeypatch.setenv("FLEET_STAGE", "local")
    monkeypatch.setenv("FLEET_STATE_DIR", str(tmp_path))
    settings.reset()
    server = GunicornApi("tests.integration.api_on_fakes:create_blog_app", dict(os.environ))
    server.start()
    yield server
    server.stop()
    settings.reset()


class RecordingOrigin:
    """An HTTP/1.1 origin on loopback that keeps its connections alive and records each request's bytes.

    Every request is answered `200` with a small JSON body, `no-store`, and whatever
    `extra` headers the test sets (raw lines, so a test can send hop-by-hop ones)."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.extra: list[str] = []
        #: Raw bytes sent before each answer (an interim `103 Early Hints`, say).
        self.interim = b""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffered = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffered:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}
                length = int(fields.get(b"content-length", b"0"))
                while len(buffered) < length:
                    buffered += conn.recv(65536)
                body, buffered = buffered[:length], buffered[length:]
                self.requests.append(head + b"\r\n\r\n" + body)
                answer = b'{"ok": true}'
                lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Cache-Control: no-store", *self.extra]
                conn.sendall(
                    self.interim + ("\r\n".join([*lines, f"Content-Length: {len(answer)}"]) + "\r\n\r\n").encode() + answer
                )

    def close(self) -> None:
        """Stop accepting connections."""
        self._listener.close()


@pytest.fixture
def recorder():
    origin = RecordingOrigin()
    yield origin
    origin.close()


def edge_in_front_of(url: str):
    """The topology's distribution served on a thread, its API origin at `url`."""
    from fleet.edge.server import EdgeServer

    server = EdgeServer(url)
    server.start()
    return server


@pytest.fixture
def edge(api):
    server = edge_in_front_of(api.url)
    yield server
    server.stop()


def viewer(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request's raw bytes to the edge; its status, headers (lower-case) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(raw)
        answer = b""
        while True:
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            if not status_line.split()[1].startswith("1"):
                break
            answer = body  # an interim answer (100 Continue): the final one follows
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, body
            body += chunk
    return int(status_line.split()[1]), headers, body


def request(method: str, target: str, *fields: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


#: The innocent-looking request whose header carries a request line.
CARRIER = request("GET", f"/v1/articles/{FIRST_ARTICLE}", f"x-a: GET /v1/articles/{SECOND_ARTICLE} HTTP/1.1")


def smuggled_offset(recorder: RecordingOrigin, api_url: str) -> int:
    """How many bytes of what the edge sends the API for `CARRIER` come before the smuggled request line."""
    probe = edge_in_front_of(recorder.url)
    try:
        assert viewer(probe.port, CARRIER)[0] == 200
    finally:
        probe.stop()
    sent = recorder.requests[-1]
    # The Host the edge writes is the origin's: the API's address may be longer or shorter.
    shift = len(api_url.removeprefix("http://")) - len(recorder.url.removeprefix("http://"))
    return sent.index(f"GET /v1/articles/{SECOND_ARTICLE}".encode()) + shift


def title(answer: tuple[int, dict[str, str], bytes]) -> str:
    return json.loads(answer[2])["title"]


def test_a_get_with_a_body_cannot_smuggle_a_request_and_poison_the_cache(edge, api, recorder):
    length = smuggled_offset(recorder, api.url)
    # Uncached (it carries a token): passed on at once, with its length and none of its body.
    poisoner = request("GET", "/v1/articles?limit=1", "Authorization: Bearer x", f"Content-Length: {length}", body=b"x" * length)
    refused = viewer(edge.port, poisoner)
    assert refused[0] == 400 and json.loads(refused[2])["error"]["code"] == "body_not_allowed"
    carried = viewer(edge.port, CARRIER)
    assert carried[0] == 200 and title(carried) == "First"
    # Every later reader of First gets First, from the cache.
    for _ in range(2):
        later = viewer(edge.port, request("GET", f"/v1/articles/{FIRST_ARTICLE}"))
        assert later[0] == 200 and title(later) == "First", later
    assert later[1]["x-cache"] == "Hit from fleet-edge"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_innocent_get_with_a_body_is_refused_and_the_next_viewer_is_served(edge, method):
    refused = viewer(edge.port, request(method, f"/v1/articles/{FIRST_ARTICLE}", "Content-Length: 2", body=b"{}"))
    assert refused[0] == 400 and refused[1]["content-type"] == "application/json"
    if method == "GET":
        assert json.loads(refused[2])["error"]["code"] == "body_not_allowed"
    chunked = viewer(edge.port, request(method, "/v1/articles", "Transfer-Encoding: chunked", body=b"2\r\n{}\r\n0\r\n\r\n"))
    assert chunked[0] == 400
    for _ in range(3):  # on the same pooled connection to the API
        served = viewer(edge.port, request("GET", f"/v1/articles/{SECOND_ARTICLE}"))
        assert served[0] == 200 and title(served) == "Second", served


def test_an_empty_get_with_a_zero_length_is_served(edge):
    served = viewer(edge.port, request("GET", f"/v1/articles/{FIRST_ARTICLE}", "Content-Length: 0"))
    assert served[0] == 200 and title(served) == "First"


def test_the_edge_frames_what_it_sends_and_drops_hop_by_hop_fields_both_ways(recorder):
    recorder.extra = ["Connection: x-hop", "X-Hop: secret", "Keep-Alive: timeout=5", "X-Kept: yes"]
    edge = edge_in_front_of(recorder.url)
    try:
        body = b'{"title": "T"}'
        posted = viewer(
            edge.port,
            request(
                "POST",
                "/v1/articles",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
                "Expect: 100-continue",
                "Connection: keep-alive, x-secret",
                "X-Secret: 1",
                "Proxy-Connection: keep-alive",
                "TE: trailers",
                body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
            ),
        )
        assert posted[0] == 200
        assert "x-hop" not in posted[1] and "keep-alive" not in posted[1] and posted[1]["x-kept"] == "yes"
        sent = recorder.requests[-1]
        head, _, forwarded = sent.partition(b"\r\n\r\n")
        fields = [line.split(b":", 1)[0].strip().lower() for line in head.split(b"\r\n")[1:]]
        assert forwarded == body
        assert fields.count(b"content-length") == 1 and f"content-length: {len(body)}".encode() in head.lower()
        for gone in (b"transfer-encoding", b"expect", b"x-secret", b"proxy-connection", b"te"):
            assert gone not in fields, (gone, head)
        assert b"content-type" in fields  # what is not hop-by-hop still goes

        viewer(edge.port, request("GET", "/v1/campaigns/x", "Content-Length: 0"))
        head = recorder.requests[-1].partition(b"\r\n\r\n")[0].lower()
        assert b"content-length" not in head and b"transfer-encoding" not in head
    finally:
        edge.stop()


def test_an_interim_answer_from_the_origin_is_not_taken_for_the_answer(recorder):
    recorder.interim = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    edge = edge_in_front_of(recorder.url)
    try:
        for _ in range(2):  # and the connection stays in step for the next request
            served = viewer(edge.port, request("GET", "/v1/campaigns/x"))
            assert served[0] == 200 and json.loads(served[2]) == {"ok": True}
            assert "link" not in served[1]
    finally:
        edge.stop()


@pytest.fixture
def gunicorn_edge(api):
    """The edge as `fleet up` runs it (gunicorn, keep-alive to viewers too), in front of the API."""
    import subprocess
    import sys

    from tests.conftest import free_port

    port = free_port()
    argv = [sys.executable, "-m", "fleet.edge.server", "--port", str(port), "--api-url", api.url]
    process = subprocess.Popen(argv, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "the edge did not start"
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=30)


def read_answer(sock: socket.socket, buffered: bytes) -> tuple[int, dict[str, str], bytes, bytes]:
    """One answer from a keep-alive connection (Content-Length or chunked); and what follows it."""

    def more() -> bytes:
        chunk = sock.recv(65536)
        assert chunk, buffered
        return chunk

    while b"\r\n\r\n" not in buffered:
        buffered += more()
    head, _, rest = buffered.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += more()
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            while len(rest) < size + 2:
                rest += more()
            body, rest = body + rest[:size], rest[size + 2 :]
            if size == 0:
                return int(status_line.split()[1]), headers, body, rest
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += more()
    return int(status_line.split()[1]), headers, rest[:length], rest[length:]


def test_the_poisoning_sequence_on_one_keep_alive_connection_to_the_edge_as_fleet_up_runs_it(gunicorn_edge, api, recorder):
    length = smuggled_offset(recorder, api.url)
    poisoner = request("GET", "/v1/articles?limit=1", "Authorization: Bearer x", f"Content-Length: {length}", body=b"x" * length)
    reader = request("GET", f"/v1/articles/{FIRST_ARTICLE}")
    with socket.create_connection(("127.0.0.1", gunicorn_edge), timeout=15) as sock:
        sock.sendall(poisoner + CARRIER + reader + reader)
        answers = []
        rest = b""
        for _ in range(4):
            status, headers, body, rest = read_answer(sock, rest)
            answers.append((status, headers, body))
    assert answers[0][0] == 400 and json.loads(answers[0][2])["error"]["code"] == "body_not_allowed"
    assert [title(a) for a in answers[1:]] == ["First", "First", "First"]
    assert answers[-1][1]["x-cache"] == "Hit from fleet-edge"

"""moto's server as the fleet runs it: connections kept open, closed when the request says so.

Raw bytes through `socket` and `http.client`, so that the test decides the version, the
framing and when to read; the answers are moto's own (its SQS over the query protocol).
"""

from __future__ import annotations

import http.client
import socket

import pytest

from bench.machine import free_port
from fleet.runtime.local import EmbeddedAws

LIST_QUEUES = b"Action=ListQueues&Version=2012-11-05"
#: moto routes a request by its signature's credential scope (it checks no signature here).
SIGNED = b"Authorization: AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": SIGNED.split(b": ", 1)[1].decode()}


@pytest.fixture
def moto():
    """The embedded AWS on a free port, for this test alone."""
    server = EmbeddedAws(port=free_port())
    server.start()
    yield server
    server.stop()


def test_one_connection_carries_many_calls(moto):
    """Ten calls over one HTTP/1.1 connection, each answered with its length and no `Connection: close`."""
    conn = http.client.HTTPConnection(moto.host, moto.port, timeout=10)
    try:
        for _ in range(10):
            conn.request("POST", "/", body=LIST_QUEUES, headers=FORM)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200 and b"ListQueuesResponse" in body
            assert response.getheader("Content-Length") == str(len(body))
            assert not response.will_close
        first = conn.sock
        conn.request("GET", "/moto-api/")
        assert conn.getresponse().read() and conn.sock is first
    finally:
        conn.close()


def read_until_closed(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes its end."""
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    return answer


def test_http_1_0_and_chunked_bodies_end_the_connection_after_their_answer(moto):
    """An HTTP/1.0 request, or a chunked body, is answered whole and then the server closes."""
    with socket.create_connection((moto.host, moto.port), timeout=10) as conn:
        conn.sendall(b"GET /moto-api/ HTTP/1.0\r\nHost: x\r\n\r\n")
        answer = read_until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 200") and b"Connection: close" in answer
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(LIST_QUEUES), LIST_QUEUES)
    head = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n%s\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" % SIGNED
    )
    with socket.create_connection((moto.host, moto.port), timeout=10) as conn:
        conn.sendall(head + chunked)
        answer = read_until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 200") and b"ListQueuesResponse" in answer


def test_expect_100_continue_gets_its_interim_answer_then_the_real_one(moto):
    """A client that waits for `100 Continue` (botocore's S3 uploads) gets it before the answer."""
    with socket.create_connection((moto.host, moto.port), timeout=10) as conn:
        conn.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n%s\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (SIGNED, len(LIST_QUEUES))
        )
        assert conn.recv(25).startswith(b"HTTP/1.1 100 Continue")
        conn.sendall(LIST_QUEUES + b"GET /moto-api/ HTTP/1.0\r\n\r\n")
        answer = read_until_closed(conn)
    assert answer.count(b"HTTP/1.1 200") == 2 and b"ListQueuesResponse" in answer


def test_a_stopped_server_ends_its_open_connections():
    """A kept-alive connection of a stopped server is closed, never served by moto state that is gone."""
    server = EmbeddedAws(port=free_port())
    server.start()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request("POST", "/", body=LIST_QUEUES, headers=FORM)
    assert conn.getresponse().read()
    server.stop()
    with pytest.raises((http.client.HTTPException, OSError)):  # refused on sending or on reading
        ask_again(conn)
    conn.close()


def ask_again(conn: http.client.HTTPConnection) -> None:
    """ListQueues again over the same connection."""
    conn.request("POST", "/", body=LIST_QUEUES, headers=FORM)
    conn.getresponse()

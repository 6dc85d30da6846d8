"""The embedded AWS in two processes: DynamoDB and its streams in one, every other service in the other.

moto serves every request under one GIL, and a submission's DynamoDB calls (the API's
transaction, the worker's write, the stream's reads, the email's idempotency claim) are
most of its CPU: on two cores, one moto is the fleet's bottleneck while the other core
idles. `fleet up` runs DynamoDB's moto on a port of its own and gives every process of
the fleet botocore's per-service endpoints (`AWS_ENDPOINT_URL_DYNAMODB`,
`AWS_ENDPOINT_URL_DYNAMODB_STREAMS`), so those calls go straight to it. No service of
moto's reaches into DynamoDB's state (SNS delivers to SQS, S3 notifies SQS: both in the
main process; the stream pollers are ours), so nothing is lost by the split.

A client that knows only `AWS_ENDPOINT_URL` (a test's, the AWS CLI) still reaches
DynamoDB: the main moto forwards DynamoDB's requests (by their `X-Amz-Target`) to the
other, and `POST /moto-api/reset` resets both. Under IAM enforcement the fleet keeps one
process: moto checks a call against the IAM state of its own process.
"""

from __future__ import annotations

import http.client
import threading
from typing import Any
from urllib.parse import urlsplit

#: The JSON targets of the requests that DynamoDB's moto serves.
TARGETS = ("DynamoDB_", "DynamoDBStreams_")
#: The variables, in botocore's convention, that send DynamoDB's calls to its own moto.
VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS")
#: Headers that belong to one connection, never forwarded.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"})


def endpoint_variables(url: str) -> dict[str, str]:
    """The environment that sends DynamoDB's and its streams' calls to the moto at `url`."""
    return dict.fromkeys(VARIABLES, url)


class ForwardDynamoDb:
    """WSGI middleware of the main moto: DynamoDB's requests to the other moto, the rest to `app`."""

    def __init__(self, app: Any, url: str, timeout: float = 120.0) -> None:
        self.app = app
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._local = threading.local()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Forward DynamoDB's requests and moto's reset; hand every other to moto."""
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGETS):
            return self._forward(environ, start_response)
        if environ.get("PATH_INFO") == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            self._send("POST", "/moto-api/reset", {}, b"")
        return self.app(environ, start_response)

    def _forward(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in HOP_BY_HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        status, reason, answer_headers, answer = self._send(environ["REQUEST_METHOD"], path, headers, body)
        kept = [(k, v) for k, v in answer_headers if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
        start_response(f"{status} {reason}", [*kept, ("Content-Length", str(len(answer)))])
        return [answer]

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, list, bytes]:
        """One request over this thread's kept-alive connection (opened again once if it was closed)."""
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request(method, path, body=body, headers={**headers, "Content-Length": str(len(body))})
                response = conn.getresponse()
                answer = response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                conn.close()
                self._local.conn = None
            return response.status, response.reason, response.getheaders(), answer
        raise AssertionError("unreachable")

"""An upload is the size it said: every presigned POST's policy takes exactly the declared size.

The worker's check of the stored object is in test_thumbnails_handler.py.
"""

from __future__ import annotations

import base64
import json

import boto3

from ingest_api import create_app
from lambda_platform.adapters.objects import S3UploadSigner
from tests.fakes import replaced
from tests.fakes.access import FakeUserFiles


def policy_conditions(fields: dict[str, str]) -> list:
    return json.loads(base64.b64decode(fields["policy"]))["conditions"]


def test_the_presigned_post_takes_exactly_the_declared_size(monkeypatch):
    # A real client signs offline; nothing is sent.
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url="http://127.0.0.1:9",
    )
    monkeypatch.setattr("lambda_platform.aws.client", lambda service, *a, **k: s3)
    post = S3UploadSigner("media").presign_post("uploads/x.jpg", "image/jpeg", 100, 900)
    ranges = [c for c in policy_conditions(post["fields"]) if isinstance(c, list) and c[0] == "content-length-range"]
    assert ranges == [["content-length-range", 100, 100]]


class SizedUserFiles(FakeUserFiles):
    """The users' folders fake, remembering the size each POST was signed for."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def presign_post(self, key, content_type, size, expires_in):
        self.sizes.append(size)
        return super().presign_post(key, content_type, size, expires_in)


class AnyoneIsAlice:
    def verify(self, token: str) -> dict:
        return {"sub": "alice", "token_use": "access"}


def test_a_users_file_is_signed_for_its_declared_size(services):
    files = SizedUserFiles()
    app = create_app(
        {"TESTING": True, "LOCAL": False, "SERVICES": replaced(services, user_files=files), "TOKEN_VERIFIER": AnyoneIsAlice()}
    )
    response = app.test_client().post(
        "/v1/me/files",
        json={"name": "notes.txt", "content_type": "text/plain", "content_length": 321},
        headers={"Authorization": "Bearer x"},
    )
    assert response.status_code == 201, response.get_json()
    assert files.sizes == [321]

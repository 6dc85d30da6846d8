"""Under enforcement, S3 form uploads and presigned URLs are authorized as S3 authorizes them.

One moto server of its own (`moto_iam_lab`), enforcing for the whole module; the role may
write and read under `uploads/` only, as the API's does under a campaign's prefix.
"""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from tests.integration.moto_iam_lab import allow, enforcing_lab

BUCKET = "media"


@pytest.fixture(scope="module")
def lab():
    with enforcing_lab() as made:
        operator = made.client("s3")
        operator.create_bucket(Bucket=BUCKET)
        operator.put_object(Bucket=BUCKET, Key="other/secret.txt", Body=b"secret")
        operator.put_object(Bucket=BUCKET, Key="uploads/a.txt", Body=b"hello")
        yield made


@pytest.fixture(scope="module")
def s3(lab):
    """The API role's S3 client: PutObject and GetObject under uploads/ only."""
    credentials = lab.role("api", allow(["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{BUCKET}/uploads/*"))
    return lab.client("s3", credentials, signature_version="s3v4")


def post(s3, key: str, body: bytes = b"hello", expires: int = 60, change=None) -> requests.Response:
    """A browser's form upload of `body` under a policy for 1-5 bytes of text/plain at `key`."""
    form = s3.generate_presigned_post(
        BUCKET,
        key,
        Fields={"Content-Type": "text/plain"},
        Conditions=[{"Content-Type": "text/plain"}, ["content-length-range", 1, 5]],
        ExpiresIn=expires,
    )
    fields = dict(form["fields"])
    if change:
        change(fields)
    return requests.post(form["url"], data=fields, files={"file": ("f.txt", body)}, timeout=10)


def code(answer: requests.Response) -> str:
    return answer.text.split("<Code>")[1].split("<")[0] if "<Code>" in answer.text else ""


def test_a_signed_form_upload_within_its_policy_is_stored(lab, s3):
    answer = post(s3, "uploads/form.txt")
    assert answer.status_code == 204
    assert lab.client("s3").get_object(Bucket=BUCKET, Key="uploads/form.txt")["Body"].read() == b"hello"


def test_a_forged_signature_is_refused(s3):
    def forge(fields):
        fields["x-amz-signature"] = ("0" if fields["x-amz-signature"][0] != "0" else "1") + fields["x-amz-signature"][1:]

    answer = post(s3, "uploads/forged.txt", change=forge)
    assert (answer.status_code, code(answer)) == (403, "SignatureDoesNotMatch")


def test_a_key_outside_the_roles_prefix_is_refused(s3):
    answer = post(s3, "other/x.txt")
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")


def test_a_file_too_big_for_the_policy_is_refused(s3):
    answer = post(s3, "uploads/big.txt", body=b"hello world")
    assert (answer.status_code, code(answer)) == (400, "EntityTooLarge")


def test_an_expired_policy_is_refused(s3):
    answer = post(s3, "uploads/late.txt", expires=-5)
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")
    assert "Policy expired" in answer.text


@pytest.mark.parametrize(
    "change",
    [
        lambda fields: fields.__setitem__("Content-Type", "image/png"),  # a condition broken
        lambda fields: fields.__setitem__("key", "uploads/elsewhere.txt"),  # the key changed after signing
        lambda fields: fields.__setitem__("acl", "public-read"),  # a field no condition covers
    ],
    ids=["content-type", "key", "extra-field"],
)
def test_a_form_that_breaks_its_policy_is_refused(s3, change):
    answer = post(s3, "uploads/changed.txt", change=change)
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")


def test_an_anonymous_form_is_refused(lab):
    answer = requests.post(f"{lab.url}/{BUCKET}", data={"key": "uploads/anon.txt"}, files={"file": ("f", b"x")}, timeout=10)
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")


def test_an_unsigned_call_is_refused_not_a_500(lab):
    # moto's server routes an unsigned request by its signature's scope; without one it lands on
    # S3, which refuses it as anonymous (AWS's DynamoDB: MissingAuthenticationTokenException).
    headers = {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}
    answer = requests.post(lab.url, data="{}", headers=headers, timeout=10)
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text


def test_a_presigned_get_is_checked_by_its_signature_expiry_and_the_signers_policy(s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "uploads/a.txt"}, ExpiresIn=60)
    answer = requests.get(url, timeout=10)
    assert (answer.status_code, answer.content) == (200, b"hello")
    tampered = requests.get(url[:-1] + ("0" if url[-1] != "0" else "1"), timeout=10)
    assert (tampered.status_code, code(tampered)) == (403, "SignatureDoesNotMatch")
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "uploads/a.txt"}, ExpiresIn=-5)
    answer = requests.get(expired, timeout=10)
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")
    elsewhere = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "other/secret.txt"}, ExpiresIn=60)
    answer = requests.get(elsewhere, timeout=10)
    assert (answer.status_code, code(answer)) == (403, "AccessDenied")
    assert requests.get(f"{s3.meta.endpoint_url}/{BUCKET}/uploads/a.txt", timeout=10).status_code == 403  # anonymous


def test_head_bucket_is_authorized_as_list_bucket(lab):
    # moto checks `s3:HeadBucket`, which is no IAM action: AWS authorizes HeadBucket as s3:ListBucket.
    s3 = lab.client("s3", lab.role("lister", allow("s3:ListBucket", f"arn:aws:s3:::{BUCKET}")))
    s3.head_bucket(Bucket=BUCKET)
    moto_named = lab.client("s3", lab.role("header", allow("s3:HeadBucket", f"arn:aws:s3:::{BUCKET}")))
    with pytest.raises(ClientError) as caught:
        moto_named.head_bucket(Bucket=BUCKET)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

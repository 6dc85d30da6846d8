"""S3 adapters: the ObjectStore and UploadSigner ports over one topology bucket."""

from __future__ import annotations

from typing import Any

from events.topology import TOPOLOGY
from lambda_platform import aws, settings
from lambda_platform.errors import NotFound, translate
from lambda_platform.ports import ObjectInfo
from lambda_platform.resources import bucket_name
from lambda_platform.retry import retrying

#: The bucket of uploads, thumbnails and users' folders.
MEDIA = TOPOLOGY.bucket("media")

_MISSING = ("404", "NoSuchKey", "NotFound")


class S3Objects:
    """The objects of a topology bucket (`media`); ClientErrors become Fleet's exceptions."""

    def __init__(self, logical: str = MEDIA.name) -> None:
        self.logical = TOPOLOGY.bucket(logical).name

    @property
    def bucket(self) -> str:
        """The physical bucket name in this stage."""
        return bucket_name(self.logical)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return retrying(lambda: getattr(aws.client("s3"), operation)(Bucket=self.bucket, **kwargs))
        except Exception as exc:
            raise translate(exc) from exc

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size and type, or None when there is no such object."""
        try:
            response = retrying(lambda: aws.client("s3").head_object(Bucket=self.bucket, Key=key))
        except Exception as exc:
            # HEAD has no body, so a missing object is a bare 404, not NoSuchKey.
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in _MISSING:
                return None
            raise translate(exc) from exc
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            content_type=response.get("ContentType"),
            etag=(response.get("ETag") or "").strip('"') or None,
        )

    def read(self, key: str) -> bytes:
        """The object's bytes; NotFound when it is gone."""
        body = self._call("get_object", Key=key)["Body"]
        try:
            data: bytes = body.read()
            return data
        finally:
            body.close()

    def write(self, key: str, data: bytes, content_type: str) -> None:
        """Create or replace an object, private."""
        self._call("put_object", Key=key, Body=data, ContentType=content_type)

    def move(self, key: str, new_key: str) -> None:
        """Copy then delete (S3 has no rename); nothing happens when the object is gone."""
        try:
            self._call("copy_object", Key=new_key, CopySource={"Bucket": self.bucket, "Key": key})
        except NotFound:
            return
        self._call("delete_object", Key=key)


class S3UploadSigner:
    """Presigned POSTs (SigV4) into a topology bucket."""

    def __init__(self, logical: str = MEDIA.name) -> None:
        self.logical = TOPOLOGY.bucket(logical).name

    def presign_post(self, key: str, content_type: str, size: int, expires_in: int) -> dict[str, Any]:
        """A POST whose policy fixes the exact key, the content type and the exact size."""
        bucket = bucket_name(self.logical)
        try:
            post = aws.client("s3").generate_presigned_post(
                Bucket=bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    # The size the client declared and no other: a grant is for one file.
                    ["content-length-range", size, size],
                ],
                ExpiresIn=expires_in,
            )
        except Exception as exc:
            raise translate(exc) from exc
        return {"url": post["url"], "fields": post["fields"]}

    def origins(self) -> tuple[str, ...]:
        """The origins these POSTs go to (for a page's CSP)."""
        return upload_origins(self.logical)


def upload_origins(logical: str = MEDIA.name) -> tuple[str, ...]:
    """The origins that presigned POSTs into a topology bucket go to (for a page's CSP)."""
    from urllib.parse import urlsplit

    current = settings.current()
    if current.endpoint_url:
        parts = urlsplit(current.endpoint_url)
        return (f"{parts.scheme}://{parts.netloc}",)
    bucket = bucket_name(logical)
    # boto3 addresses the bucket by virtual host, global or regional by the client's config.
    return (f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{current.region}.amazonaws.com")

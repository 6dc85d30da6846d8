"""`fleet publish`: the site's static files into the site bucket, then one invalidation of
exactly the paths that changed.

What changed is decided by content. ListObjectsV2 gives every stored object's ETag and size
(one call per 1,000 keys); the ETag of a single-part put, as every put here is, is the MD5
of its bytes. An object of the same size whose ETag is not that MD5 (a KMS-encrypted
bucket's, a multipart upload's) is asked for the sha256 that every put stores in its
metadata before it is sent again. Nothing changed: nothing is sent, not even an
invalidation.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from events.edge import Distribution, Site, StaticFiles
from events.topology import TOPOLOGY
from lambda_platform import aws
from lambda_platform.errors import error_code, translate
from lambda_platform.ports import EdgeCache
from lambda_platform.resources import bucket_name
from lambda_platform.retry import retrying

#: The repository's root: the topology names the site's folders relative to it.
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Cache-Control of a content-hashed asset: its name changes with its bytes, so a copy
#: anywhere is right forever.
IMMUTABLE = "public, max-age=31536000, immutable"

#: CloudFront takes at most 3,000 file paths in one invalidation; beyond, one wildcard.
MAX_INVALIDATION_PATHS = 3000

#: The metadata key of the sha256 that every put stores (`x-amz-meta-sha256`).
SHA256_METADATA = "sha256"

# Python's own table (never the machine's /etc/mime.types, so every machine agrees), with
# the types it lacks or has dated.
_TYPES = mimetypes.MimeTypes()
_OVERRIDES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".map": "application/json",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".md": "text/markdown",
}
# A compressed download is served as the archive it is: a Content-Encoding would make
# browsers and clients unpack it on the way.
_COMPRESSED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}
_TEXT = ("application/json", "application/manifest+json", "application/xml", "image/svg+xml")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class LocalFile:
    """One file of the tree as it would be stored: its key, digests and headers."""

    key: str
    path: Path
    size: int
    md5: str
    sha256: str
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class StoredObject:
    """One object of the site bucket as ListObjectsV2 describes it."""

    key: str
    etag: str
    size: int


@dataclass(frozen=True)
class Plan:
    """What a publish sends: the files to put, the keys to delete, and how many are left alone."""

    upload: tuple[LocalFile, ...]
    delete: tuple[str, ...]
    unchanged: int

    @property
    def changed_keys(self) -> tuple[str, ...]:
        """Every key put or deleted, sorted: what the invalidation is for."""
        return tuple(sorted([f.key for f in self.upload] + list(self.delete)))


@dataclass
class Published:
    """What a publish did."""

    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    invalidated: list[str] = field(default_factory=list)
    #: The invalidation's id; None when nothing changed or there is no edge to invalidate.
    invalidation: str | None = None


def content_type(name: str) -> str:
    """The Content-Type a file is served with; text types in UTF-8."""
    guessed, encoding = _TYPES.guess_type(name)
    if encoding:
        guessed = _COMPRESSED.get(encoding, "application/octet-stream")
    else:
        guessed = _OVERRIDES.get(PurePosixPath(name).suffix.lower()) or guessed or "application/octet-stream"
    if guessed.startswith("text/") or guessed in _TEXT:
        return f"{guessed}; charset=utf-8"
    return guessed


def cache_control(files: StaticFiles, relative: str) -> str:
    """Cache-Control of a file of `files` (`relative` to its folder): immutable for a year when
    its name matches the folder's `hashed_pattern` (a regex searched in it), HTML excepted,
    which is always found by a name that does not change; `no-store` for a `no_store` folder;
    else `max_age_seconds`."""
    if files.no_store:
        return "no-store"
    pattern = files.hashed_pattern
    if pattern and re.search(pattern, relative) and not content_type(relative).startswith("text/html"):
        return IMMUTABLE
    return f"public, max-age={files.max_age_seconds}"


def _digests(path: Path) -> tuple[str, str]:
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def _is_hidden(relative: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def local_files(site: Site, root: Path) -> dict[str, LocalFile]:
    """Every file the site publishes, by key; dotfiles (and dot-folders) are never published."""
    found: dict[str, LocalFile] = {}
    for files in site.files:
        folder = root / files.folder
        if not folder.is_dir():
            # Publishing an empty site would delete every object under the prefix.
            raise FileNotFoundError(f"the site's folder {files.folder} does not exist under {root}")
        for path in sorted(folder.rglob("*")):
            relative = PurePosixPath(path.relative_to(folder).as_posix())
            if _is_hidden(relative) or not path.is_file():
                continue
            key = f"{files.prefix}{relative}"
            if key in found:
                raise ValueError(f"two folders of the site publish {key}")
            md5, sha256 = _digests(path)
            found[key] = LocalFile(
                key=key,
                path=path,
                size=path.stat().st_size,
                md5=md5,
                sha256=sha256,
                content_type=content_type(relative.name),
                cache_control=cache_control(files, str(relative)),
            )
    return found


def plan(
    site: Site,
    local: Mapping[str, LocalFile],
    stored: Mapping[str, StoredObject],
    stored_sha256: Callable[[str], str | None],
) -> Plan:
    """Compare the tree with the bucket: what to put (new or changed bytes) and what to delete
    (stored under a prefix of the site, gone from the tree); keys outside every prefix are not
    the site's and are left alone. `stored_sha256(key)` is asked only when the listing cannot
    tell (same size, an ETag that is not the MD5)."""
    upload = []
    for key, file in sorted(local.items()):
        have = stored.get(key)
        if have is None or have.size != file.size or (have.etag != file.md5 and stored_sha256(key) != file.sha256):
            upload.append(file)
    prefixes = tuple(files.prefix for files in site.files)
    delete = tuple(sorted(key for key in stored if key not in local and key.startswith(prefixes)))
    return Plan(upload=tuple(upload), delete=delete, unchanged=len(local) - len(upload))


def _viewer_pattern(pattern: str) -> str:
    return pattern if pattern.startswith("/") else f"/{pattern}"


def invalidation_paths(keys: Iterable[str], distribution: Distribution) -> list[str]:
    """The viewer paths that may hold a cached copy of these keys: each key's own path and,
    for a behaviour that rewrites its paths to that key, the behaviour's pattern."""
    paths: set[str] = set()
    for key in keys:
        path = f"/{key}"
        # URL-encoded as CloudFront asks; a `*` in a name is a character, not a wildcard.
        paths.add(quote(path, safe="/-._~"))
        for behaviour in distribution.behaviours:
            if behaviour.origin == "site" and behaviour.rewrite == path:
                paths.add(_viewer_pattern(behaviour.path_pattern))
    if len(paths) > MAX_INVALIDATION_PATHS:
        return ["/*"]
    return sorted(paths)


class SiteBucket:
    """The site bucket's objects, as publishing reads and writes them."""

    def __init__(self, logical: str) -> None:
        self.logical = TOPOLOGY.bucket(logical).name

    @property
    def name(self) -> str:
        """The bucket's physical name in this stage."""
        return bucket_name(self.logical)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return retrying(lambda: getattr(aws.client("s3"), operation)(Bucket=self.name, **kwargs))
        except Exception as exc:
            raise translate(exc) from exc

    def list(self) -> dict[str, StoredObject]:
        """Every object of the bucket, by key (ListObjectsV2, 1,000 keys a call)."""
        found: dict[str, StoredObject] = {}
        token: dict[str, str] = {}
        while True:
            page = self._call("list_objects_v2", **token)
            for item in page.get("Contents", []):
                found[item["Key"]] = StoredObject(item["Key"], item.get("ETag", "").strip('"'), int(item["Size"]))
            if not page.get("IsTruncated"):
                return found
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def stored_sha256(self, key: str) -> str | None:
        """The sha256 a put stored in the object's metadata, or None (another tool's object, or gone)."""
        try:
            head = retrying(lambda: aws.client("s3").head_object(Bucket=self.name, Key=key))
        except Exception as exc:
            # HEAD has no body, so a missing object is a bare 404, not NoSuchKey.
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise translate(exc) from exc
        return head.get("Metadata", {}).get(SHA256_METADATA)

    def put(self, file: LocalFile) -> None:
        """Store one file with its headers, its MD5 checked by S3 and its sha256 in the metadata."""

        def put() -> Any:
            with file.path.open("rb") as body:
                return aws.client("s3").put_object(
                    Bucket=self.name,
                    Key=file.key,
                    Body=body,
                    ContentType=file.content_type,
                    CacheControl=file.cache_control,
                    ContentMD5=base64.b64encode(bytes.fromhex(file.md5)).decode("ascii"),
                    Metadata={SHA256_METADATA: file.sha256},
                )

        try:
            retrying(put)
        except Exception as exc:
            raise translate(exc) from exc

    def delete(self, keys: Iterable[str]) -> None:
        """Delete these keys, 1,000 a call; a key that failed to go is an error naming it."""
        keys = list(keys)
        for start in range(0, len(keys), 1000):
            objects = [{"Key": key} for key in keys[start : start + 1000]]
            answer = self._call("delete_objects", Delete={"Objects": objects, "Quiet": True})
            if answer.get("Errors"):
                failed = ", ".join(f"{e['Key']} ({e.get('Code')})" for e in answer["Errors"])
                raise RuntimeError(f"could not delete {failed} from {self.name}")


def publish(
    *,
    edge: EdgeCache,
    site: Site | None = TOPOLOGY.site,
    root: Path | None = None,
    report: Callable[[str], None] | None = None,
) -> Published:
    """Put the site's new and changed files (the folders under `root`, the repository's by
    default), delete the ones gone, then ask `edge` for one invalidation of exactly the paths
    that changed; nothing changed: no call but the listing."""
    if site is None:
        raise ValueError("the topology declares no site")
    say = report or (lambda line: None)
    bucket = SiteBucket(site.distribution.site_bucket)
    local = local_files(site, root or REPO_ROOT)
    todo = plan(site, local, bucket.list(), bucket.stored_sha256)
    done = Published(unchanged=todo.unchanged)
    for file in todo.upload:
        bucket.put(file)
        done.uploaded.append(file.key)
        say(f"uploaded {file.key} ({file.content_type}; {file.cache_control})")
    if todo.delete:
        bucket.delete(todo.delete)
        done.deleted.extend(todo.delete)
        for key in todo.delete:
            say(f"deleted {key}")
    if not todo.changed_keys:
        return done
    done.invalidated = invalidation_paths(todo.changed_keys, site.distribution)
    done.invalidation = edge.invalidate(done.invalidated)
    if done.invalidation is None:
        say("no distribution: nothing invalidated")
    else:
        say(f"invalidation {done.invalidation}: {' '.join(done.invalidated)}")
    return done

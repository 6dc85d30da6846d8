"""`fleet publish` without AWS: which files are the site's, their content types and
Cache-Control, what changed against the stored objects, and the paths one invalidation names."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from events.edge import CacheBehaviour, Distribution, Site, StaticFiles
from events.topology import TOPOLOGY
from fleet.publish import (
    IMMUTABLE,
    MAX_INVALIDATION_PATHS,
    StoredObject,
    cache_control,
    content_type,
    invalidation_paths,
    local_files,
    plan,
)

HASHED = r"\.[0-9a-f]{8}\.(js|css)$"

SITE = Site(
    files=(
        StaticFiles("web", prefix="web/", max_age_seconds=60, hashed_pattern=HASHED),
        StaticFiles("blog", prefix="blog/", max_age_seconds=30),
    ),
    distribution=TOPOLOGY.site.distribution,
)


def write(root: Path, relative: str, data: bytes = b"x") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def stored(key: str, data: bytes) -> StoredObject:
    """The listing's entry of an object put with these bytes (single part: ETag is the MD5)."""
    return StoredObject(key=key, etag=hashlib.md5(data).hexdigest(), size=len(data))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path, "web/entry.html", b"<!doctype html>")
    write(tmp_path, "web/app.0123abcd.js", b"js")
    write(tmp_path, "web/entry.css", b"css")
    write(tmp_path, "web/.DS_Store", b"junk")
    write(tmp_path, "web/.cache/entry.html", b"junk")
    write(tmp_path, "blog/index.html", b"<h1>Blog</h1>")
    write(tmp_path, "blog/a/deep.txt", b"deep")
    return tmp_path


# --- which files, typed and cached how ------------------------------------------------------


def test_local_files_are_keyed_under_their_prefix_and_skip_dotfiles(tree):
    files = local_files(SITE, tree)

    assert sorted(files) == [
        "blog/a/deep.txt",
        "blog/index.html",
        "web/app.0123abcd.js",
        "web/entry.css",
        "web/entry.html",
    ]
    entry = files["web/entry.html"]
    assert entry.md5 == hashlib.md5(b"<!doctype html>").hexdigest()
    assert entry.sha256 == hashlib.sha256(b"<!doctype html>").hexdigest()
    assert entry.size == len(b"<!doctype html>")


def test_a_declared_folder_that_is_missing_is_an_error_not_an_empty_site(tmp_path):
    write(tmp_path, "web/entry.html")
    with pytest.raises(FileNotFoundError, match="blog"):
        local_files(SITE, tmp_path)


def test_two_folders_publishing_the_same_key_is_an_error(tmp_path):
    write(tmp_path, "a/x.html")
    write(tmp_path, "b/x.html")
    site = Site(files=(StaticFiles("a", prefix="p/"), StaticFiles("b", prefix="p/")), distribution=SITE.distribution)
    with pytest.raises(ValueError, match=r"p/x\.html"):
        local_files(site, tmp_path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("entry.html", "text/html; charset=utf-8"),
        ("entry.css", "text/css; charset=utf-8"),
        ("entry.js", "text/javascript; charset=utf-8"),
        ("module.mjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("photo.png", "image/png"),
        ("photo.webp", "image/webp"),
        ("font.woff2", "font/woff2"),
        ("release.zip", "application/zip"),
        # A compressed download is the file it is: never Content-Encoding, never the tar inside.
        ("release.tar.gz", "application/gzip"),
        ("release.gz", "application/gzip"),
        ("release.bin", "application/octet-stream"),
        ("LICENSE", "application/octet-stream"),
    ],
)
def test_content_types(name, expected):
    assert content_type(name) == expected


def test_content_types_of_the_local_files(tree):
    files = local_files(SITE, tree)
    assert files["web/entry.html"].content_type == "text/html; charset=utf-8"
    assert files["web/app.0123abcd.js"].content_type == "text/javascript; charset=utf-8"


def test_hashed_assets_are_immutable_for_a_year_and_the_rest_for_their_max_age(tree):
    files = local_files(SITE, tree)

    assert IMMUTABLE == "public, max-age=31536000, immutable"
    assert files["web/app.0123abcd.js"].cache_control == IMMUTABLE
    assert files["web/entry.css"].cache_control == "public, max-age=60"
    assert files["web/entry.html"].cache_control == "public, max-age=60"
    assert files["blog/index.html"].cache_control == "public, max-age=30"


def test_html_is_never_immutable_even_when_its_name_matches_the_pattern():
    files = StaticFiles("web", prefix="web/", max_age_seconds=60, hashed_pattern=r"\.[0-9a-f]{8}\.\w+$")
    assert cache_control(files, "app.0123abcd.js") == IMMUTABLE
    assert cache_control(files, "index.0123abcd.html") == "public, max-age=60"


def test_the_topology_declares_a_site_whose_folders_publish_under_their_prefixes():
    prefixes = {files.folder: files.prefix for files in TOPOLOGY.site.files}
    assert prefixes["ingest_api/web"] == "web/"
    assert prefixes["site/downloads"] == "downloads/"


# --- what changed -------------------------------------------------------------------------


def test_nothing_changed_means_nothing_to_send(tree):
    files = local_files(SITE, tree)
    objects = {key: stored(key, f.path.read_bytes()) for key, f in files.items()}

    result = plan(SITE, files, objects, stored_sha256=_no_head)

    assert result.upload == ()
    assert result.delete == ()
    assert result.unchanged == len(files)
    assert result.changed_keys == ()


def test_a_changed_file_and_a_new_one_are_uploaded_and_nothing_else(tree):
    files = local_files(SITE, tree)
    objects = {key: stored(key, f.path.read_bytes()) for key, f in files.items()}
    objects["web/entry.html"] = stored("web/entry.html", b"<!doctype html><p>old")
    del objects["blog/a/deep.txt"]

    result = plan(SITE, files, objects, stored_sha256=_no_head)

    assert [f.key for f in result.upload] == ["blog/a/deep.txt", "web/entry.html"]
    assert result.delete == ()
    assert result.unchanged == len(files) - 2


def test_a_file_gone_from_the_tree_is_deleted_but_keys_outside_every_prefix_are_left_alone(tree):
    files = local_files(SITE, tree)
    objects = {key: stored(key, f.path.read_bytes()) for key, f in files.items()}
    objects["blog/old.html"] = stored("blog/old.html", b"old")
    objects["web/.DS_Store"] = stored("web/.DS_Store", b"junk")
    objects["elsewhere/kept.txt"] = stored("elsewhere/kept.txt", b"not ours")

    result = plan(SITE, files, objects, stored_sha256=_no_head)

    assert result.upload == ()
    assert result.delete == ("blog/old.html", "web/.DS_Store")
    assert result.changed_keys == ("blog/old.html", "web/.DS_Store")


def test_an_etag_that_is_not_the_md5_is_checked_against_the_stored_sha256(tree):
    """A KMS-encrypted or multipart object's ETag is no MD5: the metadata's sha256 decides."""
    files = local_files(SITE, tree)
    objects = {key: stored(key, f.path.read_bytes()) for key, f in files.items()}
    entry, css = files["web/entry.html"], files["web/entry.css"]
    objects[entry.key] = StoredObject(entry.key, etag="0" * 32, size=entry.size)
    objects[css.key] = StoredObject(css.key, etag="1" * 32 + "-2", size=css.size)
    asked: list[str] = []

    def sha256(key: str) -> str | None:
        asked.append(key)
        return entry.sha256 if key == entry.key else "another"

    result = plan(SITE, files, objects, stored_sha256=sha256)

    assert sorted(asked) == [css.key, entry.key]
    assert [f.key for f in result.upload] == [css.key]


def test_a_size_that_differs_is_a_change_without_asking_for_the_sha256(tree):
    files = local_files(SITE, tree)
    objects = {key: stored(key, f.path.read_bytes()) for key, f in files.items()}
    objects["web/entry.css"] = StoredObject("web/entry.css", etag="0" * 32, size=999)

    result = plan(SITE, files, objects, stored_sha256=_no_head)

    assert [f.key for f in result.upload] == ["web/entry.css"]


def _no_head(key: str) -> str | None:
    raise AssertionError(f"asked the stored sha256 of {key}: the listing should have decided")


# --- what one invalidation names ------------------------------------------------------------


def test_a_changed_file_is_invalidated_by_its_own_path():
    assert invalidation_paths(["web/entry.css"], TOPOLOGY.site.distribution) == ["/web/entry.css"]


def test_the_entry_page_is_invalidated_by_every_viewer_path_that_rewrites_to_it():
    paths = invalidation_paths(["web/entry.html"], TOPOLOGY.site.distribution)
    assert paths == ["/c/*", "/web/entry.html"]


def test_blog_pages_are_invalidated_by_their_rewritten_paths():
    paths = invalidation_paths(["blog/index.html", "blog/article.html"], TOPOLOGY.site.distribution)
    assert paths == ["/blog/", "/blog/a/*", "/blog/article.html", "/blog/index.html"]


def test_unsafe_characters_of_a_key_are_url_encoded_and_a_star_is_never_a_wildcard():
    paths = invalidation_paths(["downloads/big file*.zip"], TOPOLOGY.site.distribution)
    assert paths == ["/downloads/big%20file%2A.zip"]


def test_nothing_changed_invalidates_nothing():
    assert invalidation_paths([], TOPOLOGY.site.distribution) == []


def test_more_paths_than_one_invalidation_takes_become_one_wildcard():
    keys = [f"downloads/{n}.bin" for n in range(MAX_INVALIDATION_PATHS + 1)]
    assert invalidation_paths(keys, TOPOLOGY.site.distribution) == ["/*"]


def test_a_rewrite_to_a_file_of_an_api_behaviour_is_not_a_site_path():
    distribution = Distribution(
        "d",
        site_bucket="site",
        behaviours=(
            CacheBehaviour("/v1/*", origin="api", rewrite="/web/entry.html"),
            CacheBehaviour("*", origin="site"),
        ),
    )
    assert invalidation_paths(["web/entry.html"], distribution) == ["/web/entry.html"]

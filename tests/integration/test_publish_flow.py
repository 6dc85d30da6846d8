"""`fleet publish` against moto: the provisioned site bucket holds every file with its type,
Cache-Control and sha256; a second publish sends nothing; a change sends only the changed
file and one invalidation naming its paths; a file gone from the tree is deleted. The AWS
calls are counted by a hook on every `lambda_platform.aws` client."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from events.topology import TOPOLOGY
from fleet.cli import main
from fleet.publish import IMMUTABLE, REPO_ROOT, publish
from lambda_platform import aws, resources, settings
from lambda_platform.adapters.edge import CloudFrontEdge, distribution_comment
from tests.calls import counting_calls
from tests.conftest import free_port
from tests.fakes.edge import FakeEdgeCache

pytestmark = pytest.mark.integration

SITE = TOPOLOGY.site


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the site's folders: the real entry page and review console, two blog pages, one download."""
    shutil.copytree(REPO_ROOT / "ingest_api" / "web", tmp_path / "ingest_api" / "web")
    shutil.copytree(REPO_ROOT / "site" / "admin", tmp_path / "site" / "admin")
    blog = tmp_path / "site" / "blog"
    blog.mkdir(parents=True)
    (blog / "index.html").write_text("<!doctype html><h1>Articles</h1>")
    (blog / "article.html").write_text("<!doctype html><h1>An article</h1>")
    (blog / "blog.3f9a0c1d.js").write_text("console.log('blog')")
    downloads = tmp_path / "site" / "downloads"
    downloads.mkdir()
    (downloads / ".gitignore").write_text("*\n!.gitignore\n")
    (downloads / "fleet-1.0.tar.gz").write_bytes(bytes(range(256)) * 64)
    return tmp_path


@pytest.fixture
def calls(provisioned):
    """Counts of every AWS operation from now on."""
    with counting_calls() as counted:
        yield counted


@pytest.fixture
def distribution(provisioned) -> str:
    """The stage's distribution: provisioning's when it makes one, else a bare one with its Comment."""
    found = CloudFrontEdge().distribution_id()
    if found:
        return found
    bucket = resources.bucket_name(SITE.distribution.site_bucket)
    config = {
        "CallerReference": "publish-test",
        "Comment": distribution_comment(),
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [{"Id": "site", "DomainName": f"{bucket}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
        },
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": "cache"},
    }
    return aws.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def invalidations(distribution_id: str) -> list[list[str]]:
    """The paths of each invalidation of the distribution, oldest first."""
    cloudfront = aws.client("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    batches = [cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"] for item in listed]
    return [b["InvalidationBatch"]["Paths"]["Items"] for b in sorted(batches, key=lambda b: b["CreateTime"])]


def stored(key: str) -> dict:
    return aws.client("s3").head_object(Bucket=resources.bucket_name("site"), Key=key)


def stored_keys() -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=resources.bucket_name("site"))
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_publish_then_publish_again_then_change_one_file(tree, calls, distribution):
    edge = CloudFrontEdge()
    first = publish(edge=edge, root=tree)

    assert stored_keys() == [
        "admin/api.js",
        "admin/console.css",
        "admin/console.js",
        "admin/dom.js",
        "admin/index.html",
        "blog/article.html",
        "blog/blog.3f9a0c1d.js",
        "blog/index.html",
        "downloads/fleet-1.0.tar.gz",
        "web/entry.css",
        "web/entry.html",
        "web/entry.js",
    ]
    assert first.uploaded == stored_keys()
    page = stored("web/entry.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == "public, max-age=60"
    assert page["Metadata"]["sha256"]
    assert stored("web/entry.js")["ContentType"] == "text/javascript; charset=utf-8"
    download = stored("downloads/fleet-1.0.tar.gz")
    assert (download["ContentType"], download["CacheControl"]) == ("application/gzip", "public, max-age=3600")
    assert "ContentEncoding" not in download
    # One invalidation for all of it, the entry page's and blog pages' viewer paths included.
    (paths,) = invalidations(distribution)
    assert {"/c/*", "/web/entry.html", "/blog/", "/blog/index.html", "/blog/a/*", "/downloads/fleet-1.0.tar.gz"} <= set(paths)
    assert first.invalidation and sorted(paths) == first.invalidated

    calls.clear()
    again = publish(edge=edge, root=tree)

    assert dict(calls) == {"ListObjectsV2": 1}
    assert (again.uploaded, again.deleted, again.invalidation) == ([], [], None)
    assert again.unchanged == 12

    calls.clear()
    (tree / "site" / "blog" / "article.html").write_text("<!doctype html><h1>An edited one</h1>")
    changed = publish(edge=CloudFrontEdge(), root=tree)

    assert changed.uploaded == ["blog/article.html"]
    assert dict(calls) == {"ListObjectsV2": 1, "PutObject": 1, "ListDistributions": 1, "CreateInvalidation": 1}
    assert invalidations(distribution)[-1] == ["/blog/a/*", "/blog/article.html"]
    assert stored("blog/article.html")["CacheControl"] == "public, max-age=60"


def test_a_same_size_change_is_found_by_the_stored_sha256_and_a_file_gone_is_deleted(tree, calls, distribution):
    edge = CloudFrontEdge()
    publish(edge=edge, root=tree)
    calls.clear()

    css = tree / "ingest_api" / "web" / "entry.css"
    css.write_bytes(css.read_bytes()[::-1])  # the same size: the listing cannot tell
    (tree / "site" / "blog" / "index.html").unlink()
    done = publish(edge=edge, root=tree)

    assert (done.uploaded, done.deleted) == (["web/entry.css"], ["blog/index.html"])
    assert dict(calls) == {
        "ListObjectsV2": 1,
        "HeadObject": 1,  # the css's stored sha256
        "PutObject": 1,
        "DeleteObjects": 1,
        "CreateInvalidation": 1,
    }
    assert "blog/index.html" not in stored_keys()
    assert invalidations(distribution)[-1] == ["/blog/", "/blog/index.html", "/web/entry.css"]


def test_hashed_assets_are_immutable(tree, provisioned):
    hashed = tuple(
        replace(files, hashed_pattern=r"\.[0-9a-f]{8}\.js$") if files.prefix == "blog/" else files for files in SITE.files
    )
    publish(edge=FakeEdgeCache(), site=replace(SITE, files=hashed), root=tree)

    assert stored("blog/blog.3f9a0c1d.js")["CacheControl"] == IMMUTABLE
    assert stored("blog/index.html")["CacheControl"] == "public, max-age=60"
    assert stored("admin/index.html")["CacheControl"] == "no-store"  # the console: its calls carry a key
    assert stored("admin/console.js")["CacheControl"] == "no-store"


def test_fleet_publish_without_a_distribution_nor_a_local_edge_says_nothing_was_invalidated(tree, provisioned, monkeypatch):
    # The local stage purges the local edge: none listens on this port.
    monkeypatch.setenv("FLEET_EDGE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr("fleet.publish.REPO_ROOT", tree)
    settings.reset()

    first = CliRunner().invoke(main, ["publish"])
    assert first.exit_code == 0, first.output
    assert "uploaded web/entry.html (text/html; charset=utf-8; public, max-age=60)" in first.output
    assert "no distribution: nothing invalidated" in first.output
    assert first.output.strip().endswith("12 files, 12 uploaded, 0 deleted")

    second = CliRunner().invoke(main, ["publish"])
    assert second.exit_code == 0, second.output
    assert second.output.strip() == "12 files, 0 uploaded, 0 deleted"


def test_fleet_publish_of_a_missing_folder_is_an_error_that_deletes_nothing(tree, provisioned, monkeypatch):
    monkeypatch.setattr("fleet.publish.REPO_ROOT", tree)
    shutil.rmtree(tree / "site" / "blog")

    result = CliRunner().invoke(main, ["publish"])

    assert result.exit_code == 1
    assert "site/blog does not exist" in result.output
    assert stored_keys() == []

"""The review console in a real browser, through the local edge in front of one fleet shared by the module.

Campaign staff sign in with a scoped key, see its campaigns only, look at a flagged entry
beside the one it copies, review from the keyboard, download the export and run the
committed draw; a read-only key sees no review buttons and its PATCH is refused.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests

from .conftest import ARTIFACTS, Shots, open_page
from .console_data import entry_item, seed_campaign, store, with_photo

pytestmark = pytest.mark.browser

CAMPAIGN = "console"
XSS_NAME = '<img src=x onerror="window.hacked=1">'


@pytest.fixture(scope="module")
def world(aws_server, tmp_path_factory):
    """One fleet for the module: moto reset and provisioned, the API, the pollers, the edge with
    the site published; campaign `console` (30 entries with photos, a flagged pair, a hostile
    name), `secret` (another campaign), and keys: staff (read and write on `console`), a reader."""
    from events.models import Campaign
    from fleet.edge.server import EdgeServer
    from fleet.provision import provision
    from fleet.publish import publish
    from fleet.runtime.local import ApiServer, LocalRuntime
    from lambda_platform import aws, settings
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys
    from lambda_platform.adapters.edge import LocalEdgePurge
    from lambda_platform.adapters.tables import DynamoCampaigns

    requests.post(f"{aws_server.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", aws_server.endpoint_url)
        env.setenv("FLEET_STAGE", "local")
        env.setenv("FLEET_VISIBILITY_TIMEOUT", "1")
        env.setenv("FLEET_CAMPAIGN_CACHE_SECONDS", "0")
        env.setenv("FLEET_RATE_PER_CLIENT", "100000")
        env.setenv("FLEET_STATE_DIR", str(tmp_path_factory.mktemp("fleet-state")))
        env.setenv("FLEET_RUN_DIR", str(tmp_path_factory.mktemp("fleet-run")))
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        settings.reset()
        aws.reset()
        provision()
        api = ApiServer(port=0)
        api.start()
        runtime = LocalRuntime()
        runtime.start()
        edge = EdgeServer(api.url)
        edge.start()
        env.setenv("FLEET_EDGE_URL", edge.url)
        settings.reset()
        publish(edge=LocalEdgePurge(edge.url))
        try:
            now = datetime.now(UTC)
            for cid in (CAMPAIGN, "secret"):
                DynamoCampaigns().put(Campaign(cid, f"Campaign {cid}", now - timedelta(days=1), now + timedelta(days=7), 1))
            entries = seed_campaign(CAMPAIGN, 28, sizes=(256,))
            start = now - timedelta(hours=1)
            original = with_photo(entry_item(CAMPAIGN, 100, start, first_name="Olga", last_name="Original"), image_seed=7)
            copy = with_photo(entry_item(CAMPAIGN, 101, start, first_name="Carl", last_name="Copy"), image_seed=7)
            copy["duplicate_receipt"] = {original["submission_id"]}
            hostile = entry_item(CAMPAIGN, 102, start, first_name=XSS_NAME, last_name="", answers={"store": "<b>bold</b>"})
            store([original, copy, hostile])
            seed_campaign("secret", 2, photos=False)
            keys = DynamoApiKeys()
            staff = new_key("campaign staff", ["campaigns:read", "campaigns:write"], keys, campaigns=[CAMPAIGN])[0]
            reader = new_key("auditor", ["campaigns:read"], keys, campaigns=[CAMPAIGN])[0]
            yield {
                "api": api.url,
                "edge": edge.url,
                "runtime": runtime,
                "staff": staff,
                "reader": reader,
                "entries": entries,
                "original": original,
                "copy": copy,
                "hostile": hostile,
            }
        finally:
            edge.stop()
            runtime.stop()
            api.stop()
            settings.reset()
            aws.reset()


@pytest.fixture
def console(browser, world, request):
    """A desktop-sized page on the console through the edge; screenshots under test-artifacts."""
    import re

    shots = Shots(ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name))
    context, page = open_page(browser, shots, viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page.shots = shots  # type: ignore[attr-defined]
    yield page
    shots.take(page, "last")
    context.close()


def sign_in(page, world, key: str) -> None:
    served = page.goto(f"{world['edge']}/admin/")
    assert served is not None and served.headers["cache-control"] == "no-store"
    assert served.headers["x-cache"].startswith("Miss")  # never stored by the edge
    page.get_by_label("API key").fill(key)
    page.get_by_label("API key").press("Enter")
    page.get_by_text("Signed in as").wait_for()


def open_campaign(page) -> None:
    page.get_by_label("Campaign").select_option(CAMPAIGN)
    page.locator("#entries li.entry").first.wait_for()


def loaded(locator) -> bool:
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


def api(world, method: str, path: str, key: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{world['api']}{path}", headers={"x-api-key": key}, timeout=10, **kwargs)


def test_a_scoped_key_sees_its_campaign_only_and_a_flagged_entry_beside_the_one_it_copies(console, world):
    page = console
    sign_in(page, world, world["staff"])
    options = page.get_by_label("Campaign").locator("option").all_inner_texts()
    assert options == ["Choose a campaign", "Campaign console (console)"]  # `secret` is not there
    assert page.evaluate("document.cookie") == "" and world["staff"] not in page.url
    assert page.evaluate("sessionStorage.getItem('fleet-console-key')") == world["staff"]
    open_campaign(page)
    first_photo = page.locator("#entries li.entry img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first_photo.element_handle())
    names = page.locator("#entries li.entry h3").all_inner_texts()
    assert names[0] == XSS_NAME and names[1] == "Carl Copy"  # newest first; the hostile name is text
    assert page.evaluate("window.hacked") is None
    assert page.locator("#entries img[src='x']").count() == 0
    page.shots.take(page, "entries")

    page.get_by_label("Flagged only").check()
    page.wait_for_function("() => document.querySelectorAll('#entries li.entry').length === 1")
    assert page.locator("#entries li.entry h3").all_inner_texts() == ["Carl Copy"]
    page.get_by_role("button", name="Open Carl Copy").click()
    photos = page.locator("#entry-view .side img")
    photos.nth(1).wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#entry-view .side img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert photos.count() == 2 and all(loaded(photos.nth(i)) for i in range(2))
    assert photos.nth(0).get_attribute("alt") == "Receipt of Carl Copy"
    assert photos.nth(1).get_attribute("alt") == "Receipt of Olga Original"
    left, right = photos.nth(0).bounding_box(), photos.nth(1).bounding_box()
    assert left and right and abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"]  # side by side
    captions = page.locator("#entry-view figcaption").all_inner_texts()
    assert "This entry: Carl Copy" in captions[0] and "grace101@example.com" in captions[0]
    assert "The entry it copies: Olga Original" in captions[1] and world["original"]["submission_id"] in captions[1]
    page.shots.take(page, "side-by-side")
    assert page.problems == []

    page.get_by_role("button", name="Sign out").click()
    assert page.evaluate("sessionStorage.getItem('fleet-console-key')") is None
    page.get_by_label("API key").wait_for()
    page.reload()
    assert page.get_by_label("API key").is_visible() and page.locator("#console").is_hidden()


def test_entries_are_approved_and_rejected_from_the_keyboard_and_a_failed_call_stays_pending(console, world):
    page = console
    sign_in(page, world, world["staff"])
    open_campaign(page)
    page.get_by_label("Not reviewed only").check()
    page.wait_for_function("() => !document.querySelector('#entries-status').textContent.startsWith('Loading')")
    cards = page.locator("#entries li.entry")
    first_id, second_id = (cards.nth(i).get_attribute("data-id") for i in range(2))

    page.locator("body").press("j")
    page.keyboard.press("a")
    first_review = page.locator(f"#entries [data-review='{first_id}']")
    first_review.filter(has_text="Approved (accepted by the API)").wait_for()

    page.keyboard.press("j")
    page.keyboard.press("r")
    reason = page.get_by_label("Reason for rejecting").locator("visible=true")
    assert page.evaluate("document.activeElement.id") == f"list-reason-{second_id}"
    reason.fill("The receipt is blurry")
    reason.press("Enter")
    page.locator(f"#entries [data-review='{second_id}']").filter(
        has_text="Rejected: The receipt is blurry (accepted by the API)"
    ).wait_for()
    page.shots.take(page, "reviewed")

    # The API cannot be reached: the decision is said to be pending, never done.
    page.route(
        "**/v1/campaigns/*/entries/*", lambda route: route.abort() if route.request.method == "PATCH" else route.continue_()
    )
    page.keyboard.press("j")
    # The entry `j` moved to, read from the page: the one `a` decides.
    third_id = page.evaluate("document.activeElement.closest('li.entry')?.dataset.id")
    assert third_id and third_id not in (first_id, second_id), third_id
    page.keyboard.press("a")
    third = page.locator(f"#entries [data-review='{third_id}']")
    third.filter(has_text="not saved, still pending").wait_for()
    assert "accepted by the API" not in third.inner_text()
    page.shots.take(page, "failed-call")
    page.unroute("**/v1/campaigns/*/entries/*")

    world["runtime"].drain(60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = {
            i: api(world, "GET", f"/v1/campaigns/{CAMPAIGN}/entries/{i}", world["reader"]).json() for i in (first_id, second_id)
        }
        if all(s.get("review") for s in shown.values()):
            break
        time.sleep(0.3)
    assert shown[first_id]["review"]["decision"] == "approved" and shown[first_id]["review"]["key_name"] == "campaign staff"
    assert shown[second_id]["review"]["decision"] == "rejected"
    assert shown[second_id]["review"]["reason"] == "The receipt is blurry"
    assert api(world, "GET", f"/v1/campaigns/{CAMPAIGN}/entries/{third_id}", world["reader"]).json()["review"] is None


def test_a_key_without_campaigns_write_sees_no_review_buttons_and_its_patch_is_refused(console, world):
    page = console
    sign_in(page, world, world["reader"])
    assert "(read only)" in page.locator("#signed-in-as").inner_text()
    open_campaign(page)
    assert page.get_by_role("button", name="Open Carl Copy").is_visible()
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.get_by_role("button", name="Reject").count() == 0
    page.shots.take(page, "read-only")
    entry = world["copy"]["submission_id"]
    refused = api(world, "PATCH", f"/v1/campaigns/{CAMPAIGN}/entries/{entry}", world["reader"], json={"decision": "approved"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    hidden = api(world, "GET", "/v1/campaigns/secret/entries", world["reader"])
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "campaign_not_found"


def test_the_downloaded_export_is_the_clis_byte_for_byte(console, world):
    from click.testing import CliRunner

    from fleet.cli import main

    page = console
    sign_in(page, world, world["staff"])
    open_campaign(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download export").click()
    saved = download.value
    assert saved.suggested_filename == f"{CAMPAIGN}-entries.csv"
    downloaded = saved.path().read_bytes()
    cli = CliRunner().invoke(main, ["campaigns", "export", CAMPAIGN])
    assert cli.exit_code == 0, cli.output
    assert downloaded == cli.stdout_bytes
    assert downloaded.count(b"\r\n") == 1 + 31  # the header and every entry
    page.locator("#export-status").filter(has_text="Downloaded").wait_for()


def test_a_committed_draw_is_run_with_its_seed_after_the_close_and_verified(console, world):
    from click.testing import CliRunner

    from fleet.cli import main
    from lambda_platform.adapters.tables import DynamoCampaigns

    made = CliRunner().invoke(main, ["campaigns", "draw", CAMPAIGN, "--commit"])
    assert made.exit_code == 0, made.output
    seed = made.output.splitlines()[-1]
    page = console
    sign_in(page, world, world["staff"])
    open_campaign(page)
    committed = hashlib.sha256(seed.encode()).hexdigest()
    page.get_by_text(committed).wait_for()
    assert page.get_by_text("The draw runs once the campaign has closed.").is_visible()
    assert page.locator("#draw-form").is_hidden()

    stored = DynamoCampaigns().get(CAMPAIGN)
    DynamoCampaigns().put(replace(stored, closes_at=datetime.now(UTC) - timedelta(minutes=1)))
    page.get_by_label("Campaign").select_option("")
    open_campaign(page)
    page.get_by_label("Winners").fill("3")
    page.get_by_label("Seed").fill("0" * 64)
    page.get_by_role("button", name="Run the draw").click()
    page.locator("#draw-error").filter(has_text="this seed is not the one committed").wait_for()
    assert api(world, "GET", f"/v1/campaigns/{CAMPAIGN}/draw", world["reader"]).json()["draw"] is None

    page.get_by_label("Seed").fill(seed)
    page.get_by_role("button", name="Run the draw").click()
    winners = page.locator("#winners li")
    winners.nth(2).wait_for()
    drawn = api(world, "GET", f"/v1/campaigns/{CAMPAIGN}/draw", world["reader"]).json()["draw"]
    assert winners.all_inner_texts() == drawn["winners"]
    assert page.get_by_text(drawn["digest"]).is_visible()
    page.get_by_role("button", name="Verify the draw").click()
    page.locator("#verdict").filter(has_text="Verified").wait_for()
    assert page.locator("#verification li.ok").count() == 5
    page.shots.take(page, "drawn")
    verified = CliRunner().invoke(main, ["campaigns", "draw", CAMPAIGN, "--verify"])
    assert verified.exit_code == 0 and all(f". {w}" in verified.output for w in drawn["winners"])


def test_at_phone_width_every_control_is_reachable(browser, world, request):
    import re

    shots = Shots(ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name))
    context, page = open_page(browser, shots, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        sign_in(page, world, world["staff"])
        open_campaign(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the phone
        page.get_by_role("button", name="Open Carl Copy").click()
        page.locator("#entry-view .side img").nth(1).wait_for()
        shots.take(page, "phone")
        assert page.problems == []
    finally:
        context.close()


def test_a_copy_sent_through_the_api_is_flagged_by_the_workers_and_shown_beside_its_original(console, world):
    """The real path: two photos uploaded to the media bucket, thumbnailed and hashed by the
    workers, the later entry flagged; the console shows both photos side by side."""
    from events.models import Campaign
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys
    from lambda_platform.adapters.tables import DynamoCampaigns
    from tests.integration.test_receipts_flow import presign, send_file, submit
    from tests.unit import images
    from tests.unit.test_receipts import receipt_photo

    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign("dupes", "Campaign dupes", now - timedelta(days=1), now + timedelta(days=7), 1))
    key = new_key("dupes staff", ["campaigns:read", "campaigns:write"], DynamoApiKeys(), campaigns=["dupes"])[0]
    photo = receipt_photo(11)
    sent = {}
    for email, quality in (("first@example.com", 92), ("second@example.com", 70)):
        data = images.encode(photo, "JPEG", quality=quality)  # the same receipt, sent again re-encoded
        upload = presign(world["api"], "dupes", data)
        send_file(upload, data)
        world["runtime"].drain(60)
        sent[email] = submit(world["api"], "dupes", email, upload["key"])
        world["runtime"].drain(60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        flagged = api(world, "GET", "/v1/campaigns/dupes/entries?flagged=true", key).json()["entries"]
        if flagged:
            break
        time.sleep(0.3)
    assert [e["submission_id"] for e in flagged] == [sent["second@example.com"]]
    assert flagged[0]["duplicate_receipt"] == [sent["first@example.com"]]

    page = console
    sign_in(page, world, key)
    page.get_by_label("Campaign").select_option("dupes")
    page.get_by_label("Flagged only").check()
    page.wait_for_function("() => document.querySelectorAll('#entries li.entry').length === 1")
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#entry-view .side img')].filter(i => i.complete && i.naturalWidth > 0).length === 2"
    )
    captions = page.locator("#entry-view figcaption").all_inner_texts()
    assert "second@example.com" in captions[0] and "first@example.com" in captions[1]
    page.shots.take(page, "flagged-by-the-workers")
    assert page.problems == []

"""The campaign entry page in a real browser, through the local edge in front of the whole fleet started in the test.

The page and its files come from the site bucket through the edge; its API calls go through
the edge's `/v1/*`; the photo goes straight to the media bucket (a presigned POST to moto).
"""

from __future__ import annotations

import io
import json
import random
from datetime import timedelta

import pytest
import requests

from .conftest import open_page

pytestmark = pytest.mark.browser


def receipt_jpeg(width: int = 1400, height: int = 1000) -> bytes:
    """A real JPEG that looks a little like a photographed receipt (noise keeps it big)."""
    from PIL import Image, ImageDraw

    rng = random.Random(9)
    image = Image.new("RGB", (width, height), (236, 232, 220))
    draw = ImageDraw.Draw(image)
    for y in range(40, height - 40, 28):
        draw.line((80, y, 80 + rng.randint(200, width - 160), y), fill=(40, 40, 40), width=6)
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def fill_entry(page, email: str = "ada@example.com", photo: bytes | None = None) -> None:
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Phone (optional)").fill("+44 20 7946 0958")
    page.get_by_label("Postal code (optional)").fill("SW1A 1AA")
    page.get_by_label("Photo of your receipt").set_input_files(
        {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": photo or receipt_jpeg()}
    )
    page.get_by_label("I agree").check()


def api_posts(page) -> list[str]:
    """Records the paths of every POST the page makes to the API (its own origin)."""
    seen: list[str] = []
    page.on("request", lambda r: r.method == "POST" and "/v1/" in r.url and seen.append(r.url.split("/v1/", 1)[1]))
    return seen


def test_an_entry_with_a_photo_is_stored_thumbnailed_and_confirmed(running_fleet, edge, make_campaign, page, shots):
    from lambda_platform import aws, settings
    from lambda_platform.outbox import read_outbox

    make_campaign("summer")
    served = page.goto(f"{edge.url}/c/summer")
    assert served.headers["x-cache"] in ("Miss from fleet-edge", "Hit from fleet-edge")  # from the site bucket
    page.get_by_role("heading", name="Campaign summer").wait_for()
    assert "Open for entries until" in page.locator("#campaign-state").inner_text()
    assert page.title() == "Campaign summer: enter"
    shots.take(page, "loaded")

    fill_entry(page)
    shots.take(page, "filled")
    page.get_by_role("button", name="Send my entry").click()
    page.get_by_role("heading", name="Thank you!").wait_for(timeout=20_000)
    submission_id = page.locator("#submission-id").inner_text().strip()
    assert len(submission_id) == 36
    assert page.locator("#upload-progress").evaluate("p => p.value") == 100
    assert page.locator("#entry-form").is_hidden()
    assert page.evaluate("document.activeElement.id") == "thanks-heading"
    shots.take(page, "thanks")
    assert page.problems == []  # no CSP violation, no CORS refusal, no script error

    running_fleet.drain()
    stored = requests.get(f"{running_fleet.api_url}/v1/submissions/{submission_id}", timeout=10).json()
    assert stored["status"] == "accepted", stored
    upload = stored["upload"]
    assert upload["status"] == "ready" and upload["format"] == "JPEG", upload
    assert (upload["width"], upload["height"]) == (1400, 1000)
    s3 = aws.client("s3")
    bucket = settings.current().name("media")
    assert s3.head_object(Bucket=bucket, Key=upload["key"])["ContentLength"] == upload["bytes"]
    assert set(upload["thumbnails"]) == {"256", "1024"}
    for key in upload["thumbnails"].values():
        assert s3.head_object(Bucket=bucket, Key=key)["ContentType"] == "image/jpeg"

    confirmations = [e for e in read_outbox() if "ada@example.com" in e.to]
    assert len(confirmations) == 1
    assert submission_id in " ".join(confirmations[0].text_lines())


def test_the_servers_field_error_shows_next_to_its_field(running_fleet, edge, make_campaign, page, shots):
    make_campaign("summer")
    posts = api_posts(page)
    page.goto(f"{edge.url}/c/summer")
    page.get_by_role("heading", name="Campaign summer").wait_for()
    # The page and the server check an address alike, so the address the server refuses
    # is put on the wire as a page cached before a rule changed would send it.
    submissions = f"{edge.url}/v1/campaigns/summer/submissions"

    def as_an_older_page_sends_it(route):
        body = json.loads(route.request.post_data)
        route.continue_(post_data=json.dumps({**body, "email": "ñoño@example.com"}))

    page.route(submissions, as_an_older_page_sends_it)
    fill_entry(page)
    page.get_by_role("button", name="Send my entry").click()

    email = page.get_by_label("Email")
    error = page.locator("#email-error")
    error.get_by_text("Not a valid email address.").wait_for(timeout=20_000)
    assert [p.rsplit("/", 1)[1] for p in posts] == ["uploads", "submissions"]  # the server said it
    assert email.get_attribute("aria-invalid") == "true"
    assert "email-error" in email.get_attribute("aria-describedby").split()
    assert page.evaluate("document.activeElement.id") == "email"
    assert page.locator("#thanks").is_hidden()
    assert page.locator("#first_name").get_attribute("aria-invalid") is None
    shots.take(page, "server-error")
    page.unroute(submissions)

    # Fixing the address sends the entry without uploading the photo again.
    email.fill("ada@example.com")
    assert email.get_attribute("aria-invalid") is None and error.inner_text() == ""
    page.get_by_role("button", name="Send my entry").click()
    page.get_by_role("heading", name="Thank you!").wait_for(timeout=20_000)
    assert [p.rsplit("/", 1)[1] for p in posts] == ["uploads", "submissions", "submissions"]
    # Chromium logs the 422 answer itself as a console error; nothing else may fail.
    assert [p for p in page.problems if "422" not in p] == []


def test_the_page_checks_fields_before_sending_anything(running_fleet, edge, make_campaign, page, shots):
    make_campaign("summer")
    posts = api_posts(page)
    page.goto(f"{edge.url}/c/summer")
    page.get_by_role("heading", name="Campaign summer").wait_for()
    page.get_by_label("Phone (optional)").fill("call me")
    page.get_by_label("Photo of your receipt").set_input_files(
        {"name": "receipt.gif", "mimeType": "image/gif", "buffer": b"GIF89a" + b"\0" * 64}
    )
    page.get_by_role("button", name="Send my entry").click()

    expected = {
        "first_name": "Enter your first name.",
        "last_name": "Enter your last name.",
        "email": "Enter your email address.",
        "phone": "Not a valid phone number.",
        "photo": "The photo must be a JPEG, PNG or WebP image.",
        "consent": "Consent is required.",
    }
    for field, message in expected.items():
        assert page.locator(f"#{field}-error").inner_text() == message
        assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true"
    assert page.locator("#postal_code").get_attribute("aria-invalid") is None
    assert page.evaluate("document.activeElement.id") == "first_name"
    assert posts == []
    shots.take(page, "client-errors")


@pytest.mark.parametrize(
    "address", ["ñoño@example.com", "用户@例子.广告", "idn@[127.0.0.1]", "a@localhost", "ada@example..com", "a@example.123"]
)
def test_the_page_refuses_an_email_the_server_would_refuse_before_sending_anything(
    running_fleet, edge, make_campaign, page, address
):
    make_campaign("summer")
    posts = api_posts(page)
    page.goto(f"{edge.url}/c/summer")
    page.get_by_role("heading", name="Campaign summer").wait_for()
    fill_entry(page, email=address)
    page.get_by_role("button", name="Send my entry").click()
    assert page.locator("#email-error").inner_text() == "Not a valid email address."
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "email"
    assert posts == []


def test_the_page_takes_an_email_the_server_takes(running_fleet, edge, make_campaign, page):
    make_campaign("summer")
    page.goto(f"{edge.url}/c/summer")
    page.get_by_role("heading", name="Campaign summer").wait_for()
    fill_entry(page, email="ana@例子.广告", photo=receipt_jpeg(400, 300))
    page.get_by_role("button", name="Send my entry").click()
    page.get_by_role("heading", name="Thank you!").wait_for(timeout=20_000)
    submission_id = page.locator("#submission-id").inner_text().strip()
    running_fleet.drain()
    stored = requests.get(f"{running_fleet.api_url}/v1/submissions/{submission_id}", timeout=10).json()
    assert stored["status"] == "accepted", stored


def test_on_a_phone_the_form_fits_and_works_from_the_keyboard(running_fleet, edge, make_campaign, browser, shots):
    make_campaign("summer")
    context, page = open_page(
        browser, shots, viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        page.goto(f"{edge.url}/c/summer")
        page.get_by_role("heading", name="Campaign summer").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
        for field in ("first_name", "last_name", "email", "phone", "postal_code", "photo"):
            box = page.locator(f"#{field}").bounding_box()
            assert box["width"] >= 280, (field, box)  # one column, full width
        shots.take(page, "phone")

        page.get_by_label("Photo of your receipt").set_input_files(
            {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": receipt_jpeg(800, 600)}
        )
        page.locator("#first_name").focus()
        page.keyboard.type("Grace")
        for key, text in [("Tab", "Hopper"), ("Tab", "grace@example.com"), ("Tab", "555 0100"), ("Tab", "10001")]:
            page.keyboard.press(key)
            page.keyboard.type(text)
        page.keyboard.press("Tab")  # the photo, already chosen
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "consent"
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "submit"
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Thank you!").wait_for(timeout=20_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shots.take(page, "phone-thanks")
        assert page.problems == []
    finally:
        context.close()


def test_a_closed_campaign_shows_no_form(running_fleet, edge, make_campaign, page, shots):
    make_campaign("spring", opens_in=-timedelta(days=30), closes_in=-timedelta(days=1))
    page.goto(f"{edge.url}/c/spring")
    page.get_by_role("heading", name="Campaign spring").wait_for()
    assert page.locator("#campaign-state").inner_text().startswith("Closed: entries closed on")
    assert page.locator("#entry-form").is_hidden()
    page.goto(f"{edge.url}/c/nothing-here")
    page.get_by_role("heading", name="No such campaign").wait_for()
    shots.take(page, "unknown")

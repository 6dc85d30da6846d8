"""`make bench-console`: the review console on a campaign of 1,000 entries, through the local edge.

A benchmark, not a test: it prints figures and asserts nothing. `fleet up` runs in its own
processes on free ports (moto, the API under its production server, the workers, the
edge); 1,000 entries are stored as the workers leave them, each with its photo's 256 px
thumbnail in the media bucket; once the confirmation emails they set off are all sent (the
fleet is idle again), Debian's Chromium opens http://127.0.0.1:EDGE/admin/ and signs in
with a key bound to the campaign. Then, `--opens` times (default 5): the campaign is
chosen in the page, and the time is taken until the first photo of the list is on screen
(decoded, its natural width known) and until all 25 are; then "Next page" `--pages` times
(default 5), each timed the same way. The clock is the page's own (`performance.now()`),
started by the same script that changes the selection or clicks the button.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import requests

from bench.edge.__main__ import Fleet
from bench.machine import describe_machine

CAMPAIGN = "bench-console"
CHROMIUM = os.environ.get("FLEET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: In the page: start the clock, act, and resolve with the ms until the first photo of the
#: new list is decoded, and until every photo of it is.
TIMED = """async ([act, campaign]) => {
  const started = performance.now();
  const before = document.querySelector('#entries li.entry');
  if (act === 'open') {
    const select = document.getElementById('campaign');
    select.value = '';
    select.dispatchEvent(new Event('change'));
    select.value = campaign;
    select.dispatchEvent(new Event('change'));
  } else {
    document.getElementById('next-page').click();
  }
  const ready = (img) => img.complete && img.naturalWidth > 0;
  let first = null;
  for (;;) {
    const listed = document.querySelector('#entries li.entry');
    const images = [...document.querySelectorAll('#entries li.entry img')];
    if (listed && listed !== before && images.length) {
      if (first === null && ready(images[0])) first = performance.now() - started;
      if (first !== null && images.every(ready)) return [first, performance.now() - started, images.length];
    }
    await new Promise((r) => requestAnimationFrame(r));
  }
}"""


def seed(fleet: Fleet, count: int) -> tuple[str, float]:
    """The campaign's entries and a staff key: (the key, seconds the seeding took)."""
    os.environ.update({k: fleet.env[k] for k in ("AWS_ENDPOINT_URL", "FLEET_STAGE", "FLEET_STATE_DIR")})
    from datetime import UTC, datetime, timedelta

    from events.models import Campaign
    from lambda_platform import aws, settings
    from lambda_platform.access import new_key
    from lambda_platform.adapters.access import DynamoApiKeys
    from lambda_platform.adapters.tables import DynamoCampaigns
    from tests.browser.console_data import seed_campaign

    settings.reset()
    aws.reset()
    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign(CAMPAIGN, "Bench receipts", now - timedelta(days=1), now + timedelta(days=7)))
    started = time.monotonic()
    seed_campaign(CAMPAIGN, count, sizes=(256,))
    spent = time.monotonic() - started
    key = new_key("bench staff", ["campaigns:read", "campaigns:write"], DynamoApiKeys(), campaigns=[CAMPAIGN])[0]
    return key, spent


def wait_idle(fleet: Fleet, emails: int, timeout: float = 300) -> float:
    """Wait until the confirmations of the stored entries are all sent; the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        sent = requests.get(f"{fleet.api}/_local/dashboard.json", timeout=10).json()["emails_accepted"]
        if sent >= emails:
            break
        time.sleep(1)
    time.sleep(2)  # the last batch's checkpoints
    return time.monotonic() - started


def summary(name: str, values: list[float]) -> str:
    """One line of figures: the median, the fastest and the slowest, in ms."""
    ordered = sorted(values)
    return f"{name:<32} median {statistics.median(ordered):7.0f} ms   min {ordered[0]:6.0f}   max {ordered[-1]:6.0f}   (n={len(ordered)})"


def main() -> None:
    """Store the campaign, open it in Chromium through the edge, time the photos, print."""
    parser = argparse.ArgumentParser(prog="bench.console", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--pages", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine())
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-console-") as state_dir:
        fleet = Fleet(state_dir)
        try:
            key, seeding = seed(fleet, args.entries)
            print(f"{args.entries} entries with their 256 px thumbnails stored in {seeding:.1f} s")
            print(f"their confirmations sent, the fleet idle, after {wait_idle(fleet, args.entries):.1f} s more")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                page.goto(f"{fleet.edge}/admin/")
                page.get_by_label("API key").fill(key)
                page.get_by_label("API key").press("Enter")
                page.get_by_text("Signed in as").wait_for()
                opens_first, opens_all, pages_first, pages_all = [], [], [], []
                for _ in range(args.opens):
                    first, whole, shown = page.evaluate(TIMED, ["open", CAMPAIGN])
                    opens_first.append(first)
                    opens_all.append(whole)
                    for _ in range(args.pages):
                        first, whole, shown = page.evaluate(TIMED, ["next", CAMPAIGN])
                        pages_first.append(first)
                        pages_all.append(whole)
                browser.close()
            print(f"through the local edge ({fleet.edge}), {shown} photos a page, Chromium headless:")
            print(summary("open the campaign: first photo", opens_first))
            print(summary("open the campaign: all photos", opens_all))
            print(summary("next page: first photo", pages_first))
            print(summary("next page: all photos", pages_all))
        finally:
            fleet.close()


if __name__ == "__main__":
    main()

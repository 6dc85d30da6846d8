"""`fleet up` reloads saved code without losing state, on a copy of the source tree.

The test edits a copy of events/, fleet/, ingest_api/ and workers/ (never the real tree),
which `fleet up` runs from (cwd and PYTHONPATH). A template change while entries are
queued: the new code sends the rest, every entry stored once and confirmed once. A syntax
error and an import error: reported, the old processes keep serving. Fixed: reloaded.
moto's process keeps its state throughout: a campaign made before is there after.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter
from datetime import UTC
from pathlib import Path

import pytest
import requests

from fleet.packages import PACKAGES
from lambda_platform import aws, settings
from tests.chaos.common import CAMPAIGN, plan, queue_directly
from tests.conftest import free_port
from tests.integration.fleet_up import FleetUp, alive
from tests.tables import scan

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MARKER = "Edition: reloaded"
ENTRY = re.compile(r"Entry:\s*([0-9a-f-]{36})")


def confirmations(endpoint: str) -> tuple[Counter, set[str]]:
    """Emails sent per submission id, and the ids whose email carries the marker."""
    from lambda_platform.outbox import read_outbox

    counts: Counter = Counter()
    marked: set[str] = set()
    for email in read_outbox(endpoint):
        found = ENTRY.search(email.html)
        if found:
            counts[found.group(1)] += 1
            if MARKER in email.html:
                marked.add(found.group(1))
    return counts, marked


def settle(endpoint: str, ids: set[str], timeout: float = 300) -> tuple[dict, Counter, set[str]]:
    """Wait until every id is stored and confirmed (or the deadline): the entries, the emails, the marked."""
    deadline = time.monotonic() + timeout
    while True:
        stored = {i["submission_id"]: i for i in scan("submissions") if i["submission_id"] in ids}
        sent, marked = confirmations(endpoint)
        if (set(stored) == ids and ids <= set(sent)) or time.monotonic() > deadline:
            return stored, sent, marked
        time.sleep(1)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_saved_code_reloads_the_api_and_workers_never_moto_and_nothing_is_lost(tmp_path, monkeypatch):
    source = tmp_path / "src"
    for package in PACKAGES:  # every one of ours: a package left out would be imported from the work tree
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    aws_port, api_port = free_port(), free_port()
    endpoint, api = f"http://127.0.0.1:{aws_port}", f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "FLEET_FAULTS")}
    env.update(
        PYTHONPATH=str(source),
        FLEET_STAGE="local",
        FLEET_STATE_DIR=str(tmp_path / "state"),
        FLEET_VISIBILITY_TIMEOUT="5",
        FLEET_RATE_PER_CLIENT="100000",
    )
    fleet = FleetUp("--aws-port", str(aws_port), "--api-port", str(api_port), "--no-demo", env=env, cwd=source)
    try:
        pids = fleet.wait_ready()
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("FLEET_STAGE", "local")
        settings.reset()
        aws.reset()
        from datetime import datetime, timedelta

        from events.models import Campaign
        from lambda_platform.adapters.tables import DynamoCampaigns

        now = datetime.now(UTC)
        DynamoCampaigns().put(Campaign(CAMPAIGN, "Before the reload", now - timedelta(days=1), now + timedelta(days=7), 1))

        # A template change while a few hundred entries wait on the queue.
        first = set(queue_directly(plan(200, repeat_share=0.0, poison_share=0.0, seed=16)))
        while len(confirmations(endpoint)[0]) < 10 and fleet.process.poll() is None:
            time.sleep(0.2)
        seen = len(fleet.out)
        edit(source / "workers/templates/confirmation.html", "<p>Entry:", f"<p>{MARKER}</p>\n<p>Entry:")
        fleet.wait_for(r"^fleet: reloaded \(confirmation\.html\)", after=seen)
        reloaded = fleet.pids(fleet.out[seen:])
        assert set(reloaded) == {"api", "workers", "edge"}, fleet.text
        assert reloaded["api"] != pids["api"] and reloaded["workers"] != pids["workers"]
        assert alive(pids["aws"]) and not alive(pids["workers"])
        after = plan(20, repeat_share=0.0, poison_share=0.0, seed=61)
        for n, planned in enumerate(after):
            planned.body["email"] = f"after-reload{n}@example.com"  # not a repeat of the first batch
        later = set(queue_directly(after))
        stored, sent, marked = settle(endpoint, first | later)
        assert set(stored) == first | later, f"{len(stored)} of {len(first | later)} stored\n{fleet.text}"
        assert {i: n for i, n in sent.items() if i in first | later and n != 1} == {}  # one email each
        assert later <= marked  # the new code sent these
        assert requests.get(f"{api}/v1/campaigns/{CAMPAIGN}", timeout=10).json()["name"] == "Before the reload"

        # A syntax error: reported with its traceback; the processes that serve stay.
        seen, seen_err = len(fleet.out), len(fleet.err)
        confirmations_py = source / "workers/confirmations.py"
        good = confirmations_py.read_text()
        confirmations_py.write_text(good + "\ndef broken(:\n")
        fleet.wait_for(r"not reloaded: the change does not compile", err=True, after=seen_err)
        assert any("SyntaxError" in line for line in fleet.err[seen_err:]), fleet.text
        # An import error (valid syntax): the new processes fail to import; the old serve on.
        confirmations_py.write_text(good + "\nimport a_module_that_does_not_exist\n")
        fleet.wait_for(r"not reloaded: process workers pid \d+ ended before it was ready", err=True, after=seen_err)
        assert any("ModuleNotFoundError" in line for line in fleet.err[seen_err:]), fleet.text
        assert fleet.pids(fleet.out[seen:]) == {} and all(alive(p) for p in reloaded.values())
        body = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "consent": True}
        posted = requests.post(f"{api}/v1/campaigns/{CAMPAIGN}/submissions", json=body, timeout=10)
        assert posted.status_code == 202, posted.text
        served = {posted.json()["submission_id"]}
        stored, sent, marked = settle(endpoint, served, timeout=120)
        assert set(stored) == served and served <= marked and sent[next(iter(served))] == 1

        # Fixed: reloaded, and the state is still there.
        confirmations_py.write_text(good)
        fleet.wait_for(r"^fleet: reloaded \(confirmations\.py\)", after=seen)
        again = fleet.pids(fleet.out[seen:])
        assert set(again) == {"api", "workers", "edge"} and not set(again.values()) & set(reloaded.values())
        assert requests.get(f"{api}/v1/campaigns/{CAMPAIGN}", timeout=10).status_code == 200
        assert len({i["submission_id"] for i in scan("submissions")}) == len(first | later | served)
    finally:
        code = fleet.stop()
        settings.reset()
        aws.reset()
    assert code == 0, fleet.text
    print("\n" + "\n".join(line for line in fleet.out if "reloaded" in line))

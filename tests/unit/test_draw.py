"""The draw nobody can rig: eligibility by the campaign's settings, a seed committed (its hash
stored) before the campaign closes, one draw after it closes on a frozen set, verified by anyone."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner

from campaigns.draw import (
    DrawRefused,
    TooManyWinners,
    commit_draw,
    digest,
    eligible_ids,
    rank,
    run_draw,
    seed_hash,
    verify_draw,
)
from fleet.cli import main
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.draws import FakeDraws
from tests.fakes.entries import FakeEntries
from tests.fakes.tables import NOW, FakeCampaigns, campaign

REJECTED = {
    "decision": "rejected",
    "reason": "blurry",
    "key_id": "k",
    "reviewed_at": "2030-01-02T00:00:00+00:00",
    "change_id": "c",
}
APPROVED = {**REJECTED, "decision": "approved", "reason": "ok"}

#: After the campaigns of `campaign()` close (they close 30 days after NOW by default).
CLOSED = NOW + timedelta(days=31)


def entry(submission_id: str, status: str = "accepted", **extra) -> dict:
    return {
        "submission_id": submission_id,
        "campaign_id": "summer",
        "email": f"{submission_id}@example.com",
        "received_at": f"2030-01-01T00:00:00+00:00#{submission_id}",
        "status": status,
        **extra,
    }


MIXED = [
    entry("unreviewed"),
    entry("approved", review=APPROVED),
    entry("rejected", review=REJECTED),
    entry("waitlisted", "waitlisted"),
    entry("over-the-limit", "duplicate"),
    entry("flagged", duplicate_receipt={"unreviewed"}),
    entry("flagged-approved", review=APPROVED, duplicate_receipt={"approved"}),
]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, {"unreviewed", "approved", "waitlisted"}),
        ({"draw_includes_unreviewed": False}, {"approved"}),
        ({"draw_includes_flagged": True}, {"unreviewed", "approved", "waitlisted", "flagged", "flagged-approved"}),
        ({"draw_includes_unreviewed": False, "draw_includes_flagged": True}, {"approved", "flagged-approved"}),
    ],
)
def test_eligibility_follows_the_campaign(settings, expected):
    assert eligible_ids(MIXED, campaign("summer", **settings)) == sorted(expected)


def many(count: int = 60) -> list[dict]:
    return [entry(f"e-{n:03d}") for n in range(count)]


def committed(store: FakeDraws, summer=None, entries_stored: int = 0) -> str:
    """Commit the draw of `summer` now (while it is open); the seed."""
    return commit_draw(summer or campaign("summer"), entries_stored, store).seed


# --- commit -----------------------------------------------------------------------------


def test_a_commitment_stores_only_the_seeds_hash_with_the_time_and_the_entries():
    store = FakeDraws()
    made = commit_draw(campaign("summer"), 12, store, now=NOW)
    assert re.fullmatch(r"[0-9a-f]{64}", made.seed)  # 256 bits
    (stored,) = store.commitments.values()
    assert stored["seed_sha256"] == hashlib.sha256(made.seed.encode()).hexdigest() == seed_hash(made.seed)
    assert made.seed not in repr(stored)
    assert stored["entries_at_commit"] == 12 and stored["committed_at"] == NOW.isoformat()
    assert stored["committed_after_opening"] is True  # campaign() opened a day before NOW
    before = commit_draw(campaign("autumn", opens_in_days=2), 0, store, now=NOW).commitment
    assert before["committed_after_opening"] is False and before["entries_at_commit"] == 0


def test_a_commitment_is_made_once_and_only_before_the_campaign_closes():
    store = FakeDraws()
    committed(store)
    with pytest.raises(DrawRefused, match="committed already"):
        committed(store)
    with pytest.raises(DrawRefused, match="closed at"):
        commit_draw(campaign("winter", closes_in_days=-1), 0, store)
    assert set(store.commitments) == {"summer"}


# --- the draw ---------------------------------------------------------------------------


def test_the_draw_runs_once_the_campaign_has_closed_with_the_committed_seed_only():
    store = FakeDraws()
    seed = committed(store)
    with pytest.raises(DrawRefused, match="closes at"):
        run_draw(campaign("summer"), many(), 3, seed, store, now=NOW)
    with pytest.raises(DrawRefused, match="not the one committed"):
        run_draw(campaign("summer"), many(), 3, "0" * 64, store, now=CLOSED)
    assert store.draws == {} and store.frozen == {}
    first = run_draw(campaign("summer"), many(), 3, seed, store, now=CLOSED)
    assert first.created and first.draw["winners"] == sorted(first.ids_now, key=lambda i: rank(seed, i))[:3]
    assert store.frozen == {("summer", first.draw["digest"]): sorted(e["submission_id"] for e in many())}


def test_a_draw_without_a_commitment_is_refused():
    with pytest.raises(DrawRefused, match="no draw of summer was committed"):
        run_draw(campaign("summer"), many(), 3, "a" * 64, FakeDraws(), now=CLOSED)


def test_three_runs_store_one_draw_and_return_the_same_winners():
    store = FakeDraws()
    seed = committed(store)
    runs = [run_draw(campaign("summer"), many(), 5, seed, store, now=CLOSED) for _ in range(3)]
    assert [r.created for r in runs] == [True, False, False]
    assert runs[0].draw == runs[1].draw == runs[2].draw and len(store.draws) == 1
    later = run_draw(campaign("summer"), many(61), 2, seed, store, now=CLOSED + timedelta(days=1))
    assert not later.created and later.draw == runs[0].draw and later.entries_changed


def test_a_seed_ground_to_favour_an_entry_is_refused():
    store = FakeDraws()
    committed(store)
    ids = sorted(e["submission_id"] for e in many(200))
    friend = ids[137]
    ground = next(s for s in (f"{n:064x}" for n in range(100_000)) if friend in sorted(ids, key=lambda i: rank(s, i))[:10])
    with pytest.raises(DrawRefused, match="not the one committed"):
        run_draw(campaign("summer"), many(200), 10, ground, store, now=CLOSED)
    assert store.draws == {}


def test_the_eligibility_settings_are_those_committed():
    store = FakeDraws()
    seed = committed(store, campaign("summer"))  # flagged entries out
    loosened = campaign("summer", draw_includes_flagged=True)  # changed after the commitment
    outcome = run_draw(loosened, MIXED, 3, seed, store, now=CLOSED)
    assert sorted(outcome.draw["winners"]) == ["approved", "unreviewed", "waitlisted"]
    assert outcome.draw["draw_includes_flagged"] is False


def test_too_many_winners_are_refused_with_the_count():
    store = FakeDraws()
    seed = committed(store)
    with pytest.raises(TooManyWinners) as refused:
        run_draw(campaign("summer"), MIXED, 4, seed, store, now=CLOSED)
    assert refused.value.eligible == 3 and "only 3 eligible" in str(refused.value)
    assert store.draws == {}


def test_anyone_can_rerun_the_rule_without_our_code():
    store = FakeDraws()
    seed = committed(store)
    draw = run_draw(campaign("summer"), many(), 3, seed, store, now=CLOSED).draw
    ids = sorted(e["submission_id"] for e in many())
    assert hashlib.sha256(seed.encode()).hexdigest() == store.commitments["summer"]["seed_sha256"]
    assert draw["digest"] == hashlib.sha256("\n".join(ids).encode()).hexdigest()
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    assert draw["winners"] == ranked[:3] and draw["eligible"] == 60


# --- verify -----------------------------------------------------------------------------


def drawn(count: int = 60, winners: int = 4) -> tuple[FakeDraws, str]:
    store = FakeDraws()
    seed = committed(store)
    run_draw(campaign("summer"), many(count), winners, seed, store, now=CLOSED)
    return store, seed


def test_verify_recomputes_the_draw_from_the_stored_seed_frozen_ids_and_rule():
    store, _ = drawn()
    checked = verify_draw(campaign("summer"), many(), store)
    assert checked is not None and checked.verified and not checked.entries_changed
    # A reviewer rejects winners after the draw: the draw stands on the frozen ids.
    today = [entry(e["submission_id"], review=REJECTED) if e["submission_id"] in checked.draw["winners"] else e for e in many()]
    later = verify_draw(campaign("summer"), today, store)
    assert later is not None and later.verified and later.entries_changed and len(later.ids_now) == 56
    assert verify_draw(campaign("autumn"), many(), store) is None


@pytest.mark.parametrize("tamper", ["winners", "frozen", "seed", "commitment"])
def test_verify_finds_a_tampered_record(tamper):
    store, _ = drawn()
    draw = store.draws["summer"]
    if tamper == "winners":
        draw["winners"] = [
            *draw["winners"][:-1],
            next(i for i in store.frozen[("summer", draw["digest"])] if i not in draw["winners"]),
        ]
    elif tamper == "frozen":
        store.frozen[("summer", draw["digest"])].pop()
    elif tamper == "seed":
        draw["seed"] = "f" * 64
    else:
        store.commitments["summer"]["committed_at"] = draw["closes_at"]  # committed when it closed
    checked = verify_draw(campaign("summer"), many(), store)
    assert checked is not None and not checked.verified


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def ports():
    return Ports(
        **fake_ports(
            campaigns=FakeCampaigns(campaign("summer")),
            entries=FakeEntries({e["submission_id"]: e for e in many(10)}),
            draws=FakeDraws(),
        )
    )


def draw(ports, *args: str):
    return CliRunner().invoke(main, ["campaigns", "draw", *args], obj=ports)


def close(ports) -> None:
    summer = ports.campaigns.items["summer"]
    ports.campaigns.items["summer"] = replace(summer, closes_at=NOW - timedelta(minutes=1))


def commit(ports) -> str:
    made = draw(ports, "summer", "--commit")
    assert made.exit_code == 0, made.output
    return made.output.splitlines()[-1]


def test_commit_prints_the_seed_once_as_its_last_line_and_stores_only_its_hash(ports):
    made = draw(ports, "summer", "--commit")
    assert made.exit_code == 0, made.output
    seed = made.output.splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", seed) and made.output.count(seed) == 1
    (stored,) = ports.draws.commitments.values()
    assert stored["seed_sha256"] == seed_hash(seed) and stored["seed_sha256"] in made.output
    assert seed not in repr(ports.draws.commitments)
    assert "committed AFTER the campaign opened" in made.output and "with 10 entries stored then" in made.output
    again = draw(ports, "summer", "--commit")
    assert again.exit_code == 1 and "committed already" in again.output and seed not in again.output


def test_the_draw_is_refused_before_closing_and_with_another_seed_and_runs_once_after(ports, tmp_path):
    seed = commit(ports)
    early = draw(ports, "summer", "--winners", "2", "--seed", seed)
    assert early.exit_code == 1 and "the draw runs once the campaign has closed" in early.output
    close(ports)
    other = draw(ports, "summer", "--winners", "2", "--seed", "1" * 64)
    assert other.exit_code == 1 and "not the one committed" in other.output and "nothing stored" in other.output
    assert ports.draws.draws == {}

    ids_file = tmp_path / "ids.txt"
    first = draw(ports, "summer", "--winners", "2", "--seed", seed.upper(), "--ids-file", str(ids_file))
    assert first.exit_code == 0, first.output
    stored = ports.draws.draws["summer"]
    assert "the campaign's one draw" in first.output and f"seed: {seed}" in first.output
    assert "eligible entries: 10" in first.output and stored["digest"] in first.output
    assert all(f". {w}" in first.output for w in stored["winners"])
    assert hashlib.sha256(ids_file.read_bytes()).hexdigest() == stored["digest"]

    ports.entries.items["late"] = entry("late")
    again = draw(ports, "summer", "--winners", "3", "--seed", seed)
    assert again.exit_code == 0 and "stored already" in again.output and "nothing changed" in again.output
    assert "it drew 2 winners, not 3" in again.output and "11 now" in again.output
    assert _winners(again.output) == _winners(first.output) == stored["winners"]
    assert len(ports.draws.draws) == 1
    refused = draw(ports, "summer", "--winners", "2", "--seed", "2" * 64)
    assert refused.exit_code == 1 and "not the one committed" in refused.output


def test_a_draw_without_a_commitment_or_a_seed_is_refused(ports):
    close(ports)
    uncommitted = draw(ports, "summer", "--winners", "2", "--seed", "a" * 64)
    assert uncommitted.exit_code == 1 and "no draw of summer was committed" in uncommitted.output
    no_seed = draw(ports, "summer", "--winners", "2")
    assert no_seed.exit_code == 2 and "--seed" in no_seed.output
    assert ports.draws.draws == {} and ports.draws.commitments == {}


def test_commit_is_refused_once_the_campaign_has_closed(ports):
    close(ports)
    late = draw(ports, "summer", "--commit")
    assert late.exit_code == 1 and "a draw is committed before the campaign closes" in late.output
    assert ports.draws.commitments == {}


def test_verify_says_verified_and_what_it_checked(ports, tmp_path):
    seed = commit(ports)
    close(ports)
    assert draw(ports, "summer", "--winners", "3", "--seed", seed).exit_code == 0
    ids_file = tmp_path / "frozen.txt"
    verified = draw(ports, "summer", "--verify", "--ids-file", str(ids_file))
    assert verified.exit_code == 0, verified.output
    assert "verified: the committed seed, the frozen entries and the same winners" in verified.output
    assert "FAIL" not in verified.output and verified.output.count("ok  ") == 5
    assert hashlib.sha256(ids_file.read_bytes()).hexdigest() == digest(sorted(ports.entries.items))
    ports.draws.draws["summer"]["winners"].reverse()
    tampered = draw(ports, "summer", "--verify")
    assert tampered.exit_code == 1 and "FAIL the rule gives the same winners from them" in tampered.output


def test_verify_without_a_draw_and_the_usage_errors(ports):
    assert draw(ports, "summer", "--verify").exit_code == 1
    assert draw(ports, "summer").exit_code == 2
    assert draw(ports, "summer", "--verify", "--seed", "s").exit_code == 2
    assert draw(ports, "summer", "--commit", "--winners", "2").exit_code == 2
    assert draw(ports, "winter", "--commit").exit_code == 1
    assert draw(ports, "summer", "--winners", "0", "--seed", "s").exit_code == 2


def test_more_winners_than_a_draw_can_store_are_refused(ports):
    seed = commit(ports)
    close(ports)
    refused = draw(ports, "summer", "--winners", "5001", "--seed", seed)
    assert refused.exit_code == 2 and "at most 5000" in refused.output
    too_many = draw(ports, "summer", "--winners", "11", "--seed", seed)
    assert too_many.exit_code == 1 and "only 10 eligible entries" in too_many.output
    assert ports.draws.draws == {}


def _winners(output: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in output.splitlines() if line.startswith("  ") and ". " in line]


def test_a_close_moved_after_the_commitment_is_shown(ports):
    seed = commit(ports)
    close(ports)  # the campaign was to close in 30 days: closed now instead
    drawn = draw(ports, "summer", "--winners", "1", "--seed", seed)
    assert drawn.exit_code == 0, drawn.output
    assert "the campaign's close was moved after the commitment" in drawn.output

"""The auditable draw: eligibility by the campaign's settings, reproducible winners, stored once."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from campaigns.draw import TooManyWinners, digest, eligible_ids, run_draw, verify_draw
from fleet.cli import main
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.draws import FakeDraws
from tests.fakes.entries import FakeEntries
from tests.fakes.tables import FakeCampaigns, campaign

REJECTED = {
    "decision": "rejected",
    "reason": "blurry",
    "key_id": "k",
    "reviewed_at": "2030-01-02T00:00:00+00:00",
    "change_id": "c",
}
APPROVED = {**REJECTED, "decision": "approved", "reason": "ok"}


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


def test_the_same_seed_gives_the_same_winners_and_another_seed_others():
    first = run_draw(campaign("summer"), many(), 5, FakeDraws(), seed="alpha").draw
    again = run_draw(campaign("summer"), list(reversed(many())), 5, FakeDraws(), seed="alpha").draw
    other = run_draw(campaign("summer"), many(), 5, FakeDraws(), seed="beta").draw
    assert first["winners"] == again["winners"] and first["digest"] == again["digest"]
    assert other["winners"] != first["winners"] and other["digest"] == first["digest"]
    assert len(set(first["winners"])) == 5


def test_anyone_can_rerun_the_rule_without_our_code():
    draw = run_draw(campaign("summer"), many(), 3, FakeDraws(), seed="public seed").draw
    ids = sorted(e["submission_id"] for e in many())
    assert draw["digest"] == hashlib.sha256("\n".join(ids).encode()).hexdigest()
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"public seed:{i}".encode()).hexdigest())
    assert draw["winners"] == ranked[:3]
    assert draw["eligible"] == 60


def test_too_many_winners_are_refused_with_the_count():
    store = FakeDraws()
    with pytest.raises(TooManyWinners) as refused:
        run_draw(campaign("summer"), MIXED, 4, store, seed="s")
    assert refused.value.eligible == 3 and "only 3 eligible" in str(refused.value)
    assert store.items == {}


def test_a_second_draw_with_the_same_seed_changes_nothing():
    store = FakeDraws()
    first = run_draw(campaign("summer"), many(), 5, store, seed="s")
    second = run_draw(campaign("summer"), many(), 2, store, seed="s")
    assert first.created and not second.created
    assert second.draw == first.draw and store.puts == 1
    assert not second.entries_changed
    changed = run_draw(campaign("summer"), many(61), 5, store, seed="s")
    assert not changed.created and changed.entries_changed and changed.eligible_now == 61
    assert changed.draw == first.draw


def test_a_random_seed_when_none_is_given():
    store = FakeDraws()
    one = run_draw(campaign("summer"), many(), 1, store).draw
    two = run_draw(campaign("summer"), many(), 1, store).draw
    assert one["seed"] != two["seed"] and len(one["seed"]) == 32 and store.puts == 2


def test_verify_recomputes_the_stored_draw():
    store = FakeDraws()
    run_draw(campaign("summer"), many(), 4, store, seed="s")
    checked = verify_draw(campaign("summer"), many(), "s", store)
    assert checked is not None and checked.digest_matches and checked.winners_match
    later = verify_draw(campaign("summer"), many(59), "s", store)
    assert later is not None and not later.digest_matches
    assert verify_draw(campaign("summer"), many(), "unknown", store) is None


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


def test_the_command_prints_the_seed_count_digest_and_winners(ports, tmp_path):
    ids_file = tmp_path / "ids.txt"
    result = draw(ports, "summer", "--winners", "2", "--ids-file", str(ids_file))
    assert result.exit_code == 0, result.output
    (stored,) = ports.draws.items.values()
    assert f"seed: {stored['seed']}" in result.output
    assert "eligible entries: 10" in result.output
    assert stored["digest"] in result.output
    for winner in stored["winners"]:
        assert winner in result.output
    assert hashlib.sha256(ids_file.read_bytes()).hexdigest() == stored["digest"]


def test_the_command_says_a_second_draw_changed_nothing(ports):
    first = draw(ports, "summer", "--winners", "2", "--seed", "s")
    ports.entries.items["late"] = entry("late")
    second = draw(ports, "summer", "--winners", "2", "--seed", "s")
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "stored already" in second.output and "nothing changed" in second.output
    assert "the eligible entries changed since: 11 now" in second.output
    assert ports.draws.puts == 1
    verified = draw(ports, "summer", "--verify", "s")
    assert verified.exit_code == 1 and "not verified" in verified.output


def test_the_command_refuses_too_many_winners_and_unknown_campaigns(ports):
    refused = draw(ports, "summer", "--winners", "11")
    assert refused.exit_code == 1 and "only 10 eligible entries" in refused.output
    assert ports.draws.items == {}
    unknown = draw(ports, "winter", "--winners", "1")
    assert unknown.exit_code == 1 and "no campaign 'winter'" in unknown.output
    missing = draw(ports, "summer")
    assert missing.exit_code == 2 and "--winners" in missing.output
    zero = draw(ports, "summer", "--winners", "0")
    assert zero.exit_code == 2


def test_verify_says_verified(ports):
    draw(ports, "summer", "--winners", "3", "--seed", "s")
    verified = draw(ports, "summer", "--verify", "s")
    assert verified.exit_code == 0 and "verified: the same eligible entries and the same winners" in verified.output
    assert digest(sorted(ports.entries.items)) in verified.output
    unknown = draw(ports, "summer", "--verify", "nope")
    assert unknown.exit_code == 1 and "no draw of summer with seed 'nope'" in unknown.output


def test_more_winners_than_a_draw_can_store_are_refused(ports):
    refused = draw(ports, "summer", "--winners", "5001")
    assert refused.exit_code == 2 and "at most 5000" in refused.output
    assert ports.draws.items == {}

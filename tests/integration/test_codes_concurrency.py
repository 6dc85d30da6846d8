"""Discount codes against moto's server: many threads give codes to overlapping entries at once;
no code goes to two entries, no entry holds two codes, every retry answers the same."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from events.models import ACCEPTED, WAITLISTED
from tests.tables import scan

pytestmark = pytest.mark.integration


def store_entries(ids: list[str]) -> None:
    from lambda_platform.adapters.tables import DynamoSubmissions

    assert not DynamoSubmissions().put_many(
        [
            {
                "submission_id": sid,
                "campaign_id": "promo",
                "status": ACCEPTED,
                "email": f"{sid}@example.com",
                "received_at": f"2025-06-14T09:{n // 60:02d}:{n % 60:02d}+00:00",
            }
            for n, sid in enumerate(ids)
        ]
    )


@pytest.mark.slow
def test_concurrent_givers_never_give_a_code_twice_nor_an_entry_two(provisioned):
    from campaigns.codes import give_code, import_codes, pool_status
    from lambda_platform.adapters.codes import DynamoCodes
    from tests.fakes.tables import campaign

    ids = [f"entry-{n:03d}" for n in range(40)]
    store_entries(ids)
    store = DynamoCodes()
    assert import_codes("promo", [f"CODE-{n:03d}" for n in range(25)], store, print).added == 25

    # Each entry given three times over, by different threads at once: redeliveries and replays.
    work = [sid for sid in ids for _ in range(3)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda sid: (sid, give_code("promo", sid, store).code), work))

    answered = {sid: {code for s, code in answers if s == sid} for sid in ids}
    assert all(len(found) == 1 for found in answered.values()), "every give of one entry answers the same"
    codes = {c["code"]: c for c in scan("codes")}
    given = {code: item["given_to"] for code, item in codes.items() if "given_to" in item}
    assert len(given) == 25 and not any("pool" in item for item in codes.values())
    assert len(set(given.values())) == 25, "no entry holds two codes"
    stored = {e["submission_id"]: e for e in scan("submissions")}
    holders = {sid: e["code"] for sid, e in stored.items() if "code" in e}
    assert holders == {sid: code for code, sid in given.items()}, "each code's entry holds exactly that code"
    assert all(answered[sid] == {code} for sid, code in holders.items())
    waiting = [sid for sid, e in stored.items() if e["status"] == WAITLISTED]
    assert len(waiting) == 15 and all(answered[sid] == {None} for sid in waiting)
    assert all(stored[sid]["waitlisted_in"] == "promo" and "code" not in stored[sid] for sid in waiting)

    # Five more codes: the five oldest waitlisted entries get them, in order of entry.
    report = import_codes("promo", [f"MORE-{n}" for n in range(5)], store, print)
    assert report.added == 5 and report.given_to_waitlist == 5
    stored = {e["submission_id"]: e for e in scan("submissions")}
    filled = sorted(sid for sid in waiting if "code" in stored[sid])
    assert filled == sorted(waiting)[:5]
    assert all(stored[sid]["status"] == ACCEPTED and "waitlisted_in" not in stored[sid] for sid in filled)
    (status,) = pool_status([campaign("promo", gives_codes=True)], store)
    assert (status.available, status.given, status.waitlisted) == (0, 30, 10)


REJECTION = {
    "decision": "rejected",
    "reason": "receipt from 2019",
    "key_id": "k1",
    "key_name": "agency",
    "reviewed_at": "2025-06-15T00:00:00+00:00",
    "change_id": "r1",
}


@pytest.mark.slow
def test_codes_go_only_to_clean_entries_whatever_runs_at_once(provisioned):
    from campaigns.codes import give_code, import_codes, pool_status
    from lambda_platform.adapters.codes import DynamoCodes
    from lambda_platform.adapters.entries import DynamoEntries
    from lambda_platform.adapters.receipts import DynamoReceiptFlags
    from tests.fakes.tables import campaign

    ids = [f"entry-{n:03d}" for n in range(30)]
    store_entries(ids)
    flagged, rejected = set(ids[0:6]), set(ids[6:10])
    for sid in flagged:
        assert DynamoReceiptFlags().flag(sid, ["entry-999"])
    for sid in rejected:
        assert DynamoEntries().record_review(sid, "promo", {**REJECTION, "change_id": f"r-{sid}"})
    store = DynamoCodes()
    assert import_codes("promo", [f"CODE-{n:03d}" for n in range(15)], store, print).added == 15

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda sid: (sid, give_code("promo", sid, store)), [s for s in ids for _ in range(3)]))
    refused = {sid for sid, answer in answers if answer.code is None and not answer.waitlisted}
    assert refused == flagged | rejected
    stored = {e["submission_id"]: e for e in scan("submissions")}
    holders = {sid for sid, e in stored.items() if "code" in e}
    assert len(holders) == 15 and not holders & (flagged | rejected)
    waiting = {sid for sid, e in stored.items() if e.get("waitlisted_in") == "promo"}
    assert len(waiting) == 5 and not waiting & (flagged | rejected)
    assert all(stored[sid]["status"] == ACCEPTED for sid in flagged | rejected)

    # Waitlisted, then flagged (two) or rejected (one); then an import: no code for those three.
    later_flagged, later_rejected, *clean = sorted(waiting)[:2], sorted(waiting)[2], *sorted(waiting)[3:]
    for sid in later_flagged:
        assert DynamoReceiptFlags().flag(sid, ["entry-998"])
    assert DynamoEntries().record_review(later_rejected, "promo", {**REJECTION, "change_id": "r-late"})
    assert "waitlisted_in" not in {e["submission_id"]: e for e in scan("submissions")}[later_rejected]  # left at once
    report = import_codes("promo", [f"MORE-{n}" for n in range(5)], store, print)
    assert (report.added, report.given_to_waitlist, report.left_waitlist) == (5, 2, 2)
    stored = {e["submission_id"]: e for e in scan("submissions")}
    assert all("code" in stored[sid] for sid in clean)
    for sid in [*later_flagged, later_rejected]:
        assert "code" not in stored[sid] and "waitlisted_in" not in stored[sid] and stored[sid]["status"] == ACCEPTED
    (status,) = pool_status([campaign("promo", gives_codes=True)], store)
    assert (status.available, status.given, status.waitlisted) == (3, 17, 0)


@pytest.mark.slow
def test_an_entry_flagged_between_the_waitlist_read_and_its_give_keeps_no_code(provisioned):
    from campaigns.codes import give_code, import_codes
    from lambda_platform.adapters.codes import DynamoCodes
    from lambda_platform.adapters.entries import DynamoEntries
    from lambda_platform.adapters.receipts import DynamoReceiptFlags

    ids = ["entry-000", "entry-001", "entry-002"]
    store_entries(ids)
    plain = DynamoCodes()
    assert all(give_code("promo", sid, plain).waitlisted for sid in ids)

    class FlaggedJustBefore(DynamoCodes):
        """Another worker flags or rejects the entry after the fill read the waitlist, before the give."""

        def give(self, campaign_id, code, submission_id, given_at):
            if submission_id == "entry-000":
                DynamoReceiptFlags().flag(submission_id, ["entry-999"])
            if submission_id == "entry-001":
                DynamoEntries().record_review(submission_id, "promo", REJECTION)
            return super().give(campaign_id, code, submission_id, given_at)

    report = import_codes("promo", ["ONLY-1"], FlaggedJustBefore(), print)
    assert (report.given_to_waitlist, report.left_waitlist) == (1, 1)  # the rejected one left on its review
    codes = {c["code"]: c for c in scan("codes")}
    assert codes["ONLY-1"]["given_to"] == "entry-002"
    stored = {e["submission_id"]: e for e in scan("submissions")}
    assert [("code" in stored[s], stored[s]["status"]) for s in ids] == [(False, ACCEPTED), (False, ACCEPTED), (True, ACCEPTED)]

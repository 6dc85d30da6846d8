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
    assert import_codes("promo", [f"CODE-{n:03d}" for n in range(25)], store).added == 25

    # Each entry given three times over, by different threads at once: redeliveries and replays.
    work = [sid for sid in ids for _ in range(3)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda sid: (sid, give_code("promo", sid, store)), work))

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
    report = import_codes("promo", [f"MORE-{n}" for n in range(5)], store)
    assert report.added == 5 and report.given_to_waitlist == 5
    stored = {e["submission_id"]: e for e in scan("submissions")}
    filled = sorted(sid for sid in waiting if "code" in stored[sid])
    assert filled == sorted(waiting)[:5]
    assert all(stored[sid]["status"] == ACCEPTED and "waitlisted_in" not in stored[sid] for sid in filled)
    (status,) = pool_status([campaign("promo", gives_codes=True)], store)
    assert (status.available, status.given, status.waitlisted) == (0, 30, 10)

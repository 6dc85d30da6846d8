"""Discount codes over the in-memory CodeStore: imports, one code per entry, the waitlist in order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from campaigns.codes import fill_waitlist, give_code, import_codes, pool_status
from events.models import ACCEPTED, WAITLISTED
from tests.fakes.codes import FakeCodes
from tests.fakes.tables import campaign


def entries(*ids: str) -> dict[str, dict]:
    """Stored accepted entries of `summer`, received in the order given."""
    return {
        sid: {"submission_id": sid, "campaign_id": "summer", "status": ACCEPTED, "received_at": f"2025-06-14T09:00:{n:02d}+00:00"}
        for n, sid in enumerate(ids)
    }


def test_an_import_adds_each_code_once_and_reports_blank_and_duplicate_lines_by_number():
    store = FakeCodes()
    report = import_codes("summer", ["\ufeffA1\n", "B2\r\n", "", "  A1 ", "C3", "   ", "B2"], store)
    assert report.added == 3
    assert [(p.line, p.message) for p in report.problems] == [
        (3, "blank line"),
        (4, "duplicate of line 1"),
        (6, "blank line"),
        (7, "duplicate of line 2"),
    ]
    assert report.skipped == 4 and report.already == []
    again = import_codes("summer", ["C3", "D4"], store)
    assert again.added == 1 and [(p.line, p.message) for p in again.already] == [(1, "already in the campaign's codes")]
    assert store.available("summer", 10)[0] == ["A1", "B2", "C3", "D4"]  # in import order


def test_a_code_given_is_not_put_back_by_a_second_import():
    store = FakeCodes(entries("e1"))
    import_codes("summer", ["A1"], store)
    assert give_code("summer", "e1", store) == "A1"
    report = import_codes("summer", ["A1"], store)
    assert report.added == 0 and len(report.already) == 1
    assert store.available("summer", 10)[0] == []
    assert store.given("summer") == {"A1": "e1"}


def test_each_entry_gets_one_code_and_a_retry_gets_the_same_one():
    store = FakeCodes(entries("e1", "e2"))
    import_codes("summer", ["A1", "B2", "C3"], store)
    first = give_code("summer", "e1", store)
    assert give_code("summer", "e1", store) == first  # a redelivery, a replay
    second = give_code("summer", "e2", store)
    assert {first, second} < {"A1", "B2", "C3"} and first != second
    assert store.entries["e1"]["code"] == first and store.entries["e1"]["status"] == ACCEPTED
    assert store.given("summer") == {first: "e1", second: "e2"}


def test_a_code_taken_by_another_worker_meanwhile_is_skipped_for_the_next():
    store = FakeCodes(entries("e1"))
    import_codes("summer", ["A1", "B2"], store)
    store.taken_concurrently = {"A1": "other", "B2": "other2"}
    import_codes("summer", ["C3"], store)
    assert give_code("summer", "e1", store) == "C3"
    assert store.entries["e1"]["code"] == "C3"


def test_an_empty_pool_waitlists_the_entry_and_an_import_fills_the_waitlist_oldest_first():
    store = FakeCodes(entries("e1", "e2", "e3", "e4"))
    import_codes("summer", ["A1"], store)
    assert give_code("summer", "e1", store) == "A1"
    # e4 is waitlisted first, but e2 and e3 entered before it: the waitlist goes by entry.
    assert [give_code("summer", s, store) for s in ("e4", "e3", "e2")] == [None, None, None]
    assert store.entries["e4"]["status"] == WAITLISTED and store.entries["e4"]["waitlisted_in"] == "summer"
    assert give_code("summer", "e4", store) is None  # a retry: still waiting, its first time kept
    first_time = store.entries["e4"]["waitlisted_at"]

    report = import_codes("summer", ["B2", "C3"], store)
    assert report.added == 2 and report.given_to_waitlist == 2
    assert store.entries["e2"]["code"] == "B2" and store.entries["e3"]["code"] == "C3"
    for sid in ("e2", "e3"):
        assert store.entries[sid]["status"] == ACCEPTED and "waitlisted_in" not in store.entries[sid]
        assert store.entries[sid]["waitlisted_at"]
    assert store.entries["e4"]["status"] == WAITLISTED and store.entries["e4"]["waitlisted_at"] == first_time
    assert fill_waitlist("summer", store) == 0  # nothing left to give
    assert import_codes("summer", ["D4"], store).given_to_waitlist == 1
    assert store.entries["e4"]["code"] == "D4"


def test_the_pool_status_of_campaigns_that_give_codes():
    store = FakeCodes(entries("e1", "e2", "e3"))
    import_codes("summer", ["A1", "B2"], store)
    for sid in ("e1", "e2", "e3"):
        give_code("summer", sid, store)
    found = pool_status([campaign("summer", gives_codes=True), campaign("plain")], store)
    assert [(p.campaign_id, p.available, p.given, p.waitlisted, p.empty) for p in found] == [("summer", 0, 2, 1, True)]


def test_threads_giving_codes_to_overlapping_entries_give_each_code_once_and_each_entry_one():
    ids = [f"e{n:02d}" for n in range(30)]
    store = FakeCodes(entries(*ids))
    import_codes("summer", [f"C{n}" for n in range(20)], store)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda sid: (sid, give_code("summer", sid, store)), ids * 3))
    codes_of = {sid: {code for s, code in results if s == sid} for sid in ids}
    assert all(len(found) == 1 for found in codes_of.values())  # every retry the same answer
    given = store.given("summer")
    assert len(given) == 20 and sorted(given.values()) == sorted(set(given.values()))
    assert sum(1 for e in store.entries.values() if e["status"] == WAITLISTED) == 10


def test_an_import_run_again_finishes_a_fill_that_stopped_before_the_waitlist():
    store = FakeCodes(entries("e1", "e2"))
    assert [give_code("summer", s, store) for s in ("e1", "e2")] == [None, None]
    store.add("summer", [("A1", "1"), ("B2", "2")], "then")  # added, and the process died before its fill
    report = import_codes("summer", ["A1", "B2"], store)
    assert report.added == 0 and report.skipped == 2 and report.given_to_waitlist == 2
    assert {store.entries[s]["code"] for s in ("e1", "e2")} == {"A1", "B2"}

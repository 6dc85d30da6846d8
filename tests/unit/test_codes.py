"""Discount codes over the in-memory CodeStore: imports, one code per entry, the waitlist in order."""

from __future__ import annotations

import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest

from campaigns.codes import EntryCode, ImportReport, Problem, fill_waitlist, give_code, import_codes, pool_status
from events.models import ACCEPTED, WAITLISTED
from tests.fakes.codes import FakeCodes
from tests.fakes.tables import campaign


def run_import(campaign_id: str, lines, store) -> tuple[ImportReport, list[tuple[int, str]]]:
    """An import, and the problems it reported, by line."""
    problems: list[Problem] = []
    report = import_codes(campaign_id, lines, store, problems.append)
    return report, [(p.line, p.message) for p in problems]


def code_of(campaign_id: str, submission_id: str, store) -> str | None:
    return give_code(campaign_id, submission_id, store).code


def entries(*ids: str) -> dict[str, dict]:
    """Stored accepted entries of `summer`, received in the order given."""
    return {
        sid: {"submission_id": sid, "campaign_id": "summer", "status": ACCEPTED, "received_at": f"2025-06-14T09:00:{n:02d}+00:00"}
        for n, sid in enumerate(ids)
    }


def test_an_import_adds_each_code_once_and_reports_blank_and_duplicate_lines_by_number():
    store = FakeCodes()
    report, problems = run_import("summer", ["\ufeffA1\n", "B2\r\n", "", "  A1 ", "C3", "   ", "B2"], store)
    assert report.added == 3
    assert problems == [
        (3, "blank line"),
        (4, "duplicate of line 1"),
        (6, "blank line"),
        (7, "duplicate of line 2"),
    ]
    assert report.skipped == 4 and report.already == 0
    again, problems = run_import("summer", ["C3", "D4"], store)
    assert again.added == 1 and again.already == 1 and problems == [(1, "already in the campaign's codes")]
    assert store.available("summer", 10)[0] == ["A1", "B2", "C3", "D4"]  # in import order


def test_a_code_given_is_not_put_back_by_a_second_import():
    store = FakeCodes(entries("e1"))
    run_import("summer", ["A1"], store)
    assert code_of("summer", "e1", store) == "A1"
    report, _ = run_import("summer", ["A1"], store)
    assert report.added == 0 and report.already == 1
    assert store.available("summer", 10)[0] == []
    assert store.given("summer") == {"A1": "e1"}


def test_each_entry_gets_one_code_and_a_retry_gets_the_same_one():
    store = FakeCodes(entries("e1", "e2"))
    run_import("summer", ["A1", "B2", "C3"], store)
    first = code_of("summer", "e1", store)
    assert code_of("summer", "e1", store) == first  # a redelivery, a replay
    second = code_of("summer", "e2", store)
    assert {first, second} < {"A1", "B2", "C3"} and first != second
    assert store.entries["e1"]["code"] == first and store.entries["e1"]["status"] == ACCEPTED
    assert store.given("summer") == {first: "e1", second: "e2"}


def test_a_code_taken_by_another_worker_meanwhile_is_skipped_for_the_next():
    store = FakeCodes(entries("e1"))
    run_import("summer", ["A1", "B2"], store)
    store.taken_concurrently = {"A1": "other", "B2": "other2"}
    run_import("summer", ["C3"], store)
    assert code_of("summer", "e1", store) == "C3"
    assert store.entries["e1"]["code"] == "C3"


def test_an_empty_pool_waitlists_the_entry_and_an_import_fills_the_waitlist_oldest_first():
    store = FakeCodes(entries("e1", "e2", "e3", "e4"))
    run_import("summer", ["A1"], store)
    assert code_of("summer", "e1", store) == "A1"
    # e4 is waitlisted first, but e2 and e3 entered before it: the waitlist goes by entry.
    assert [code_of("summer", s, store) for s in ("e4", "e3", "e2")] == [None, None, None]
    assert store.entries["e4"]["status"] == WAITLISTED and store.entries["e4"]["waitlisted_in"] == "summer"
    assert code_of("summer", "e4", store) is None  # a retry: still waiting, its first time kept
    first_time = store.entries["e4"]["waitlisted_at"]

    report, _ = run_import("summer", ["B2", "C3"], store)
    assert report.added == 2 and report.given_to_waitlist == 2
    assert store.entries["e2"]["code"] == "B2" and store.entries["e3"]["code"] == "C3"
    for sid in ("e2", "e3"):
        assert store.entries[sid]["status"] == ACCEPTED and "waitlisted_in" not in store.entries[sid]
        assert store.entries[sid]["waitlisted_at"]
    assert store.entries["e4"]["status"] == WAITLISTED and store.entries["e4"]["waitlisted_at"] == first_time
    assert fill_waitlist("summer", store).given == 0  # nothing left to give
    assert run_import("summer", ["D4"], store)[0].given_to_waitlist == 1
    assert store.entries["e4"]["code"] == "D4"


def test_the_pool_status_of_campaigns_that_give_codes():
    store = FakeCodes(entries("e1", "e2", "e3"))
    run_import("summer", ["A1", "B2"], store)
    for sid in ("e1", "e2", "e3"):
        code_of("summer", sid, store)
    found = pool_status([campaign("summer", gives_codes=True), campaign("plain")], store)
    assert [(p.campaign_id, p.available, p.given, p.waitlisted, p.empty) for p in found] == [("summer", 0, 2, 1, True)]


def test_threads_giving_codes_to_overlapping_entries_give_each_code_once_and_each_entry_one():
    ids = [f"e{n:02d}" for n in range(30)]
    store = FakeCodes(entries(*ids))
    run_import("summer", [f"C{n}" for n in range(20)], store)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda sid: (sid, code_of("summer", sid, store)), ids * 3))
    codes_of = {sid: {code for s, code in results if s == sid} for sid in ids}
    assert all(len(found) == 1 for found in codes_of.values())  # every retry the same answer
    given = store.given("summer")
    assert len(given) == 20 and sorted(given.values()) == sorted(set(given.values()))
    assert sum(1 for e in store.entries.values() if e["status"] == WAITLISTED) == 10


def test_an_import_run_again_finishes_a_fill_that_stopped_before_the_waitlist():
    store = FakeCodes(entries("e1", "e2"))
    assert [code_of("summer", s, store) for s in ("e1", "e2")] == [None, None]
    store.add("summer", [("A1", "1"), ("B2", "2")], "then")  # added, and the process died before its fill
    report, _ = run_import("summer", ["A1", "B2"], store)
    assert report.added == 0 and report.skipped == 2 and report.given_to_waitlist == 2
    assert {store.entries[s]["code"] for s in ("e1", "e2")} == {"A1", "B2"}


# --- codes are text a person can read ------------------------------------------------------


def test_five_spellings_of_one_code_are_one_code():
    store = FakeCodes()
    lines = ["ABC", "abc", "ＡＢＣ", "ABC\u200b", "A\u0412C"]  # the last with a Cyrillic VE
    report, problems = run_import("summer", lines, store)
    assert report.added == 1 and store.available("summer", 10)[0] == ["ABC"]
    assert problems == [
        (2, "duplicate of line 1"),
        (3, "duplicate of line 1"),
        (4, "duplicate of line 1"),
        (5, "code holds U+0412 CYRILLIC CAPITAL LETTER VE: a code is ASCII letters, digits and - _ ."),
    ]


def test_a_code_is_refused_by_its_line_when_it_holds_anything_but_letters_digits_and_dashes():
    store = FakeCodes()
    lines = [
        "\u200b",  # only a zero-width space: nothing
        "AB\u202eC",  # a bidi override inside
        "AB\x9bC",  # a C1 control (CSI)
        "A B",
        "A\u200dB",  # a zero-width joiner inside
        "CAFÉ",
        "\u202eOK-1\u202c",  # bidi controls around it are trimmed: OK-1
        "\u3000ok_2.x\u00a0",  # an ideographic and a no-break space around it
    ]
    report, problems = run_import("summer", lines, store)
    assert report.added == 2 and store.available("summer", 10)[0] == ["OK-1", "ok_2.x"]
    assert [(line, message.split(":")[0]) for line, message in problems] == [
        (1, "blank line"),
        (2, "code holds U+202E RIGHT-TO-LEFT OVERRIDE"),
        (3, "code holds U+009B without a name"),
        (4, "code holds U+0020 SPACE"),
        (5, "code holds U+200D ZERO WIDTH JOINER"),
        (6, "code holds U+00C9 LATIN CAPITAL LETTER E WITH ACUTE"),
    ]
    assert all("\u202e" not in message and "\x9b" not in message for _, message in problems)  # named, never echoed


def test_a_code_held_in_another_case_is_already_in_the_campaign():
    store = FakeCodes()
    run_import("summer", ["Summer-25"], store)
    report, problems = run_import("summer", ["SUMMER-25", "ｓｕｍｍｅｒ-25", "WINTER-25"], store)
    assert report.added == 1 and report.already == 1 and report.problems == 1
    assert problems == [(1, "already in the campaign's codes"), (2, "duplicate of line 1")]
    assert store.available("summer", 10)[0] == ["Summer-25", "WINTER-25"]  # each as it was first imported


def test_a_duplicate_of_an_earlier_batch_is_named_by_its_first_line(monkeypatch):
    from campaigns import codes

    monkeypatch.setattr(codes, "IMPORT_BATCH", 2)
    store = FakeCodes()
    run_import("summer", ["OLD-1"], store)
    report, problems = run_import("summer", ["A1", "B2", "C3", "a1", "old-1", "c3"], store)
    assert report.added == 3 and report.already == 1 and report.problems == 2
    assert problems == [(4, "duplicate of line 1"), (5, "already in the campaign's codes"), (6, "duplicate of line 3")]


def test_a_given_code_goes_out_as_it_was_imported():
    store = FakeCodes(entries("e1"))
    run_import("summer", ["\ufeffＷｅｌｃｏｍｅ-10\r\n"], store)
    assert code_of("summer", "e1", store) == "Welcome-10"
    assert store.entries["e1"]["code"] == "Welcome-10"


def write_lines(path, count: int) -> None:
    with path.open("wb") as out:
        for start in range(0, count, 100_000):
            out.write(b"".join(b"CODE-%07d\n" % n for n in range(start, min(count, start + 100_000))))


def test_lines_are_read_one_at_a_time_and_a_long_one_is_never_held(tmp_path):
    from campaigns.codes import MAX_LINE_BYTES, NotUtf8, read_lines

    path = tmp_path / "codes.csv"
    path.write_bytes(b"A1\r\n" + b"x" * (5 * MAX_LINE_BYTES) + b"\nB2\n\nC3")
    with path.open("rb") as stream:
        assert list(read_lines(stream)) == ["A1\r\n", None, "B2\n", "\n", "C3"]
    report, problems = run_import("summer", [None], FakeCodes())
    assert report.added == 0 and problems == [(1, f"line longer than {MAX_LINE_BYTES} bytes")]
    path.write_bytes(b"A1\n" + b"x" * MAX_LINE_BYTES + "é".encode("latin-1") + b"\n")
    with path.open("rb") as stream, pytest.raises(NotUtf8) as refused:
        list(read_lines(stream))
    assert (refused.value.line, refused.value.byte) == (2, MAX_LINE_BYTES + 1)


class CountingCodes:
    """A CodeStore that keeps nothing: what an import holds is the import's own."""

    def __init__(self) -> None:
        self.added = 0

    def add(self, campaign_id, codes, added_at):
        self.added += len(codes)
        return {}

    def available(self, campaign_id, limit, after=None):
        return [], None

    def waitlisted(self, campaign_id, limit, after=None):
        return [], None


def traced_peak(run) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_file_takes_the_same_memory_for_ten_thousand_lines_as_for_a_million(tmp_path):
    from campaigns.codes import read_lines

    peaks = {}
    for count in (10_000, 1_000_000):
        path = tmp_path / f"{count}.csv"
        write_lines(path, count)
        with path.open("rb") as stream:
            peaks[count] = traced_peak(lambda stream=stream: sum(1 for _ in read_lines(stream)))
    assert peaks[1_000_000] < peaks[10_000] + 16_384, peaks


@pytest.mark.slow  # a million lines under tracemalloc: some 15 s here (2 s untraced)
def test_an_import_takes_the_same_memory_for_ten_thousand_lines_as_for_a_million():
    peaks, added = {}, {}
    for count in (10_000, 1_000_000):
        store = CountingCodes()
        lines = (f"CODE-{n:07d}\n" for n in range(count))
        peaks[count] = traced_peak(lambda store=store, lines=lines: import_codes("summer", lines, store, print))
        added[count] = store.added
    assert added == {10_000: 10_000, 1_000_000: 1_000_000}
    # A set of a million codes alone would be some 60 MB; the import holds one batch.
    assert peaks[1_000_000] < peaks[10_000] * 1.25, peaks


# --- codes only for clean entries ----------------------------------------------------------

REJECTION = {"decision": "rejected", "reason": "receipt from 2019", "reviewed_at": "2025-06-15T00:00:00+00:00", "change_id": "r1"}


def test_a_flagged_rejected_or_over_the_limit_entry_gets_no_code_and_leaves_the_code_in_the_pool():
    store = FakeCodes(entries("flagged", "rejected", "duplicate", "elsewhere", "clean"))
    store.entries["flagged"]["duplicate_receipt"] = {"clean"}
    store.entries["rejected"]["review"] = REJECTION
    store.entries["duplicate"]["status"] = "duplicate"
    store.entries["elsewhere"]["campaign_id"] = "winter"
    run_import("summer", ["A1"], store)
    for sid in ("flagged", "rejected", "duplicate", "elsewhere"):
        assert give_code("summer", sid, store) == EntryCode(None, waitlisted=False), sid
        assert "code" not in store.entries[sid] and "waitlisted_in" not in store.entries[sid]
    assert store.available("summer", 10)[0] == ["A1"]
    assert give_code("summer", "clean", store) == EntryCode("A1")


def test_an_empty_pool_waitlists_no_flagged_or_rejected_entry():
    store = FakeCodes(entries("flagged", "rejected"))
    store.entries["flagged"]["duplicate_receipt"] = {"x"}
    store.entries["rejected"]["review"] = REJECTION
    assert give_code("summer", "flagged", store) == EntryCode(None) == give_code("summer", "rejected", store)
    assert store.counts("summer") == (0, 0, 0)
    assert all(e["status"] == ACCEPTED for e in store.entries.values())


def test_waitlisted_then_flagged_then_an_import_gives_no_code_and_the_entry_leaves_the_waitlist():
    store = FakeCodes(entries("e1", "e2", "e3"))
    assert [code_of("summer", s, store) for s in ("e1", "e2", "e3")] == [None, None, None]
    store.entries["e1"]["duplicate_receipt"] = {"e0"}  # the receipt check of an earlier entry, later
    report, _ = run_import("summer", ["A1", "B2"], store)
    assert (report.added, report.given_to_waitlist, report.left_waitlist) == (2, 2, 1)
    assert "code" not in store.entries["e1"] and store.entries["e1"]["status"] == ACCEPTED
    assert "waitlisted_in" not in store.entries["e1"] and store.entries["e1"]["waitlisted_at"]
    assert store.given("summer") == {"A1": "e2", "B2": "e3"}
    assert store.counts("summer") == (0, 2, 0)


def test_waitlisted_then_rejected_leaves_the_waitlist_at_once_and_an_import_gives_no_code():
    from tests.fakes.entries import FakeEntries

    store = FakeCodes(entries("e1", "e2"))
    reviews = FakeEntries(store.entries)  # one submissions table
    assert [code_of("summer", s, store) for s in ("e1", "e2")] == [None, None]
    assert reviews.record_review("e1", "summer", REJECTION)
    assert store.entries["e1"]["status"] == ACCEPTED and "waitlisted_in" not in store.entries["e1"]
    assert store.counts("summer") == (0, 0, 1)
    report, _ = run_import("summer", ["A1", "B2"], store)
    assert report.given_to_waitlist == 1 and store.given("summer") == {"A1": "e2"}
    assert "code" not in store.entries["e1"] and store.available("summer", 10)[0] == ["B2"]


def test_an_entry_flagged_between_the_waitlist_read_and_its_give_is_refused_by_the_give_itself():
    store = FakeCodes(entries("e1", "e2", "e3"))
    for sid in ("e1", "e2", "e3"):
        code_of("summer", sid, store)
    flagged_now = {"e1": "duplicate_receipt", "e2": "review"}

    def another_writer(submission_id: str) -> None:
        mark = flagged_now.pop(submission_id, None)
        if mark == "duplicate_receipt":
            store.entries[submission_id]["duplicate_receipt"] = {"e9"}
        elif mark == "review":
            store.entries[submission_id]["review"] = REJECTION

    store.before_give = another_writer
    report, _ = run_import("summer", ["A1", "B2"], store)
    assert (report.given_to_waitlist, report.left_waitlist) == (1, 2)
    # The code tried on e1 and on e2 stayed in the pool: two codes, one given, to e3.
    assert list(store.given("summer").values()) == ["e3"] and len(store.available("summer", 10)[0]) == 1
    assert [store.entries[s]["status"] for s in ("e1", "e2", "e3")] == [ACCEPTED, ACCEPTED, ACCEPTED]
    assert [g[1] for g in store.gives] == ["e1", "e2", "e3"]


def test_threads_giving_codes_while_entries_are_flagged_give_none_to_a_flagged_entry():
    ids = [f"e{n:02d}" for n in range(30)]
    store = FakeCodes(entries(*ids))
    flagged = set(ids[::3])
    for sid in flagged:
        store.entries[sid]["duplicate_receipt"] = {"e99"}
    run_import("summer", [f"C{n}" for n in range(25)], store)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda sid: (sid, give_code("summer", sid, store)), ids * 3))
    assert all(answer == EntryCode(None) for sid, answer in results if sid in flagged)
    given = store.given("summer")
    assert len(given) == 20 and not flagged & set(given.values())
    assert store.counts("summer") == (5, 20, 0)

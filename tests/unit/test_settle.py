"""The confirmations worker's settle step over fakes: receipt check, one code per entry, the waitlist,
one confirmation and one "your code" email, whatever is delivered again."""

from __future__ import annotations

import pytest

from campaigns.codes import Problem, import_codes
from events.uploads import upload_key
from tests.unit.settling import Settling, entry, stream_event
from workers import confirmations


@pytest.fixture
def settling(monkeypatch) -> Settling:
    made = Settling()
    monkeypatch.setattr(confirmations, "_ports", lambda context, event: made.ports())
    return made


def photo(settling: Settling, n: int, status: str = "pending", campaign_id: str = "promo", **found) -> str:
    """An upload record of the campaign's; its key."""
    upload_id = f"{n:032x}"
    key = upload_key(f"uploads/campaigns/{campaign_id}/", upload_id, "image/jpeg")
    settling.uploads.create({"upload_id": upload_id, "key": key, "status": status, **found})
    return key


def no_problem(problem: Problem) -> None:
    raise AssertionError(f"the codes imported here are all good: {problem}")


def text(email: dict) -> str:
    return email["text"] + email["html"]


def test_an_entry_without_photo_or_codes_gets_one_plain_confirmation(settling, lambda_context):
    stored = entry(1)
    event = stream_event(("INSERT", stored), ("INSERT", stored))  # moto's two INSERTs of one update_item
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    assert confirmations.handler(stream_event(("MODIFY", {**stored, "review": {"decision": "approved"}})), lambda_context) == {
        "batchItemFailures": []
    }
    (email,) = settling.mailer.sent
    assert "entry-001" in email["text"] and "code" not in email["text"].lower() and "waitlist" not in email["text"]
    assert settling.upload_reads == [] and settling.codes.gives == []


def test_a_pool_of_three_gives_three_codes_and_waitlists_the_rest(settling, lambda_context):
    import_codes("promo", ["A1", "B2", "C3"], settling.codes, no_problem)
    stored = [settling.store(entry(n, "promo")) for n in range(5)]
    event = stream_event(*(("INSERT", dict(e)) for e in stored))
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    sent = {m["to"]: m for m in settling.mailer.sent}
    assert len(settling.mailer.sent) == 5
    codes = {to: code for to, m in sent.items() for code in ("A1", "B2", "C3") if f"Your discount code: {code}" in m["text"]}
    assert sorted(codes.values()) == ["A1", "B2", "C3"]
    waiting = [to for to, m in sent.items() if "on the waitlist" in m["text"]]
    assert len(waiting) == 2 and not set(waiting) & set(codes)
    assert all("<strong>" in sent[to]["html"] for to in codes)
    gives = len(settling.codes.gives)

    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}  # a replay
    assert len(settling.mailer.sent) == 5 and len(settling.codes.gives) == gives


def test_a_throttled_confirmation_is_retried_with_the_code_it_was_given(settling, lambda_context):
    import_codes("promo", ["A1", "B2"], settling.codes, no_problem)
    first, second = settling.store(entry(1, "promo")), settling.store(entry(2, "promo"))
    settling.mailer.throttle_first = {first["email"]}
    event = stream_event(("INSERT", dict(first)), ("INSERT", dict(second)))
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    held = settling.codes.entries[first["submission_id"]]["code"]
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}  # the retry, stale image and all
    (email,) = settling.mailer.to(first["email"])
    assert f"Your discount code: {held}" in email["text"]
    assert settling.codes.given("promo") == {held: first["submission_id"], ({"A1", "B2"} - {held}).pop(): second["submission_id"]}


def test_a_pending_photo_sends_nothing_until_the_thumbnail_worker_touches_the_entry(settling, lambda_context):
    import_codes("promo", ["A1"], settling.codes, no_problem)
    key = photo(settling, 7)
    stored = settling.store(entry(1, "promo", upload_key=key))
    assert confirmations.handler(stream_event(("INSERT", dict(stored))), lambda_context) == {"batchItemFailures": []}
    assert settling.mailer.sent == [] and settling.receipts.checked == [] and settling.codes.gives == []
    assert settling.confirmations.records == {}  # nothing remembered: the MODIFY will settle it

    settling.uploads.record_outcome(f"{7:032x}", {"status": "ready", "phash": "c3a5f00f0f0fa5c3"})
    touched = {**stored, "receipt_ready_at": "2025-06-14T09:22:00+00:00"}
    assert confirmations.handler(stream_event(("MODIFY", touched)), lambda_context) == {"batchItemFailures": []}
    assert settling.receipts.checked == [("entry-001", "c3a5f00f0f0fa5c3")]
    (email,) = settling.mailer.sent
    assert "Your discount code: A1" in email["text"]


def test_an_entry_whose_photo_copies_an_earlier_one_gets_no_code(settling, lambda_context):
    import_codes("promo", ["A1", "B2"], settling.codes, no_problem)
    key = photo(settling, 8, status="ready", phash="ffff0000ffff0000")
    settling.receipts.copies = {"ffff0000ffff0000": ["entry-000"]}
    copy = settling.store(entry(1, "promo", upload_key=key))
    flagged = settling.store(entry(2, "promo", duplicate_receipt={"entry-009"}))  # a later check flagged it
    event = stream_event(("INSERT", dict(copy)), ("MODIFY", dict(flagged)))
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    assert len(settling.mailer.sent) == 2
    assert all("discount code" not in m["text"] and "waitlist" not in m["text"] for m in settling.mailer.sent)
    assert settling.codes.gives == [] and settling.codes.counts("promo") == (2, 0, 0)


def test_a_rejected_photo_is_not_checked_and_the_entry_is_confirmed(settling, lambda_context):
    key = photo(settling, 9, status="rejected", campaign_id="summer")
    stored = entry(1, upload_key=key)
    assert confirmations.handler(stream_event(("INSERT", stored)), lambda_context) == {"batchItemFailures": []}
    assert len(settling.mailer.sent) == 1 and settling.receipts.checked == []


def test_an_entry_given_its_code_from_the_waitlist_gets_one_code_email(settling, lambda_context):
    stored = settling.store(entry(1, "promo"))
    assert confirmations.handler(stream_event(("INSERT", dict(stored))), lambda_context) == {"batchItemFailures": []}
    (waitlisted,) = settling.mailer.sent
    assert "on the waitlist" in waitlisted["text"]
    assert settling.codes.entries["entry-001"]["status"] == "waitlisted"

    assert import_codes("promo", ["LATE-1"], settling.codes, no_problem).given_to_waitlist == 1
    filled = dict(settling.codes.entries["entry-001"])
    event = stream_event(("MODIFY", filled), ("MODIFY", filled))
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}  # a replay
    assert len(settling.mailer.sent) == 2
    code = settling.mailer.sent[1]
    assert code["subject"] == "Your discount code for Promo" and "Your discount code: LATE-1" in code["text"]


def test_a_batch_reads_its_uploads_at_once():
    made = Settling()
    reads: list[list[str]] = []
    keys = [photo(made, n, status="rejected") for n in (1, 2, 3)]
    event = stream_event(
        *(("INSERT", entry(n, "promo", upload_key=k)) for n, k in enumerate(keys)),
        ("MODIFY", entry(9, "promo", upload_key=keys[0], code="X")),  # settled already: not read
    )

    def read(ids):
        reads.append(list(ids))
        return [made.uploads.get(i) for i in ids]

    lookup = confirmations.batch_uploads(confirmations.upload_ids(event), read)
    assert [lookup(f"{n:032x}")["status"] for n in (1, 2, 3)] == ["rejected"] * 3
    assert reads == [[f"{n:032x}" for n in (1, 2, 3)]]


REJECTION = {"decision": "rejected", "reason": "receipt from 2019", "reviewed_at": "2025-06-15T00:00:00+00:00", "change_id": "r1"}


def test_an_entry_rejected_before_it_is_settled_gets_no_code_and_no_waitlist(settling, lambda_context):
    import_codes("promo", ["A1"], settling.codes, no_problem)
    rejected = settling.store(entry(1, "promo", review=REJECTION))
    assert confirmations.handler(stream_event(("INSERT", dict(rejected))), lambda_context) == {"batchItemFailures": []}
    (email,) = settling.mailer.sent
    assert "discount code" not in email["text"] and "waitlist" not in email["text"]
    assert settling.codes.gives == [] and settling.codes.counts("promo") == (1, 0, 0)


def test_a_review_written_between_the_image_and_the_give_is_seen_by_the_give(settling, lambda_context):
    import_codes("promo", ["A1"], settling.codes, no_problem)
    stored = settling.store(entry(1, "promo"))
    settling.codes.entries["entry-001"]["review"] = REJECTION  # the stream's image predates it
    assert confirmations.handler(stream_event(("INSERT", dict(stored))), lambda_context) == {"batchItemFailures": []}
    (email,) = settling.mailer.sent
    assert "discount code" not in email["text"] and "waitlist" not in email["text"]
    assert settling.codes.counts("promo") == (1, 0, 0) and "code" not in settling.codes.entries["entry-001"]


@pytest.mark.parametrize("later", ["flagged", "rejected"])
def test_waitlisted_then_flagged_or_rejected_then_an_import_sends_no_code_email(settling, lambda_context, later):
    from tests.fakes.entries import FakeEntries

    first, second = settling.store(entry(1, "promo")), settling.store(entry(2, "promo"))
    event = stream_event(("INSERT", dict(first)), ("INSERT", dict(second)))
    assert confirmations.handler(event, lambda_context) == {"batchItemFailures": []}
    assert all("on the waitlist" in m["text"] for m in settling.mailer.sent) and len(settling.mailer.sent) == 2
    if later == "flagged":
        settling.codes.entries["entry-001"]["duplicate_receipt"] = {"entry-000"}
    else:
        assert FakeEntries(settling.codes.entries).record_review("entry-001", "promo", REJECTION)

    report = import_codes("promo", ["LATE-1", "LATE-2"], settling.codes, no_problem)
    assert report.given_to_waitlist == 1
    changed = stream_event(*(("MODIFY", dict(settling.codes.entries[s])) for s in ("entry-001", "entry-002")))
    assert confirmations.handler(changed, lambda_context) == {"batchItemFailures": []}
    assert [m["to"] for m in settling.mailer.sent[2:]] == [second["email"]]  # one "your code" email, to the clean one
    assert "code" not in settling.codes.entries["entry-001"]
    assert settling.codes.counts("promo") == (1, 1, 0)

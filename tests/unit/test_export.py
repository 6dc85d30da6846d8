"""`fleet campaigns export`: the rows, the defused cells, the BOM, constant memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest
from click.testing import CliRunner

from campaigns.export import BOM, COLUMNS, FORMULA_STARTS, ExportOptions, defuse, export_entries
from fleet.cli import main
from lambda_platform.composition import Ports
from tests.fakes import fake_ports
from tests.fakes.draws import FakeDraws
from tests.fakes.entries import FakeEntries
from tests.fakes.tables import FakeCampaigns, campaign
from tests.fakes.uploads import FakeUploads

UPLOAD_ID = "ab" + "0" * 30
UPLOAD_KEY = f"uploads/campaigns/summer/ab/{UPLOAD_ID}.jpg"


def entry(n: int, **extra) -> dict:
    """A submissions item as workers.submissions stores it."""
    item = {
        "submission_id": f"s-{n:06d}",
        "campaign_id": "summer",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"ada{n}@example.com",
        "email_lower": f"ada{n}@example.com",
        "phone": "0123456789",
        "postal_code": "75001",
        "consent": True,
        "received_at": f"2030-01-01T00:00:{n % 60:02d}.{n:06d}+00:00",
        "stored_at": "2030-01-01T00:01:00+00:00",
        "status": "accepted",
    }
    item.update(extra)
    return item


class CountedUploads(FakeUploads):
    """The uploads fake, each batch read counted."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[list[str]] = []

    def get_many(self, upload_ids):
        self.lookups.append(list(upload_ids))
        return super().get_many(upload_ids)


class CliPorts:
    """The CLI's ports over fakes, with the upload lookups counted."""

    def __init__(self, *entries: dict) -> None:
        self.uploads = CountedUploads()
        self.lookups = self.uploads.lookups
        self.entries = FakeEntries({e["submission_id"]: e for e in entries})
        self.draws = FakeDraws()
        self.ports = Ports(
            **fake_ports(
                campaigns=FakeCampaigns(campaign("summer")), entries=self.entries, uploads=self.uploads, draws=self.draws
            )
        )

    def invoke(self, *args: str):
        return CliRunner().invoke(main, ["campaigns", "export", *args], obj=self.ports)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_each_formula_start_comes_out_as_text():
    starts = {
        "first_name": '=HYPERLINK("http://x")',
        "last_name": "+1+2",
        "phone": "-3",
        "email": "@SUM(A1)",
        "postal_code": "\tcmd",
        "code": "\rline",
    }
    ports = CliPorts(entry(1, **starts))
    result = ports.invoke("summer")
    assert result.exit_code == 0, result.output
    header, row = rows(result.stdout_bytes.decode("utf-8"))
    assert tuple(header) == COLUMNS
    cells = dict(zip(header, row, strict=True))
    assert {c[0] for c in starts.values()} == set(FORMULA_STARTS)
    for column, value in starts.items():
        assert cells[column] == "'" + value, column
    # Each cell also quoted whole, as OWASP advises.
    assert '"\'=HYPERLINK(""http://x"")"' in result.stdout_bytes.decode("utf-8")


def test_plain_cells_are_left_alone():
    assert defuse("Ada") == "Ada"
    assert defuse("a=b") == "a=b"
    assert defuse("") == ""
    assert defuse("Ｍａｒｉｅ") == "Ｍａｒｉｅ"  # full-width letters: no formula, and written as they came
    assert defuse("\u200bAda") == "\u200bAda"
    assert defuse("\u200b") == "\u200b"


#: Cells that start a formula once a spreadsheet drops what it does not show, or folds
#: full-width and small forms onto ASCII (NFKC): each is written with the leading quote.
DISGUISED = {
    "full-width equals": '＝HYPERLINK("http://x")',
    "full-width plus": "＋1+2",
    "full-width at": "＠SUM(A1)",
    "full-width hyphen-minus": "－3",
    "small equals": "\ufe66cmd",
    "zero-width space": "\u200b=1+1",
    "word joiner": "\u2060=1+1",
    "byte order mark": "\ufeff=1+1",
    "right-to-left override": "\u202e=1+1",
    "left-to-right mark": "\u200e+1",
    "no-break space": "\u00a0=1",
    "ideographic space": "\u3000@A1",
    "space": " =1",
    "zero-width then full-width": "\u200b\u200d＝1",
    "Hangul filler": "\u3164=1",
}


@pytest.mark.parametrize("cell", DISGUISED.values(), ids=DISGUISED.keys())
def test_a_formula_behind_invisible_or_full_width_characters_is_defused(cell):
    assert defuse(cell) == "'" + cell


def test_disguised_formulas_come_out_as_text_in_the_export():
    ports = CliPorts(entry(1, first_name="＝1+1", last_name="\u200b=2+2", phone="＋44 20", email="\u2060@SUM(A1)"))
    result = ports.invoke("summer")
    assert result.exit_code == 0, result.output
    header, row = rows(result.stdout_bytes.decode("utf-8"))
    cells = dict(zip(header, row, strict=True))
    assert cells["first_name"] == "'＝1+1" and cells["last_name"] == "'\u200b=2+2"
    assert cells["phone"] == "'＋44 20" and cells["email"] == "'\u2060@SUM(A1)"


def test_the_bom_is_there_only_with_excel():
    ports = CliPorts(entry(1, first_name="Zoë"))
    plain = ports.invoke("summer")
    excel = ports.invoke("summer", "--excel")
    assert plain.exit_code == 0 and excel.exit_code == 0, plain.output + excel.output
    assert not plain.stdout_bytes.startswith(BOM.encode("utf-8"))
    assert excel.stdout_bytes.startswith(BOM.encode("utf-8"))
    assert excel.stdout_bytes[len(BOM.encode("utf-8")) :] == plain.stdout_bytes
    assert "Zoë" in plain.stdout_bytes.decode("utf-8")
    refused = ports.invoke("summer", "--excel", "--format", "jsonl")
    assert refused.exit_code == 2 and "--excel" in refused.output


def test_an_empty_export_writes_the_header_and_exits_0():
    result = CliPorts().invoke("summer")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout_bytes.decode("utf-8")) == [list(COLUMNS)]
    assert "exported 0 entries of summer" in result.stderr


def test_an_unknown_campaign_is_a_clear_error():
    result = CliPorts().invoke("winter")
    assert result.exit_code == 1
    assert "no campaign 'winter'" in result.output


def test_every_column_an_agency_expects(tmp_path):
    ports = CliPorts(
        entry(
            1,
            answers={"size": "M", "colour": "blue"},
            upload_key=UPLOAD_KEY,
            duplicate_receipt={"s-000009", "s-000003"},
            review={
                "decision": "approved",
                "reason": "ok",
                "key_id": "k1",
                "key_name": "agency",
                "reviewed_at": "2030-01-02T00:00:00+00:00",
                "change_id": "c1",
            },
            code="SAVE10",
        ),
        entry(2, status="duplicate", upload_key="uploads/campaigns/summer/cd/" + "cd" + "1" * 30 + ".jpg"),
        entry(3),
    )
    ports.uploads.items[UPLOAD_ID] = {"upload_id": UPLOAD_ID, "key": UPLOAD_KEY, "status": "ready"}
    target = tmp_path / "out.csv"
    result = ports.invoke("summer", "-o", str(target))
    assert result.exit_code == 0, result.output
    header, *found = rows(target.read_text(encoding="utf-8"))
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in found}
    first = by_id["s-000001"]
    assert json.loads(first["answers"]) == {"colour": "blue", "size": "M"}
    assert first["upload_status"] == "ready"
    assert first["duplicate_receipt_of"] == "s-000003 s-000009"
    reviewer = (first["review_decision"], first["review_reason"], first["reviewer_key_id"], first["reviewer_key_name"])
    assert reviewer == ("approved", "ok", "k1", "agency")
    assert first["reviewed_at"] == "2030-01-02T00:00:00+00:00" and first["code"] == "SAVE10"
    assert first["received_at"].startswith("2030-01-01") and first["stored_at"] == "2030-01-01T00:01:00+00:00"
    assert by_id["s-000002"]["upload_status"] == "unknown"
    assert by_id["s-000003"]["upload_status"] == "" and by_id["s-000003"]["answers"] == ""
    # Oldest first; the uploads of a page read in one lookup.
    assert [r[0] for r in found] == ["s-000001", "s-000002", "s-000003"]
    assert len(ports.lookups) == 1


def test_jsonl_writes_the_same_fields_and_status_filters():
    ports = CliPorts(entry(1, answers={"q": "=1"}), entry(2, status="duplicate"), entry(3, status="waitlisted"))
    result = ports.invoke("summer", "--format", "jsonl", "--status", "accepted")
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.stdout_bytes.decode("utf-8").splitlines()]
    assert tuple(line) == COLUMNS
    assert line["entry_id"] == "s-000001" and line["answers"] == {"q": "=1"} and line["upload_status"] is None
    assert line["duplicate_receipt_of"] == []
    bad = ports.invoke("summer", "--status", "maybe")
    assert bad.exit_code == 2 and "--status" in bad.output


def test_uploads_are_read_one_batch_a_page():
    entries = [entry(n, upload_key=f"uploads/campaigns/summer/ab/ab{n:030d}.jpg") for n in range(250)]
    lookups: list[int] = []
    out = io.StringIO(newline="")
    written = export_entries(iter(entries), lambda ids: lookups.append(len(ids)) or {}, out)
    assert written == 250
    assert lookups == [100, 100, 50]


class Sink(io.TextIOBase):
    """A text stream that keeps nothing, as a pipe to another process."""

    def write(self, text: str) -> int:
        return len(text)


def _peak(count: int, fmt: str) -> int:
    # Entries made as they are read, as a Query's pages arrive: nothing holds them all.
    source = (entry(n, answers={"q": "x" * 40}, upload_key=f"uploads/campaigns/summer/ab/ab{n:030d}.jpg") for n in range(count))
    tracemalloc.start()
    try:
        export_entries(source, lambda ids: {i: {"key": "?", "status": "ready"} for i in ids}, Sink(), ExportOptions(format=fmt))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_memory_does_not_grow_with_the_entries(fmt):
    small, large = _peak(2_000, fmt), _peak(8_000, fmt)
    # Four times the entries: the same peak, within the noise of one page.
    assert large < small * 1.25 + 32 * 1024, (small, large)


def test_a_terminal_gets_a_progress_bar_over_the_count(monkeypatch):
    monkeypatch.setattr("fleet.cli.outcome._stderr_is_terminal", lambda: True)
    ports = CliPorts(*[entry(n) for n in range(3)])
    counted: list[str] = []
    count = ports.entries.count
    monkeypatch.setattr(ports.entries, "count", lambda campaign_id: counted.append(campaign_id) or count(campaign_id))
    result = ports.invoke("summer")
    assert result.exit_code == 0, result.output
    assert counted == ["summer"] and "exporting" in result.stderr
    assert "exported 3 entries of summer" in result.stderr


def test_a_failed_export_leaves_no_half_file(tmp_path):
    ports = CliPorts(entry(1, upload_key=UPLOAD_KEY))

    def throttled(upload_ids):
        raise RuntimeError("throttled")

    ports.uploads.get_many = throttled
    target = tmp_path / "out.csv"
    result = ports.invoke("summer", "-o", str(target))
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    assert not target.exists()


def _failing(ports: CliPorts, error: BaseException) -> None:
    def stops(upload_ids):
        raise error

    ports.uploads.get_many = stops


@pytest.mark.parametrize("error", [RuntimeError("throttled"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_failed_or_interrupted_export_leaves_the_target_exactly_as_it_was(tmp_path, error):
    ports = CliPorts(entry(1, upload_key=UPLOAD_KEY))
    _failing(ports, error)
    target = tmp_path / "out.csv"
    target.write_bytes(b"last week's export\n")
    target.chmod(0o640)
    result = ports.invoke("summer", "-o", str(target))
    assert result.exit_code == 1
    assert target.read_bytes() == b"last week's export\n" and (target.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no half file left beside it


def test_an_export_replaces_the_target_once_whole_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old\n")
    target.chmod(0o600)
    result = CliPorts(entry(1)).invoke("summer", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert rows(target.read_text(encoding="utf-8"))[0] == list(COLUMNS)
    assert (target.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_target_that_is_not_a_regular_file_is_refused_and_left_alone(tmp_path):
    import os

    kept = tmp_path / "kept.csv"
    kept.write_bytes(b"not yours\n")
    link = tmp_path / "link.csv"
    link.symlink_to(kept)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for target in (link, pipe, "/dev/null", tmp_path / "dangling.csv"):
        if target == tmp_path / "dangling.csv":
            target.symlink_to(tmp_path / "nowhere.csv")
        ports = CliPorts(entry(1))
        result = ports.invoke("summer", "-o", str(target))
        assert result.exit_code == 2 and "not a regular file" in result.output, (target, result.output)
    assert kept.read_bytes() == b"not yours\n" and link.is_symlink() and not (tmp_path / "nowhere.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.csv", "kept.csv", "link.csv", "pipe"]


def test_a_dash_is_stdout():
    result = CliPorts(entry(1)).invoke("summer", "-o", "-")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout_bytes.decode("utf-8"))[0] == list(COLUMNS)

"""A campaign's entries as the rows an agency opens: CSV for a spreadsheet, or JSON lines.

Pure: entries come in as stored items, upload records through a lookup, rows go out to a
text stream as they come, a page at a time, so memory stays flat however many entries a
campaign holds.

Answers are one JSON column (`answers`, keys sorted), not a column per question: a
campaign declares no questions, so the keys are only known once every entry has been
read, and a column per key would mean holding the whole export in memory first.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, TextIO

from events.text import is_invisible
from events.uploads import parse_upload_key

#: The columns, in order; JSON lines use the same names as keys.
COLUMNS = (
    "entry_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "answers",
    "status",
    "received_at",
    "stored_at",
    "upload_status",
    "duplicate_receipt_of",
    "review_decision",
    "review_reason",
    "reviewer_key_id",
    "reviewer_key_name",
    "reviewed_at",
    "code",
    # Last, so that the columns before it keep their places: delivered, bounced, complained, suppressed.
    "email_status",
)

FORMATS = ("csv", "jsonl")

#: Starts of a cell a spreadsheet would run as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The byte order mark Excel needs to read a CSV as UTF-8.
BOM = "\ufeff"

#: Entries per page: one BatchGetItem of their uploads (its limit is 100 keys).
PAGE_SIZE = 100

#: upload ids -> their upload records (the ids not found left out).
UploadLookup = Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class ExportOptions:
    """How to write an export."""

    format: str = "csv"
    #: Start a CSV with the BOM, so Excel reads it as UTF-8.
    excel: bool = False


def defuse(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting as a formula gets a leading quote.

    The start is tested as written (a tab, a carriage return), and again on what a
    spreadsheet may make of it: leading spaces and invisible characters (zero-width,
    bidi marks, the BOM: `events.text.is_invisible`) dropped, and NFKC applied, which
    folds full-width and small forms (U+FF1D, U+FF0B, U+FE6B) onto the ASCII ones."""
    if cell.startswith(FORMULA_STARTS) or _visible_start(cell).startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _visible_start(cell: str) -> str:
    """The cell from its first visible character, NFKC-normalised (only its start matters)."""
    start = _strip_invisible(cell)[:8]
    # NFKC may itself yield a space (U+3000, U+00A0 fold to " "): strip again after it.
    return _strip_invisible(unicodedata.normalize("NFKC", start))


def _strip_invisible(text: str) -> str:
    for index, character in enumerate(text):
        if not is_invisible(character):
            return text[index:]
    return ""


def upload_status(entry: Mapping[str, Any], uploads: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The status of the entry's photo (`pending`, `ready`, `rejected`), `unknown`, or None without one."""
    key = entry.get("upload_key")
    if not key:
        return None
    parsed = parse_upload_key(key)
    record = uploads.get(parsed.upload_id) if parsed else None
    if record is None or record.get("key") != key:
        return "unknown"
    return record.get("status") or "unknown"


def entry_record(entry: Mapping[str, Any], uploads: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One entry's exported fields, by column, as JSON values (None where the entry has none)."""
    review = entry.get("review") or {}
    flagged = entry.get("duplicate_receipt") or ()
    return {
        "entry_id": entry["submission_id"],
        "first_name": entry.get("first_name"),
        "last_name": entry.get("last_name"),
        "email": entry.get("email"),
        "phone": entry.get("phone"),
        "postal_code": entry.get("postal_code"),
        "answers": dict(sorted((entry.get("answers") or {}).items())),
        "status": entry.get("status"),
        "received_at": entry.get("received_at"),
        "stored_at": entry.get("stored_at"),
        "upload_status": upload_status(entry, uploads),
        "duplicate_receipt_of": sorted(flagged),
        "review_decision": review.get("decision"),
        "review_reason": review.get("reason"),
        "reviewer_key_id": review.get("key_id"),
        "reviewer_key_name": review.get("key_name"),
        "reviewed_at": review.get("reviewed_at"),
        "code": entry.get("code"),
        "email_status": entry.get("email_status"),
    }


def csv_cells(record: Mapping[str, Any]) -> list[str]:
    """A record's CSV cells, defused: answers as JSON, the flagged ids space-separated."""
    cells: list[str] = []
    for column in COLUMNS:
        value = record.get(column)
        if value is None:
            text = ""
        elif column == "answers":
            text = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
        elif isinstance(value, (list, tuple)):
            text = " ".join(str(v) for v in value)
        else:
            text = str(value)
        cells.append(defuse(text))
    return cells


class RowWriter:
    """Writes records to a text stream in one of the FORMATS."""

    def __init__(self, out: TextIO, options: ExportOptions) -> None:
        if options.format not in FORMATS:
            raise ValueError(f"unknown format {options.format!r}: one of {', '.join(FORMATS)}")
        self._out = out
        self._format = options.format
        # Every cell quoted, as OWASP advises beside the leading quote: a spreadsheet then
        # takes each cell whole, separators and line breaks included.
        self._csv = csv.writer(out, quoting=csv.QUOTE_ALL) if options.format == "csv" else None
        if self._csv is not None:
            if options.excel:
                out.write(BOM)
            self._csv.writerow(COLUMNS)

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one record as a row."""
        if self._csv is not None:
            self._csv.writerow(csv_cells(record))
        else:
            self._out.write(json.dumps({c: record.get(c) for c in COLUMNS}, ensure_ascii=False) + "\n")


def pages(entries: Iterable[Mapping[str, Any]], size: int = PAGE_SIZE) -> Iterator[list[Mapping[str, Any]]]:
    """The entries in lists of `size`, read lazily."""
    iterator = iter(entries)
    while page := list(islice(iterator, size)):
        yield page


def export_entries(
    entries: Iterable[Mapping[str, Any]],
    lookup_uploads: UploadLookup,
    out: TextIO,
    options: ExportOptions = ExportOptions(),
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the entries (the header first, even for none) a page at a time; return how many."""
    writer = RowWriter(out, options)
    written = 0
    for page in pages(entries):
        upload_ids = []
        for entry in page:
            parsed = parse_upload_key(entry["upload_key"]) if entry.get("upload_key") else None
            if parsed is not None:
                upload_ids.append(parsed.upload_id)
        uploads = lookup_uploads(upload_ids) if upload_ids else {}
        for entry in page:
            writer.write(entry_record(entry, uploads))
        written += len(page)
        if progress is not None:
            progress(len(page))
    return written

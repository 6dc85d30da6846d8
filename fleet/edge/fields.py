"""The HTTP fields the edge's cache reads, parsed as RFC 9110 and RFC 9111 say, strictly.

Lenient parsers guess: `email.utils` reads `0` or `Thursday` as some date, and a float
`Age` as a number. A cache that guesses keeps what its origin said was stale. Here an
invalid date is none (an invalid `Expires` means "already expired"), an invalid `Age` is
ignored, and a `Range` the edge does not understand is no range at all.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass

#: RFC 9111 §1.2.2: a delta-seconds too large to represent is 2^31.
DELTA_SECONDS_CAP = 2**31

_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAY_LONG = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(" + "|".join(_MONTHS) + ")"
_TIME = r"(\d\d):(\d\d):(\d\d)"
#: RFC 9110 §5.6.7: IMF-fixdate, and the two obsolete forms a recipient must accept.
_IMF_FIXDATE = re.compile(rf"{_DAY}, (\d\d) {_MONTH} (\d{{4}}) {_TIME} GMT")
_RFC850 = re.compile(rf"{_DAY_LONG}, (\d\d)-{_MONTH}-(\d\d) {_TIME} GMT")
_ASCTIME = re.compile(rf"{_DAY} {_MONTH} ([ \d]\d) {_TIME} (\d{{4}})")
_BYTE_RANGE = re.compile(r"(\d*)-(\d*)")


def http_date(value: str | None) -> float | None:
    """An HTTP-date as epoch seconds; None for anything else (RFC 9110 §5.6.7)."""
    text = (value or "").strip()
    if found := _IMF_FIXDATE.fullmatch(text):
        day, month, year, hour, minute, second = found.groups()
    elif found := _RFC850.fullmatch(text):
        day, month, two_digits, hour, minute, second = found.groups()
        # A two-digit year more than 50 years ahead is in the past century.
        year_now = time.gmtime().tm_year
        full = year_now - year_now % 100 + int(two_digits)
        year = str(full - 100 if full > year_now + 50 else full)
    elif found := _ASCTIME.fullmatch(text):
        month, day, hour, minute, second, year = found.groups()
    else:
        return None
    fields = (int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second))
    if not (1 <= fields[2] <= 31 and fields[3] < 24 and fields[4] < 60 and fields[5] < 61):
        return None
    return float(calendar.timegm((*fields, 0, 0, 0)))


def digits(value: str | None) -> int | None:
    """A value of ASCII digits only (a `Content-Length`, a delta-seconds) as a number, or None."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def delta_seconds(value: str | None) -> int | None:
    """A delta-seconds value (digits only, capped at 2^31), or None when it is not one."""
    seconds = digits(value)
    return None if seconds is None else min(seconds, DELTA_SECONDS_CAP)


def age_seconds(value: str | None) -> int:
    """The `Age` field's seconds: its first member, digits only; 0 when invalid (RFC 9111 §5.1: ignored)."""
    return delta_seconds((value or "").split(",")[0].strip()) or 0


def directives(cache_control: str | None) -> dict[str, str | None]:
    """`Cache-Control` as lower-case directive names and their values (None when bare); the first of a name wins."""
    found: dict[str, str | None] = {}
    for part in (cache_control or "").split(","):
        name, eq, value = part.strip().partition("=")
        if name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            found.setdefault(name.lower(), value if eq else None)
    return found


def field_names(value: str | None) -> set[str]:
    """The lower-case field names of a list-valued field (`Connection`, `Vary`)."""
    return {token.strip().lower() for token in (value or "").split(",") if token.strip()}


@dataclass(frozen=True)
class ByteRange:
    """One range of bytes a viewer asked for: from `first` to `last` inclusive, or the last `suffix` bytes."""

    first: int | None
    last: int | None
    suffix: int | None = None

    def span(self, length: int) -> tuple[int, int] | None:
        """The bytes [start, stop) of a representation of `length` bytes; None when unsatisfiable (RFC 9110 §14.1.1)."""
        if self.suffix is not None:
            if self.suffix == 0 or length == 0:
                return None
            # A suffix longer than the representation is the whole of it.
            return max(0, length - self.suffix), length
        assert self.first is not None
        if self.first >= length:
            return None
        last = length - 1 if self.last is None else min(self.last, length - 1)
        return self.first, last + 1


def byte_range(value: str | None) -> ByteRange | None:
    """The one byte range of a `Range` field; None when there is none the edge serves (RFC 9110 §14.2).

    A unit other than `bytes` is ignored (the whole answer, 200), as are several ranges (a
    server may ignore a Range) and an invalid one (last before first, no digits)."""
    unit, eq, ranges = (value or "").partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in ranges.split(",") if spec.strip()]
    if len(specs) != 1 or not (found := _BYTE_RANGE.fullmatch(specs[0])):
        return None
    first, last = found.groups()
    if not first:
        return ByteRange(None, None, suffix=int(last)) if last else None
    if last and int(last) < int(first):
        return None
    return ByteRange(int(first), int(last) if last else None)

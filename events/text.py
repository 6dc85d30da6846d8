"""What counts as nothing in a form's text.

A name, a title or a comment made only of blanks and characters that show as nothing is
empty, however many code points it has: whitespace (Unicode's, `Zs` included), format
characters (`Cf`: zero-width space and joiners, word joiner, BOM, soft hyphen, bidi
marks and isolates), and the few letters and symbols that are drawn blank on purpose
(Hangul fillers, the Braille blank, the combining grapheme joiner).
"""

from __future__ import annotations

import re
import unicodedata

#: Characters outside `Zs` and `Cf` that render as nothing at all.
BLANK_LOOKING = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")
#: What a one-line name (a campaign's, a key's) may not hold: C0 and C1 controls (tabs and
#: line breaks included), DEL, the line and paragraph separators, and the bidi marks,
#: embeddings, overrides and isolates, which would forge or reorder a listing's rows.
NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def is_invisible(c: str) -> bool:
    """True for a character that shows as nothing: whitespace, `Zs`, `Cf`, or one drawn blank."""
    return c.isspace() or c in BLANK_LOOKING or unicodedata.category(c) in ("Zs", "Cf")


def is_blank(text: str) -> bool:
    """True when nothing in `text` is visible (the empty string included)."""
    return all(is_invisible(c) for c in text)


def is_one_line(text: str) -> bool:
    """True when `text` holds nothing that breaks, hides or reorders a line (`NOT_IN_A_LINE`)."""
    return NOT_IN_A_LINE.search(text) is None

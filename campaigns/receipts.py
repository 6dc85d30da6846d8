"""Duplicate receipts: a perceptual hash of each entry's photo, and the entries whose photo is a copy.

A photo's hash is imagehash's perceptual hash (phash) at 16x16, 256 bits, of the upright
photo. Two photos are copies when their hashes differ in at most `DISTANCE` bits. They are
found through the receipt_bands table without a Scan: the hash is cut into `BANDS` =
DISTANCE + 1 bands, and by the pigeonhole principle two hashes within DISTANCE bits agree
exactly on at least one band. Each entry writes one item per band ("{campaign}#b{BANDS}#
{band number}#{value}": the layout is in the key), then reads one Query per band and
compares the full hashes found there.

`make bench-receipts` chose the hash and the distance by measurement (recall per kind of
copy, false pairs among distinct receipts, and how many items a band's Query returns).
Against phash, dhash, whash, average hash, crop_resistant_hash, and phash of an
autocontrasted image or of the receipt cut to its ink's bounding box, the whole photo's
16x16 phash keeps every brightness and contrast edit up to 25 %, resize and re-encoding
within 18 bits, while distinct receipts stay 26 bits or more apart. A crop of 2 % a side
or more is out of reach of any of them at that false-pair rate: on these photos the
receipt fills most of the frame, so the crop cuts the receipt itself, and the hashes
coarse enough to survive it (8x8, or per segment) put receipts of one shop within a few
bits of each other (docs/campaigns.md, Duplicate receipts).

Entries hashed before the distance went from 14 to 18 bits have their bands under the
15-band layout ("{campaign}#{band number}#{value}"), which checks no longer read: a
photo checked now is not compared with theirs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambda_platform.ports import CodeStore, ReceiptFlags, ReceiptIndex

if TYPE_CHECKING:
    from PIL import Image

#: Side of the hash's grid: HASH_SIZE**2 bits.
HASH_SIZE = 16
HASH_BITS = HASH_SIZE * HASH_SIZE
#: phash's own ratio: the DCT is taken of a grid four times the hash's side.
_SAMPLE = HASH_SIZE * 4
#: Two photos whose hashes differ in at most this many bits are copies of each other.
DISTANCE = 18
#: One more band than the distance: any two hashes within it share a band exactly.
BANDS = DISTANCE + 1


def receipt_hash(image: Image.Image) -> str:
    """The photo's perceptual hash as hex; `image` is already upright (EXIF orientation applied).

    Bit for bit `imagehash.phash(image, hash_size=16)`, whose DCT comes from scipy: the same
    DCT-II is two products with a cosine matrix here, so the Lambda zip needs numpy alone
    (scipy is 140 MB of the 250 MB a function may unzip to).
    """
    # imagehash brings numpy: imported here, so that only the thumbnail worker pays for it.
    import imagehash
    import numpy
    from PIL import Image

    grey = image.convert("L").resize((_SAMPLE, _SAMPLE), Image.Resampling.LANCZOS)
    pixels = numpy.asarray(grey, dtype=numpy.float64)
    rows = _dct_rows()
    low = rows @ pixels @ rows.T  # the HASH_SIZE x HASH_SIZE lowest frequencies
    return str(imagehash.ImageHash(low > numpy.median(low)))


@functools.cache
def _dct_rows() -> Any:
    """The first HASH_SIZE rows of the unnormalised DCT-II matrix of side _SAMPLE (scipy's `dct` type 2)."""
    import numpy

    k = numpy.arange(HASH_SIZE)[:, None]
    n = numpy.arange(_SAMPLE)[None, :]
    return 2 * numpy.cos(numpy.pi * k * (2 * n + 1) / (2 * _SAMPLE))


def distance(first: str, second: str) -> int:
    """How many bits two hex hashes differ in; HASH_BITS + 1 for hashes of different sizes."""
    if len(first) != len(second):
        return HASH_BITS + 1
    return (int(first, 16) ^ int(second, 16)).bit_count()


def band_values(phash: str) -> list[str]:
    """The hash's BANDS bands, each as hex, the bits shared out as evenly as they go."""
    bits = len(phash) * 4
    value = int(phash, 16)
    bands: list[str] = []
    start = 0
    for n in range(BANDS):
        width = bits // BANDS + (1 if n < bits % BANDS else 0)
        part = (value >> (bits - start - width)) & ((1 << width) - 1)
        bands.append(format(part, f"0{(width + 3) // 4}x"))
        start += width
    return bands


def band_keys(campaign_id: str, phash: str) -> list[str]:
    """The receipt_bands partition keys of a photo in a campaign."""
    return [f"{campaign_id}#b{BANDS}#{n}#{value}" for n, value in enumerate(band_values(phash))]


def check_receipt(entry: Mapping[str, Any], phash: str, index: ReceiptIndex, flags: ReceiptFlags, codes: CodeStore) -> list[str]:
    """Record an entry's photo and flag its copies; the ids of the EARLIER entries whose photo it copies.

    Earlier means by `received_at`, then by id. This entry is flagged with those earlier
    entries' ids, and each LATER entry found is flagged with this one's. Every entry
    flagged then leaves the campaign's code waitlist (`CodeStore.leave_waitlist`, a
    conditional write that does nothing to an entry not waiting), so it never gets a code
    at the next import. The bands are written before they are read, so of two entries
    checked at once at least one finds the other. Safe to repeat: the same items are
    written, the same copies found, the flags are set additions; an entry never matches
    itself.
    """
    submission_id = entry["submission_id"]
    mine = (str(entry["received_at"]), submission_id)
    keys = band_keys(entry["campaign_id"], phash)
    index.record([{"band": key, "submission_id": submission_id, "phash": phash, "received_at": mine[0]} for key in keys])
    found: dict[str, tuple[str, str]] = {}
    for key in keys:
        for item in index.band(key):
            other = item["submission_id"]
            if other != submission_id and other not in found and distance(phash, item["phash"]) <= DISTANCE:
                found[other] = (str(item["received_at"]), other)
    earlier = sorted(other for other, order in found.items() if order < mine)
    if earlier:
        flags.flag(submission_id, earlier)
        codes.leave_waitlist(entry["campaign_id"], submission_id)
    for other in sorted(set(found) - set(earlier)):
        flags.flag(other, [submission_id])
        codes.leave_waitlist(entry["campaign_id"], other)
    return sorted(earlier, key=lambda other: found[other])

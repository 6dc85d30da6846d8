"""Image checks and thumbnails: bytes in, bytes out, nothing of S3 or Lambda.

`make_thumbnails` decodes an upload once and writes every size from that one decode.
It is fast and frugal because it never decodes more pixels than the largest thumbnail
needs: JPEG DCT scaling (Pillow's draft mode) decodes at 1/2, 1/4 or 1/8 of the size,
the remaining reduction is an integer box reduce followed by a short LANCZOS step, and
the EXIF orientation is applied to the small result, not to the full image. The photo's
perceptual hash (`campaigns.receipts.receipt_hash`) is taken from the smallest thumbnail's
upright pixels, so it costs no second decode and sees the photo as it is shown.

Anything that is not a supported image within the limits raises `ImageRejected` with a
machine-readable reason; no input makes it raise anything else.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, UnidentifiedImageError

#: Content type -> the format Pillow must find in the bytes.
ALLOWED_TYPES: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

#: Long side of every thumbnail, in pixels.
THUMBNAIL_SIZES: tuple[int, ...] = (256, 1024)

#: Past this many pixels an image is refused before any pixel is decoded.
MAX_PIXELS = 50_000_000

#: JPEG quality of the thumbnails.
QUALITY = 82

# Reject, never guess: a truncated file is an error, not a half-grey picture.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# EXIF orientation -> the transpose that makes the picture upright.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION_TAG = 0x0112


class ImageRejected(Exception):
    """The bytes are not an image we accept; `reason` says why in one word."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Thumbnail:
    """One encoded thumbnail."""

    size: int
    width: int
    height: int
    data: bytes
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class ImageReport:
    """What an accepted image is, and its thumbnails, smallest first."""

    format: str
    width: int  # as displayed, after the EXIF orientation
    height: int
    thumbnails: tuple[Thumbnail, ...]
    #: The perceptual hash (hex) of the upright photo; None when none was asked for.
    phash: str | None = None


def make_thumbnails(
    data: bytes,
    declared_type: str | None = None,
    sizes: tuple[int, ...] = THUMBNAIL_SIZES,
    max_pixels: int = MAX_PIXELS,
    hashed: bool = False,
) -> ImageReport:
    """Check an upload and make its thumbnails (and its perceptual hash when `hashed`); raise ImageRejected for anything else."""
    if not data:
        raise ImageRejected("empty", "zero bytes")
    sizes = tuple(sorted(set(sizes)))
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that; our own check
            # below runs first, and no warning may slip through as a success.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            report, upright = _make(data, declared_type, sizes, max_pixels)
    except ImageRejected:
        raise
    except UnidentifiedImageError as exc:
        raise ImageRejected("not_an_image", str(exc)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from None
    except MemoryError:
        raise ImageRejected("too_many_pixels", "out of memory while decoding") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, ZeroDivisionError) as exc:
        # Pillow's decoders report damaged files with any of these.
        reason = "truncated" if "truncated" in str(exc).lower() or isinstance(exc, EOFError) else "corrupt"
        raise ImageRejected(reason, f"{type(exc).__name__}: {exc}") from None
    if not hashed:
        return report
    # Outside the decoding errors above: a failing hash is a bug to retry, not a corrupt photo.
    from campaigns.receipts import receipt_hash

    return dataclasses.replace(report, phash=receipt_hash(upright))


def _make(data: bytes, declared_type: str | None, sizes: tuple[int, ...], max_pixels: int) -> tuple[ImageReport, Image.Image]:
    with Image.open(io.BytesIO(data), formats=None) as image:  # reads the header only
        fmt = image.format or ""
        if fmt not in ALLOWED_TYPES.values():
            raise ImageRejected("unsupported_format", fmt or "unknown")
        if declared_type is not None and ALLOWED_TYPES.get(declared_type) != fmt:
            raise ImageRejected("type_mismatch", f"declared {declared_type}, found {fmt}")
        if getattr(image, "n_frames", 1) > 1:
            raise ImageRejected("unsupported_format", f"animated {fmt}")
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageRejected("corrupt", f"{width}x{height}")
        if width * height > max_pixels:
            raise ImageRejected("too_many_pixels", f"{width}x{height} is over {max_pixels} pixels")
        orientation = _orientation(image)

        largest = _fit(width, height, sizes[-1])
        if fmt == "JPEG":
            # DCT scaling: decode straight to the smallest scale that still covers `largest`.
            image.draft("RGB", largest)
        image.load()
        # Everything happens inside the `with`: closing the file also drops its pixels.
        current = _to_rgb(image)
        # Pillow's encoders copy `info` (EXIF, ICC profile, comments) into what they save.
        current.info = {}
        thumbnails: list[Thumbnail] = []
        for size in reversed(sizes):  # largest first, each from the one before
            target = _fit(width, height, size)
            if current.size != target:
                current = _reduce(current, target)
            upright = current.transpose(_ORIENTATION[orientation]) if orientation != 1 else current
            thumbnails.append(_encode(size, upright))
    shown = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    report = ImageReport(format=fmt, width=shown[0], height=shown[1], thumbnails=tuple(reversed(thumbnails)))
    return report, upright


def _fit(width: int, height: int, size: int) -> tuple[int, int]:
    """The size of a `size` long-side thumbnail; never larger than the image."""
    long_side = max(width, height)
    if long_side <= size:
        return width, height
    scale = size / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block is ignored, not a reason to refuse a photo
        return 1
    return value if isinstance(value, int) and value in _ORIENTATION else 1


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any decoded mode as 8-bit RGB; transparency composited over white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode == "I":
        # 16-bit samples: scale to 8 bits (a plain convert would clip everything to white).
        wide = image if mode == "I" else image.convert("I")
        return wide.point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    if mode == "F":
        return image.convert("L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _reduce(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Shrink by an integer box reduce while that leaves at least 2x, then LANCZOS."""
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode(size: int, image: Image.Image) -> Thumbnail:
    out = io.BytesIO()
    # No exif=, icc_profile= or comment: the thumbnail carries no metadata at all.
    image.save(out, format="JPEG", quality=QUALITY, optimize=False)
    return Thumbnail(size=size, width=image.width, height=image.height, data=out.getvalue())

"""Images generated for the tests: photographic noise and gradients, awkward and bad files."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageChops, ImageFilter


def photo(width: int, height: int) -> Image.Image:
    """A photograph-like RGB picture: gradients under noise, slightly blurred."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    base = Image.merge("RGB", [horizontal, radial, ImageChops.invert(horizontal)])
    noise = Image.merge("RGB", [Image.effect_noise((width, height), s) for s in (40, 50, 60)])
    return Image.blend(base, noise, 0.35).filter(ImageFilter.GaussianBlur(0.6))


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """The image saved in `fmt`."""
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg(width: int = 640, height: int = 480, **options) -> bytes:
    """A photographic JPEG."""
    return encode(photo(width, height), "JPEG", quality=90, **options)


def halves(width: int, height: int, first=(255, 0, 0), second=(0, 0, 255)) -> Image.Image:
    """Left half `first`, right half `second`: which way is up survives any resize."""
    image = Image.new("RGB", (width, height), second)
    image.paste(first, (0, 0, width // 2, height))
    return image


def rotated_jpeg() -> bytes:
    """400x200 stored, orientation 6: shown upright it is 200x400, red on top, blue below."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(halves(400, 200), "JPEG", quality=95, exif=exif.tobytes())


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * 16) * 16)  # far fewer rows than declared
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def png16() -> bytes:
    """A 16-bit greyscale PNG: a horizontal ramp from 0 to 65535."""
    ramp = Image.linear_gradient("L").rotate(90).resize((256, 64)).convert("I")
    return encode(ramp.point(lambda v: v * 257).convert("I;16"), "PNG")


def cmyk_jpeg() -> bytes:
    """A CMYK JPEG, as print workflows and some scanners make them."""
    return encode(photo(320, 240).convert("CMYK"), "JPEG", quality=90)


def gif() -> bytes:
    """A small GIF."""
    return encode(photo(64, 64).convert("P"), "GIF")

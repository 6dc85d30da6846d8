"""workers.imaging: the corpus of good, awkward and bad images, each with its outcome."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from workers.imaging import ImageRejected, make_thumbnails

from . import images


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def rejected(data: bytes, declared: str | None = "image/jpeg") -> str:
    with pytest.raises(ImageRejected) as caught:
        make_thumbnails(data, declared)
    return caught.value.reason


def test_a_photo_gets_both_sizes_as_plain_rgb_jpegs():
    report = make_thumbnails(images.jpeg(1600, 1200), "image/jpeg")
    assert (report.format, report.width, report.height) == ("JPEG", 1600, 1200)
    assert [(t.size, t.width, t.height) for t in report.thumbnails] == [(256, 256, 192), (1024, 1024, 768)]
    for thumbnail in report.thumbnails:
        image = opened(thumbnail.data)
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (thumbnail.width, thumbnail.height))


def test_metadata_is_stripped():
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x8825] = {1: "N"}  # GPS
    data = images.encode(images.photo(800, 600), "JPEG", exif=exif.tobytes(), comment=b"secret")
    for thumbnail in make_thumbnails(data, "image/jpeg").thumbnails:
        image = opened(thumbnail.data)
        assert not image.getexif()
        assert "exif" not in image.info and "comment" not in image.info and "icc_profile" not in image.info


def test_zero_bytes_are_rejected():
    assert rejected(b"") == "empty"


def test_a_truncated_jpeg_is_rejected():
    data = images.jpeg(1200, 900)
    assert rejected(data[: len(data) // 2]) == "truncated"


def test_a_png_declaring_30000_by_30000_is_rejected_before_decoding():
    assert rejected(images.png_declaring(30000, 30000), "image/png") == "too_many_pixels"


def test_text_named_jpg_is_not_an_image():
    assert rejected(b"just some text, saved as receipt.jpg\n" * 20) == "not_an_image"


def test_a_gif_is_an_unsupported_format():
    assert rejected(images.gif(), "image/gif") == "unsupported_format"
    assert rejected(images.gif(), "image/jpeg") == "unsupported_format"


def test_a_png_declared_as_jpeg_is_a_type_mismatch():
    assert rejected(images.encode(images.photo(64, 64), "PNG"), "image/jpeg") == "type_mismatch"


def test_a_cmyk_jpeg_comes_out_rgb():
    report = make_thumbnails(images.cmyk_jpeg(), "image/jpeg")
    small = opened(report.thumbnails[0].data)
    assert small.mode == "RGB" and small.size == (256, 192)


def test_a_16_bit_png_is_scaled_not_clipped():
    report = make_thumbnails(images.png16(), "image/png")
    assert (report.format, report.width, report.height) == ("PNG", 256, 64)
    small = opened(report.thumbnails[0].data)
    left, middle, right = (small.getpixel((x, 32)) for x in (4, 128, 251))
    assert left[0] < 30 and 100 < middle[0] < 160 and right[0] > 225, (left, middle, right)


def test_an_exif_rotated_jpeg_comes_out_upright():
    report = make_thumbnails(images.rotated_jpeg(), "image/jpeg")
    assert (report.width, report.height) == (200, 400)
    for thumbnail in report.thumbnails:
        image = opened(thumbnail.data)
        width, height = image.size
        assert height > width
        top = image.getpixel((width // 2, height // 8))
        bottom = image.getpixel((width // 2, height * 7 // 8))
        assert top[0] > 200 and top[2] < 60, top  # red, the stored image's left half
        assert bottom[2] > 200 and bottom[0] < 60, bottom


@pytest.mark.slow
def test_a_24_megapixel_jpeg_is_accepted():
    report = make_thumbnails(images.jpeg(6000, 4000), "image/jpeg")
    assert (report.width, report.height) == (6000, 4000)
    assert [(t.width, t.height) for t in report.thumbnails] == [(256, 171), (1024, 683)]


def test_a_small_image_is_never_enlarged():
    report = make_thumbnails(images.encode(images.photo(120, 80), "WEBP"), "image/webp")
    assert [(t.width, t.height) for t in report.thumbnails] == [(120, 80), (120, 80)]


def test_transparency_is_flattened_onto_white():
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    report = make_thumbnails(images.encode(image, "PNG"), "image/png")
    assert opened(report.thumbnails[0].data).getpixel((10, 10)) > (245, 245, 245)


def test_an_image_over_the_pixel_limit_is_rejected():
    with pytest.raises(ImageRejected) as caught:
        make_thumbnails(images.jpeg(400, 300), "image/jpeg", max_pixels=100_000)
    assert caught.value.reason == "too_many_pixels"


@pytest.mark.parametrize("cut", [0, 1, 10, 100, 300, 1000])
def test_any_prefix_of_a_jpeg_is_rejected_never_a_crash(cut):
    data = images.jpeg(300, 200)
    with pytest.raises(ImageRejected):
        make_thumbnails(data[:cut], "image/jpeg")

"""Receipt-like photos for the receipts benchmark: distinct receipts that look alike, and copies.

A receipt is drawn as a shop prints one (a logo, the shop's name and address, item lines
with prices, a total, a date, a card line, a barcode) on thermal or plain paper, then
"photographed": laid at an angle on a table of some colour and grain, under uneven light,
with sensor noise and a slight blur. Shops repeat (a campaign's entrants shop at the same
chains), so many distinct photos share a logo, a layout and a paper: only the items, the
totals, the framing and the light differ, as with real entries.

Copies of a photo are what an entrant would send again: re-encoded at another quality,
resized, rotated through EXIF orientation (the pixels turned and the tag saying so);
brightness and contrast changed by +-10 % and +-25 % (then resized and re-saved, as an
editing app does); cropped by 2, 5 and 10 % a side; a screenshot of the photo shown on a
phone (smaller, between bars, a status bar above); and the same paper receipt
photographed again on another table (another angle, framing, light, a slight tilt of the
phone).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageFont

PHOTO_SIZE = (960, 1280)
ORIGINAL_QUALITY = 90

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
_WORDS = (  # noqa: SIM905 - a paragraph of words reads better than 60 quoted strings
    "MILK BREAD EGGS RICE PASTA TOMATO ONION APPLE BANANA COFFEE TEA SUGAR BUTTER CHEESE YOGURT "
    "CHICKEN BEEF FISH SOAP SHAMPOO TISSUE WATER JUICE COLA BEER WINE CHIPS COOKIES CEREAL OIL "
    "SALT PEPPER FLOUR HONEY JAM LEMON GRAPES MELON CARROT POTATO GARLIC BATTERY CHARGER CABLE "
    "NOTEBOOK PEN TOOTHPASTE DETERGENT SPONGE FOIL BAGS CANDLE"
).split()
_TABLES = ((122, 84, 52), (160, 120, 80), (70, 70, 75), (200, 200, 195), (40, 45, 60), (150, 150, 150), (95, 60, 40))
_PAPERS = ((250, 250, 246), (245, 240, 225), (236, 238, 240), (252, 248, 236))
#: The kinds of copy, in the order they are reported.
COPY_KINDS = (
    "reencoded",
    "resized",
    "exif_rotated",
    "bright+10",
    "bright-10",
    "bright+25",
    "bright-25",
    "contrast+10",
    "contrast-10",
    "contrast+25",
    "contrast-25",
    "crop2",
    "crop5",
    "crop10",
    "screenshot",
    "another_table",
)
#: A phone's screen in pixels, portrait: where the screenshot copies are shown.
SCREEN = (1080, 2340)


def _fonts() -> list[Path]:
    found = [p for d in _FONT_DIRS if d.is_dir() for p in sorted(d.glob("*.ttf"))]
    return [p for p in found if "Oblique" not in p.name and "Italic" not in p.name]


def _font(path: Path | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Shop:
    """What every receipt of one shop shares."""

    name: str
    address: tuple[str, ...]
    font: Path | None
    logo: str  # circle, square, triangle, bars, none
    logo_colour: tuple[int, int, int]
    paper: tuple[int, int, int]
    width: int  # paper width in pixels before the photo's scale
    thermal: bool


def make_shops(count: int, seed: int = 7) -> list[Shop]:
    """`count` shops, the same for the same seed."""
    rng = random.Random(seed)
    fonts = _fonts()
    shops = []
    for n in range(count):
        name = " ".join(rng.choice(("SUPER", "MINI", "CITY", "FRESH", "GREEN", "BEST", "EXPRESS", "MEGA")) for _ in range(2))
        shops.append(
            Shop(
                name=f"{name} {rng.choice(('MARKET', 'STORE', 'FOODS', 'MART', 'SHOP'))} #{n}",
                address=(f"{rng.randint(1, 999)} {rng.choice(_WORDS).title()} Street", f"Tel {rng.randint(1000000, 9999999)}"),
                font=rng.choice(fonts) if fonts else None,
                logo=rng.choice(("circle", "square", "triangle", "bars", "none")),
                logo_colour=(rng.randint(0, 200), rng.randint(0, 200), rng.randint(0, 200)),
                paper=rng.choice(_PAPERS),
                width=rng.randint(380, 470),
                thermal=rng.random() < 0.7,
            )
        )
    return shops


def draw_receipt(shop: Shop, rng: random.Random) -> Image.Image:
    """One receipt of `shop`, flat, as printed: its items, totals and date drawn from `rng`."""
    items = [
        (rng.choice(_WORDS) + (f" {rng.choice(_WORDS)}" if rng.random() < 0.4 else ""), rng.randint(49, 4999))
        for _ in range(rng.randint(3, 28))
    ]
    line = 24
    height = 300 + line * (len(items) + 9) + 120
    paper = Image.new("RGB", (shop.width, height), shop.paper)
    pen = ImageDraw.Draw(paper)
    ink = (rng.randint(20, 70),) * 3 if shop.thermal else (15, 15, 25)
    big, small = _font(shop.font, 26), _font(shop.font, 17)
    y = 20
    cx = shop.width // 2
    if shop.logo == "circle":
        pen.ellipse((cx - 45, y, cx + 45, y + 90), fill=shop.logo_colour)
    elif shop.logo == "square":
        pen.rectangle((cx - 45, y, cx + 45, y + 90), fill=shop.logo_colour)
    elif shop.logo == "triangle":
        pen.polygon(((cx, y), (cx - 50, y + 90), (cx + 50, y + 90)), fill=shop.logo_colour)
    elif shop.logo == "bars":
        for k in range(5):
            pen.rectangle((cx - 60 + k * 26, y + 10 * k, cx - 44 + k * 26, y + 90), fill=shop.logo_colour)
    y += 110
    pen.text((cx, y), shop.name, font=big, fill=ink, anchor="mt")
    y += 38
    for text in shop.address:
        pen.text((cx, y), text, font=small, fill=ink, anchor="mt")
        y += line
    y += 12
    pen.line((15, y, shop.width - 15, y), fill=ink, width=2)
    y += 14
    total = 0
    for name, cents in items:
        quantity = rng.choice((1, 1, 1, 2, 3))
        total += cents * quantity
        pen.text((18, y), f"{quantity} x {name}"[:30], font=small, fill=ink)
        pen.text((shop.width - 18, y), f"{cents * quantity / 100:.2f}", font=small, fill=ink, anchor="ra")
        y += line
    pen.line((15, y + 4, shop.width - 15, y + 4), fill=ink, width=2)
    y += 16
    pen.text((18, y), "TOTAL", font=big, fill=ink)
    pen.text((shop.width - 18, y), f"{total / 100:.2f}", font=big, fill=ink, anchor="ra")
    y += 40
    when = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2025 {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}"
    till = f"TILL {rng.randint(1, 12)}  OP {rng.randint(100, 999)}"
    for text in (f"VAT {total * 0.2 / 100:.2f}", f"CARD **** {rng.randint(1000, 9999)}", when, till):
        pen.text((18, y), text, font=small, fill=ink)
        y += line
    y += 10
    x = 40
    while x < shop.width - 40:  # the barcode: its bars differ on every receipt
        bar = rng.choice((2, 2, 3, 4))
        pen.rectangle((x, y, x + bar - 1, y + 60), fill=ink)
        x += bar + rng.choice((2, 3, 4))
    pen.text((cx, y + 70), "THANK YOU", font=small, fill=ink, anchor="mt")
    return paper


def photograph(receipt: Image.Image, rng: random.Random, size: tuple[int, int] = PHOTO_SIZE, tilt: float = 0.0) -> Image.Image:
    """The receipt laid on a table and photographed: angle, framing, light, noise, blur.

    `tilt`: the phone held off square, each corner of the view moved by up to this share of the side.
    """
    width, height = size
    table = Image.new("RGB", size, rng.choice(_TABLES))
    grain = _noise(size, rng.uniform(10, 40), rng).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))
    table = Image.blend(table, Image.merge("RGB", [grain] * 3), 0.15)
    scale = min(width * rng.uniform(0.55, 0.85) / receipt.width, height * rng.uniform(0.75, 0.97) / receipt.height)
    paper = receipt.resize(
        (max(1, round(receipt.width * scale)), max(1, round(receipt.height * scale))), Image.Resampling.LANCZOS
    )
    angle = rng.uniform(-7, 7)
    mask = Image.new("L", paper.size, 255).rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    paper = paper.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    x = rng.randint(min(0, width - paper.width), max(0, width - paper.width))
    y = rng.randint(min(0, height - paper.height), max(0, height - paper.height))
    shadow = Image.new("L", size, 0)
    shadow.paste(mask, (x + rng.randint(4, 14), y + rng.randint(4, 14)))
    table.paste((0, 0, 0), mask=shadow.filter(ImageFilter.GaussianBlur(8)).point(lambda v: v * 0.35))
    table.paste(paper, (x, y), mask)
    # Light from one side: a gradient over the whole photo, its strength and direction random.
    # The inscribed square of a turned gradient: no corner left dark by the turn.
    light = Image.linear_gradient("L").resize((512, 512)).rotate(rng.uniform(0, 360), Image.Resampling.BICUBIC)
    light = light.crop((75, 75, 437, 437)).resize(size, Image.Resampling.BILINEAR)
    low = rng.randint(140, 230)
    light = light.point(lambda v, lo=low: lo + (255 - lo) * v // 255)
    photo = ImageChops.multiply(table, Image.merge("RGB", [light] * 3))
    if tilt:
        # The view's corners, each moved inwards: what a phone held at a slight angle frames.
        corners = [(0, 0), (0, height), (width, height), (width, 0)]
        quad = [
            (x + (1 if x == 0 else -1) * rng.uniform(0, tilt) * width, y + (1 if y == 0 else -1) * rng.uniform(0, tilt) * height)
            for x, y in corners
        ]
        photo = photo.transform(size, Image.Transform.QUAD, [v for corner in quad for v in corner], Image.Resampling.BICUBIC)
    noise = Image.merge("RGB", [_noise(size, rng.uniform(6, 16), rng) for _ in range(3)])
    photo = Image.blend(photo, noise, rng.uniform(0.03, 0.08))
    return photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.1)))


def encode(image: Image.Image, quality: int = ORIGINAL_QUALITY, exif: bytes | None = None) -> bytes:
    """The image as a JPEG, as a phone saves one."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return out.getvalue()


def copies(original: bytes, receipt: Image.Image, rng: random.Random) -> dict[str, bytes]:
    """Each kind of copy of an original photo's bytes; `receipt` is the paper it shows, for another photo of it."""
    image = Image.open(io.BytesIO(original)).convert("RGB")
    width, height = image.size
    orientation = rng.choice((6, 8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    # Orientation 6 tells a viewer to turn the pixels 90° clockwise, so they are stored turned anticlockwise.
    stored = image.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
    made = {
        "reencoded": encode(image, quality=rng.choice((55, 65, 75))),
        "resized": encode(_scaled(image, rng.uniform(0.4, 0.7))),
        "exif_rotated": encode(stored, exif=exif.tobytes()),
    }
    for name, enhancer in (("bright", ImageEnhance.Brightness), ("contrast", ImageEnhance.Contrast)):
        for change in (10, -10, 25, -25):
            edited = enhancer(image).enhance(1 + change / 100)
            made[f"{name}{change:+d}"] = encode(_scaled(edited, rng.uniform(0.5, 0.9)), quality=rng.choice((75, 85, 90)))
    for share in (2, 5, 10):
        side_x, side_y = round(width * share / 100), round(height * share / 100)
        made[f"crop{share}"] = encode(image.crop((side_x, side_y, width - side_x, height - side_y)))
    made["screenshot"] = screenshot(image, rng)
    made["another_table"] = encode(photograph(receipt, rng, tilt=0.04))
    assert tuple(made) == COPY_KINDS
    return made


def screenshot(image: Image.Image, rng: random.Random) -> bytes:
    """The photo as a phone's gallery shows it, screenshotted: fitted to the screen's width between bars, as PNG."""
    screen_width, screen_height = SCREEN
    bars = rng.choice(((0, 0, 0), (0, 0, 0), (255, 255, 255)))
    ink = (255, 255, 255) if bars == (0, 0, 0) else (0, 0, 0)
    screen = Image.new("RGB", SCREEN, bars)
    shown = _scaled(image, screen_width / image.width)
    screen.paste(shown, (0, (screen_height - shown.height) // 2 + rng.randint(-60, 60)))
    pen = ImageDraw.Draw(screen)
    font = _font(next(iter(_fonts()), None), 40)
    pen.text((60, 30), f"{rng.randint(7, 22)}:{rng.randint(0, 59):02d}", font=font, fill=ink)
    pen.rectangle((screen_width - 140, 38, screen_width - 70, 70), outline=ink, width=4)  # the battery
    pen.rectangle((screen_width - 136, 42, screen_width - 136 + rng.randint(10, 62), 66), fill=ink)
    for k in range(4):  # the gallery's buttons
        x = screen_width * (2 * k + 1) // 8
        pen.ellipse((x - 30, screen_height - 160, x + 30, screen_height - 100), outline=ink, width=5)
    out = io.BytesIO()
    screen.save(out, "PNG")
    return out.getvalue()


def _noise(size: tuple[int, int], sigma: float, rng: random.Random) -> Image.Image:
    """Gaussian grey noise around 128, as `Image.effect_noise`, but drawn from `rng`.

    Pillow's own draws from C's unseeded `rand()`, so the same seed gave other pixels on
    each run (and a receipts test 14 or 16 bits from its copy).
    """
    import numpy

    draws = numpy.random.default_rng(rng.getrandbits(64)).normal(128, sigma, (size[1], size[0]))
    return Image.fromarray(draws.clip(0, 255).astype(numpy.uint8), "L")


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)

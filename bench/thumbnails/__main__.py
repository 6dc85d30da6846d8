"""Benchmark of the thumbnail path: ours vs pyvips' `thumbnail` vs the naive Pillow path.

    make bench-thumbnails        (or: .venv/bin/python -m bench.thumbnails [--repeats N])

On a 12-megapixel photographic JPEG that it generates (gradients under noise, EXIF
orientation 6, so that every path has to rotate), it prints the median time of each path
at 256 px, and for both sizes (256 and 1024 px), the ratios, and each path's peak memory
above its baseline, measured in a fresh subprocess (VmHWM). It asserts nothing and
exits 0: a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from PIL import Image, ImageChops, ImageFilter, ImageOps

from workers.imaging import QUALITY, make_thumbnails

WIDTH, HEIGHT = 4000, 3000
SIZES = (256, 1024)


def photo_jpeg(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A photograph-like JPEG (gradients, noise, a slight blur), stored with orientation 6."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    base = Image.merge("RGB", [horizontal, radial, ImageChops.invert(horizontal)])
    noise = Image.merge("RGB", [Image.effect_noise((width, height), s) for s in (40, 50, 60)])
    image = Image.blend(base, noise, 0.35).filter(ImageFilter.GaussianBlur(0.6))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


# --- the three paths; each returns the encoded thumbnails -------------------------------


def ours(data: bytes, sizes: tuple[int, ...]) -> list[bytes]:
    """The worker's path: one decode in draft mode, stepwise reduce, orientation last."""
    return [t.data for t in make_thumbnails(data, "image/jpeg", sizes).thumbnails]


def naive(data: bytes, sizes: tuple[int, ...]) -> list[bytes]:
    """exif_transpose on the full image, then a LANCZOS resize per size."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    out = []
    for size in sizes:
        scale = size / max(image.size)
        small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=QUALITY)
        out.append(buffer.getvalue())
    return out


def vips(data: bytes, sizes: tuple[int, ...]) -> list[bytes]:
    """pyvips' thumbnail (shrink-on-load, autorotate), once per size."""
    import pyvips

    return [pyvips.Image.thumbnail_buffer(data, size).write_to_buffer(f".jpg[Q={QUALITY},strip]") for size in sizes]


PATHS: dict[str, Callable[[bytes, tuple[int, ...]], list[bytes]]] = {"ours": ours, "pyvips": vips, "naive": naive}


def median_seconds(path: Callable, data: bytes, sizes: tuple[int, ...], repeats: int) -> float:
    """The median time `path` takes to make `sizes` from `data`, after one warm-up call."""
    path(data, sizes)  # warm up: imports, first-call costs
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        path(data, sizes)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory_mb(name: str, data_file: str, sizes: tuple[int, ...]) -> float:
    """Peak RSS above the baseline (imports done, file read) of one run, in a fresh process.

    Reads VmHWM from /proc, not ru_maxrss: a child's ru_maxrss starts at its parent's
    high-water mark (taken at fork), which here is the 12-megapixel image just generated.
    """
    script = (
        "import json\n"
        "from bench.thumbnails.__main__ import PATHS, high_water_kb\n"
        "import pyvips\n"
        "pyvips.cache_set_max(0)\n"
        f"data = open({data_file!r}, 'rb').read()\n"
        "before = high_water_kb()\n"
        f"PATHS[{name!r}](data, {sizes!r})\n"
        "print(json.dumps((high_water_kb() - before) / 1024))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def high_water_kb() -> int:
    """This process's peak resident memory so far, in KiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bench.thumbnails", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)

    import pyvips

    pyvips.cache_set_max(0)  # else vips answers a repeated thumbnail from its operation cache
    data = photo_jpeg()
    data_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), "fleet-bench-12mp.jpg")
    with open(data_file, "wb") as handle:
        handle.write(data)
    print(
        f"image: {WIDTH}x{HEIGHT} JPEG, EXIF orientation 6, {len(data) / 1e6:.1f} MB; "
        f"{args.repeats} repeats; Pillow {Image.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}."
        f"{pyvips.version(2)}, {os.cpu_count()} CPUs"
    )

    for label, sizes in (("256 px", (256,)), ("256 + 1024 px", SIZES)):
        medians = {name: median_seconds(path, data, sizes, args.repeats) for name, path in PATHS.items()}
        peaks = {name: peak_memory_mb(name, data_file, sizes) for name in PATHS}
        print(f"\n{label}:")
        print(f"  {'path':<8} {'median ms':>10} {'vs pyvips':>10} {'peak MB above baseline':>24}")
        for name in PATHS:
            ratio = medians[name] / medians["pyvips"]
            print(f"  {name:<8} {medians[name] * 1000:>10.1f} {ratio:>9.2f}x {peaks[name]:>24.1f}")
        print(
            f"  ours / pyvips = {medians['ours'] / medians['pyvips']:.2f}; "
            f"naive / ours = {medians['naive'] / medians['ours']:.1f}"
        )
    os.remove(data_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

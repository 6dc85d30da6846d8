"""fleet.bytecode: every module of a zip gets bytecode that an import then uses."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from fleet.bytecode import compile_zip

# Imports the package with the sources present, fails if any module of it is compiled from source.
IMPORT_FROM_BYTECODE = """
import importlib._bootstrap_external as external, sys
compiled = []
original = external.SourceLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(path)
    return original(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = source_to_code
sys.path.insert(0, ".")
import shop.prices
assert shop.prices.TOTAL == 42, shop.prices.TOTAL
assert not compiled, compiled
print("from bytecode")
"""


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)


def test_every_module_is_imported_from_the_bytecode_added(tmp_path):
    package = tmp_path / "function.zip"
    _zip(
        package,
        {
            "shop/__init__.py": "",
            "shop/prices.py": "from shop.tax import rate\nTOTAL = int(40 * rate())\n",
            "shop/tax.py": "def rate():\n    return 1.05\n",
            "shop/template.py": "{% this is not python %}\n",
            "shop/data.json": "{}",
        },
    )
    added, failed = compile_zip(package)
    assert added == 3
    assert failed == ["shop/template.py"]  # left as source, the rest still compiled

    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "task")
    tag = sys.implementation.cache_tag
    assert {f"shop/__pycache__/{m}.{tag}.pyc" for m in ("__init__", "prices", "tax")} <= names
    assert "shop/prices.py" in names  # sources stay, for tracebacks

    done = subprocess.run(
        [sys.executable, "-S", "-c", IMPORT_FROM_BYTECODE],
        cwd=tmp_path / "task",
        env={"PYTHONDONTWRITEBYTECODE": "1"},  # as on Lambda: nothing can be written next to the code
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_compiling_twice_adds_nothing_the_second_time(tmp_path):
    package = tmp_path / "function.zip"
    _zip(package, {"app.py": "X = 1\n"})
    assert compile_zip(package) == (1, [])
    assert compile_zip(package) == (0, [])
    with zipfile.ZipFile(package) as archive:
        assert len(archive.namelist()) == 2

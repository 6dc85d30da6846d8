"""The docs' module map (docs/hooks/module_map.py) refuses a module without a docstring.

The hook is not a package of ours: it is loaded from its file, as MkDocs loads it. The
map is built from a small tree of packages written here, and once from the real tree.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_hook():
    """docs/hooks/module_map.py as a module."""
    spec = importlib.util.spec_from_file_location("module_map_hook", ROOT / "docs" / "hooks" / "module_map.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


hook = load_hook()


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A repository of two packages, `base` and `host`, plus `files` (path -> source)."""
    tree = {
        "fleet/packages.py": 'LAMBDA_PACKAGES = ("base",)\nHOST_PACKAGE = "host"\n',
        "base/__init__.py": '"""The bottom floor."""\n',
        "base/rules.py": '"""Rules: what holds.\n\nMore said here, not on the map."""\n',
        "host/__init__.py": '"""The operator\'s machine."""\n',
        **files,
    }
    for path, source in tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(source, encoding="utf-8")
    return root


def test_the_map_lists_every_module_with_its_docstrings_first_paragraph(tmp_path):
    page = hook.build_map(write_tree(tmp_path, {"base/sub/__init__.py": '"""A sub-package."""\n'}))
    assert "## base" in page.splitlines() and "## host" in page.splitlines()
    assert "| `base.rules` | Rules: what holds. |" in page
    assert "| `base.sub` | A sub-package. |" in page
    assert "More said here" not in page


def test_a_module_without_a_docstring_stops_the_map(tmp_path):
    root = write_tree(tmp_path, {"base/quiet.py": "from __future__ import annotations\n\nX = 1\n"})
    with pytest.raises(hook.ModuleMapError, match=r"base/quiet\.py: no module docstring"):
        hook.build_map(root)


def test_a_blank_docstring_counts_as_none(tmp_path):
    root = write_tree(tmp_path, {"host/cli/__init__.py": '"""   """\n'})
    with pytest.raises(hook.ModuleMapError, match=r"host/cli/__init__\.py: no module docstring"):
        hook.build_map(root)


def test_a_declared_package_that_is_missing_stops_the_map(tmp_path):
    root = write_tree(tmp_path, {"fleet/packages.py": 'LAMBDA_PACKAGES = ("base", "gone")\nHOST_PACKAGE = "host"\n'})
    with pytest.raises(hook.ModuleMapError, match=r"gone/: declared in fleet/packages\.py"):
        hook.build_map(root)


def test_a_shipped_package_left_out_of_the_floors_stops_the_map(tmp_path):
    pyproject = '[tool.setuptools.packages.find]\ninclude = ["base*", "host*", "extra*"]\n'
    with pytest.raises(hook.ModuleMapError, match=r"extra/: shipped by pyproject\.toml but not declared"):
        hook.build_map(write_tree(tmp_path, {"pyproject.toml": pyproject}))


def test_a_module_the_page_leaves_out_is_caught(tmp_path):
    found, wrong = hook.walk(write_tree(tmp_path, {}), ("base", "host"))
    assert wrong == []
    page = hook.render(found).replace("| `base.rules` |", "| `base.other` |")
    assert hook.check_page(page, found) == ["base/rules.py: base.rules is on the module map 0 times, not once"]


def test_every_module_of_ours_has_a_docstring_and_is_on_the_map():
    page = hook.build_map(ROOT)
    for package in ("events", "lambda_platform", "campaigns", "ingest_api", "workers", "fleet"):
        assert f"## {package}" in page.splitlines()
    assert "| `lambda_platform.composition` |" in page

"""The module map: every module of Fleet's packages, with the first paragraph of its docstring.

A MkDocs hook (`hooks:` in mkdocs.yml). At build time it walks each package that
`fleet/packages.py` declares, floor by floor, reads every module's docstring without
importing it, and serves the result as `reference/modules.md` in place of the placeholder
kept in git. The build stops when a module has no docstring, when a declared package is
missing, when a package that `pyproject.toml` ships is not declared, or when a module the
walk found is not on the page.

Run as a script (`python docs/hooks/module_map.py`), it prints the page, or what is wrong.
"""

# A MkDocs hook, loaded by MkDocs from its file: it belongs to no package of ours.
# ruff: noqa: INP001

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The repository: docs/hooks/ is two floors down.
ROOT = Path(__file__).resolve().parents[2]
#: The page this hook writes, relative to docs_dir.
PAGE = "reference/modules.md"


class ModuleMapError(Exception):
    """The map cannot be made; the message names every module or package at fault."""


@dataclass(frozen=True)
class Module:
    """One module: its dotted name, its path from the root, and its docstring's first paragraph."""

    name: str
    path: str
    summary: str


def declared_packages(root: Path) -> tuple[str, ...]:
    """Our top-level packages, bottom floor first, read (not imported) from `fleet/packages.py`."""
    path = root / "fleet" / "packages.py"
    if not path.is_file():
        raise ModuleMapError("fleet/packages.py, which declares the packages and their floors, is missing")
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        if isinstance(target, ast.Name) and target.id in ("LAMBDA_PACKAGES", "HOST_PACKAGE") and node.value is not None:
            values[target.id] = ast.literal_eval(node.value)
    if set(values) != {"LAMBDA_PACKAGES", "HOST_PACKAGE"}:
        raise ModuleMapError(f"{path.relative_to(root)}: LAMBDA_PACKAGES and HOST_PACKAGE must be literals")
    return (*values["LAMBDA_PACKAGES"], values["HOST_PACKAGE"])


def shipped_packages(root: Path) -> set[str]:
    """The top-level packages `pyproject.toml` ships (its `packages.find` include patterns)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return set()
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    include = config.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {}).get("include", [])
    return {pattern.rstrip("*").rstrip(".") for pattern in include}


def first_paragraph(docstring: str) -> str:
    """The docstring up to its first blank line, on one line."""
    paragraph = docstring.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def walk(root: Path, packages: tuple[str, ...]) -> tuple[dict[str, list[Module]], list[str]]:
    """Every module of each package, and what is wrong (no package, no docstring, no parse)."""
    found: dict[str, list[Module]] = {}
    wrong: list[str] = []
    for package in packages:
        folder = root / package
        found[package] = []
        if not (folder / "__init__.py").is_file():
            wrong.append(f"{package}/: declared in fleet/packages.py, but there is no {package}/__init__.py")
            continue
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(root)
            if "__pycache__" in relative.parts:
                continue
            try:
                docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), str(relative)))
            except SyntaxError as error:
                wrong.append(f"{relative}: does not parse ({error.msg}, line {error.lineno})")
                continue
            if not docstring or not docstring.strip():
                wrong.append(f"{relative}: no module docstring (say in a line what the module is for)")
                continue
            parts = relative.with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[package].append(Module(name, relative.as_posix(), first_paragraph(docstring)))
    return found, wrong


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(found: dict[str, list[Module]]) -> str:
    """The page: one section per package in floor order, one row per module."""
    lines = [
        "# Module map",
        "",
        "Every module of Fleet's packages with the first paragraph of its docstring, generated",
        "by `make docs` from the code itself, so it cannot go stale: a module without a docstring",
        "stops the build. Packages come in floor order, bottom first, as `fleet/packages.py`",
        "declares them; each may import only the packages before it (the two apps, `ingest_api`",
        "and `workers`, not each other), which `tests/unit/test_layers.py` enforces. Where each",
        "kind of change goes: [How it fits together](../architecture.md#where-each-change-goes).",
        "",
    ]
    for package, modules in found.items():
        package_doc = next((m.summary for m in modules if m.name == package), "")
        lines += [f"## {package}", "", package_doc, "", "| module | what it is for |", "| --- | --- |"]
        lines += [f"| `{m.name}` | {_cell(m.summary)} |" for m in modules if m.name != package]
        lines.append("")
    return "\n".join(lines)


def check_page(page: str, found: dict[str, list[Module]]) -> list[str]:
    """Each module the walk found, on the page exactly once: a package as its section's heading, a module as a row."""
    lines = page.splitlines()
    missing = []
    for modules in found.values():
        for module in modules:
            if "." in module.name:
                shown = sum(line.startswith(f"| `{module.name}` |") for line in lines)
            else:
                shown = sum(line == f"## {module.name}" for line in lines)
            if shown != 1:
                missing.append(f"{module.path}: {module.name} is on the module map {shown} times, not once")
    return missing


def build_map(root: Path = ROOT) -> str:
    """The module map of the packages under `root`; raises ModuleMapError naming what is wrong."""
    packages = declared_packages(root)
    undeclared = sorted(shipped_packages(root) - set(packages))
    wrong = [f"{name}/: shipped by pyproject.toml but not declared in fleet/packages.py" for name in undeclared]
    found, problems = walk(root, packages)
    wrong += problems
    page = render(found)
    wrong += check_page(page, found)
    if wrong:
        raise ModuleMapError("the module map cannot be made:\n  " + "\n  ".join(wrong))
    return page


# MkDocs hooks: see https://www.mkdocs.org/user-guide/configuration/#hooks

_page: str | None = None


def on_files(files: Any, config: Any) -> Any:
    """Make the map before any page is read; a placeholder must stand at `reference/modules.md`."""
    from mkdocs.exceptions import PluginError

    global _page
    if files.get_file_from_path(PAGE) is None:
        raise PluginError(f"module map: docs/{PAGE} (the placeholder this hook fills) is missing")
    try:
        _page = build_map(ROOT)
    except ModuleMapError as error:
        raise PluginError(f"module map: {error}") from error
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Serve the generated map in place of the placeholder's text."""
    if page.file.src_uri == PAGE and _page is not None:
        return _page
    return markdown


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when a module of ours changes, not only a page."""
    for package in declared_packages(ROOT):
        server.watch(str(ROOT / package))
    return server


if __name__ == "__main__":
    try:
        print(build_map(ROOT))
    except ModuleMapError as error:
        sys.exit(str(error))

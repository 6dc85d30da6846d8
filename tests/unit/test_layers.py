"""The floors hold: host -> apps -> campaign rules -> platform -> contract, read from every import.

Imports inside functions count as much as those at the top: a lazy import is still a
dependency. There is no special case: a package imports only the floors below its own,
the two apps never each other, and no import circle joins two top-level packages. (No
blueprint importing another: test_api_layout.py. No resource name that is not read from
the topology: test_resources.py.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fleet.packages import HOST_PACKAGE, LAMBDA_PACKAGES, PACKAGES

ROOT = Path(__file__).resolve().parents[2]

#: What each package may import of ours, written out here rather than derived, so that a
#: change to the floors is a change to this test.
MAY_IMPORT = {
    "events": set(),
    "lambda_platform": {"events"},
    "campaigns": {"events", "lambda_platform"},
    "ingest_api": {"events", "lambda_platform", "campaigns"},
    "workers": {"events", "lambda_platform", "campaigns"},
    "fleet": {"events", "lambda_platform", "campaigns", "ingest_api", "workers"},
}
#: Third-party packages a floor must never import.
NEVER = {
    "events": {"boto3", "botocore"},
    "campaigns": {"boto3", "botocore", "flask"},
    "lambda_platform": {"flask", "werkzeug", "gunicorn", "moto", "watchfiles", "hishel"},
    "workers": {"flask", "werkzeug", "gunicorn", "moto", "watchfiles", "hishel"},
    "ingest_api": {"gunicorn", "moto", "watchfiles", "hishel"},
}


def imported_modules(source: str) -> set[str]:
    """Every module an import statement of `source` names, at any depth."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(path: str, source: str) -> list[str]:
    """What the module at `path` (relative to the root) imports against the floors."""
    package = path.split("/", 1)[0]
    found = []
    for module in sorted(imported_modules(source)):
        top = module.split(".", 1)[0]
        if top in PACKAGES and top != package and top not in MAY_IMPORT[package]:
            found.append(f"{path} imports {module}")
        if top in NEVER.get(package, set()):
            found.append(f"{path} imports {module}")
    return found


def modules() -> list[Path]:
    """Every Python module of our packages."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def package_graph() -> dict[str, set[str]]:
    """Which top-level packages each one imports, over every module."""
    graph: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for path in modules():
        package = path.relative_to(ROOT).parts[0]
        for module in imported_modules(path.read_text(encoding="utf-8")):
            top = module.split(".", 1)[0]
            if top in PACKAGES and top != package:
                graph[package].add(top)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle of the graph, each once, as the packages it passes through."""
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == path[0]:
                found.append(path[:])
            elif nxt not in path and nxt > path[0]:
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_every_package_is_read_and_the_floors_are_the_declared_ones():
    read = {p.relative_to(ROOT).parts[0] for p in modules()}
    assert read == set(PACKAGES) == set(MAY_IMPORT)
    assert PACKAGES[-1] == HOST_PACKAGE and HOST_PACKAGE not in LAMBDA_PACKAGES


def test_no_module_imports_against_the_chain():
    found = [v for p in modules() for v in violations(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


def test_no_circle_between_top_level_packages():
    assert circles(package_graph()) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("events/models.py", "import boto3"),
        ("events/models.py", "def f():\n    from botocore.exceptions import ClientError"),
        ("events/models.py", "from lambda_platform import settings"),
        ("lambda_platform/status.py", "def f():\n    from ingest_api import create_app"),
        ("lambda_platform/adapters/monitor.py", "from fleet.status import queue_status"),
        ("lambda_platform/ports.py", "import campaigns.codes"),
        ("campaigns/codes.py", "from workers.confirmations import settle"),
        ("workers/users.py", "from ingest_api.errors import ApiError"),
        ("workers/users.py", "from flask import current_app"),
        ("ingest_api/users.py", "from workers.users import register_user"),
        ("ingest_api/dashboard.py", "def f():\n    from fleet.replay import move"),
        ("workers/blog.py", "import fleet.runtime.invoke"),
    ],
)
def test_the_scan_catches_an_import_against_the_chain(path, source):
    assert violations(path, source) != []


def test_the_scan_allows_imports_down_the_chain():
    assert violations("fleet/runtime/local.py", "from ingest_api import create_app") == []
    assert violations("workers/users.py", "from events.messages.users import RegisterUser\nimport lambda_platform.batch") == []
    assert violations("workers/confirmations.py", "from campaigns.codes import give_code") == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []

"""The layers hold: events <- fleet <- ingest_api / workers, read from every import in the tree.

Imports inside functions count as much as those at the top: a lazy import is still a
dependency. (No blueprint importing another: test_api_layout.py. No resource name that is
not read from the topology: test_resources.py.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("events", "fleet", "ingest_api", "workers")

#: What each package may import of ours, and which third-party packages it must not.
MAY_IMPORT = {
    "events": set(),
    "fleet": {"events"},
    "ingest_api": {"events", "fleet"},
    "workers": {"events", "fleet"},
}
NEVER = {"events": {"boto3", "botocore"}, "workers": {"flask", "werkzeug"}}
#: The local runtime serves the API in `fleet up` (in the tests' process, and under gunicorn
#: in a process of its own): the only places fleet may import the app.
FLEET_MAY_IMPORT_THE_API = {"fleet/runtime/local.py", "fleet/runtime/gunicorn_app.py"}


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
    """What the module at `path` (relative to the root) imports against the layer rules."""
    package = path.split("/", 1)[0]
    allowed = set(MAY_IMPORT[package])
    if path in FLEET_MAY_IMPORT_THE_API:
        allowed.add("ingest_api")
    found = []
    for module in sorted(imported_modules(source)):
        top = module.split(".", 1)[0]
        if top in PACKAGES and top != package and top not in allowed:
            found.append(f"{path} imports {module}")
        if top in NEVER.get(package, set()):
            found.append(f"{path} imports {module}")
    return found


def modules() -> list[Path]:
    """Every Python module of the four packages."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_every_package_is_read():
    read = {p.relative_to(ROOT).parts[0] for p in modules()}
    assert read == set(PACKAGES)


def test_no_module_imports_across_its_layer():
    found = [
        v for p in modules() for v in violations(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("events/models.py", "import boto3"),
        ("events/models.py", "def f():\n    from botocore.exceptions import ClientError"),
        ("events/models.py", "from fleet import settings"),
        ("fleet/status.py", "def f():\n    from ingest_api import create_app"),
        ("fleet/replay/dead_letters.py", "import workers.users"),
        ("workers/users.py", "from ingest_api.errors import ApiError"),
        ("workers/users.py", "from flask import current_app"),
        ("ingest_api/users.py", "from workers.users import register_user"),
    ],
)
def test_the_scan_catches_an_import_across_layers(path, source):
    assert violations(path, source) != []


def test_the_api_server_may_import_the_app_and_nothing_else_is_flagged():
    assert violations("fleet/runtime/local.py", "from ingest_api import create_app") == []
    assert violations("workers/users.py", "from events.messages import RegisterUser\nimport fleet.batch") == []

"""The API's layout: blueprints registered from one list, none importing another, every port required."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ingest_api
from lambda_platform.composition import Ports, port_names
from tests.fakes import fake_ports

PACKAGE = Path(ingest_api.__file__).parent


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text()) for path in sorted(PACKAGE.glob("*.py"))}


def _is_blueprint(tree: ast.Module) -> bool:
    """A module that defines `bp = Blueprint(...)`."""
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "bp" for t in node.targets)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "Blueprint"
        for node in tree.body
    )


def _imported(tree: ast.Module) -> set[str]:
    """Every module a module imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from ingest_api import blog` imports the module `ingest_api.blog`.
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_the_app_registers_every_blueprint_module_from_its_lists():
    blueprints = {name for name, tree in _modules().items() if _is_blueprint(tree)}
    assert blueprints == set(ingest_api.BLUEPRINTS) | set(ingest_api.LOCAL_BLUEPRINTS)
    assert not set(ingest_api.BLUEPRINTS) & set(ingest_api.LOCAL_BLUEPRINTS)


def test_no_blueprint_module_imports_another_or_an_adapter():
    modules = _modules()
    blueprints = {name for name, tree in modules.items() if _is_blueprint(tree)}
    for name in sorted(blueprints):
        imported = _imported(modules[name])
        others = {f"ingest_api.{other}" for other in blueprints - {name}}
        assert not imported & others, (name, sorted(imported & others))
        assert not {m for m in imported if m.startswith("lambda_platform.adapters")}, name


def test_the_fakes_fill_every_port_of_the_root():
    assert set(fake_ports()) == set(port_names())
    queue = object()
    assert fake_ports(users_queue=queue)["users_queue"] is queue
    assert fake_ports()["users_queue"] is not fake_ports()["users_queue"]  # new fakes on every call


def test_a_port_the_root_does_not_have_cannot_be_given():
    with pytest.raises(TypeError, match="no port named user_queue"):
        fake_ports(user_queue=object())
    with pytest.raises(TypeError, match="no port named user_queue"):
        Ports(user_queue=object())

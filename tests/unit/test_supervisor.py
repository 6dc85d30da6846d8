"""The supervisor's small rules: how an exit is told, what a reload watches, what gunicorn's errors become."""

from __future__ import annotations

import pytest
from gunicorn.http import errors as http_errors

from fleet.runtime.gunicorn_app import HeadTimeout, error_status
from fleet.runtime.reload import is_source
from fleet.runtime.supervisor import PROCESS_LINE_FORM, describe_exit, not_compiling


def test_an_exit_by_signal_names_the_signal():
    assert describe_exit(-9) == "exit code -9 (SIGKILL)"
    assert describe_exit(3) == "exit code 3"


def test_the_process_line_keeps_the_form_other_tools_read():
    assert PROCESS_LINE_FORM.format(name="workers", pid=12347) == "process workers pid 12347"


@pytest.mark.parametrize(
    ("path", "watched"),
    [
        ("/src/workers/confirmations.py", True),
        ("/src/workers/templates/confirmation.html", True),
        ("/src/ingest_api/web/entry.js", True),
        ("/src/workers/__pycache__/confirmations.cpython-311.pyc", False),
        ("/src/fleet/.confirmations.py.swp", False),
        ("/src/fleet/notes.txt", False),
    ],
)
def test_a_reload_watches_modules_templates_and_web_files(path, watched):
    assert is_source(path) is watched


def test_a_file_that_does_not_compile_is_named_with_its_error(tmp_path):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("x = 1\n")
    bad.write_text("def broken(:\n")
    assert not_compiling([str(good)]) == ""
    assert "SyntaxError" in not_compiling([str(good), str(bad)]) and "bad.py" in not_compiling([str(bad)])


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (HeadTimeout(), 408),
        (http_errors.LimitRequestLine(9000, 8190), 414),
        (http_errors.LimitRequestHeaders("limit request headers fields"), 431),
        (http_errors.InvalidHTTPVersion((2, 0)), 505),
        (http_errors.InvalidHTTPVersion("HTTP/01.1"), 505),
        (http_errors.InvalidHTTPVersion("HTTP/1.x"), 400),
        (http_errors.InvalidRequestLine("GET /health"), 505),
        (http_errors.InvalidRequestLine("GET /health HTTP/1.1 extra"), 400),
        (http_errors.InvalidHeader("CONTENT-LENGTH"), 400),
        (RuntimeError("a bug"), 500),
    ],
)
def test_what_gunicorn_meets_outside_the_app_becomes_our_status(exc, status):
    assert error_status(exc) == status


def test_fleet_up_runs_the_edge_as_a_process_that_proxies_to_the_api_and_reloads_with_it():
    from fleet.cli.local import _roles
    from fleet.runtime.supervisor import RELOADED, STOP_GRACE

    roles = {r.name: r for r in _roles("127.0.0.1", 4566, 8080, False, [], edge_port=8081)}
    assert list(roles) == ["aws", "api", "workers", "edge"]
    edge = roles["edge"].argv
    assert edge[1:3] == ["-m", "fleet.edge.server"]
    assert edge[edge.index("--port") + 1] == "8081" and edge[edge.index("--api-url") + 1] == "http://127.0.0.1:8080"
    assert not roles["edge"].essential and not roles["edge"].waits_for_go
    assert "edge" in RELOADED and "edge" in STOP_GRACE


def test_fleet_up_without_the_edge_runs_no_edge_and_provisions_no_distribution():
    """`--no-edge`: no edge process, and a topology without the site's distribution (its bucket stays)."""
    from events.topology import TOPOLOGY
    from fleet.cli.local import _roles, _without_edge

    roles = [r.name for r in _roles("127.0.0.1", 4566, 8080, True, [], edge_port=None)]
    assert roles == ["api", "workers"]
    assert _without_edge(TOPOLOGY).site is None and _without_edge(TOPOLOGY).buckets == TOPOLOGY.buckets


def test_fleet_up_gives_dynamodb_its_own_moto_when_asked():
    """The aws process starts DynamoDB's moto on the port it is given (`fleet.runtime.moto_split`)."""
    from fleet.cli.local import _roles

    argv = next(r.argv for r in _roles("127.0.0.1", 4566, 8080, False, [], dynamodb_port=4567) if r.name == "aws")
    assert argv[argv.index("--dynamodb-port") + 1] == "4567"


def test_each_process_gets_an_environment_of_its_own():
    """--enforce-iam gives each its own signing profile: one shared dict made every process sign as the last one set."""
    from fleet.cli.local import _roles

    roles = _roles("127.0.0.1", 4566, 8080, False, [], edge_port=8081)
    envs = [r.env for r in roles]
    assert len({id(env) for env in envs}) == len(envs)

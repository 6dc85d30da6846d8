"""`fleet campaigns codes` over fakes: the summary on stdout, problems by line on stderr, refusals."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fleet.cli import main
from tests.fakes.codes import FakeCodes
from tests.fakes.tables import FakeCampaigns, campaign


@pytest.fixture
def stores(monkeypatch):
    from lambda_platform.adapters import codes, tables

    campaigns = FakeCampaigns(campaign("promo", gives_codes=True), campaign("plain"))
    store = FakeCodes()
    monkeypatch.setattr(tables, "DynamoCampaigns", lambda *a, **k: campaigns)
    monkeypatch.setattr(codes, "DynamoCodes", lambda: store)
    return campaigns, store


def run(*args: str, data: bytes | None = None):
    return CliRunner().invoke(main, ["campaigns", "codes", *args], input=data)


def test_an_import_prints_its_summary_and_each_problem_by_line(stores):
    _, store = stores
    result = run("import", "promo", "-", data=b"A1\nB2\n\nA1\nC3\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "promo: 3 added, 2 skipped (2 blank, duplicate or refused lines, 0 already in the campaign's codes); "
        "0 given to waitlisted entries"
    )
    assert result.stderr.splitlines() == ["line 3: blank line", "line 4: duplicate of line 1"]
    again = run("import", "promo", "-", data=b"C3\r\nD4\r\n")
    assert "1 added, 1 skipped" in again.stdout and "line 1: already in the campaign's codes" in again.stderr
    assert store.available("promo", 10)[0] == ["A1", "B2", "C3", "D4"]


def test_a_file_that_is_not_utf8_is_refused_naming_the_line_and_nothing_is_imported(stores):
    _, store = stores
    result = run("import", "promo", "-", data="A1\nB2\nCAFÉ-3\n".encode("latin-1"))
    assert result.exit_code != 0
    assert "line 3 is not UTF-8" in result.stderr and "nothing was imported" in result.stderr
    assert store.codes == {}


def test_an_unknown_campaign_or_one_without_codes_is_refused(stores):
    unknown = run("import", "nope", "-", data=b"A1\n")
    assert unknown.exit_code != 0 and "no campaign 'nope'" in unknown.stderr
    plain = run("import", "plain", "-", data=b"A1\n")
    assert plain.exit_code != 0 and "gives no codes" in plain.stderr
    assert run("status", "plain").exit_code != 0


def test_status_says_when_the_pool_is_empty(stores):
    run("import", "promo", "-", data=b"A1\n")
    assert run("status").stdout.strip() == "promo  1 available  0 given  0 waitlisted  0 given to bounced addresses"
    store = stores[1]
    store.entries["e1"] = {
        "submission_id": "e1",
        "campaign_id": "promo",
        "status": "accepted",
        "received_at": "2025-01-01T00:00:00+00:00",
    }
    from campaigns.codes import give_code

    give_code("promo", "e1", store)
    assert run("status", "promo").stdout.strip() == "promo  pool empty  1 given  0 waitlisted  0 given to bounced addresses"


def test_a_bad_line_far_into_the_file_still_refuses_it_whole(stores, tmp_path):
    _, store = stores
    path = tmp_path / "codes.csv"
    lines = [f"CODE-{n}".encode() for n in range(5000)]
    lines[4321] = "CAFÉ".encode("cp1252")
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = run("import", "promo", str(path))
    assert result.exit_code != 0 and "line 4322 is not UTF-8 (byte 4 of the line)" in result.stderr
    assert store.codes == {}


def test_refused_codes_are_named_by_line_and_code_point_never_printed(stores):
    _, store = stores
    data = "OK-1\nＯＫ-2\nok-1\nAB\u202eC\nA\u0412C\n\u200b\n".encode()
    result = run("import", "promo", "-", data=data)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        "line 3: duplicate of line 1",
        "line 4: code holds U+202E RIGHT-TO-LEFT OVERRIDE: a code is ASCII letters, digits and - _ .",
        "line 5: code holds U+0412 CYRILLIC CAPITAL LETTER VE: a code is ASCII letters, digits and - _ .",
        "line 6: blank line",
    ]
    assert "\u202e" not in result.output and "\u0412" not in result.output
    assert "2 added, 4 skipped" in result.stdout
    assert store.available("promo", 10)[0] == ["OK-1", "OK-2"]


def test_stdin_from_a_pipe_is_spooled_to_disk_and_read_twice():
    import os

    from fleet.cli.codes import check_utf8, rereadable

    read_end, write_end = os.pipe()
    os.write(write_end, b"A1\nB2\n")
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert not pipe.seekable()
        with rereadable(pipe) as source:
            check_utf8(source)
            assert source.read() == b"A1\nB2\n"  # the second pass reads it all again

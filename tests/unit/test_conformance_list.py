"""The conformance tier's expectations: its list of tests failing on purpose is the one docs/edge.md
gives, each with a reason, and its verdict is a regression for a lower score or an unlisted failure."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.check import judge
from tests.conformance.expected import BASELINE, EXPECTED_FAILURES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "edge.md"


def test_every_test_failing_on_purpose_is_named_in_the_docs_with_a_reason():
    section = DOCS.read_text(encoding="utf-8").split("## Conformance", 1)[1].split("\n## ", 1)[0]
    for test_id in EXPECTED_FAILURES:
        named = f"`{test_id}`" in section or (
            test_id.rsplit("-", 1)[0] in ("invalidate-POST", "invalidate-PUT", "invalidate-DELETE")
            and f"`{test_id.rsplit('-', 1)[0]}`" in section
        )
        assert named, test_id
    assert all(len(reason) > 40 for reason in EXPECTED_FAILURES.values())
    assert f"**{BASELINE} of the" in section


def outcomes(failing: set[str], total: int = 165) -> dict[str, dict[str, str]]:
    ids = [*EXPECTED_FAILURES, *(f"t-{n}" for n in range(total - len(EXPECTED_FAILURES)))]
    return {i: {"kind": "required", "outcome": "fail" if i in failing else "pass", "detail": ""} for i in ids} | {
        "opt": {"kind": "optimal", "outcome": "optional_fail", "detail": ""}
    }


def test_the_verdict():
    passed, required, expected, unexpected, now_passing = judge(outcomes(set(EXPECTED_FAILURES)))
    assert (passed, required, unexpected, now_passing) == (BASELINE, 165, [], [])
    assert sorted(expected) == sorted(EXPECTED_FAILURES)
    # A new failure is unexpected; a listed test that passes is reported.
    listed = next(iter(EXPECTED_FAILURES))
    passed, _, _, unexpected, now_passing = judge(outcomes(set(EXPECTED_FAILURES) - {listed} | {"t-1"}))
    assert unexpected == ["t-1"] and now_passing == [listed] and passed == BASELINE

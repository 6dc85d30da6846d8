"""A policy statement judged as IAM judges one.

moto 5.2.5 (`moto/iam/access_control.py` `IAMPolicyStatement`, :467-575) differs from IAM
in four ways that a least-privilege policy meets:
- it matches `Action` case-sensitively and knows no `?` wildcard (:571-575): `SQS:SendMessage`
  and `sqs:SendMessag?` match nothing, where IAM matches action names case-insensitively and
  reads `?` as any one character; its patterns are regular expressions, not globs, so a `.`,
  `+` or `$` in an ARN pattern means something else;
- it ignores `NotResource`: a statement with `NotResource` and no `Resource` applies to every
  resource, the one it excludes included (:498);
- a statement whose condition does not hold is an explicit Deny (:493), where IAM ignores
  the statement: a trust policy with an `sts:ExternalId` condition in one statement refuses
  every caller of its other statements;
- a statement that names a principal other than the caller is an explicit Deny (:490), where
  IAM ignores it: a trust policy with a statement for the Lambda service and one for the
  operator refuses the operator (`trust` says who a statement names).

`install` makes moto's statements match as IAM does (globs; actions case-insensitive, ARNs
case-sensitive), honour `NotResource`, and stay neutral when a condition does not hold or
the principal is someone else. Which conditions moto evaluates, and how, is its own (`trust`
adds the few that AssumeRole carries). Only enforcement consults statements.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult

#: Elements whose values IAM matches case-insensitively.
CASE_INSENSITIVE = ("Action", "NotAction")


def install() -> None:
    """Make moto judge a statement as IAM does (again: the same)."""
    if getattr(IAMPolicyStatement.is_action_permitted, "_fleet_moto_iam", False):
        return
    # Replacing moto's methods is the point: mypy refuses an assignment to a method.
    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]
    IAMPolicyStatement._check_element_matches = _check_element_matches  # type: ignore[method-assign]


def is_action_permitted(
    self: Any,
    action: str,
    resource: str = "*",
    principal: str | None = None,
    incoming_condition_values: dict[str, str] | None = None,
) -> PermissionResult:
    """PERMITTED or DENIED when the statement applies to this call, NEUTRAL when it does not."""
    statement = self._statement
    if "NotAction" in statement:
        concerned = not self._check_element_matches("NotAction", action)
    else:
        concerned = "Action" in statement and self._check_element_matches("Action", action)
    if not concerned:
        return PermissionResult.NEUTRAL
    if principal is not None and not self._check_principal(principal):
        return PermissionResult.NEUTRAL  # a resource policy's statement about someone else
    if principal is None and self.is_unknown_principal(statement.get("Principal")):
        return PermissionResult.NEUTRAL  # moto's own rule for a principal it cannot read
    if not self._check_conditions(incoming_condition_values):
        return PermissionResult.NEUTRAL
    if "NotResource" in statement:
        applies = not self._check_element_matches("NotResource", resource)
    elif statement.get("Resource"):
        applies = self._check_element_matches("Resource", resource)
    else:
        applies = True  # a trust policy names no resource: the role is the resource
    if not applies:
        return PermissionResult.NEUTRAL
    return PermissionResult.PERMITTED if statement.get("Effect") == "Allow" else PermissionResult.DENIED


def _check_element_matches(self: Any, statement_element: str, value: str) -> bool:
    """True when a pattern of the element (a string or a list of them) matches `value`."""
    patterns = self._statement[statement_element]
    ignore_case = statement_element in CASE_INSENSITIVE
    if isinstance(patterns, str):
        return glob(patterns, ignore_case).match(value) is not None
    return any(glob(str(pattern), ignore_case).match(value) is not None for pattern in patterns)


@functools.lru_cache(maxsize=4096)
def glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """An IAM pattern (`*` any run, `?` any one character, nothing else special) as a regex."""
    body = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    flags = (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL
    return re.compile(rf"{body}\Z", flags)  # with match(): the whole string, a trailing newline included


# A mark on the function itself (a second install does nothing): mypy knows no attributes on a function.
is_action_permitted._fleet_moto_iam = True  # type: ignore[attr-defined]

"""A role's trust policy read as IAM reads it when someone calls AssumeRole.

moto 5.2.5 (`moto/iam/access_control.py`):
- `IAMPolicyStatement._check_principal` (:535-545) reads only `Principal["AWS"]`: a statement
  naming only a service (`{"Service": "lambda.amazonaws.com"}`, every Lambda execution
  role's) makes AssumeRole a 500 (TypeError), and so does `"Principal": "*"`
  (AttributeError); an account, by its id or its `:root` ARN, never matches the account's
  users and roles; a role's sessions are matched only by the session's ARN, never by the
  role's;
- AssumeRole of a role that does not exist, or of one in another account, checks no trust
  at all (`_is_assuming_role_operation`, :285-292), and STS hands out credentials for it;
- of a trust statement's conditions it evaluates only `StringEquals` on `sts:ExternalId`,
  and a condition on a key the request does not carry holds: a caller that sends no
  ExternalId passes a trust that demands one.

IAM: a trust statement applies to the principals it names (an ARN names that user or role,
and a role's ARN every session of the role; an account names all of its users and roles;
`"*"` names everyone); a statement that names someone else says nothing about the caller
(`statements` makes moto neutral about it); AssumeRole of a role that does not exist is
AccessDenied; a condition on a key the request lacks does not hold.

`install` makes moto of this process do the same, for the role in its own account, with
`StringEquals`, `StringLike`, `ArnEquals` and `ArnLike` judged on `sts:ExternalId`,
`sts:RoleSessionName`, `aws:PrincipalArn` and `aws:PrincipalAccount`. It keeps the rest of
moto: other operators and keys are ignored, as moto ignores them; the caller's own
policies must still allow `sts:AssumeRole` (AWS waives that within one account when the
trust names the caller's ARN itself). Only enforcement consults a trust policy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, IAMRequestBase, PermissionResult
from moto.iam.utils import REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK

from fleet.runtime.moto_iam.statements import glob

#: Condition keys of an AssumeRole request that this correction supplies (lower case: IAM's keys ignore case).
KNOWN_KEYS = frozenset({"sts:externalid", "sts:rolesessionname", "aws:principalarn", "aws:principalaccount"})


def _equals(expected: str, actual: str) -> bool:
    return actual == expected


def _like(expected: str, actual: str) -> bool:
    return glob(expected).match(actual) is not None


#: The condition operators judged here; any other is ignored, as moto ignores it.
OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": _equals,
    "StringLike": _like,
    "ArnEquals": _equals,
    "ArnLike": _like,
}


def install() -> None:
    """Make moto read trust policies as IAM does (again: the same)."""
    if getattr(IAMPolicyStatement._check_principal, "_fleet_moto_iam", False):
        return
    moto_check_conditions = IAMPolicyStatement._check_conditions

    def _check_conditions(self: Any, incoming_condition_values: dict[str, str] | None) -> bool:
        if incoming_condition_values is None:  # an identity policy: moto's own reading
            return moto_check_conditions(self, incoming_condition_values)
        return conditions_hold(self._statement.get("Condition") or {}, incoming_condition_values)

    # Replacing moto's methods is the point: mypy refuses an assignment to a method.
    IAMPolicyStatement._check_principal = _check_principal  # type: ignore[method-assign]
    IAMPolicyStatement._check_conditions = _check_conditions  # type: ignore[method-assign]
    IAMRequestBase._is_assuming_role_operation = _is_assuming_role_operation  # type: ignore[method-assign]
    IAMRequestBase._check_role_trust_relationship = _check_role_trust_relationship  # type: ignore[method-assign]


def _check_principal(self: Any, principal: str) -> bool:
    """True when the statement's `Principal` names `principal` (an IAM user's or a session's ARN)."""
    expected = self._statement.get("Principal")
    if expected is None or expected == "*":
        return True
    if not isinstance(expected, dict):
        return False
    named = expected.get("AWS", [])
    named = [named] if isinstance(named, str) else list(named)
    if "*" in named:
        return True
    return not names_of(principal).isdisjoint(named)


# A mark on the function itself (a second install does nothing): mypy knows no attributes on a function.
_check_principal._fleet_moto_iam = True  # type: ignore[attr-defined]


def names_of(principal_arn: str) -> set[str]:
    """Every way a trust policy may name `principal_arn`: itself, its account, its role or user."""
    from moto.iam.models import iam_backends

    parts = principal_arn.split(":", 5)
    if len(parts) != 6:
        return {principal_arn}
    partition, account, resource = parts[1], parts[4], parts[5]
    names = {principal_arn, account, f"arn:{partition}:iam::{account}:root"}
    backend = iam_backends[account][partition]
    if resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        names.add(f"arn:{partition}:iam::{account}:role/{role_name}")
        with contextlib.suppress(Exception):  # moto's NotFoundException: a session of a role deleted since
            names.add(backend.get_role(role_name).arn)  # with its path, if it has one
    elif resource.startswith("user/"):
        with contextlib.suppress(Exception):  # moto's NoSuchEntity: a user deleted since
            names.add(backend.get_user(resource.split("/")[-1]).arn)
    return names


def conditions_hold(conditions: dict[str, Any], values: dict[str, str]) -> bool:
    """True unless a condition judged here fails; a key the request lacks fails its condition."""
    for operator, entries in conditions.items():
        test = OPERATORS.get(operator)
        if test is None or not isinstance(entries, dict):
            continue
        for key, expected in entries.items():
            if key.lower() not in KNOWN_KEYS:
                continue
            actual = values.get(key.lower())
            wanted = [expected] if isinstance(expected, str) else list(expected)
            if actual is None or not any(test(str(value), actual) for value in wanted):
                return False
    return True


def role_by_arn(role_arn: str) -> Any | None:
    """The role an ARN names, from its own account's IAM; None if there is none."""
    from moto.iam.models import iam_backends

    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    try:
        return iam_backends[parts[4]][parts[1]].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's NotFoundException, or an account or partition it never saw: no role
        return None


def _is_assuming_role_operation(self: Any, resource_arn: str) -> bool:
    """AssumeRole always answers to the role's trust, whether the role exists or not."""
    return self._action in REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK


def _check_role_trust_relationship(self: Any, role_arn: str) -> bool:
    """True when the role exists and its trust policy allows the caller (with the request's keys)."""
    role = role_by_arn(role_arn)
    if role is None:
        return False
    caller = self._access_key.arn
    values = {
        "aws:principalarn": _principal_arn(caller),
        "aws:principalaccount": caller.split(":")[4],
        **{key: value for key, value in _request_keys(self._data).items() if value is not None},
    }
    verdict = IAMPolicy(role.assume_role_policy_document).is_action_permitted(self._action, role_arn, caller, values)
    return bool(verdict == PermissionResult.PERMITTED)


def _request_keys(data: Any) -> dict[str, str | None]:
    def first(name: str) -> str | None:
        value = data.get(name)
        return value[0] if isinstance(value, list) and value else value

    return {"sts:externalid": first("ExternalId"), "sts:rolesessionname": first("RoleSessionName")}


def _principal_arn(caller_arn: str) -> str:
    """`aws:PrincipalArn`: a session's role ARN, or the caller's own."""
    partition, account, resource = caller_arn.split(":")[1], caller_arn.split(":")[4], caller_arn.split(":", 5)[5]
    if resource.startswith("assumed-role/"):
        return f"arn:{partition}:iam::{account}:role/{resource.split('/')[1]}"
    return caller_arn

"""IAM: each execution role of the stage, with the one policy `fleet.iam` renders from the topology.

A role is created with its trust policy and its inline policy `fleet`; on a later run the
trust and the policy are put back as rendered, and any other policy found on the role
(inline or attached) is removed: nothing is added to a role by hand. On the local stage
the trust also names the local operator, who assumes each role for the process that
stands in for its function (`fleet.runtime.credentials`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from fleet.iam import Principal
from fleet.provision.base import Change
from lambda_platform import aws
from lambda_platform.errors import error_code

#: The inline policy each role carries.
POLICY_NAME = "fleet"


def ensure_roles(found: dict[str, Principal], trusted: Iterable[str] = ()) -> list[Change]:
    """Every execution role of the stage, as rendered; `trusted` may assume them too (locally).

    The operator's policy is not a role's: it is attached to a person's identity (locally,
    `fleet.runtime.credentials` gives it to the local operator).
    """
    also = tuple(trusted)
    return [ensure_role(principal, also) for principal in found.values() if principal.service is not None]


def role_arn(principal: Principal) -> str:
    """A role's ARN, as IAM answers it."""
    arn: str = aws.client("iam").get_role(RoleName=principal.name)["Role"]["Arn"]
    return arn


def ensure_role(principal: Principal, trusted: Iterable[str] = ()) -> Change:
    """Create or correct one role: its trust, its one inline policy, nothing else."""
    iam = aws.client("iam")
    trust = principal.trust_policy(trusted)
    try:
        role = iam.get_role(RoleName=principal.name)["Role"]
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        iam.create_role(
            RoleName=principal.name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=f"Fleet: the {principal.key} function's execution role, rendered from the topology",
        )
        iam.put_role_policy(RoleName=principal.name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(principal.policy))
        return Change("role", principal.name, "created")
    changed = False
    if _document(role.get("AssumeRolePolicyDocument")) != trust:
        iam.update_assume_role_policy(RoleName=principal.name, PolicyDocument=json.dumps(trust))
        changed = True
    for name in iam.list_role_policies(RoleName=principal.name).get("PolicyNames", []):
        if name != POLICY_NAME:
            iam.delete_role_policy(RoleName=principal.name, PolicyName=name)
            changed = True
    for attached in iam.list_attached_role_policies(RoleName=principal.name).get("AttachedPolicies", []):
        iam.detach_role_policy(RoleName=principal.name, PolicyArn=attached["PolicyArn"])
        changed = True
    if _inline(principal.name) != principal.policy:
        iam.put_role_policy(RoleName=principal.name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(principal.policy))
        changed = True
    return Change("role", principal.name, "updated" if changed else "unchanged")


def _inline(role: str) -> dict[str, Any] | None:
    try:
        document = aws.client("iam").get_role_policy(RoleName=role, PolicyName=POLICY_NAME)["PolicyDocument"]
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return None
    return _document(document)


def _document(document: Any) -> dict[str, Any] | None:
    """A policy document as IAM returns it (a dict, or URL-encoded JSON text), as a dict."""
    if document is None:
        return None
    if isinstance(document, str):
        parsed: dict[str, Any] = json.loads(unquote(document))
        return parsed
    return dict(document)

"""The policies `fleet.iam` renders from the topology: exact, scoped to the stage, and read by Parliament.

moto checks the action of every call (with `fleet up --enforce-iam`), but not every
resource and condition as AWS does: the resources and key prefixes are held here, against
the topology, statically.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from parliament import analyze_policy_string

from events.permissions import Grant, table, unscoped
from events.topology import TOPOLOGY
from fleet.iam import (
    MANAGED_POLICIES_PER_IDENTITY,
    MANAGED_POLICY_LIMIT,
    OPERATOR,
    Principal,
    StageFacts,
    managed_policies,
    policy_json,
    principals,
    review_document,
)

ACCOUNT = "123456789012"
FACTS = StageFacts("prod", "us-east-1", ACCOUNT, "Fleet <no-reply@example.com>", "E2QWRUHAPOMQZL")
#: What IAM takes in one role's inline policies, whitespace aside.
ROLE_POLICY_LIMIT = 10_240
#: Findings of Parliament's community auditors accepted on purpose, by principal, and why.
ACCEPTED = {
    # The operator makes the roles and hands them to the functions and the pipes (iam:PutRolePolicy,
    # iam:PassRole, lambda:UpdateFunctionCode): whoever deploys can run code as those roles. Its
    # IAM actions are on the stage's three roles only.
    OPERATOR: {"PERMISSIONS_MANAGEMENT_ACTIONS", "PRIVILEGE_ESCALATION"},
}


@pytest.fixture(
    scope="module", params=[FACTS, StageFacts("prod", "us-east-1", ACCOUNT, "no-reply@example.com")], ids=["made", "new"]
)
def rendered(request) -> dict[str, Principal]:
    return principals(request.param)


def statements(principal: Principal) -> list[dict[str, Any]]:
    return list(principal.policy["Statement"])


def allowed(principal: Principal) -> set[tuple[str, str]]:
    """(action, resource) pairs the policy allows."""
    pairs = set()
    for statement in statements(principal):
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        pairs |= {(a, r) for a in statement["Action"] for r in resources}
    return pairs


def test_the_principals_are_the_four_of_the_issue(rendered):
    assert list(rendered) == ["api", "workers", "pipes", "operator"]
    assert {p.name for p in rendered.values()} == {
        "fleet-prod-api",
        "fleet-prod-workers",
        "fleet-prod-pipes",
        "fleet-prod-operator",
    }
    assert rendered["api"].service == rendered["workers"].service == "lambda.amazonaws.com"
    assert rendered["pipes"].service == "pipes.amazonaws.com"


def test_every_action_is_exact(rendered):
    for principal in rendered.values():
        for statement in statements(principal):
            for action in statement["Action"]:
                assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", action), (principal.key, action)


def test_every_star_resource_says_why_and_only_where_aws_scopes_nothing(rendered):
    for principal in rendered.values():
        for statement in statements(principal):
            if statement["Resource"] == "*":
                assert principal.unscoped[statement["Sid"]], (principal.key, statement["Sid"])


def test_every_resource_is_the_stages_or_says_why_it_is_wider(rendered):
    for principal in rendered.values():
        wide = {
            r
            for s in statements(principal)
            if s["Sid"] in principal.unscoped
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        }
        for _action, resource in allowed(principal):
            if resource in wide:
                continue
            _arn, _partition, service, region, account, rest = resource.split(":", 5)
            # S3 names no account nor region; IAM, CloudFront and dashboards no region.
            assert account in ("", ACCOUNT) and region in ("", "us-east-1"), resource
            if service not in ("cloudfront", "ses"):  # ids given at creation; the sender's identities
                assert "fleet-prod" in rest or rest == "*", resource
            assert "fleet-local" not in resource


def test_parliament_finds_nothing_but_what_is_accepted(rendered):
    for principal in rendered.values():
        found = analyze_policy_string(json.dumps(principal.policy), include_community_auditors=True).findings
        issues = {f.issue for f in found}
        assert issues <= ACCEPTED.get(principal.key, set()), (principal.key, [(f.issue, f.detail) for f in found])


def test_each_role_policy_fits_in_iam_and_the_operators_in_a_few_managed_policies(rendered):
    for principal in rendered.values():
        if principal.service is not None:  # a role's inline policy
            assert len(policy_json(principal.policy)) <= ROLE_POLICY_LIMIT, principal.key
    operator = rendered[OPERATOR].policy
    parts = managed_policies(operator)
    assert 1 <= len(parts) <= MANAGED_POLICIES_PER_IDENTITY
    assert all(len(policy_json(part)) <= MANAGED_POLICY_LIMIT for part in parts)
    assert [s for part in parts for s in part["Statement"]] == operator["Statement"]  # every statement, once, in order


# --- what each principal may reach, read from the topology ----------------------------------


def media(prefix: str) -> str:
    return f"arn:aws:s3:::fleet-prod-media/{prefix}*"


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/fleet-prod-{name}"


def test_the_api_creates_objects_only_under_uploads_and_users_folders():
    api = principals(FACTS)["api"]
    puts = {r for a, r in allowed(api) if a == "s3:PutObject"}
    assert puts == {media("uploads/"), media("users/")}
    assert not {a for a, _r in allowed(api) if a.startswith("s3:Delete")}


def test_the_thumbnail_worker_reads_uploads_and_writes_thumbnails_and_quarantine():
    workers = principals(FACTS)["workers"]
    assert {r for a, r in allowed(workers) if a == "s3:GetObject"} == {media("uploads/")}
    assert {r for a, r in allowed(workers) if a == "s3:PutObject"} == {media("thumbnails/"), media("quarantine/")}
    assert {r for a, r in allowed(workers) if a == "s3:DeleteObject"} == {media("uploads/")}


def test_the_api_cannot_read_the_users_table_nor_send_email():
    api = allowed(principals(FACTS)["api"])
    assert not any(r.startswith(table_arn("users")) for _a, r in api)
    assert not any(a.startswith("ses:") for a, _r in api)
    assert not any(r.startswith(table_arn("idempotency")) for _a, r in api)


def test_the_workers_send_email_only_as_the_stages_sender_with_its_configuration_set():
    workers = allowed(principals(FACTS)["workers"])
    sent = {r for a, r in workers if a == "ses:SendEmail"}
    assert sent == {
        f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/no-reply@example.com",
        f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com",
        f"arn:aws:ses:us-east-1:{ACCOUNT}:configuration-set/fleet-prod-emails",
    }
    # The account-level suppression list is the one SES action on no resource.
    assert {a for a, r in workers if a.startswith("ses:") and r == "*"} == {"ses:PutSuppressedDestination"}


def test_the_workers_invalidate_only_the_stages_distribution_once_it_exists():
    made = allowed(principals(FACTS)["workers"])
    assert {r for a, r in made if a == "cloudfront:CreateInvalidation"} == {
        f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2QWRUHAPOMQZL"
    }
    new = allowed(principals(StageFacts("prod", "us-east-1", ACCOUNT, "no-reply@example.com"))["workers"])
    assert not {r for a, r in new if a == "cloudfront:CreateInvalidation"}


def test_every_trigger_gives_the_workers_what_its_mapping_reads():
    workers = allowed(principals(FACTS)["workers"])
    for function in TOPOLOGY.functions:
        for trigger in function.triggers:
            queue = getattr(trigger, "queue", None)
            if trigger.kind == "sqs":
                assert ("sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:fleet-prod-{queue}") in workers
            if trigger.kind == "stream":
                stream = f"{table_arn(trigger.table)}/stream/*"
                assert ("dynamodb:GetRecords", stream) in workers
                parked = f"arn:aws:sqs:us-east-1:{ACCOUNT}:fleet-prod-{trigger.retry.on_failure_queue}"
                assert ("sqs:SendMessage", parked) in workers
            if trigger.kind == "pipe":  # the pipe reads it, not the function
                assert not {a for a, r in workers if r.endswith(f":fleet-prod-{queue}")}


def test_the_pipes_read_their_queues_and_invoke_the_workers_only():
    pipes = allowed(principals(FACTS)["pipes"])
    workers = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fleet-prod-workers"
    queues = {f"arn:aws:sqs:us-east-1:{ACCOUNT}:fleet-prod-{t.queue}" for _f, t in TOPOLOGY.pipes()}
    assert {r for _a, r in pipes} == queues | {workers}
    assert {a for a, r in pipes if r == workers} == {"lambda:InvokeFunction"}


def test_every_grant_of_the_topology_is_rendered():
    api, workers = (allowed(principals(FACTS)[k]) for k in ("api", "workers"))
    units = [(TOPOLOGY.api.grants, api)] + [(f.grants, workers) for f in TOPOLOGY.functions]
    for grants, rendered in units:
        for grant in grants:
            for action in grant.actions:
                assert any(a == action for a, _r in rendered), (grant, action)


def test_a_query_reaches_only_the_indexes_it_names():
    workers = allowed(principals(FACTS)["workers"])
    queries = {r for a, r in workers if a == "dynamodb:Query" and "submissions" in r}
    assert queries == {f"{table_arn('submissions')}/index/by_upload", f"{table_arn('submissions')}/index/by_email"}


def test_review_document_has_each_principals_role_and_policy():
    document = review_document(principals(FACTS))
    assert set(document) == {"api", "workers", "pipes", "operator"}
    for entry in document.values():
        assert {"role", "policy"} <= set(entry) and entry["policy"]["Version"] == "2012-10-17"


# --- the declaration refuses what is not least privilege ------------------------------------


@pytest.mark.parametrize("action", ["dynamodb:*", "*", "s3:Get*", "GetItem", "dynamodb:getItem"])
def test_a_grant_of_a_wildcard_or_malformed_action_is_refused(action):
    with pytest.raises(ValueError, match="not exact IAM actions"):
        table("campaigns", action)


def test_an_unscoped_grant_must_say_why():
    with pytest.raises(ValueError, match="must say why"):
        unscoped("xray:PutTraceSegments", why="")
    assert Grant("unscoped", None, ("xray:PutTraceSegments",), why="X-Ray has no resources").why

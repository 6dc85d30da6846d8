"""The whole fleet under IAM enforcement (`fleet up --enforce-iam`): every flow works as each
process's role allows, and a call the policy does not allow fails as on AWS.

One `fleet up --enforce-iam` for the module, driven as a developer drives it: through the
API, the edge and the `fleet` commands (which sign as the local operator beside it).
"""

from __future__ import annotations

import configparser
import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from PIL import Image

from lambda_platform.outbox import read_moto_outbox
from tests.conftest import free_port
from tests.integration.fleet_up import FleetUp

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLEET = str(Path(sys.executable).with_name("fleet"))
CAMPAIGN = "iam"


class Enforced:
    """A running `fleet up --enforce-iam` and what a test needs to reach it."""

    def __init__(self, fleet: FleetUp, aws: str, api: str, edge: str) -> None:
        self.fleet, self.aws, self.api, self.edge = fleet, aws, api, edge
        self.config = Path(fleet.env["FLEET_STATE_DIR"]) / "aws-config"

    def run(self, *args: str, code: int = 0, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        """A `fleet` command beside the fleet (it signs as the local operator)."""
        env = {**self.fleet.env, "AWS_ENDPOINT_URL": self.aws}
        done = subprocess.run(
            [FLEET, *args], env=env, input=stdin.decode() if stdin else None, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code, f"fleet {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def session(self, principal: str) -> boto3.session.Session:
        """A boto3 session signing as one principal's profile (`fleet-local-api`, ...)."""
        return boto3.session.Session(profile_name=f"fleet-local-{principal}")

    def client(self, principal: str, service: str):
        """A client of the local AWS signing as `principal`."""
        return self.session(principal).client(service, endpoint_url=self.aws)

    def outbox(self) -> list[str]:
        """Who each email the local SES accepted went to, and its text (moto's own listing, outside IAM)."""
        emails = read_moto_outbox(self.aws, attempts=8)
        return [" ".join([*email.to, email.subject, *email.text_lines()]) for email in emails]


@pytest.fixture(scope="module")
def enforced():
    aws_port, api_port, edge_port = free_port(), free_port(), free_port()
    fleet = FleetUp(
        "--no-reload", "--enforce-iam", "--aws-port", str(aws_port), "--api-port", str(api_port), "--edge-port", str(edge_port)
    )
    try:
        fleet.wait_ready()
        running = Enforced(fleet, f"http://127.0.0.1:{aws_port}", f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{edge_port}")
        assert running.config.exists(), fleet.text
        yield running
    finally:
        fleet.stop()
        if os.environ.get("FLEET_TEST_SHOW_FLEET"):
            print(fleet.text)


@pytest.fixture(autouse=True)
def profiles(enforced, monkeypatch):
    """The test's own boto3 sessions read the fleet's profiles."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(enforced.config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def wait_for(check, timeout: float = 60.0, every: float = 0.5):
    """The first truthy answer of `check`, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")
        time.sleep(every)


def entry(email: str) -> dict:
    return {"first_name": "Ada", "last_name": "Lovelace", "email": email, "consent": True}


# --- every flow under enforcement --------------------------------------------------------


def test_a_campaigns_entries_go_through_the_pipe_and_get_their_codes_by_email(enforced):
    enforced.run(
        "campaigns",
        "create",
        CAMPAIGN,
        "--name",
        "IAM",
        "--opens",
        "2026-01-01T00:00:00Z",
        "--closes",
        "2030-01-01T00:00:00Z",
        "--gives-codes",
    )
    enforced.run("campaigns", "codes", "import", CAMPAIGN, "-", stdin=b"CODE-ONE\nCODE-TWO\n")
    address = f"iam.{uuid.uuid4().hex[:8]}@example.com"
    posted = requests.post(f"{enforced.api}/v1/campaigns/{CAMPAIGN}/submissions", json=entry(address), timeout=10)
    assert posted.status_code == 202, posted.text
    status_url = enforced.api + posted.json()["status_url"]
    wait_for(lambda: requests.get(status_url, timeout=10).json().get("status") == "accepted")
    mail = wait_for(lambda: [m for m in enforced.outbox() if address in m])
    assert "CODE-" in mail[0]
    assert "1 given" in enforced.run("campaigns", "codes", "status", CAMPAIGN).stdout


def test_a_bounce_suppresses_the_address_marks_the_entry_and_the_operator_lifts_it(enforced):
    address = "bounce@simulator.amazonses.com"
    posted = requests.post(f"{enforced.api}/v1/campaigns/{CAMPAIGN}/submissions", json=entry(address), timeout=10)
    assert posted.status_code == 202, posted.text

    def suppressed():
        """the bounce's address on the suppression list"""
        return address in enforced.run("suppression", "list").stdout

    wait_for(suppressed)
    exported = enforced.run("campaigns", "export", CAMPAIGN, "--format", "jsonl").stdout.splitlines()
    (line,) = [json.loads(x) for x in exported if address in x]
    assert line["email_status"] == "bounced"
    assert json.loads(enforced.run("status", "--json").stdout)["emails"]["bounced"] >= 1
    assert "lifted by ops" in enforced.run("suppression", "remove", address, "--by", "ops").stdout


def test_an_upload_signed_by_the_apis_role_is_taken_and_thumbnailed(enforced):
    image = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(image, "JPEG")
    data = image.getvalue()
    grant = requests.post(
        f"{enforced.api}/v1/campaigns/{CAMPAIGN}/uploads",
        json={"content_type": "image/jpeg", "content_length": len(data)},
        timeout=10,
    )
    assert grant.status_code == 201, grant.text
    presigned = grant.json()
    assert presigned["fields"]["x-amz-credential"].startswith("ASIA")  # the API role's session, not a dummy key
    sent = requests.post(presigned["url"], data=presigned["fields"], files={"file": ("r.jpg", data, "image/jpeg")}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    upload_url = f"{enforced.api}/v1/uploads/{presigned['upload_id']}"

    def outcome():
        """the upload's outcome"""
        found = requests.get(upload_url, timeout=10).json()
        return found if found.get("status") in ("ready", "rejected") else None

    ready = wait_for(outcome)
    assert ready["status"] == "ready", ready
    assert set(ready["thumbnails"])


def test_a_signup_gets_its_welcome_email(enforced):
    address = f"welcome.{uuid.uuid4().hex[:8]}@example.com"
    posted = requests.post(
        f"{enforced.api}/v1/users", json={"email": address, "first_name": "Grace", "last_name": "Hopper"}, timeout=10
    )
    assert posted.status_code == 202, posted.text
    wait_for(lambda: [m for m in enforced.outbox() if address in m])


def test_the_blog_stores_an_article_and_its_edit_shows_through_the_edge(enforced):
    key = enforced.run("keys", "create", "--name", "writer", "--scope", "articles:write").stdout.strip().splitlines()[-1]
    headers = {"x-api-key": key}
    posted = requests.post(
        f"{enforced.api}/v1/articles",
        json={"title": "Least privilege", "content": "Roles.", "author": "ops", "published": True},
        headers=headers,
        timeout=10,
    )
    assert posted.status_code == 202, posted.text
    article = f"/v1/articles/{posted.json()['article_id']}"
    wait_for(lambda: requests.get(enforced.api + article, timeout=10).status_code == 200)
    assert requests.get(enforced.edge + article, timeout=10).json()["title"] == "Least privilege"
    edited = requests.patch(enforced.api + article, json={"title": "Least privilege, proven"}, headers=headers, timeout=10)
    assert edited.status_code == 202, edited.text
    # The worker stores the edit and purges the edge of the article (its role may do both).
    wait_for(lambda: requests.get(enforced.edge + article, timeout=10).json().get("title") == "Least privilege, proven")
    comment = requests.post(
        f"{enforced.api}{article}/comments", json={"author": "Ada", "email": "ada@example.com", "body": "Yes."}, timeout=10
    )
    assert comment.status_code == 202, comment.text
    comment_url = enforced.api + comment.json()["status_url"]
    wait_for(lambda: requests.get(comment_url, timeout=10).json().get("status") == "accepted")


def test_the_operators_commands_export_draw_replay_and_check(enforced, tmp_path):
    export = tmp_path / "entries.csv"
    enforced.run("campaigns", "export", CAMPAIGN, "-o", str(export))
    assert export.read_text().count("\n") >= 2
    # The draw, committed while its campaign is open, run once it has closed, then verified.
    window = ("--name", "Draw", "--opens", "2026-01-01T00:00:00Z")
    enforced.run("campaigns", "create", "iam-draw", *window, "--closes", "2030-01-01T00:00:00Z")
    posted = requests.post(f"{enforced.api}/v1/campaigns/iam-draw/submissions", json=entry("draw@example.com"), timeout=10)
    assert posted.status_code == 202, posted.text
    wait_for(lambda: requests.get(enforced.api + posted.json()["status_url"], timeout=10).json().get("status") == "accepted")
    seed = enforced.run("campaigns", "draw", "iam-draw", "--commit").stdout.splitlines()[-1]
    closed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    enforced.run("campaigns", "create", "iam-draw", *window, "--closes", closed)
    drawn = enforced.run("campaigns", "draw", "iam-draw", "--winners", "1", "--seed", seed).stdout
    assert "winners (1)" in drawn
    assert "verified" in enforced.run("campaigns", "draw", "iam-draw", "--verify").stdout
    enforced.run("replay", "submissions", "--dry-run")
    status = json.loads(enforced.run("status", "--json").stdout)
    assert {q["name"] for q in status["queues"]} >= {"submissions", "confirmations-failures"}


def test_the_review_consoles_calls_are_granted_to_the_apis_role(enforced):
    """What /admin/ asks the admin API for, each answered by the API signing as its own role."""
    window = ("--name", "Console", "--opens", "2026-01-01T00:00:00Z")
    enforced.run("campaigns", "create", "iam-console", *window, "--closes", "2030-01-01T00:00:00Z", "--gives-codes")
    made = enforced.run(
        "keys",
        "create",
        "--name",
        "console",
        "--scope",
        "campaigns:read",
        "--scope",
        "campaigns:write",
        "--campaign",
        "iam-console",
    )
    key = {"x-api-key": next(line for line in made.stdout.splitlines() if line.startswith("fleet_"))}
    image = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 160, 40)).save(image, "JPEG")
    data = image.getvalue()
    grant = requests.post(
        f"{enforced.api}/v1/campaigns/iam-console/uploads",
        json={"content_type": "image/jpeg", "content_length": len(data)},
        timeout=10,
    ).json()
    sent = requests.post(grant["url"], data=grant["fields"], files={"file": ("r.jpg", data, "image/jpeg")}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    posted = requests.post(
        f"{enforced.api}/v1/campaigns/iam-console/submissions",
        json={**entry("console@example.com"), "upload_key": grant["fields"]["key"]},
        timeout=10,
    )
    assert posted.status_code == 202, posted.text
    # Stored, then waitlisted as the pool is empty: either is stored.
    stored = ("accepted", "waitlisted")
    wait_for(lambda: requests.get(enforced.api + posted.json()["status_url"], timeout=10).json().get("status") in stored)

    def listed():
        """the entry listed with its thumbnail (the uploads' BatchGetItem)"""
        page = requests.get(f"{enforced.api}/v1/campaigns/iam-console/entries?reviewed=false", headers=key, timeout=10)
        assert page.status_code == 200, page.text
        return [e for e in page.json()["entries"] if e.get("thumbnail")]

    wait_for(listed)
    campaigns = requests.get(f"{enforced.api}/v1/campaigns", headers=key, timeout=10)
    assert [c["campaign_id"] for c in campaigns.json()["campaigns"]] == ["iam-console"], campaigns.text
    codes = requests.get(f"{enforced.api}/v1/campaigns/iam-console/codes", headers=key, timeout=10)
    assert codes.status_code == 200 and codes.json()["available"] == 0, codes.text  # three COUNT Queries
    exported = requests.get(f"{enforced.api}/v1/campaigns/iam-console/export", headers=key, timeout=10)
    assert exported.status_code == 200 and "console@example.com" in exported.text
    seed = enforced.run("campaigns", "draw", "iam-console", "--commit").stdout.splitlines()[-1]
    closed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    enforced.run("campaigns", "create", "iam-console", *window, "--closes", closed, "--gives-codes")
    drawn = requests.post(
        f"{enforced.api}/v1/campaigns/iam-console/draw", json={"winners": 1, "seed": seed}, headers=key, timeout=10
    )
    assert drawn.status_code == 201, drawn.text
    checked = requests.get(f"{enforced.api}/v1/campaigns/iam-console/draw/verification", headers=key, timeout=10)
    assert checked.status_code == 200 and checked.json()["verified"] is True, checked.text


def test_the_dashboard_reads_and_dry_runs_a_replay_as_the_operator(enforced):
    state = requests.get(f"{enforced.api}/_local/dashboard.json", timeout=10)
    assert state.status_code == 200, state.text
    assert {q["name"] for q in state.json()["queues"]} >= {"submissions"}
    dry = requests.post(
        f"{enforced.api}/_local/dashboard/replay",
        json={"queue": "submissions", "dry_run": True},
        headers={"Origin": enforced.api},
        timeout=10,
    )
    assert dry.status_code == 200, dry.text


def test_provisioning_again_as_the_operator_changes_nothing(enforced):
    done = enforced.run("provision")
    assert done.stdout.strip().endswith("0 changed"), done.stdout


# --- enforcement bites -------------------------------------------------------------------


def test_dummy_credentials_are_refused(enforced):
    sqs = boto3.client(
        "sqs",
        endpoint_url=enforced.aws,
        region_name="us-east-1",
        aws_access_key_id="fleet-local",
        aws_secret_access_key="fleet-local",
    )
    with pytest.raises(ClientError) as refused:
        sqs.list_queues()
    assert refused.value.response["Error"]["Code"] in ("InvalidClientTokenId", "UnrecognizedClientException")


def test_the_apis_role_cannot_read_the_users_table_nor_send_email(enforced):
    dynamodb = enforced.client("api", "dynamodb")
    with pytest.raises(ClientError) as refused:
        dynamodb.get_item(TableName="fleet-local-users", Key={"user_id": {"S": "anyone"}})
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    dynamodb.get_item(TableName="fleet-local-campaigns", Key={"campaign_id": {"S": CAMPAIGN}})  # its own: allowed
    with pytest.raises(ClientError) as refused:
        enforced.client("api", "ses").send_email(
            Source="no-reply@example.com",
            Destination={"ToAddresses": ["ada@example.com"]},
            Message={"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}},
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_a_confirmation_without_ses_send_email_parks_with_access_denied(enforced):
    """The workers' policy without ses:SendEmail: the entry is stored, its confirmation parked, AccessDenied."""
    iam = enforced.client("operator", "iam")
    document = iam.get_role_policy(RoleName="fleet-local-workers", PolicyName="fleet")["PolicyDocument"]
    policy = document if isinstance(document, dict) else json.loads(document)
    crippled = {
        **policy,
        "Statement": [
            {**s, "Action": [a for a in s["Action"] if a != "ses:SendEmail"]}
            for s in policy["Statement"]
            if [a for a in s["Action"] if a != "ses:SendEmail"]
        ],
    }
    iam.put_role_policy(RoleName="fleet-local-workers", PolicyName="fleet", PolicyDocument=json.dumps(crippled))
    try:
        address = f"parked.{uuid.uuid4().hex[:8]}@example.com"
        posted = requests.post(f"{enforced.api}/v1/campaigns/{CAMPAIGN}/submissions", json=entry(address), timeout=10)
        assert posted.status_code == 202, posted.text
        sqs = enforced.client("operator", "sqs")
        url = sqs.get_queue_url(QueueName="fleet-local-confirmations-failures")["QueueUrl"]

        def parked():
            """the confirmation parked on its on-failure queue"""
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0

        wait_for(parked, timeout=120, every=1.0)
        failures = requests.get(f"{enforced.api}/_local/dashboard.json", timeout=10).json()["failures"]
        assert any("AccessDenied" in json.dumps(f) for f in failures), failures
        assert not [m for m in enforced.outbox() if address in m]
    finally:
        iam.put_role_policy(RoleName="fleet-local-workers", PolicyName="fleet", PolicyDocument=json.dumps(policy))
    # With the permission back, the operator's replay sends it.
    enforced.run("replay", "confirmations-failures")
    wait_for(lambda: [m for m in enforced.outbox() if address in m])


def test_the_profiles_name_each_principals_role(enforced):
    config = configparser.ConfigParser()
    config.read(enforced.config)
    roles = {section: config[section].get("role_arn", "") for section in config.sections()}
    assert roles["profile fleet-local-api"].endswith(":role/fleet-local-api")
    assert roles["profile fleet-local-workers"].endswith(":role/fleet-local-workers")
    assert roles["profile fleet-local-pipes"].endswith(":role/fleet-local-pipes")
    assert config["profile fleet-local-operator"]["aws_access_key_id"].startswith("AKIA")
    caller = enforced.client("workers", "sts").get_caller_identity()
    assert ":assumed-role/fleet-local-workers/" in caller["Arn"]

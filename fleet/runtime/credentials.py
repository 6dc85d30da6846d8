"""The local fleet under IAM enforcement: each process signs as its principal, as on AWS.

`fleet up --enforce-iam` provisions first, with enforcement off; then, with the roles
`fleet provision` made (their trust names the local operator too), it:

- makes the local operator, an IAM user with the operator's policy (`fleet iam`) and a
  new access key;
- writes an AWS config file (in the state directory) with a named profile per principal:
  the operator's keys, and for the API, the workers and the pipes their role, assumed
  through the operator (`role_arn`, `source_profile`), so botocore renews the
  credentials before they expire;
- switches moto's enforcement on (`POST /moto-api/reset-auth`): from then on a call is
  checked against the policies of whoever signed it, and the dummy keys are refused.

The API's process then signs as the API's role, the workers' process as the workers'
role (the pipes' pollers in it as the pipes' role, as a pipe reads its queue on AWS), and
the `fleet` commands, the edge and the local runtime's own bookkeeping (its stream
checkpoints, which Lambda keeps for itself on AWS) as the operator.

Another tool reaches the local AWS with the same profiles:
`AWS_CONFIG_FILE=.fleet/aws-config aws --profile fleet-local-operator sqs list-queues`.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from events.topology import physical_name
from fleet.iam import OPERATOR, Principal
from lambda_platform import aws, settings
from lambda_platform.errors import error_code

#: The config file, in the state directory, that names every principal's profile.
CONFIG_FILE = "aws-config"
#: How long an assumed role's credentials last (botocore renews them 15 minutes before).
SESSION_SECONDS = 3600
#: The environment variables that make a process sign as a profile of that file.
PROFILE_VARIABLE = "FLEET_AWS_PROFILE"
CONFIG_VARIABLE = "AWS_CONFIG_FILE"


@dataclass(frozen=True)
class LocalCredentials:
    """Where the profiles are written, and the profile of each principal."""

    config_file: Path
    #: Principal key (`api`, `workers`, `pipes`, `operator`) -> profile name.
    profiles: dict[str, str]

    def env(self, principal: str) -> dict[str, str]:
        """The environment that makes a process sign as `principal`."""
        return {CONFIG_VARIABLE: str(self.config_file.resolve()), PROFILE_VARIABLE: self.profiles[principal]}


def config_path(state_dir: str | None = None) -> Path:
    """Where `fleet up --enforce-iam` writes the profiles."""
    return Path(state_dir or settings.current().state_dir) / CONFIG_FILE


def prepare(found: dict[str, Principal], endpoint_url: str) -> LocalCredentials:
    """Make the local operator (and a new access key), and write every principal's profile."""
    operator = found[OPERATOR]
    account = aws.account_id()
    roles = [f"arn:aws:iam::{account}:role/{p.name}" for p in found.values() if p.service is not None]
    key = _local_operator(operator, roles)
    current = settings.current()
    path = config_path()
    config = configparser.ConfigParser()
    config[f"profile {operator.name}"] = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
        "region": current.region,
        "endpoint_url": endpoint_url,
    }
    for principal in found.values():
        if principal.service is None:
            continue
        config[f"profile {principal.name}"] = {
            "role_arn": f"arn:aws:iam::{account}:role/{principal.name}",
            "source_profile": operator.name,
            "role_session_name": principal.name,
            "duration_seconds": str(SESSION_SECONDS),
            "region": current.region,
            "endpoint_url": endpoint_url,
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    # The local operator's keys: readable by this user only, like ~/.aws/credentials.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        config.write(out)
    return LocalCredentials(path, {key_: p.name for key_, p in found.items()})


def _local_operator(operator: Principal, roles: list[str]) -> dict[str, str]:
    """The local operator, an IAM user with the operator's policy, and a new access key.

    Locally it also stands in for the services that assume the execution roles (Lambda,
    EventBridge Pipes): it may assume those roles, and nothing else is added to its policy.
    """
    iam = aws.client("iam")
    try:
        iam.get_user(UserName=operator.name)
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        iam.create_user(UserName=operator.name)
    for name in iam.list_user_policies(UserName=operator.name).get("PolicyNames", []):
        if name != "fleet":
            iam.delete_user_policy(UserName=operator.name, PolicyName=name)
    stand_in = {"Sid": "StandInForTheServices", "Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": roles}
    policy = {**operator.policy, "Statement": [*operator.policy["Statement"], stand_in]}
    iam.put_user_policy(UserName=operator.name, PolicyName="fleet", PolicyDocument=json.dumps(policy))
    for old in iam.list_access_keys(UserName=operator.name).get("AccessKeyMetadata", []):
        iam.delete_access_key(UserName=operator.name, AccessKeyId=old["AccessKeyId"])
    made: dict[str, str] = iam.create_access_key(UserName=operator.name)["AccessKey"]
    return made


def enforce(endpoint_url: str, on: bool = True) -> None:
    """Switch moto's IAM enforcement on (every call checked from now on) or off."""
    # Plain text: moto reads the raw body, which werkzeug empties when it parses a form.
    request = urllib.request.Request(
        f"{endpoint_url.rstrip('/')}/moto-api/reset-auth",
        data=b"0" if on else b"inf",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def sign_as(credentials: LocalCredentials, principal: str) -> None:
    """Make this process sign every call from now on as `principal` (the `fleet up` supervisor: the operator)."""
    os.environ.update(credentials.env(principal))
    settings.reset()
    aws.reset()


def profile_of(principal: str) -> str:
    """The profile `principal` signs with in this fleet; "" when the fleet does not enforce IAM."""
    current = settings.current()
    return physical_name(current.stage, principal) if current.aws_profile else ""


@contextlib.contextmanager
def signing_as(principal: str) -> Iterator[None]:
    """Sign this thread's calls in the block as `principal`, when the fleet enforces IAM."""
    with aws.signing_as(profile_of(principal)):
        yield


def as_operator() -> contextlib.AbstractContextManager[None]:
    """The local runtime's own bookkeeping, signed as the operator (on AWS, Lambda's own)."""
    return signing_as(OPERATOR)


def learn_account(function_arn: Callable[[], str]) -> None:
    """Know the account as Lambda's context tells a function, asked once as the operator:
    queue URLs are then built, never looked up with a GetQueueUrl the role may not make."""
    from fleet.runtime.invoke import LocalContext

    if not settings.current().aws_profile:
        return
    with as_operator():
        arn = function_arn()
    aws.remember_lambda_context(LocalContext("local", 128, arn, 30))

"""A moto server of its own, under IAM enforcement, for the tests of `fleet.runtime.moto_iam`.

Enforcement is a setting of moto's process, not of one server: while a lab runs, every moto
server of the test process enforces. A test module takes one lab for all its tests (pytest
runs a module's tests one after another, in one process) and switches enforcement off,
and resets moto, when it is done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import free_port

REGION = "us-east-1"
ACCOUNT = "123456789012"
#: moto's dummy credentials, as every other test and `fleet provision` use them.
DUMMY = {"AccessKeyId": "fleet-local", "SecretAccessKey": "fleet-local"}
CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})


def document(*statements: dict[str, Any]) -> str:
    """A policy document of these statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: str | list[str], resources: str | list[str] = "*") -> dict[str, Any]:
    """An Allow statement."""
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def trusting(*principals: Any) -> str:
    """A trust policy: one statement per principal (a `Principal` value), each allowing sts:AssumeRole."""
    return document(*({"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"} for p in principals))


def code_of(error: ClientError) -> str:
    """The error code botocore read from an answer."""
    return str(error.response["Error"]["Code"])


class Lab:
    """The server's URL, an operator allowed everything, and roles made on demand."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[tuple[str, str, str | None], Any] = {}
        self.operator: dict[str, str] = {}

    def client(self, service: str, credentials: dict[str, str] | None = None, **config: Any) -> Any:
        """A boto3 client of the lab signing with `credentials` (the operator's by default)."""
        credentials = credentials or self.operator
        signer = "/".join(credentials.get(part) or "" for part in ("AccessKeyId", "SecretAccessKey", "SessionToken"))
        key = (service, signer, json.dumps(config, sort_keys=True) if config else None)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service,
                region_name=REGION,
                endpoint_url=self.url,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials.get("SessionToken"),
                config=CONFIG.merge(Config(**config)) if config else CONFIG,
            )
        return self._clients[key]

    def role(self, name: str, *statements: dict[str, Any], trust: str | None = None, **assume: Any) -> dict[str, str]:
        """A role allowed `statements`, trusting the operator; the operator's session of it."""
        iam = self.client("iam")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust or trusting({"AWS": self.operator_arn}))
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="policy", PolicyDocument=document(*statements))
        return self.assume(name, **assume)

    def assume(self, name: str, **assume: Any) -> dict[str, str]:
        """The operator's credentials for a session of role `name`."""
        answer = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}", RoleSessionName=name, **assume)
        return {part: answer["Credentials"][part] for part in ("AccessKeyId", "SecretAccessKey", "SessionToken")}

    def user(self, name: str, *statements: dict[str, Any]) -> dict[str, str]:
        """An IAM user allowed `statements`; its access key."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="policy", PolicyDocument=document(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}

    @property
    def operator_arn(self) -> str:
        """The operator's ARN."""
        return f"arn:aws:iam::{ACCOUNT}:user/operator"


@contextmanager
def enforcing_lab() -> Iterator[Lab]:
    """moto's server on a free port, reset, an operator made, then enforcement on; all undone after."""
    from fleet.runtime import moto_iam
    from fleet.runtime.local import EmbeddedAws

    moto_iam.install()  # as EmbeddedAws.start does (again: nothing more)
    server = EmbeddedAws(port=free_port())
    server.start()
    lab = Lab(server.endpoint_url)
    try:
        moto_iam.enforce(False)
        requests.post(f"{lab.url}/moto-api/reset", timeout=10).raise_for_status()
        iam = lab.client("iam", DUMMY)
        iam.create_user(UserName="operator")
        iam.put_user_policy(UserName="operator", PolicyName="admin", PolicyDocument=document(allow("*")))
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        lab.operator = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
        moto_iam.enforce(True)
        yield lab
    finally:
        moto_iam.enforce(False)
        requests.post(f"{lab.url}/moto-api/reset", timeout=10)
        server.stop()

"""What IAM enforcement costs a call in moto's process, with `fleet.runtime.moto_iam` installed.

    .venv/bin/python -m bench.moto_iam        [--calls N] [--rounds N] [--sessions N]

moto's server runs in this process (`EmbeddedAws`, every correction installed) on a free
loopback port. A role with a ten-statement least-privilege policy (exact actions on exact
ARNs, as `fleet iam` renders them) sends N SendMessage and N PutItem calls, one thread, one
after another, in rounds with enforcement off and on by turns, then on again with a session
assumed after N others (the newest, as a process that renews its credentials always has:
moto read every session before it on every call). Each line gives the median wall time per call as the client sees it and,
measured inside the server, the time of the authorization itself (signature, principal,
policy evaluation, resources). It prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from typing import Any

import boto3
from botocore.config import Config

from bench.machine import describe_machine, free_port

REGION = "us-east-1"
ACCOUNT = "123456789012"
DUMMY = {"aws_access_key_id": "fleet-local", "aws_secret_access_key": "fleet-local"}


class AuthorizationClock:
    """Time spent in moto's authorization of normal (non-S3) calls, summed over calls."""

    def __init__(self) -> None:
        from moto.core.authorization import ActionAuthenticatorMixin

        self.seconds = 0.0
        self.calls = 0
        timed = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

        def clocked(response: Any, resource: str = "*") -> None:
            started = time.perf_counter()
            try:
                timed(response, resource)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = clocked  # type: ignore[method-assign]

    def reset(self) -> None:
        """Start summing again."""
        self.seconds, self.calls = 0.0, 0


def client(service: str, url: str, **credentials: Any) -> Any:
    """A boto3 client of the local server."""
    return boto3.client(service, region_name=REGION, endpoint_url=url, config=Config(retries={"max_attempts": 1}), **credentials)


def statement(actions: list[str], resource: str) -> dict[str, Any]:
    """An Allow statement."""
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def credentials(sts: Any) -> dict[str, str]:
    """A new session of the worker role, as boto3 client arguments."""
    session = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/worker", RoleSessionName="bench")["Credentials"]
    return {
        "aws_access_key_id": session["AccessKeyId"],
        "aws_secret_access_key": session["SecretAccessKey"],
        "aws_session_token": session["SessionToken"],
    }


def least_privilege() -> str:
    """Ten statements, as a worker's: the two benchmarked grants last."""
    queues, tables = f"arn:aws:sqs:{REGION}:{ACCOUNT}", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
    statements = [statement(["sqs:ReceiveMessage", "sqs:DeleteMessage"], f"{queues}:other{i}") for i in range(4)]
    statements += [statement(["dynamodb:GetItem", "dynamodb:Query"], f"{tables}/other{i}") for i in range(4)]
    statements += [statement(["sqs:SendMessage"], f"{queues}:bench"), statement(["dynamodb:PutItem"], f"{tables}/bench")]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def main() -> None:
    """Provision, then time the rounds and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls of each kind per round")
    parser.add_argument("--sessions", type=int, default=2000, help="sessions assumed before the last rounds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind (medians are printed)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from fleet.runtime import moto_iam
    from fleet.runtime.local import EmbeddedAws

    server = EmbeddedAws(port=free_port())
    server.start()
    clock = AuthorizationClock()
    url = server.endpoint_url
    try:
        iam = client("iam", url, **DUMMY)
        iam.create_user(UserName="operator")
        everything = json.dumps({"Version": "2012-10-17", "Statement": [statement(["*"], "*")]})
        iam.put_user_policy(UserName="operator", PolicyName="admin", PolicyDocument=everything)
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        operator = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        trust = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/operator"}, "Action": "sts:AssumeRole"}
        iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}))
        iam.put_role_policy(RoleName="worker", PolicyName="policy", PolicyDocument=least_privilege())
        queue = client("sqs", url, **DUMMY).create_queue(QueueName="bench")["QueueUrl"]
        client("dynamodb", url, **DUMMY).create_table(
            TableName="bench",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sts = client("sts", url, **operator)
        sqs, ddb = (client(service, url, **credentials(sts)) for service in ("sqs", "dynamodb"))

        def round_() -> tuple[float, float, float, float]:
            """Per call: SendMessage's wall time and authorization, PutItem's wall time and authorization."""
            sqs.send_message(QueueUrl=queue, MessageBody="warm")
            ddb.put_item(TableName="bench", Item={"pk": {"S": "warm"}})
            timings: list[float] = []
            for call in (
                lambda i: sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}"),
                lambda i: ddb.put_item(TableName="bench", Item={"pk": {"S": f"k{i}"}, "v": {"S": "x" * 100}}),
            ):
                clock.reset()
                started = time.perf_counter()
                for i in range(args.calls):
                    call(i)
                timings += [(time.perf_counter() - started) / args.calls, clock.seconds / max(clock.calls, 1)]
            return timings[0], timings[1], timings[2], timings[3]

        def show(label: str, rounds: list[tuple[float, float, float, float]]) -> None:
            send, send_auth, put, put_auth = (statistics.median(column) for column in zip(*rounds, strict=True))
            print(
                f"{label:40s} SendMessage {send * 1000:5.2f} ms (authorization {send_auth * 1e6:4.0f} us)"
                f"   PutItem {put * 1000:5.2f} ms (authorization {put_auth * 1e6:4.0f} us)"
            )

        print(describe_machine())
        print(f"{args.calls} calls of each kind per round, one thread, one server; medians of {args.rounds} rounds, per call")
        off, on = [], []
        for _ in range(args.rounds):  # alternating, so that a busy moment of the machine hits both
            moto_iam.enforce(False)
            off.append(round_())
            moto_iam.enforce(True)
            on.append(round_())
        show("enforcement off", off)
        show("enforcement on", on)
        moto_iam.enforce(False)
        for i in range(args.sessions):
            sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/worker", RoleSessionName=f"s{i}")
        sqs, ddb = (client(service, url, **credentials(sts)) for service in ("sqs", "dynamodb"))
        moto_iam.enforce(True)
        show(f"enforcement on, session #{args.sessions + 2}", [round_() for _ in range(args.rounds)])
    finally:
        moto_iam.enforce(False)
        server.stop()


if __name__ == "__main__":
    main()

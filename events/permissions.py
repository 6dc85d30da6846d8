"""What each deploy unit may do to the resources the topology declares: the source of every IAM policy.

A unit (the API) or a function (each worker) lists its grants beside its declaration in
`events.topology`: exact IAM actions, each on one declared resource, so that the policy
rendered from them (`fleet.iam`) names the stage's exact ARNs. What a trigger needs (an
event source mapping reading its queue or stream, a pipe invoking the workers) is derived
from the trigger itself, not listed here. An action that AWS does not scope to a resource
(X-Ray's, CloudFront's ListDistributions) is `unscoped`, and says why.

Actions are written as AWS names them (`dynamodb:GetItem`); a `*` in an action is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: An IAM action: the service prefix and the action, exactly; no wildcard.
ACTION = re.compile(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+\Z")

Kind = Literal["table", "queue", "objects", "listing", "topic", "sender", "distribution", "any_queue", "unscoped"]


@dataclass(frozen=True)
class Grant:
    """IAM actions on one declared resource (or, for `unscoped`, on none AWS can name)."""

    kind: Kind
    #: The resource's logical name in the topology (None for the sender, the distribution, `unscoped`).
    name: str | None
    actions: tuple[str, ...]
    #: A table's indexes the actions reach too; a bucket's key prefixes.
    parts: tuple[str, ...] = ()
    #: Why the actions take no resource (`unscoped`), or why they take a wide one.
    why: str = ""

    def __post_init__(self) -> None:
        bad = [a for a in self.actions if not ACTION.fullmatch(a)]
        if bad or not self.actions:
            raise ValueError(f"not exact IAM actions: {bad or 'none given'}")
        if self.kind in ("unscoped", "any_queue") and not self.why:
            raise ValueError(f"{self.kind} grant of {', '.join(self.actions)} must say why")
        if self.kind in ("objects", "listing") and not self.parts:
            raise ValueError(f"a {self.kind} grant on bucket {self.name} names its key prefixes")


#: In a table grant's parts: the table itself, for the reads that reach indexes (a Query, a Scan).
BASE_TABLE = ""


def table(name: str, *actions: str, indexes: tuple[str, ...] = (), and_table: bool = False) -> Grant:
    """Actions on a table (`dynamodb:GetItem`, `dynamodb:Query`...); with `indexes`, its Query
    and Scan reach those indexes only, and the table itself too when `and_table`."""
    return Grant("table", name, actions, ((BASE_TABLE,) if and_table and indexes else ()) + indexes)


def queue(name: str, *actions: str) -> Grant:
    """Actions on a queue (`sqs:SendMessage`...)."""
    return Grant("queue", name, actions)


def objects(bucket: str, prefixes: tuple[str, ...], *actions: str) -> Grant:
    """Actions on a bucket's objects under these key prefixes (`s3:GetObject`, `s3:PutObject`...)."""
    return Grant("objects", bucket, actions, prefixes)


def listing(bucket: str, prefixes: tuple[str, ...]) -> Grant:
    """Listing a bucket, only under these key prefixes (`s3:ListBucket` with an `s3:prefix` condition)."""
    return Grant("listing", bucket, ("s3:ListBucket",), prefixes)


def topic(name: str, *actions: str) -> Grant:
    """Actions on a topic (`sns:Publish`...)."""
    return Grant("topic", name, actions)


def sender(*actions: str, configuration_set: str | None = None) -> Grant:
    """Sending as the stage's sender (`ses:SendEmail`): on its SES identity, address and domain,
    and on the configuration set every email goes out with (SES checks both)."""
    return Grant("sender", None, actions, (configuration_set,) if configuration_set else ())


def distribution(*actions: str) -> Grant:
    """Actions on the stage's CloudFront distribution (`cloudfront:CreateInvalidation`)."""
    return Grant("distribution", None, actions)


def any_queue(*actions: str, why: str) -> Grant:
    """Actions on any queue of the stage's region and account: only where the queue is the caller's to name."""
    return Grant("any_queue", None, actions, why=why)


def unscoped(*actions: str, why: str) -> Grant:
    """Actions AWS does not scope to a resource (Resource `*`), with the reason."""
    return Grant("unscoped", None, actions, why=why)

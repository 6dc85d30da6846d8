"""Replicas of a global table, as DynamoDB on AWS answers: added one region per UpdateTable,
waited for until ACTIVE, bounded; none on the local stage."""

from __future__ import annotations

import pytest

from events.topology import Table
from fleet.provision import tables
from lambda_platform import settings

TABLE = Table("campaigns", partition_key="campaign_id", replica_regions=("us-west-2", "eu-west-1", "us-east-1"))


class ReplicatingDynamo:
    """DynamoDB that makes a replica CREATING for `polls` describes, then ACTIVE."""

    def __init__(self, polls: int = 2) -> None:
        self.polls, self.replicas, self.updates = polls, {}, []
        self.stream = {}

    def describe_table(self, TableName):
        for region, left in list(self.replicas.items()):
            self.replicas[region] = left - 1
        replicas = [{"RegionName": r, "ReplicaStatus": "ACTIVE" if n <= 0 else "CREATING"} for r, n in self.replicas.items()]
        return {"Table": {"TableStatus": "ACTIVE", "Replicas": replicas, "StreamSpecification": self.stream}}

    def update_table(self, TableName, **kwargs):
        self.updates.append(kwargs)
        if "StreamSpecification" in kwargs:
            self.stream = kwargs["StreamSpecification"]
        for update in kwargs.get("ReplicaUpdates", []):
            self.replicas[update["Create"]["RegionName"]] = self.polls

    def get_waiter(self, name):
        return type("Waiter", (), {"wait": lambda self, **kw: None})()


@pytest.fixture
def dynamo(monkeypatch):
    fake = ReplicatingDynamo()
    monkeypatch.setattr(tables.aws, "client", lambda service: fake)
    monkeypatch.setattr(tables, "REPLICA_POLL_SECONDS", 0)
    monkeypatch.setenv("FLEET_STAGE", "prod")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    settings.reset()
    yield fake
    settings.reset()


def test_replicas_are_added_one_region_a_call_after_the_stream_and_waited_for(dynamo):
    changes = tables.ensure_replicas(TABLE)
    assert dynamo.updates[0] == {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    assert [u["ReplicaUpdates"] for u in dynamo.updates[1:]] == [
        [{"Create": {"RegionName": "us-west-2"}}],
        [{"Create": {"RegionName": "eu-west-1"}}],
    ]
    assert [(c.kind, c.name, c.action) for c in changes] == [
        ("stream", "fleet-prod-campaigns", "updated"),
        ("replica", "fleet-prod-campaigns us-west-2", "created"),
        ("replica", "fleet-prod-campaigns eu-west-1", "created"),
    ]
    assert [c.action for c in tables.ensure_replicas(TABLE)] == ["unchanged", "unchanged"]


def test_a_replica_still_creating_at_the_deadline_is_pending_not_claimed(dynamo):
    dynamo.polls = 10**6
    changes = tables.ensure_replicas(TABLE, wait_seconds=0)
    assert [c.action for c in changes if c.kind == "replica"] == ["pending", "pending"]


def test_the_local_stage_asks_for_no_replica_and_keeps_the_declared_stream(dynamo, monkeypatch):
    monkeypatch.setenv("FLEET_STAGE", "local")
    settings.reset()
    assert tables.ensure_replicas(TABLE) == [] and dynamo.updates == []
    assert tables.stream_of(TABLE) is None


def test_replicas_on_a_table_whose_consumers_read_another_stream_view_are_refused(dynamo):
    with pytest.raises(ValueError, match="NEW_AND_OLD_IMAGES"):
        tables.stream_of(Table("users", partition_key="user_id", stream="NEW_IMAGE", replica_regions=("us-west-2",)))

"""lambda_platform.resources: every name checked against the topology first, then built for the current stage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from events.topology import TOPOLOGY, UnknownResource
from lambda_platform import resources, settings

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


@pytest.fixture
def stage(monkeypatch):
    """Switch the current stage (and pin the region and account the ARNs are built in)."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr("lambda_platform.aws.account_id", lambda: ACCOUNT)

    def use(name: str) -> None:
        monkeypatch.setenv("FLEET_STAGE", name)
        settings.reset()

    yield use
    settings.reset()


def test_each_kind_is_named_for_the_current_stage(stage):
    stage("prod")
    assert resources.table_name("campaigns") == "fleet-prod-campaigns"
    assert resources.table_name(TOPOLOGY.table("campaigns")) == "fleet-prod-campaigns"
    assert resources.index_name("submissions", "by_campaign") == "by_campaign"  # indexes have no stage
    assert resources.queue_name("users") == "fleet-prod-users"
    assert resources.queue_name("users-dlq") == "fleet-prod-users-dlq"
    assert resources.queue_name(TOPOLOGY.queue("users")) == "fleet-prod-users"
    assert resources.bucket_name("media") == "fleet-prod-media"
    assert resources.topic_name("comments") == "fleet-prod-comments"
    assert resources.pipe_name("submissions") == "fleet-prod-submissions"
    assert resources.function_name("workers") == "fleet-prod-workers"
    assert resources.function_name(TOPOLOGY.api) == "fleet-prod-api"
    assert resources.usage_plan_name(TOPOLOGY.api_plan) == "fleet-prod-api"
    stage("local")
    assert resources.table_name("campaigns") == "fleet-local-campaigns"
    assert resources.function_name("workers") == "fleet-local-workers"


def test_arns_are_built_in_the_current_region_and_account(stage):
    stage("prod")
    assert resources.function_arn("workers") == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fleet-prod-workers"
    assert resources.queue_arn("welcome-failures") == f"arn:aws:sqs:us-east-1:{ACCOUNT}:fleet-prod-welcome-failures"
    assert resources.topic_arn("comments") == f"arn:aws:sns:us-east-1:{ACCOUNT}:fleet-prod-comments"


UNDECLARED = [
    # (builder, its arguments, the kind and the name it must complain of, one name it must offer)
    (resources.table_name, ("campaign",), "table", "campaign", "campaigns"),
    (resources.index_name, ("submissions", "by_campain"), "index of table submissions", "by_campain", "by_campaign"),
    (resources.index_name, ("submission", "by_campaign"), "table", "submission", "submissions"),
    (resources.queue_name, ("user",), "queue", "user", "users-dlq"),
    (resources.queue_arn, ("users-dlq-dlq",), "queue", "users-dlq-dlq", "users"),
    (resources.queue_url, ("user",), "queue", "user", "users"),
    (resources.bucket_name, ("medias",), "bucket", "medias", "media"),
    (resources.topic_arn, ("comment",), "topic", "comment", "comments"),
    (resources.pipe_name, ("submission",), "pipe", "submission", "submissions"),
    (resources.function_name, ("worker",), "deploy unit", "worker", "workers"),
    # A topology Function runs inside the workers unit: it is no Lambda function of its own.
    (resources.function_arn, ("thumbnails",), "deploy unit", "thumbnails", "api"),
    (resources.stream_arn, ("user",), "table", "user", "users"),
    (resources.usage_plan_name, ("apis",), "usage plan", "apis", "api"),
]


@pytest.mark.parametrize(("build", "args", "kind", "name", "known"), UNDECLARED, ids=lambda v: getattr(v, "__name__", None))
def test_an_undeclared_name_fails_at_once_naming_the_kind_and_the_known_names(stage, build, args, kind, name, known):
    stage("prod")
    # The unit tier refuses every AWS client: an UnknownResource proves none was asked for.
    with pytest.raises(UnknownResource) as raised:
        build(*args)
    message = str(raised.value)
    assert message.startswith(f"no {kind} named {name!r} in the topology (known: "), message
    assert known in message.partition("(known: ")[2].rstrip(")").split(", "), message
    assert isinstance(raised.value, KeyError)  # callers that caught the old KeyError still do


@pytest.mark.parametrize(
    "build",
    [
        lambda: __import__("lambda_platform.adapters.queues", fromlist=["SqsQueue"]).SqsQueue("user"),
        lambda: __import__("lambda_platform.adapters.objects", fromlist=["S3Objects"]).S3Objects("medias"),
        lambda: __import__("lambda_platform.adapters.objects", fromlist=["S3UploadSigner"]).S3UploadSigner("medias"),
        lambda: __import__("lambda_platform.adapters.todos", fromlist=["S3UserFiles"]).S3UserFiles("medias"),
        lambda: __import__("lambda_platform.adapters.notifications", fromlist=["SnsCommentTopic"]).SnsCommentTopic("comment"),
    ],
    ids=["SqsQueue", "S3Objects", "S3UploadSigner", "S3UserFiles", "SnsCommentTopic"],
)
def test_an_adapter_refuses_an_undeclared_resource_when_it_is_built(build):
    with pytest.raises(UnknownResource):
        build()


class _Dynamo:
    def __init__(self, stream: str | None) -> None:
        self.stream, self.asked = stream, []

    def describe_table(self, TableName: str) -> dict:
        self.asked.append(TableName)
        return {"Table": {"TableName": TableName, **({"LatestStreamArn": self.stream} if self.stream else {})}}


def test_a_stream_arn_is_asked_of_the_stage_table_and_a_missing_stream_says_to_provision(stage, monkeypatch):
    stage("prod")
    dynamo = _Dynamo("arn:aws:dynamodb:us-east-1:1:table/fleet-prod-users/stream/now")
    monkeypatch.setattr("lambda_platform.aws.client", lambda service: dynamo)
    assert resources.stream_arn("users") == dynamo.stream
    assert dynamo.asked == ["fleet-prod-users"]
    monkeypatch.setattr("lambda_platform.aws.client", lambda service: _Dynamo(None))
    with pytest.raises(RuntimeError, match="fleet provision"):
        resources.stream_arn("users")


def test_a_queue_url_is_looked_up_once_per_stage(stage, monkeypatch):
    asked = []

    class Sqs:
        def get_queue_url(self, QueueName: str) -> dict:
            asked.append(QueueName)
            return {"QueueUrl": f"http://sqs.test/{QueueName}"}

    monkeypatch.setattr("lambda_platform.aws.client", lambda service: Sqs())
    resources._queue_url.cache_clear()
    try:
        stage("prod")
        assert resources.queue_url("users") == resources.queue_url("users") == "http://sqs.test/fleet-prod-users"
        stage("local")
        assert resources.queue_url("users") == "http://sqs.test/fleet-local-users"
        assert asked == ["fleet-prod-users", "fleet-local-users"]
    finally:
        resources._queue_url.cache_clear()


# --- No module names a resource but through the topology ---------------------------------------

#: The modules that turn declared resources into AWS calls.
SCANNED = (
    sorted((ROOT / "lambda_platform" / "adapters").glob("*.py"))
    + sorted((ROOT / "fleet" / "provision").glob("*.py"))
    + [ROOT / "fleet" / f"{module}.py" for module in ("wire", "zappa_config", "status", "demo", "monitor")]
    + [ROOT / "lambda_platform" / f"{module}.py" for module in ("idempotency", "resources", "composition")]
)
#: A declared name may be written only as the argument of one of the topology's lookups.
LOOKUPS = {"table", "index", "queue", "sqs_queue", "bucket", "topic", "unit", "pipe", "function"}


def declared_names() -> set[str]:
    """Every logical name the topology declares, of every kind."""
    t = TOPOLOGY
    return (
        set(t.queue_names())
        | {table.name for table in t.tables}
        | {index.name for table in t.tables for index in table.indexes}
        | {bucket.name for bucket in t.buckets}
        | {topic.name for topic in t.topics}
        | {trigger.pipe for _function, trigger in t.pipes()}
        | {t.api.name, t.workers.name, t.pipes_role, t.deploy_bucket, t.api_plan.name}
    )


def _called(node: ast.Call) -> str | None:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)


def literal_resource_names(path: Path) -> list[str]:
    """`line: name` of each declared name written as a literal outside a topology lookup."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    names = declared_names()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in names:
            parent = parents[node]
            # aws.client("pipes") names a service, not a resource.
            if isinstance(parent, ast.Call) and _called(parent) in LOOKUPS | {"client"}:
                continue
            found.append(f"{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Call) and _called(node) in ("name", "physical_name"):
            # settings.current().name(...) and physical_name(...) skip the check against the
            # topology; only lambda_platform.resources may call them, and zappa_config, which renders
            # another stage than the current one from the topology's own fields.
            allowed = {"resources.py": ("name",), "zappa_config.py": ("physical_name",)}.get(path.name, ())
            if _called(node) not in allowed:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(ROOT)))
def test_resources_are_named_only_through_the_topology(path):
    assert literal_resource_names(path) == [], f"{path.name} names resources the topology does not hand it"


def test_the_scan_reads_files_that_exist():
    assert len(SCANNED) > 20 and all(path.is_file() for path in SCANNED)


def test_the_scan_finds_a_literal_name(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from lambda_platform.adapters.dynamo import call, table_name\n"
        'call("get_item", TableName=table_name("campaigns"))\n'
        "from fleet import settings\n"
        'settings.current().name("media")\n'
    )
    assert sorted(literal_resource_names(bad)) == ["2: 'campaigns'", "4: 'media'", "4: settings.current().name('media')"]

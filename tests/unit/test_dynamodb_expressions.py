"""The embedded DynamoDB parses each update expression and lexes each condition once; answers and errors stay moto's."""

from __future__ import annotations

import copy

import pytest
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import ConditionalCheckFailed, TransactionCanceledException
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from fleet.runtime import dynamodb_expressions

ACCOUNT = "000000000047"
REGION = "us-east-1"


@pytest.fixture
def backend(monkeypatch):
    """moto's DynamoDB with the cache installed and a counters table; moto as it was, afterwards."""
    monkeypatch.setattr(UpdateExpressionParser, "make", UpdateExpressionParser.__dict__["make"])
    lex = ConditionExpressionParser.__dict__["_lex_condition_expression"]
    monkeypatch.setattr(ConditionExpressionParser, "_lex_condition_expression", lex)
    monkeypatch.setattr(validators, "deepcopy", validators.deepcopy)
    monkeypatch.setattr(DepthFirstTraverser, "traverse", DepthFirstTraverser.__dict__["traverse"])
    dynamodb_expressions.install()
    made = dynamodb_models.dynamodb_backends[ACCOUNT][REGION]
    made.create_table(
        "counters",
        schema=[{"AttributeName": "c", "KeyType": "HASH"}],
        attr=[{"AttributeName": "c", "AttributeType": "S"}],
        throughput=None,
        billing_mode="PAY_PER_REQUEST",
        indexes=None,
        global_indexes=None,
        streams=None,
        sse_specification=None,
        tags=None,
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    yield made
    made.delete_table("counters")


def add(backend, key: str, by: int) -> int:
    item = backend.update_item("counters", {"c": {"S": key}}, "ADD hits :n SET seen = :n", {}, {":n": {"N": str(by)}})
    return int(item.attrs["hits"].value)


def test_the_same_expression_with_other_values_and_items_updates_each_as_asked(backend):
    assert UpdateExpressionParser.make("ADD hits :n") is UpdateExpressionParser.make("ADD hits :n")
    assert [add(backend, "a", 1), add(backend, "a", 2), add(backend, "b", 5), add(backend, "a", 3)] == [1, 3, 5, 6]


def test_a_bad_expression_is_refused_every_time(backend):
    for _ in range(2):
        with pytest.raises(Exception, match="Invalid UpdateExpression"):
            UpdateExpressionParser.make("ADD ADD")


CAPPED = "attribute_not_exists(#h) OR #h < :cap"


def capped_add(backend, key: str, by: int, cap: int, name: str = "hits") -> int:
    item = backend.update_item(
        "counters",
        {"c": {"S": key}},
        "ADD #h :n",
        {"#h": name},
        {":n": {"N": str(by)}, ":cap": {"N": str(cap)}},
        condition_expression=CAPPED,
    )
    return int(item.attrs[name].value)


def test_a_condition_reused_with_other_names_and_values_judges_each_call_by_its_own(backend):
    assert capped_add(backend, "a", 5, cap=10) == 5
    assert capped_add(backend, "a", 5, cap=10) == 10
    with pytest.raises(ConditionalCheckFailed):
        capped_add(backend, "a", 1, cap=10)  # 10 < 10 fails: the earlier calls' values are not kept
    assert capped_add(backend, "a", 1, cap=11) == 11
    with pytest.raises(ConditionalCheckFailed):
        capped_add(backend, "a", 1, cap=3)
    assert capped_add(backend, "a", 2, cap=0, name="misses") == 2  # another name: attribute_not_exists holds
    with pytest.raises(ConditionalCheckFailed):
        capped_add(backend, "a", 2, cap=0, name="misses")
    assert int(backend.get_item("counters", {"c": {"S": "a"}}).attrs["hits"].value) == 11


def test_a_failing_condition_in_a_transaction_still_cancels_it(backend):
    capped_add(backend, "t", 7, cap=10)
    update = {
        "TableName": "counters",
        "Key": {"c": {"S": "t"}},
        "UpdateExpression": "ADD #h :n",
        "ConditionExpression": CAPPED,
        "ExpressionAttributeNames": {"#h": "hits"},
    }
    backend.transact_write_items([{"Update": {**update, "ExpressionAttributeValues": {":n": {"N": "1"}, ":cap": {"N": "8"}}}}])
    with pytest.raises(TransactionCanceledException):
        backend.transact_write_items(
            [{"Update": {**update, "ExpressionAttributeValues": {":n": {"N": "1"}, ":cap": {"N": "8"}}}}]
        )
    assert int(backend.get_item("counters", {"c": {"S": "t"}}).attrs["hits"].value) == 8


def test_a_condition_is_lexed_once_and_each_parse_gets_tokens_of_its_own(backend):
    first = ConditionExpressionParser(CAPPED, {"#h": "hits"}, {":cap": {"N": "1"}})._lex_condition_expression()
    second = ConditionExpressionParser(CAPPED, {"#h": "x"}, {":cap": {"N": "2"}})._lex_condition_expression()
    assert ConditionExpressionParser._lex_condition_expression._fleet_cached
    assert first is not second and list(first) == list(second)
    first.clear()
    assert len(ConditionExpressionParser(CAPPED, None, None)._lex_condition_expression()) == len(second)


def test_a_condition_that_does_not_lex_is_refused_every_time(backend):
    for _ in range(2):
        with pytest.raises(ValueError, match="Cannot parse condition"):
            ConditionExpressionParser("a = :v ;", None, {":v": {"S": "x"}}).parse()


def tree(node):
    """A node's class, its attributes but the parent link, and its children's trees."""
    if isinstance(node, list):
        return [tree(child) for child in node]
    if not hasattr(node, "__dict__"):
        return node
    return (type(node).__name__, {k: tree(v) for k, v in vars(node).items() if k != "parent"})


def test_the_validators_copy_of_a_tree_is_deepcopys(backend):

    for expression in ("ADD #h :n SET seen = :n, a.b[1] = if_not_exists(c, :z) + :n REMOVE x[2]", "DELETE s :v"):
        original = UpdateExpressionParser.make(expression)
        mine, theirs = validators.deepcopy(original), copy.deepcopy(original)
        assert tree(mine) == tree(theirs) == tree(original)
        nodes, stack = [], [(mine, original)]
        while stack:
            made, source = stack.pop()
            assert made is not source and type(made) is type(source)
            if made.parent is not None:
                assert made in made.parent.children and made.parent is not source.parent
            nodes.append(made)
            stack.extend(
                (a, b) for a, b in zip(made.children or [], source.children or [], strict=True) if hasattr(a, "children")
            )
        assert len(nodes) > 5


UPDATES = [
    ("SET a = :s, b = :n", {}),
    ("ADD hits :n SET expires_at = if_not_exists(expires_at, :n)", {}),
    ("ADD hits :n SET expires_at = if_not_exists(expires_at, :s)", {}),
    ("SET l = list_append(if_not_exists(l, :empty), :l), m = :m", {}),
    ("SET m.x = :s, l[0] = :n REMOVE b", {}),
    ("SET n = hits + :n, #w = :s", {"#w": "when"}),
    ("DELETE ss :ss ADD ss2 :ss", {}),
    ("SET ss = :ss", {}),
    ("DELETE ss :ss", {}),
    ("SET #k = :s", {"#k": "c"}),  # a key attribute: refused
    ("ADD a :n", {}),  # a string plus a number: refused
    ("SET a = :missing", {}),  # a value never given: refused
    ("SET q.r.s = :s", {}),  # a path into nothing: refused
    ("SET a = :s, a = :n", {}),  # two actions on one path: refused
    ("REMOVE a, l[0], m.x", {}),
]
VALUES = {
    ":s": {"S": "x"},
    ":n": {"N": "2"},
    ":empty": {"L": []},
    ":l": {"L": [{"S": "y"}]},
    ":m": {"M": {"x": {"S": "z"}}},
    ":ss": {"SS": ["p", "q"]},
}


def run_updates(backend, key: str) -> list:
    """Each update of UPDATES in turn on one item: the item after it, or the error it raised."""
    seen = []
    for expression, names in UPDATES:
        try:
            values = copy.deepcopy(VALUES)  # moto may change the values it was given
            item = backend.update_item("counters", {"c": {"S": key}}, expression, names, values)
            seen.append(item.to_json()["Attributes"] | {"c": None})
        except Exception as exc:  # noqa: BLE001 - any error moto raises is what is compared
            seen.append((type(exc).__name__, str(exc)))
    return seen


def test_every_validator_walks_the_tree_as_moto_does(backend, monkeypatch):
    assert DepthFirstTraverser.traverse._fleet_cached
    ours = run_updates(backend, "ours")
    monkeypatch.setattr(DepthFirstTraverser, "traverse", DepthFirstTraverser.traverse._fleet_original)
    theirs = run_updates(backend, "theirs")
    assert ours == theirs
    assert sum(isinstance(step, tuple) for step in ours) >= 5  # the refusals were reached, and refused alike
    assert ours[-1] == theirs[-1] and "l" in ours[-1]

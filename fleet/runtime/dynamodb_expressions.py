"""The embedded DynamoDB parses an update expression once, and lexes a condition once.

moto 5.2.5 tokenises and parses an UpdateExpression twice per UpdateItem (once to check
the request, once to apply it) and once more per Update of a transaction; the API's
first keyed POST carries two (its rate counters), the same two strings on every request.
The parsed tree is only read: moto's validator deep-copies it before it resolves names
and values into it, so one parse per distinct expression serves every call. `install`
makes the moto of this process keep them (a bounded cache); what it answers, a bad
expression's error included, is moto's own.

A condition expression cannot be kept parsed: moto's parser puts the call's names and
values into the tree as it builds it. Its first step, though, splits the string into
tokens (six regular expressions tried at every token: 40 % of a parse) and depends on
nothing else; the tokens are immutable named tuples whose child lists stay empty, and the
parser only pops them off the deque it is given. `install` keeps each distinct
condition's tokens and hands every parse a fresh deque of them; a string that does not
lex raises moto's own error every time (nothing is kept for it).

The validator's copy of the kept tree, by `copy.deepcopy`, cost more than the parse it
saves (`__reduce_ex__` and a memo lookup for every node, string and list). `install`
gives moto's validators module a `deepcopy` that copies a tree of moto's AST nodes by
hand: a new node of the same class with its attributes, every node and list in them copied,
strings, numbers and None shared (immutable, as deepcopy shares them), anything else and
any argument that is not a node handed to `copy.deepcopy` with the same memo, so shared
references and the parent links come out as deepcopy makes them.

Validating an update runs ten processors over the tree (twice for an item the update
creates), and moto's walk asks each processor for its map of node classes to functions
(a new dict of bound methods) twice at every node: a fifth of the DynamoDB process's CPU
in a burst went to validation. The map of a processor never changes while it walks, so
`install` makes the walk ask once per walk, and visit the nodes in the same order, with
the same hook before each child and the same first matching function; a processor that
overrides any step of the walk walks as moto's own.
"""

from __future__ import annotations

import copy
import functools
from collections import deque
from typing import Any

#: Distinct update expressions kept parsed (the fleet writes a few dozen).
CACHED_EXPRESSIONS = 1024


def install() -> None:
    """Make this process's moto parse each update expression and lex each condition once (again: the same)."""
    _install_update_parser()
    _install_condition_lexer()
    _install_tree_copy()
    _install_traversal()


def _install_update_parser() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = UpdateExpressionParser.__dict__["make"]
    make = getattr(original, "__func__", original)
    if getattr(make, "_fleet_cached", False):
        return

    @functools.lru_cache(maxsize=CACHED_EXPRESSIONS)
    def parsed(cls: Any, expression: str) -> Any:
        return make(cls, expression)

    def cached_make(cls: Any, expression: str) -> Any:
        return parsed(cls, expression)

    # Marks on the function itself (the first makes a second install do nothing): mypy knows no attributes on a function.
    cached_make._fleet_cached = True  # type: ignore[attr-defined]
    cached_make._fleet_original = make  # type: ignore[attr-defined]
    UpdateExpressionParser.make = classmethod(cached_make)


def _install_condition_lexer() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = ConditionExpressionParser._lex_condition_expression
    if getattr(lex, "_fleet_cached", False):
        return

    @functools.lru_cache(maxsize=CACHED_EXPRESSIONS)
    def tokens(expression: str) -> tuple[Any, ...]:
        parser = ConditionExpressionParser(expression, None, None)
        return tuple(lex(parser))

    def cached_lex(self: Any) -> deque[Any]:
        return deque(tokens(self.condition_expression))

    cached_lex._fleet_cached = True  # type: ignore[attr-defined]
    cached_lex._fleet_original = lex  # type: ignore[attr-defined]
    ConditionExpressionParser._lex_condition_expression = cached_lex  # type: ignore[method-assign]


#: Values a copy shares with the original, as `copy.deepcopy` does (immutable).
_SHARED = (str, int, float, bool, bytes, type(None))


def _install_tree_copy() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

    if getattr(validators.deepcopy, "_fleet_cached", False):
        return

    def copied(value: Any, memo: dict[int, Any]) -> Any:
        if isinstance(value, _SHARED):
            return value
        known = memo.get(id(value), memo)
        if known is not memo:
            return known
        if type(value) is list:
            result: Any = []
            memo[id(value)] = result
            result.extend(copied(element, memo) for element in value)
            return result
        if isinstance(value, Node) and _plain(type(value)):
            result = object.__new__(type(value))
            memo[id(value)] = result
            result.__dict__.update({name: copied(attribute, memo) for name, attribute in vars(value).items()})
            return result
        return copy.deepcopy(value, memo)

    def tree_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if not isinstance(value, Node):
            return copy.deepcopy(value, memo)
        return copied(value, {} if memo is None else memo)

    tree_copy._fleet_cached = True  # type: ignore[attr-defined]
    validators.deepcopy = tree_copy  # type: ignore[assignment]


def _plain(cls: type) -> bool:
    """Whether `copy.deepcopy` copies instances of `cls` by their attributes (no hook of its own)."""
    hooks = ("__deepcopy__", "__reduce_ex__", "__reduce__", "__getstate__", "__setstate__", "__copy__")
    return not any(name in vars(klass) for klass in cls.__mro__[:-1] for name in hooks)


def _install_traversal() -> None:
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]

    walk = DepthFirstTraverser.traverse
    if getattr(walk, "_fleet_cached", False):
        return
    own = {name: DepthFirstTraverser.__dict__[name] for name in ("nodes_to_be_processed", "process", "traverse_node_recursively")}
    no_hook = DepthFirstTraverser.__dict__["pre_processing_of_child"]

    def traverse(self: Any, node: Any) -> Any:
        klass = type(self)
        if any(getattr(klass, name) is not function for name, function in own.items()):
            return walk(self, node)  # a walk of its own: moto's
        processing = tuple(self._processing_map().items())
        kinds = tuple(kind for kind, _ in processing)
        hook = None if klass.pre_processing_of_child is no_hook else self.pre_processing_of_child

        def visit(node: Any, child_id: int) -> Any:
            if not isinstance(node, Node):
                return node
            parent = node.parent
            if node.children is not None:
                for i, child in enumerate(node.children):
                    if hook is not None:
                        hook(node, i)
                    visit(child, i)
            if isinstance(node, kinds):
                node = next(function(node) for kind, function in processing if isinstance(node, kind))
                node.parent = parent
                if parent:
                    parent.children[child_id] = node
            return node

        return visit(node, -1)

    traverse._fleet_cached = True  # type: ignore[attr-defined]
    traverse._fleet_original = walk  # type: ignore[attr-defined]
    DepthFirstTraverser.traverse = traverse

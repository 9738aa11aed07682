"""Constraints over a sweep's axes: ``array.rows == array.cols``, ``sram.input.size_kib >= 64``.

A constraint is user text, so it is never handed to ``eval``: it is parsed with :mod:`ast`,
every node is checked against a short allow-list (names, constants, comparisons, arithmetic,
and/or/not), and the checked tree is walked by a small interpreter. Names are dotted hardware
paths, looked up in the point being considered.
"""

from __future__ import annotations

import ast
import operator
import warnings
from dataclasses import dataclass
from typing import Any, Callable

from accelsim.errors import ConfigError, describe

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
# No ** : 10 ** 10 ** 10 would hang the loader.
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
ALLOWED = "dotted hardware paths, numbers, 'strings', True/False/None, comparisons, + - * / // %, and/or/not"


class Undefined(LookupError):
    """A name that is not a field of the point's hardware."""


@dataclass(frozen=True)
class Constraint:
    """One checked constraint; ``holds(lookup)`` evaluates it for one point."""

    text: str
    tree: ast.expr
    names: tuple[str, ...]   # the dotted paths it reads, in order of first use

    def holds(self, lookup: Callable[[str], Any]) -> bool:
        return bool(_evaluate(self.tree, lookup))


MAX_CONSTRAINT_CHARS = 1_000  # documented in docs/sweeps.md
MAX_CONSTRAINT_DEPTH = 32     # nested operators


def _depth(tree: ast.AST) -> int:
    """Nesting depth of an expression tree, without recursion (the tree may be deep)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def parse_constraint(text: Any, source: str, where: str) -> Constraint:
    """Parse and check one constraint; a problem is a ConfigError at ``where`` (``constraints[0]``)."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(source, where, f"expected an expression such as 'array.rows == array.cols', "
                                         f"got {describe(text)}")
    if len(text) > MAX_CONSTRAINT_CHARS:
        raise ConfigError(source, where, f"expected at most {MAX_CONSTRAINT_CHARS:,} characters, got {len(text):,}")
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and the like: the error says it
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        why = getattr(err, "msg", None) or type(err).__name__
        raise ConfigError(source, where, f"not a valid expression ({why}): {describe(text)}") from None
    if _depth(tree) > MAX_CONSTRAINT_DEPTH:
        raise ConfigError(source, where, f"nested more than {MAX_CONSTRAINT_DEPTH} operators deep: {describe(text)}")
    names: list[str] = []
    _check(tree, text, source, where, names)
    if not isinstance(tree, (ast.Compare, ast.BoolOp)) and not (
            isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not)):
        raise ConfigError(source, where, f"expected a comparison (true or false), such as "
                                         f"'array.rows == array.cols', got {describe(text)}")
    return Constraint(text=text.strip(), tree=tree, names=tuple(dict.fromkeys(names)))


def dotted_name(node: ast.expr) -> str | None:
    """``array.rows`` (an Attribute chain ending in a Name) -> ``"array.rows"``; else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _check(node: ast.expr, text: str, source: str, where: str, names: list[str]) -> None:
    def refuse(what: str) -> ConfigError:
        return ConfigError(source, where, f"{what} is not allowed in a constraint (allowed: {ALLOWED}): "
                                          f"{describe(text)}")

    name = dotted_name(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if name is not None:
        names.append(name)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str, bool)) and node.value is not None:
            raise refuse(f"the constant {describe(node.value)}")
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise refuse(f"the operator {type(op).__name__}")
        for child in (node.left, *node.comparators):
            _check(child, text, source, where, names)
    elif isinstance(node, ast.BoolOp):
        for child in node.values:
            _check(child, text, source, where, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.Not) and type(node.op) not in _UNARY:
            raise refuse(f"the operator {type(node.op).__name__}")
        _check(node.operand, text, source, where, names)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITHMETIC:
            raise refuse(f"the operator {type(node.op).__name__}")
        _check(node.left, text, source, where, names)
        _check(node.right, text, source, where, names)
    elif isinstance(node, (ast.Tuple, ast.List)):  # the right side of ``in``
        for child in node.elts:
            _check(child, text, source, where, names)
    else:
        raise refuse(type(node).__name__.lower() if not isinstance(node, ast.Call) else "a function call")


def _number(value: Any) -> Any:
    # Arithmetic on strings ('ws' * 10**9) could exhaust memory: numbers only.
    if not isinstance(value, (int, float)):
        raise TypeError(f"arithmetic needs numbers, got {value!r}")
    return value


def _evaluate(node: ast.expr, lookup: Callable[[str], Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        return lookup(dotted_name(node))  # type: ignore[arg-type]
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, lookup)
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, lookup)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_evaluate(v, lookup) for v in node.values)
        return any(_evaluate(v, lookup) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, lookup)
        return not operand if isinstance(node.op, ast.Not) else _UNARY[type(node.op)](_number(operand))
    if isinstance(node, ast.BinOp):
        return _ARITHMETIC[type(node.op)](_number(_evaluate(node.left, lookup)),
                                          _number(_evaluate(node.right, lookup)))
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_evaluate(v, lookup) for v in node.elts)
    raise AssertionError(f"unchecked node {type(node).__name__}")  # _check admits nothing else

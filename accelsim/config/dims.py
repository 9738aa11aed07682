"""Named dimensions: a workload written for any sequence length, sized when it is loaded.

A workload may declare ``dims: {seq: 128}``; any integer field of a layer, a network input's
or a state tensor's shape may then be an expression over those names (``seq``,
``12 * seq``, ``seq // 16 + 1``): integers, names, ``+ - * //`` and parentheses. The sizes
are the declared defaults, or what ``--dim seq=512`` (``load_workload(dims=...)``) gives,
the same option that sizes an ONNX model's dynamic dimensions. The loaded workload holds
plain integers (and ``dims`` the sizes it was loaded with).
"""

from __future__ import annotations

import ast
import functools
import operator
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from accelsim.config.schema import MAX_GEMM_DIM, field_types
from accelsim.errors import ConfigError

_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


def parse_dims(texts: Iterable[str], source: str = "--dim") -> dict[str, int]:
    """``["seq=128", "x:1=4"]`` -> ``{"seq": 128, "x:1": 4}`` (command-line ``--dim`` values)."""
    out: dict[str, int] = {}
    for text in texts:
        name, sep, raw = text.rpartition("=")
        name = name.strip()
        try:
            value = int(raw) if len(raw) <= 40 else 0
        except ValueError:
            value = 0
        if not sep or not name or not 1 <= value <= MAX_GEMM_DIM:
            raise ConfigError(source, text, f"expected NAME=SIZE with a positive integer SIZE up to {MAX_GEMM_DIM:,}, "
                                            f"e.g. seq=128")
        out[name] = value
    return out


def dim_sizes(declared: Any, given: Mapping[str, int] | None, source: str) -> dict[str, int]:
    """The declared ``dims`` (each a positive integer) with the sizes ``given`` put in; a given
    name the workload does not declare is an error naming it."""
    if declared is None:
        declared = {}
    if not isinstance(declared, dict):
        raise ConfigError(source, "dims", f"expected a mapping of dimension names to positive integers, "
                                          f"got {type(declared).__name__}")
    sizes = {}
    for name, value in declared.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(source, "dims", f"expected dimension names that are identifiers (seq, context), "
                                              f"got {name!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(source, f"dims.{name}", f"expected a positive integer, got {value!r}")
        sizes[name] = value
    for name, value in (given or {}).items():
        if name not in sizes:
            have = ", ".join(sizes) or "none"
            raise ConfigError(source, "dims", f"expected a dimension the workload declares ({have}), "
                                              f"got --dim {name}={value}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(source, f"dims.{name}", f"expected a positive integer size, got {value!r}")
        sizes[name] = value
    return sizes


def evaluate(text: str, sizes: Mapping[str, int], source: str, path: str) -> int:
    """The integer value of one expression over the dims."""
    names = ", ".join(sizes)
    wanted = f"an integer or an expression of the workload's dims ({names}) with + - * // and parentheses"
    try:
        tree = ast.parse(text.strip(), mode="eval").body
        value = _value(tree, sizes)
    except (SyntaxError, ValueError, KeyError, ZeroDivisionError):
        raise ConfigError(source, path, f"expected {wanted}, got {text!r}") from None
    return value


def _value(node: ast.expr, sizes: Mapping[str, int]) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        return sizes[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_value(node.left, sizes), _value(node.right, sizes))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, sizes)
    raise ValueError(type(node).__name__)


def _integral(tp: Any) -> bool:
    """Whether a field of type ``tp`` holds integers: ``int``, optional or in a tuple."""
    args = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis]
    if tp is int:
        return True
    return bool(args) and all(_integral(a) for a in args)


@functools.cache  # a layer class's fields are analysed once, not once per layer read
def _integral_fields(cls: type) -> frozenset[str]:
    return frozenset(name for name, tp in field_types(cls).items() if _integral(tp))


def substitute(cls: type, data: dict, sizes: Mapping[str, int], source: str, path: str) -> dict:
    """``data`` (the YAML mapping of a ``cls``) with every expression in an integer field (or in a
    list of them: a shape, a stride) replaced by its value. Without dims, nothing changes."""
    if not sizes:
        return data
    integral = _integral_fields(cls)
    out = dict(data)
    for key, value in data.items():
        if key not in integral:
            continue
        if isinstance(value, str):
            out[key] = evaluate(value, sizes, source, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            out[key] = [evaluate(v, sizes, source, f"{path}.{key}[{i}]" if path else f"{key}[{i}]")
                        if isinstance(v, str) else v for i, v in enumerate(value)]
    return out

"""The workload as a tensor graph: each layer produces one tensor and reads named tensors.

The pipeline is ``config -> graph -> mapping -> residency -> ...``: what lives
where, and for how long, follows from which layer reads which tensor. The file
order of the layers is the execution order (a topological order, as a compiler
for one array issues it), so a layer may read only network inputs and the
outputs of earlier layers. Shapes are per sample; the batch multiplies every
tensor alike, so the graph does not depend on it.

Edges: a layer's ``inputs`` names what it reads; without them it reads the
previous layer's output (the first layer: the first network input). A workload
in which no layer names its inputs and no network input is declared is a
*legacy chain* (every file written before edges existed, SCALE-Sim topologies):
where the previous output does not fit a layer, the layer reads an input of its
own from outside, the network input ``<layer>:input``, as every layer did
before. Otherwise every edge, named or implicit, must fit.

State tensors (``state:``, a decode step's KV cache) exist before the step, like network
inputs, but are not read from outside: they are placed like any tensor, and the layer named
by ``appended_by`` writes its output into one (``Tensor.appends_to``), so that output is not a
network output.

Shapes fit when their element counts are equal and, where both are spatial
``(H, W, C)`` (three axes), the three sizes are equal; a GEMM operand is a
flattened view and needs only its element count.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from accelsim.config.schema import PYTHON
from accelsim.config.workload import Concat, Conv2d, Gemm, Layer, Workload
from accelsim.errors import ConfigError

Shape = tuple[int, ...]

# A legacy layer whose previous output does not fit reads this network input of its own.
LEGACY_INPUT = "{layer}:input"
DEFAULT_INPUT = "input"


@dataclass(frozen=True)
class Tensor:
    """One edge's data: a network input, a state tensor or one layer's output, per sample."""

    name: str
    shape: Shape
    producer: int | None          # index into workload.layers; None for a network input or a state
    consumers: tuple[int, ...]    # layer indices, ascending
    state: bool = False           # exists before the step and outlives it (a KV cache)
    appends_to: str | None = None  # a layer's output written into this state tensor

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def is_network_input(self) -> bool:
        return self.producer is None and not self.state

    @property
    def is_network_output(self) -> bool:
        """A layer's output that no layer reads and that is not appended to a state: it leaves the chip."""
        return self.producer is not None and not self.consumers and self.appends_to is None


@dataclass(frozen=True)
class Graph:
    """Tensors (network inputs first, then one per layer, in layer order) and who reads what."""

    tensors: tuple[Tensor, ...]
    reads: tuple[tuple[str, ...], ...]  # per layer: the names of the tensors it reads, in order

    @cached_property
    def _by_name(self) -> dict[str, Tensor]:
        return {t.name: t for t in self.tensors}

    def tensor(self, name: str) -> Tensor:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no tensor {name!r} in the graph") from None

    def inputs_of(self, layer: int) -> tuple[Tensor, ...]:
        """The tensors layer ``layer`` reads, in order."""
        return tuple(self._by_name[name] for name in self.reads[layer])

    def output_of(self, layer: int) -> Tensor:
        return self.tensors[len(self.tensors) - len(self.reads) + layer]

    @property
    def network_inputs(self) -> tuple[Tensor, ...]:
        return tuple(t for t in self.tensors[: len(self.tensors) - len(self.reads)] if not t.state)

    @property
    def states(self) -> tuple[Tensor, ...]:
        """The state tensors (KV caches), in declaration order."""
        return tuple(t for t in self.tensors if t.state)

    @property
    def network_outputs(self) -> tuple[Tensor, ...]:
        return tuple(t for t in self.tensors if t.is_network_output)


# ---------------------------------------------------------------- what each layer reads and writes


def expected_input(layer: Layer, position: int) -> Shape | None:
    """The shape input ``position`` must fit; None: any (a concat is checked on its own)."""
    if isinstance(layer, Conv2d):
        return (layer.H, layer.W, layer.C)
    if isinstance(layer, Gemm):  # a flattened view: only the element count matters
        return (layer.count * layer.M * layer.K,) if position == 0 else (layer.count * layer.K * layer.N,)
    if isinstance(layer, Concat):
        return None
    return layer.input_shape


def natural_input(layer: Layer) -> Shape | None:
    """The shape of a layer's first input when nothing else says: the default network input's, and
    a legacy layer's own input. None for a concat, whose inputs alone say."""
    if isinstance(layer, Conv2d):
        return (layer.H, layer.W, layer.C)
    if isinstance(layer, Gemm):
        return (layer.count, layer.M, layer.K) if layer.count > 1 else (layer.M, layer.K)
    if isinstance(layer, Concat):
        return None
    # a nongemm that states no shape: one element per operation (at least one: a view has 0 ops)
    return layer.input_shape or layer.shape or (max(layer.ops, 1),)


def output_shape(layer: Layer, inputs: Sequence[Shape]) -> Shape:
    """The per-sample shape of the tensor a layer produces from inputs of these shapes."""
    if isinstance(layer, Conv2d):
        return (layer.P, layer.Q, layer.K)
    if isinstance(layer, Gemm):
        return (layer.count, layer.M, layer.N) if layer.count > 1 else (layer.M, layer.N)
    if isinstance(layer, Concat):
        return (inputs[0][0], inputs[0][1], sum(shape[2] for shape in inputs))
    return layer.shape or inputs[0]


def fits(actual: Shape, expected: Shape | None) -> bool:
    """Equal element counts and, where both are spatial (three axes), equal sizes."""
    if expected is None:
        return True
    if math.prod(actual) != math.prod(expected):
        return False
    return len(actual) != 3 or len(expected) != 3 or actual == expected


def shape_text(shape: Shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _wanted(layer: Layer, position: int, expected: Shape) -> str:
    if isinstance(layer, Gemm):
        dims = "count x M x K" if position == 0 else "count x K x N"
        operand = "left" if position == 0 else "right"
        return f"a tensor of {expected[0]} elements (the {operand} operand, {dims})"
    if len(expected) == 1:
        return f"a tensor of {expected[0]} elements"
    return f"a tensor of shape {shape_text(expected)}"


def _got(name: str, shape: Shape, how: str) -> str:
    count = f" ({math.prod(shape)} elements)" if len(shape) > 1 else ""
    return f"{name!r}{how} of shape {shape_text(shape)}{count}"


# ---------------------------------------------------------------- building


def build_graph(workload: Workload) -> Graph:
    """Resolve every layer's inputs and check every edge's shape; errors name ``layers[i].inputs``."""
    return _Builder(workload).graph()


class _Builder:
    """One pass over the layers in file order (the execution order)."""

    def __init__(self, workload: Workload):
        self.layers = workload.layers
        self.declared = workload.inputs
        self.states = workload.state
        self.strict = bool(workload.inputs) or bool(workload.state) or any(
            layer.inputs is not None for layer in self.layers)
        self.index = {layer.name: i for i, layer in enumerate(self.layers)}
        self.shapes: dict[str, Shape] = {}        # every tensor known so far
        self.network: list[str] = []              # network inputs, in order

    def graph(self) -> Graph:
        self._network_inputs()
        reads = [self._layer(i, layer) for i, layer in enumerate(self.layers)]
        consumers: dict[str, list[int]] = {}
        for i, names in enumerate(reads):
            for name in dict.fromkeys(names):
                consumers.setdefault(name, []).append(i)
        for k, spec in enumerate(self.declared):
            if spec.name not in consumers:
                raise ConfigError(PYTHON, f"inputs[{k}].name",
                                  f"expected a network input that some layer reads, got {spec.name!r} (read by none)")
        appends = self._appends(consumers)
        producers = [(name, None) for name in self.network] + [(s.name, None) for s in self.states] + \
            [(layer.name, i) for i, layer in enumerate(self.layers)]
        states = {s.name for s in self.states}
        tensors = tuple(Tensor(name=name, shape=self.shapes[name], producer=producer,
                               consumers=tuple(consumers.get(name, ())), state=name in states,
                               appends_to=appends.get(name)) for name, producer in producers)
        return Graph(tensors=tensors, reads=tuple(reads))

    def _add_states(self) -> None:
        for k, spec in enumerate(self.states):
            where = f"state[{k}].name"
            if spec.name in self.shapes:
                raise ConfigError(PYTHON, where, f"expected a unique tensor name, got {spec.name!r} again")
            if spec.name in self.index:
                raise ConfigError(PYTHON, where, f"expected a name that is not a layer's, got {spec.name!r}")
            self.shapes[spec.name] = spec.shape

    def _appends(self, consumers: dict[str, list[int]]) -> dict[str, str]:
        """Check every state tensor (read by some layer; its appender a layer whose output fits in
        it, appending to no other state); returns each appender's output -> the state it goes into."""
        out: dict[str, str] = {}
        for k, spec in enumerate(self.states):
            if spec.name not in consumers:
                raise ConfigError(PYTHON, f"state[{k}].name",
                                  f"expected a state tensor that some layer reads, got {spec.name!r} (read by none)")
            writer = spec.appended_by
            if writer is None:
                continue
            where = f"state[{k}].appended_by"
            if writer not in self.index:
                close = difflib.get_close_matches(writer, list(self.index), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ConfigError(PYTHON, where, f"expected the name of a layer, got {writer!r}{hint}")
            if writer in out:
                raise ConfigError(PYTHON, where, f"expected a layer that appends to one state tensor, got {writer!r} "
                                                 f"(it appends to {out[writer]!r} already)")
            size, room = math.prod(self.shapes[writer]), math.prod(spec.shape)
            if size > room:
                raise ConfigError(PYTHON, where, f"expected a layer whose output fits in the state's {room} elements, "
                                                 f"got {writer!r} of shape {shape_text(self.shapes[writer])} "
                                                 f"({size} elements)")
            out[writer] = spec.name
        return out

    def _add_network_input(self, name: str, shape: Shape, where: str) -> None:
        if name in self.shapes:
            raise ConfigError(PYTHON, where, f"expected a unique network input name, got {name!r} again")
        if name in self.index:
            i = self.index[name]
            raise ConfigError(PYTHON, f"layers[{i}].name",
                              f"expected a layer name that is not a network input's, got {name!r}")
        self.shapes[name] = shape
        self.network.append(name)

    def _network_inputs(self) -> None:
        for k, spec in enumerate(self.declared):
            self._add_network_input(spec.name, spec.shape, f"inputs[{k}].name")
        self._add_states()
        if self.declared:
            return
        first = self.layers[0]
        shape = natural_input(first)
        if shape is None:
            raise ConfigError(PYTHON, "inputs", f"expected the network inputs declared (inputs: [{{name, shape}}]) "
                                                f"when the first layer is a concat, got none")
        name = DEFAULT_INPUT
        if not self.strict and name in self.index:  # an old file with a layer named "input"
            name = LEGACY_INPUT.format(layer=first.name)
        self._add_network_input(name, shape, "inputs")

    def _layer(self, i: int, layer: Layer) -> tuple[str, ...]:
        implicit = layer.inputs is None
        if implicit:
            names = [self.network[0] if i == 0 else self.layers[i - 1].name]
            how = " (the network input, by default)" if i == 0 else " (the previous layer's output, by default)"
        else:
            names, how = list(layer.inputs), ""
        shapes = []
        for j, name in enumerate(names):
            where = f"layers[{i}].inputs" + ("" if implicit else f"[{j}]")
            actual = self._known(i, name, where)
            expected = expected_input(layer, j)
            if not fits(actual, expected):
                if not implicit or self.strict:
                    raise ConfigError(PYTHON, where, f"expected {_wanted(layer, j, expected)}, "
                                                     f"got {_got(name, actual, how)}")
                # legacy chain: the layer reads its own input from outside, as before edges existed
                name, actual = LEGACY_INPUT.format(layer=layer.name), natural_input(layer)
                self._add_network_input(name, actual, where)
                names[j] = name
            shapes.append(actual)
        if isinstance(layer, Concat):
            self._check_concat(i, names, shapes)
        self.shapes[layer.name] = output_shape(layer, shapes)
        return tuple(names)

    def _known(self, i: int, name: str, where: str) -> Shape:
        if name in self.shapes:
            return self.shapes[name]
        if name in self.index:
            k = self.index[name]
            whose = "this layer's own output" if k == i else f"the output of layers[{k}], a later layer"
            raise ConfigError(PYTHON, where, f"expected a tensor produced before this layer (file order is "
                                             f"execution order), got {name!r} ({whose})")
        known = list(self.shapes)
        close = difflib.get_close_matches(name, known, n=3)
        shown = close + [n for n in reversed(known) if n not in close][: 5 - len(close)]
        more = len(known) - len(shown)
        raise ConfigError(PYTHON, where, f"expected the name of a network input or an earlier layer, got {name!r} "
                                         f"(known: {', '.join(shown)}" + (f" and {more} more)" if more else ")"))

    def _check_concat(self, i: int, names: list[str], shapes: list[Shape]) -> None:
        for j, (name, shape) in enumerate(zip(names, shapes)):
            where = f"layers[{i}].inputs[{j}]"
            if len(shape) != 3:
                raise ConfigError(PYTHON, where, f"expected an (H, W, C) tensor to concatenate, "
                                                 f"got {_got(name, shape, '')}")
            if shape[:2] != shapes[0][:2]:
                raise ConfigError(PYTHON, where, f"expected a tensor of height x width {shapes[0][0]} x "
                                                 f"{shapes[0][1]} (as {names[0]!r}), got {_got(name, shape, '')}")


__all__ = ["Graph", "Tensor", "build_graph", "expected_input", "fits", "natural_input", "output_shape",
           "shape_text"]

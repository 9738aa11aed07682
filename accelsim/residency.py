"""Residency: where every tensor lives from its producer to its last consumer.

The planning pass between mapping and tiling (``config -> graph -> mapping ->
residency -> tiling -> schedule``). Pure and deterministic: the same hardware,
workload and batch give the same plan.

The policy, as docs/engine.md states it:

* Network inputs live in DRAM (each consumer reads them from there) and network
  outputs go to DRAM (their producer writes them once). With
  ``activations: dram`` every tensor does, as in the first version and SCALE-Sim.
* Every other tensor is placed in production order, earliest first, in the first
  on-chip level that may hold activations (the per-core buffer holding them,
  then the global buffer) where it fits at every layer of its life: beside the
  tensors already placed there that are live at that layer, and the room that
  layer needs for its own working tiles. Otherwise it goes to DRAM: written once
  by its producer, read by each consumer. So when several compete, the tensor
  produced last spills.
* A layer's room is, per buffer, what its tiles need to bring every operand in
  only once: the whole footprint of each operand it loads into that buffer (its
  input pixels, its weights, its partial sums: ``tiling.operand_footprints``, the
  measure the tiler uses to keep a tile set for the whole layer, which needs no
  second slot), at most the whole buffer. So keeping a tensor on chip never
  makes a layer re-read data it could otherwise have kept. A vector layer's room
  is its off-chip inputs and output, at most half the buffer (it streams each
  byte once, whatever the room). Inputs are assumed on chip while they are
  undecided; once every tensor is placed, any layer whose inputs turned out to
  be off chip and that now lacks the room for them makes the tensor live there
  that was produced last spill as well, until every layer has its room.
* A concatenation is free: its producers write into slices of one tensor, so the
  concat's output and the inputs it joins are placed together, as one storage.
* Liveness follows the graph: a residual input stays live until its add.
* A state tensor (a decode step's KV cache) exists before the step and must outlive it: its
  storage lives from the first layer to the last, is placed before everything the step
  produces (so it spills last), and holds the output of the layer that appends to it.

The tiler then works with what the resident tensors leave free in each buffer
(:class:`~accelsim.mapping.tiling.WorkingSpace`), and a layer whose input is
resident in its buffer reads it in place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from accelsim.config.hardware import Hardware
from accelsim.config.memory import DRAM, DataKind, MemoryLevel
from accelsim.config.workload import Concat, Gemm, NonGemm, Workload
from accelsim.graph import Graph, Tensor
from accelsim.mapping.gemm import Operand
from accelsim.mapping.tiling import WorkingSpace, operand_footprints
from accelsim.traffic import tensor_moves


@dataclass(frozen=True)
class Placement:
    """Where one tensor lives, and what that costs in DRAM bytes beyond the compulsory."""

    name: str
    bytes: int
    producer: str | None           # layer name; None for a network input
    consumers: tuple[str, ...]
    level: str                     # "dram", a per-core buffer's name or the global buffer's
    spilled_bytes: int             # intermediate in DRAM: written once + read by each consumer
    reason: str                    # why it is there
    state: bool = False            # a state tensor (KV cache): exists before the step and outlives it

    def as_record(self) -> dict:
        return {"name": self.name, "bytes": self.bytes, "producer": self.producer,
                "consumers": list(self.consumers), "placement": self.level, "spilled_bytes": self.spilled_bytes,
                "reason": self.reason, "state": self.state}


@dataclass(frozen=True)
class LayerPlan:
    """What the plan means for one layer."""

    inputs: tuple[str, ...]             # the level each tensor it reads lives in, in order
    output: str                         # the level its output tensor goes to
    network_output: bool                # its output (storage) leaves the chip: compulsory, not spilled
    aliased: tuple[bool, ...]           # per input: already part of its output's storage (a concat's)
    space: WorkingSpace                 # the room its working tiles have
    resident_bytes: tuple[tuple[str, int], ...]   # per on-chip level: resident tensors live while it runs
    claims: tuple[tuple[str, int], ...]           # (level, bytes) of storage whose life starts here
    releases: tuple[tuple[str, int], ...]         # (level, bytes) of storage whose life ends here
    moves: tuple[tuple[str, str, int, bool], ...] = ()  # its DRAM moves of tensors (traffic.tensor_moves)


@dataclass(frozen=True)
class Residency:
    tensors: tuple[Placement, ...]
    layers: tuple[LayerPlan, ...]

    def placement(self, name: str) -> Placement:
        for p in self.tensors:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass
class _Storage:
    """Tensors that share one allocation (a concat and the inputs it joins)."""

    members: list[str]
    bytes: int
    start: int       # first layer that writes it
    end: int         # last layer that reads it
    output: bool     # leaves the chip (nobody reads its root)
    level: str = DRAM
    reason: str = ""
    placed: bool = False  # undecided storages are assumed on chip while earlier ones are placed
    state: bool = False   # holds a state tensor: live for the whole step, placed before what the step produces
    position: int = 0     # its first tensor's index in the graph: the order storages are placed in


def tensor_bytes(tensor: Tensor, hw: Hardware, batch: int) -> int:
    """Bytes a tensor holds: activations are stored at the width a layer writes them
    (``bytes_per_output``); network inputs at the width the array reads (``bytes_per_input``)."""
    width = hw.array.bytes_per_input if tensor.is_network_input else hw.array.bytes_per_output
    return tensor.elements * batch * width


def right_operand(layer, graph: Graph, index: int) -> Tensor | None:
    """The tensor a two-input matmul multiplies by (its WEIGHT operand), or None."""
    if isinstance(layer, Gemm) and not layer.shared_weights and len(graph.reads[index]) > 1:
        return graph.inputs_of(index)[1]
    return None


class _Planner:
    def __init__(self, hw: Hardware, workload: Workload, footprints=operand_footprints):
        self.hw, self.workload, self.batch = hw, workload, workload.batch
        self.operand_footprints = footprints
        self.graph = workload.graph
        self.memory = hw.memory
        self.layers = workload.layers
        self.bytes = {t.name: tensor_bytes(t, hw, self.batch) for t in self.graph.tensors}
        self.candidates = self._levels()
        self.storages = self._storages()
        self.storage_of = {m: s for s in self.storages for m in s.members}
        self._footprint_cache: dict[int, dict[Operand, int]] = {}

    # ------------------------------------------------------------ setup
    def _levels(self) -> list[MemoryLevel]:
        """On-chip levels a tensor may live in, nearest first."""
        if not self.memory.activations_on_chip:
            return []
        # several cores split every layer their own way, so a tensor between layers lives where
        # every core reaches it: the global buffer or DRAM, never one core's buffer
        levels = [self.memory.buffer_for(DataKind.ACTIVATIONS)] if self.hw.cores == 1 else []
        g = self.memory.global_buffer
        if g is not None and g.may_hold(DataKind.ACTIVATIONS):
            levels.append(g)
        return levels

    def _storages(self) -> list[_Storage]:
        """One storage per tensor produced by a layer, concats merged with the inputs they join."""
        parent = {t.name: t.name for t in self.graph.tensors if not t.is_network_input}

        def root(name: str) -> str:
            while parent[name] != name:
                name = parent[name]
            return name

        for i, layer in enumerate(self.layers):
            if isinstance(layer, Concat):
                for t in self.graph.inputs_of(i):
                    if not t.is_network_input:
                        parent[root(t.name)] = root(layer.name)
        for t in self.graph.tensors:  # an appended output is a slice of its state tensor
            if t.appends_to is not None:
                parent[root(t.name)] = root(t.appends_to)
        groups: dict[str, list[str]] = {}
        for t in self.graph.tensors:
            if not t.is_network_input:
                groups.setdefault(root(t.name), []).append(t.name)
        joined_by = {m: layer.name for i, layer in enumerate(self.layers) if isinstance(layer, Concat)
                     for m in self.graph.reads[i]}  # a tensor -> a concat that joins it
        position = {t.name: k for k, t in enumerate(self.graph.tensors)}
        out = []
        for members in groups.values():
            tensors = [self.graph.tensor(m) for m in members]
            roots = [t for t in tensors if joined_by.get(t.name) not in members and t.appends_to is None]
            reads = [c for t in tensors for c in t.consumers
                     if not (isinstance(self.layers[c], Concat) and self.layers[c].name in members)]
            state = any(t.state for t in tensors)
            # a state tensor is there before the first layer and must still be there after the last
            start = 0 if state else min(t.producer for t in tensors)
            end = len(self.layers) - 1 if state else max(reads, default=start)
            out.append(_Storage(members=members, bytes=sum(self.bytes[t.name] for t in roots), start=start,
                                end=end, output=any(t.is_network_output for t in roots), state=state,
                                position=min(position[m] for m in members)))
        return sorted(out, key=self._order)

    @staticmethod
    def _order(s: _Storage) -> tuple:
        """The order storages are placed in (and the reverse of the order they spill in): by the
        layer that starts them, state tensors first (they exist before any layer), then in graph order."""
        return (s.start, not s.state, s.position)

    def _footprints(self, i: int, layer) -> dict[Operand, int]:
        """Bytes of each operand of a GEMM layer, each element once (input pixels, weights,
        partial sums); a vector layer's output (its inputs: those that come in, see _room)."""
        if isinstance(layer, NonGemm):
            return {Operand.OUTPUT: self.bytes[layer.name]}
        footprint = dict(self.operand_footprints(layer, self.hw, self.batch))  # the tiler's own measure
        right = right_operand(layer, self.graph, i)
        if right is not None:
            footprint[Operand.WEIGHT] = right.elements * self.batch * self.hw.array.bytes_per_input
        return footprint

    # ------------------------------------------------------------ room
    def _here(self, t: Tensor, assume_on_chip: set[str]) -> bool:
        """Whether ``t`` is (or, undecided yet, is assumed to be) in the per-core activation buffer."""
        if t.is_network_input:
            return False
        s = self.storage_of[t.name]
        return not s.placed or s.level == self.memory.buffer_for(DataKind.ACTIVATIONS).name \
            or t.name in assume_on_chip

    def _off_chip_operands(self, i: int, assume_on_chip: set[str]) -> set[Operand]:
        """Operands of layer ``i`` whose tiles must be brought into (or staged in) a buffer."""
        layer = self.layers[i]

        def here(t: Tensor) -> bool:
            return self._here(t, assume_on_chip)

        ins = self.graph.inputs_of(i)
        need = set()
        if isinstance(layer, NonGemm):
            if not all(here(t) for t in ins):
                need.add(Operand.INPUT)
            if not here(self.graph.output_of(i)):
                need.add(Operand.OUTPUT)
            return need
        need.add(Operand.OUTPUT)  # partial sums always need room
        if not here(ins[0]):
            need.add(Operand.INPUT)
        right = right_operand(layer, self.graph, i)
        if right is None or not here(right):
            need.add(Operand.WEIGHT)
        return need

    def _room(self, i: int, level: MemoryLevel, assume_on_chip: set[str]) -> int:
        """Bytes layer ``i``'s working tiles need in ``level``: the footprint of each operand it
        brings in there, once (a tile set that stays for the whole layer needs no second slot), at
        most the level (a vector layer: at most half of it)."""
        if level.shared:
            return 0
        if i not in self._footprint_cache:
            self._footprint_cache[i] = self._footprints(i, self.layers[i])
        footprint = self._footprint_cache[i]
        vector = isinstance(self.layers[i], NonGemm)
        need = 0
        for op in self._off_chip_operands(i, assume_on_chip):
            if self.memory.buffer_for(op.kind) is not level:
                continue
            if op is Operand.INPUT and vector:  # only the inputs that come in
                need += sum(self.bytes[t.name] for t in self.graph.inputs_of(i) if not self._here(t, assume_on_chip))
            else:
                need += footprint[op]
        if vector:
            return min(need * (2 if level.double_buffered else 1), level.size_bytes // 2)
        return min(need, level.size_bytes)

    def _live_over(self, level: MemoryLevel, start: int, end: int, skip: _Storage) -> list[int]:
        """Bytes resident in ``level`` at each layer ``start..end`` (but ``skip``'s)."""
        live = [0] * (end - start + 1)
        for s in self.storages:
            if s is not skip and s.level == level.name and s.start <= end and s.end >= start:
                for i in range(max(s.start, start) - start, min(s.end, end) - start + 1):
                    live[i] += s.bytes
        return live

    def _fits(self, s: _Storage, level: MemoryLevel) -> str | None:
        """None when ``s`` fits ``level`` for its whole life; else the name of the first layer where not."""
        assume = set(s.members)
        for i, live in enumerate(self._live_over(level, s.start, s.end, s), start=s.start):
            if live + s.bytes + self._room(i, level, assume) > level.size_bytes:
                return self.layers[i].name
        return None

    # ------------------------------------------------------------ the plan
    def plan(self) -> Residency:
        for s in self.storages:
            s.level, s.reason = self._first_placement(s)
            s.placed = True
        self._make_room()
        layers = []
        for i, (layer, live) in enumerate(zip(self.layers, self._resident_bytes())):
            plan = self._layer_plan(i, live)
            moves = tuple(tensor_moves(i, layer, self.hw, self.workload, plan))
            layers.append(replace(plan, moves=moves))
        return Residency(tensors=self._placements(layers), layers=tuple(layers))

    def _first_placement(self, s: _Storage) -> tuple[str, str]:
        if s.output:
            return DRAM, "network output"
        if not self.candidates:
            return DRAM, "activations: dram" if not self.memory.activations_on_chip else "cores without a global buffer"
        blocked = ""
        for level in self.candidates:
            s.level = level.name  # tried here; _live skips it
            where = self._fits(s, level)
            if where is None:
                return level.name, "fits"
            blocked = blocked or f"no room in {level.name} at {where}"
        return DRAM, blocked

    def _make_room(self) -> None:
        """Spill, latest first, until every layer has the room its off-chip inputs need."""
        for level in self.candidates:
            if level.shared:
                continue
            i = 0
            while i < len(self.layers):
                live = [s for s in self.storages if s.level == level.name and s.start <= i <= s.end]
                if sum(s.bytes for s in live) + self._room(i, level, set()) <= level.size_bytes or not live:
                    i += 1
                    continue
                victim = max(live, key=self._order)
                victim.level, victim.reason = DRAM, f"no room in {level.name} at {self.layers[i].name}"
                i = 0  # a spill changes what earlier layers read from DRAM: check again

    def _placements(self, plans: list[LayerPlan]) -> tuple[Placement, ...]:
        spilled: dict[str, int] = {}
        for plan in plans:
            for name, _, nbytes, compulsory in plan.moves:
                if not compulsory:
                    spilled[name] = spilled.get(name, 0) + nbytes
        names = [layer.name for layer in self.layers]
        out = []
        for t in self.graph.tensors:
            consumers = tuple(names[c] for c in t.consumers)
            if t.is_network_input:
                level, producer, reason = DRAM, None, "network input"
            else:
                s = self.storage_of[t.name]
                level, reason = s.level, s.reason if t.appends_to is None else f"appended to {t.appends_to}"
                producer = None if t.producer is None else names[t.producer]
            out.append(Placement(t.name, self.bytes[t.name], producer, consumers, level, spilled.get(t.name, 0),
                                 reason, t.state))
        return tuple(out)

    def _resident_bytes(self) -> list[dict[str, int]]:
        """Per layer, the bytes of resident storage live there, per on-chip level."""
        out = [dict.fromkeys((level.name for level in self.memory.levels), 0) for _ in self.layers]
        for s in self.storages:
            if s.level != DRAM:
                for i in range(s.start, s.end + 1):
                    out[i][s.level] += s.bytes
        return out

    def _layer_plan(self, i: int, live: dict[str, int]) -> LayerPlan:
        layer = self.layers[i]
        out_storage = self.storage_of[layer.name]
        ins = self.graph.inputs_of(i)
        levels = tuple(DRAM if t.is_network_input else self.storage_of[t.name].level for t in ins)
        aliased = tuple(not t.is_network_input and self.storage_of[t.name] is out_storage for t in ins)
        resident = tuple(live.items())
        free = tuple((level.name, level.size_bytes - live[level.name]) for level in self.memory.local)
        local = self.memory.buffer_for(DataKind.ACTIVATIONS).name
        on_chip = set()
        if not isinstance(layer, NonGemm):
            if ins and levels[0] == local:
                on_chip.add(Operand.INPUT)
            right = right_operand(layer, self.graph, i)
            if right is not None and self.storage_of.get(right.name) and self.storage_of[right.name].level == local:
                on_chip.add(Operand.WEIGHT)
        claims = tuple((s.level, s.bytes) for s in self.storages if s.start == i and s.level != DRAM)
        releases = tuple((s.level, s.bytes) for s in self.storages if s.end == i and s.level != DRAM)
        return LayerPlan(inputs=levels, output=out_storage.level, network_output=out_storage.output, aliased=aliased,
                         space=WorkingSpace(free, frozenset(on_chip)), resident_bytes=resident,
                         claims=claims, releases=releases)


def plan_residency(hw: Hardware, workload: Workload, footprints=operand_footprints) -> Residency:
    """Place every tensor of ``workload`` on ``hw`` (see the module docstring for the policy);
    ``footprints``: ``tiling.operand_footprints``, or a memo of it (``schedule.TilingCache``)."""
    return _Planner(hw, workload, footprints).plan()

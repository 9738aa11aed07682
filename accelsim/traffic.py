"""Bytes that must move, and the SRAM accesses a mapping implies: shared by both models.

Three classes of DRAM bytes (docs/metrics.md): *compulsory* (the network's: every weight
once, the network inputs once, the network outputs once), *spill* (tensors between layers the
residency plan put in DRAM: written once by their producer, read by each consumer) and what
tiling adds on top (re-reads, partial sums); a layer's DRAM traffic is at least the first two.
"""

from __future__ import annotations

import math

from accelsim.config.hardware import Hardware
from accelsim.config.memory import DRAM, DataKind
from accelsim.config.workload import Conv2d, Gemm, Layer, NonGemm, Workload
from accelsim.mapping import LayerMapping, Operand, strategy_for
from accelsim.mapping.layer_mapping import array_accesses
from accelsim.mapping.tiling import Geometry
from accelsim.stats import DramTraffic, SramAccesses


def input_footprint_bytes(layer: Layer, hw: Hardware, batch: int) -> int:
    """Bytes of a GEMM layer's input operand it must read once: for a convolution the input
    pixels its windows touch (a stride larger than the kernel skips rows and columns)."""
    a = hw.array
    if isinstance(layer, Conv2d):
        return Geometry(layer, hw).spatial(0, batch * layer.P * layer.Q) * layer.C * a.bytes_per_input
    return layer.input_elements(batch) * a.bytes_per_input


def compulsory_traffic(layer: Layer, hw: Hardware, batch: int) -> DramTraffic:
    """The layer's own tensors each moved once (the per-layer view the closed-form formulas use):
    its input footprint, all weights read, all outputs written, at ``array.bytes_per_*``."""
    a = hw.array
    return DramTraffic(input_read=input_footprint_bytes(layer, hw, batch),
                       weight_read=layer.weight_elements(batch) * a.bytes_per_weight,
                       output_write=layer.output_elements(batch) * a.bytes_per_output)


def tensor_moves(index: int, layer: Layer, hw: Hardware, workload: Workload, plan) -> \
        list[tuple[str, str, int, bool]]:
    """The DRAM bytes one layer moves for the tensors it reads and writes, under a residency
    plan: ``(tensor, "input" | "weight" | "output", bytes, compulsory)``.

    Compulsory: a network input at its first consumer; the output when it is a network output.
    A state tensor (KV cache) that lives in DRAM is read there by its first reader and its new
    rows written there by the layer that appends them, both compulsory (a step cannot do without
    them); on chip it moves nothing. Everything else a tensor in DRAM costs is spill: its
    producer's write and every other read (a network input read again by a later consumer included). A concatenation's inputs are part
    of its output's storage: their producers wrote them. A fused layer moves nothing, and with
    ``activations: dram`` (the first version, kept as it was) no vector layer does.
    """
    if isinstance(layer, NonGemm) and (hw.vector is None or not hw.memory.activations_on_chip):
        return []  # fused; or activations: dram, the first version, where vector work moves nothing
    a, batch, graph = hw.array, workload.batch, workload.graph
    moves = []
    ins = graph.inputs_of(index)
    for j, (tensor, level, aliased) in enumerate(zip(ins, plan.inputs, plan.aliased)):
        if aliased or level != DRAM:
            continue
        if j == 0 and not isinstance(layer, NonGemm):
            nbytes = input_footprint_bytes(layer, hw, batch)
        else:
            nbytes = tensor.elements * batch * a.bytes_per_input
        operand = "weight" if j == 1 and isinstance(layer, Gemm) else "input"
        first_read = (tensor.is_network_input or tensor.state) and tensor.consumers[0] == index
        moves.append((tensor.name, operand, nbytes, first_read))
    if plan.output == DRAM:
        if isinstance(layer, NonGemm) and any(plan.aliased):  # a concat writes only what it loads
            written = sum(t.elements for t, al in zip(ins, plan.aliased) if not al) * batch * a.bytes_per_input
        else:
            written = graph.output_of(index).elements * batch * a.bytes_per_output
        appended = graph.output_of(index).appends_to is not None  # the new rows of a state in DRAM
        moves.append((layer.name, "output", written, plan.network_output or appended))
    return moves


def layer_traffic_classes(index: int, layer: Layer, hw: Hardware, workload: Workload, plan) -> \
        tuple[DramTraffic, DramTraffic]:
    """(compulsory, spill) DRAM bytes of one layer under a residency plan (its moves, from
    :func:`tensor_moves`); the compulsory bytes include the layer's weights, each read once."""
    comp, spill = {"input": 0, "weight": 0, "output": 0}, {"input": 0, "weight": 0, "output": 0}
    for _, operand, nbytes, compulsory in plan.moves:
        (comp if compulsory else spill)[operand] += nbytes
    ins = workload.graph.inputs_of(index)
    if not isinstance(layer, NonGemm) and (not isinstance(layer, Gemm) or len(ins) < 2):
        comp["weight"] += layer.weight_elements(workload.batch) * hw.array.bytes_per_weight
    return (DramTraffic(input_read=comp["input"], weight_read=comp["weight"], output_write=comp["output"]),
            DramTraffic(input_read=spill["input"], weight_read=spill["weight"], output_write=spill["output"]))


def sram_accesses(hw: Hardware, reads: dict[Operand, int], writes: dict[Operand, int],
                  levels: dict[str, tuple[int, int]] | None = None) -> SramAccesses:
    """Bytes read and written per operand, booked on the buffer that holds each operand's kind,
    plus ``levels``: (read, written) bytes booked on a level by name (the global buffer, an
    output written straight into the activation buffer)."""
    memory = hw.memory
    totals = {level.name: [0, 0] for level in memory.levels}
    for operand in Operand:
        name = memory.buffer_for(operand.kind).name
        totals[name][0] += reads.get(operand, 0)
        totals[name][1] += writes.get(operand, 0)
    for name, (r, w) in (levels or {}).items():
        totals[name][0] += r
        totals[name][1] += w
    return SramAccesses(tuple((name, r, w) for name, (r, w) in totals.items()))


def _moves(hw: Hardware, moved: DramTraffic, global_traffic: DramTraffic, output_on_chip: int) -> dict:
    """The global buffer's side of its transfers, and outputs written into the activation buffer."""
    levels: dict[str, tuple[int, int]] = {}
    g = hw.memory.global_buffer
    if g is not None:
        levels[g.name] = (global_traffic.read, global_traffic.write)
    if output_on_chip:
        name = hw.memory.buffer_for(DataKind.ACTIVATIONS).name
        levels[name] = (0, output_on_chip)
    return levels


def array_sram(mapping: LayerMapping, hw: Hardware, moved: DramTraffic, global_traffic: DramTraffic,
               output_on_chip: int, extra_stationary: int = 0, weight_on_chip: bool = False) -> SramAccesses:
    """SRAM bytes: the array's side (from the mapping) plus the DMA side (every load and store,
    ``moved``, whichever level it comes from or goes to).

    ``extra_stationary`` counts stationary elements read again because the stream was split
    into blocks (each block reloads the stationary tile); ``output_on_chip`` the final outputs
    written into the activation buffer instead of being stored; ``weight_on_chip``: the WEIGHT
    operand is a tensor resident in the activation buffer (a matmul's right operand, read in
    place), so the array reads it there, at ``bytes_per_input``, not from the weight buffer.
    """
    a = hw.array
    acc = array_accesses(mapping, a)
    reads = dict(acc.reads)
    stationary = strategy_for(a.dataflow).stationary
    if stationary is not Operand.OUTPUT:
        reads[stationary] += extra_stationary
    levels = _moves(hw, moved, global_traffic, output_on_chip)
    weight_reads = reads[Operand.WEIGHT] * a.bytes_per_weight
    if weight_on_chip:
        name = hw.memory.buffer_for(DataKind.ACTIVATIONS).name
        r, w = levels.get(name, (0, 0))
        levels[name] = (r + reads[Operand.WEIGHT] * a.bytes_per_input, w)
        weight_reads = 0
    return sram_accesses(hw, {
        Operand.INPUT: reads[Operand.INPUT] * a.bytes_per_input,
        Operand.WEIGHT: weight_reads,
        Operand.OUTPUT: reads[Operand.OUTPUT] * a.bytes_per_psum + moved.write,
    }, {
        Operand.INPUT: moved.input_read,
        Operand.WEIGHT: moved.weight_read,
        Operand.OUTPUT: acc.writes[Operand.OUTPUT] * a.bytes_per_psum + moved.psum_read,
    }, levels)


def vector_sram(hw: Hardware, moved: DramTraffic, global_traffic: DramTraffic) -> SramAccesses:
    """A vector layer's DMA side: loads written into the activation buffer, staged outputs read
    from the partial-sum buffer (the vector unit's own reads and writes are not counted)."""
    return sram_accesses(hw, {Operand.OUTPUT: moved.write}, {Operand.INPUT: moved.input_read},
                         _moves(hw, moved, global_traffic, 0))


def window_reuse(layer: Layer) -> int:
    """The most im2col entries one input element appears in: a convolution's windows of stride
    ``s`` overlap at most ``ceil(span / s)`` times along each axis (at most the kernel size);
    1 for a matrix product."""
    if not isinstance(layer, Conv2d):
        return 1
    per_axis = []
    for kernel, dil, stride in ((layer.R, layer.dilation[0], layer.stride[0]), (layer.S, layer.dilation[1],
                                                                                 layer.stride[1])):
        span = dil * (kernel - 1) + 1
        per_axis.append(min(kernel, -(-span // stride)))
    return per_axis[0] * per_axis[1]


def dram_lower_bound(macs: int, layer: Layer, hw: Hardware, must_move: int, on_chip_elements: int = 0,
                     coded: float = 1.0) -> int:
    """The least DRAM bytes any schedule of the layer could move with the chip's buffers: the
    larger of the bytes it must move anyway (``must_move``: its tensors that live in DRAM, each
    once) and a Hong-Kung I/O bound (J.-W. Hong, H. T. Kung, "I/O complexity: the red-blue pebble
    game", STOC 1981), in the segment form of Irony, Toledo and Tiskin (J. Parallel Distrib.
    Comput. 64(9), 2004):

    with ``S`` elements of fast memory (every on-chip buffer of every core and the global buffer,
    at the narrowest element width),
    cut the schedule into segments of ``S`` transfers; a segment sees at most ``2S`` elements of
    the three operands, so by the Loomis-Whitney inequality it performs at most
    ``sqrt(rho) (2S/3)^(3/2)`` multiply-accumulates, where ``rho`` is how many im2col entries one
    input element may stand for (:func:`window_reuse`; 1 for a matrix product). Hence at least
    ``S (ceil(MACs / that) - 1)`` elements move. Elements already on chip (a resident input, an
    output kept on chip) each save at most one transfer, so they are subtracted. The asymptotic
    constant is below the tight ``2 MNK / sqrt(S)`` of Smith et al. (ICML 2019): this bound is
    the safe one, not the tightest. A design that codes its transfers (``coded``: the smallest
    coded over raw size of the layer's transfers, config.sparsity) may move each element in
    that fraction of its width."""
    a, memory = hw.array, hw.memory
    width = min(a.bytes_per_input, a.bytes_per_weight, a.bytes_per_output)
    capacity = sum(level.size_bytes * (1 if level.shared else hw.cores) for level in memory.levels) // width
    if capacity <= 0 or macs <= 0:
        return must_move
    per_segment = math.sqrt(window_reuse(layer)) * (2 * capacity / 3) ** 1.5
    elements = capacity * max(0, math.ceil(macs / per_segment) - 1) - on_chip_elements
    return max(must_move, math.floor(width * coded * max(0, elements)))

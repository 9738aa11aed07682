"""The closed-form model: compute bound, traffic bound, and the larger of the two.

Per GEMM layer::

    compute cycles = the mapping's fold formula (all operands on chip in time)
    memory cycles  = DRAM bytes / (peak bytes per cycle x dram.efficiency)
    cycles         = max(compute, memory) + control.layer_overhead_cycles

When memory wins, the excess is charged to the stall categories in
proportion to the bytes of each operand (inputs -> stall_input, weights ->
stall_weight, outputs -> stall_output). Non-GEMM layers take
``ceil(ops x batch / vector.elements_per_cycle)`` cycles on the vector unit,
or nothing when the hardware has none (fused).
"""

from __future__ import annotations

import math

from accelsim.config.hardware import Hardware
from accelsim.config.workload import Layer, Workload
from accelsim.mapping import LayerMapping, Operand, map_layer
from accelsim.mapping.layer_mapping import array_accesses
from accelsim.stats import CycleBreakdown, DramTraffic, LayerResult, RunResult, SramAccesses


def compulsory_traffic(layer: Layer, hw: Hardware, batch: int) -> DramTraffic:
    """Every tensor moved once: inputs and weights read, outputs written."""
    a = hw.array
    return DramTraffic(input_read=layer.input_elements(batch) * a.bytes_per_input,
                       weight_read=layer.weight_elements(batch) * a.bytes_per_weight,
                       output_write=layer.output_elements(batch) * a.bytes_per_output)


def memory_cycles(dram_bytes: int, hw: Hardware) -> int:
    """Cycles to move ``dram_bytes`` at the achievable DRAM bandwidth."""
    rate = hw.dram_bytes_per_cycle * hw.dram.efficiency
    return 0 if math.isinf(rate) else math.ceil(dram_bytes / rate)


def roofline_cycles(compute_cycles: int, compulsory: DramTraffic, hw: Hardware) -> int:
    """max(compute cycles, compulsory bytes / peak bytes per cycle)."""
    rate = hw.dram_bytes_per_cycle
    memory = 0 if math.isinf(rate) else math.ceil(compulsory.total / rate)
    return max(compute_cycles, memory)


def split_stall(excess: int, traffic: DramTraffic) -> tuple[int, int, int]:
    """Share ``excess`` cycles among input, weight and output stalls by bytes (exact sum)."""
    shares = [traffic.input_read, traffic.weight_read, traffic.psum_read + traffic.write]
    total = sum(shares)
    if excess <= 0 or total == 0:
        return 0, 0, 0
    parts = [excess * s // total for s in shares]
    remainders = sorted(range(3), key=lambda i: (-(excess * shares[i] % total), i))
    for i in remainders[: excess - sum(parts)]:
        parts[i] += 1
    return parts[0], parts[1], parts[2]


def array_sram(mapping: LayerMapping, hw: Hardware, dram: DramTraffic) -> SramAccesses:
    """SRAM bytes: the array's side (mapping) plus the DMA side (the DRAM traffic)."""
    a = hw.array
    acc = array_accesses(mapping, a)
    return SramAccesses(
        input_read=acc.reads[Operand.INPUT] * a.bytes_per_input,
        input_write=dram.input_read,
        weight_read=acc.reads[Operand.WEIGHT] * a.bytes_per_weight,
        weight_write=dram.weight_read,
        output_read=acc.reads[Operand.OUTPUT] * a.bytes_per_psum + dram.write,
        output_write=acc.writes[Operand.OUTPUT] * a.bytes_per_psum + dram.psum_read,
    )


def vector_cycles(layer: Layer, hw: Hardware, batch: int) -> int:
    ops = getattr(layer, "ops", 0) * batch
    return math.ceil(ops / hw.vector.elements_per_cycle) if hw.vector is not None else 0


def non_gemm_result(layer: Layer, hw: Hardware, batch: int) -> LayerResult:
    """A pooling / element-wise layer: vector unit time, or fused and free."""
    cycles = vector_cycles(layer, hw, batch)
    unit = "vector" if hw.vector is not None else "fused"
    overhead = hw.control.layer_overhead_cycles if unit == "vector" else 0
    breakdown = CycleBreakdown(vector=cycles, overhead=overhead)
    return LayerResult(
        name=layer.name, kind=getattr(layer, "op", layer.kind), unit=unit, macs=0,
        cycles=breakdown.total, compute_cycles=0, breakdown=breakdown, mapping_efficiency=0.0, folds=0,
        dram=DramTraffic(), compulsory=DramTraffic(), sram=SramAccesses(), peak_dram_bytes_per_cycle=0.0,
        analytical_cycles=breakdown.total, roofline_cycles=cycles,
    )


def analyze_layer(layer: Layer, hw: Hardware, batch: int) -> LayerResult:
    mapping = map_layer(layer, hw.array, batch)
    if mapping is None:
        return non_gemm_result(layer, hw, batch)
    compulsory = compulsory_traffic(layer, hw, batch)
    dram = compulsory
    compute = mapping.compute
    memory = memory_cycles(dram.total, hw)
    stall_in, stall_w, stall_out = split_stall(memory - compute.total, dram)
    breakdown = CycleBreakdown(computing=compute.stream, fill_drain=compute.fill_drain, preload=compute.preload,
                               stall_input=stall_in, stall_weight=stall_w, stall_output=stall_out,
                               overhead=hw.control.layer_overhead_cycles)
    cycles = breakdown.total
    busy = max(cycles - hw.control.layer_overhead_cycles, 1)
    return LayerResult(
        name=layer.name, kind=layer.kind, unit="array", macs=layer.macs(batch), cycles=cycles,
        compute_cycles=compute.total, breakdown=breakdown, mapping_efficiency=mapping.mapping_efficiency,
        folds=mapping.folds, dram=dram, compulsory=compulsory, sram=array_sram(mapping, hw, dram),
        peak_dram_bytes_per_cycle=dram.total / busy, analytical_cycles=cycles,
        roofline_cycles=roofline_cycles(compute.total, compulsory, hw),
    )


def analyze(hw: Hardware, workload: Workload) -> RunResult:
    """The closed-form model of a whole workload."""
    layers = tuple(analyze_layer(layer, hw, workload.batch) for layer in workload.layers)
    return RunResult(hardware=hw, workload=workload, model="analytical", layers=layers)

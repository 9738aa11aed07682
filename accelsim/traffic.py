"""Bytes that must move, and the SRAM accesses a mapping implies: shared by both models."""

from __future__ import annotations

from accelsim.config.hardware import Hardware
from accelsim.config.workload import Conv2d, Layer
from accelsim.mapping import LayerMapping, Operand, strategy_for
from accelsim.mapping.layer_mapping import array_accesses
from accelsim.mapping.tiling import Geometry
from accelsim.stats import DramTraffic, SramAccesses


def compulsory_traffic(layer: Layer, hw: Hardware, batch: int) -> DramTraffic:
    """Every tensor moved once: the input pixels the windows touch, all weights read, all
    outputs written, at the element sizes of ``array.bytes_per_*``."""
    a = hw.array
    input_bytes = layer.input_elements(batch) * a.bytes_per_input
    if isinstance(layer, Conv2d):  # windows may skip rows or columns (stride > kernel)
        input_bytes = Geometry(layer, hw).spatial(0, batch * layer.P * layer.Q) * layer.C * a.bytes_per_input
    return DramTraffic(input_read=input_bytes,
                       weight_read=layer.weight_elements(batch) * a.bytes_per_weight,
                       output_write=layer.output_elements(batch) * a.bytes_per_output)


def sram_accesses(hw: Hardware, reads: dict[Operand, int], writes: dict[Operand, int]) -> SramAccesses:
    """Bytes read and written per operand, booked on the buffer that holds each operand's kind."""
    memory = hw.memory
    totals = {level.name: [0, 0] for level in memory.levels}
    for operand in Operand:
        name = memory.buffer_for(operand.kind).name
        totals[name][0] += reads.get(operand, 0)
        totals[name][1] += writes.get(operand, 0)
    return SramAccesses(tuple((name, r, w) for name, (r, w) in totals.items()))


def array_sram(mapping: LayerMapping, hw: Hardware, dram: DramTraffic, extra_stationary: int = 0) -> SramAccesses:
    """SRAM bytes: the array's side (from the mapping) plus the DMA side (the DRAM traffic).

    ``extra_stationary`` counts stationary elements read again because the
    stream was split into blocks (each block reloads the stationary tile).
    """
    a = hw.array
    acc = array_accesses(mapping, a)
    reads = dict(acc.reads)
    stationary = strategy_for(a.dataflow).stationary
    if stationary is not Operand.OUTPUT:
        reads[stationary] += extra_stationary
    return sram_accesses(hw, {
        Operand.INPUT: reads[Operand.INPUT] * a.bytes_per_input,
        Operand.WEIGHT: reads[Operand.WEIGHT] * a.bytes_per_weight,
        Operand.OUTPUT: reads[Operand.OUTPUT] * a.bytes_per_psum + dram.write,
    }, {
        Operand.INPUT: dram.input_read,
        Operand.WEIGHT: dram.weight_read,
        Operand.OUTPUT: acc.writes[Operand.OUTPUT] * a.bytes_per_psum + dram.psum_read,
    })

"""Small hwconfigs several test modules use."""

from accelsim.config.hardware import (
    ArrayConfig,
    BufferConfig,
    Dataflow,
    DmaConfig,
    DramConfig,
    Hardware,
    SramConfig,
)

# Gemmini as the chip has it (ucb-bar/gemmini Configs.scala): one 256 KiB scratchpad for inputs
# and weights, a 64 KiB accumulator; 16 requests of 64 B in flight.
SHARED_SCRATCHPAD = """\
name: gemmini_shared
clock_mhz: 1000
array: {rows: 16, cols: 16, dataflow: ws}
buffers:
  - {name: scratchpad, size_kib: 256, holds: [activations, weights]}
  - {name: accumulator, size_kib: 64, holds: [psums]}
dram: {bandwidth_gb_per_s: 16, latency_ns: 100, max_outstanding: 16}
"""


def tiny(latency_ns=0.0, setup=0, overhead=0, vector=None, activations="dram", input_kib=1.0,
         input_double_buffered=True, prefetch=True, weight_kib=1.0):
    """A 4 x 4 WS array at 1 GHz with 1 KiB buffers and one byte per cycle of DRAM: small enough
    to work timelines out by hand."""
    from accelsim.config.hardware import ActivationPlacement, ControlConfig, VectorUnitConfig

    return Hardware(
        name="tiny", clock_mhz=1000,
        array=ArrayConfig(rows=4, cols=4, dataflow=Dataflow.WS, bytes_per_psum=4, pipelined_folds=True),
        sram=SramConfig(input=BufferConfig(size_kib=input_kib, double_buffered=input_double_buffered),
                        weight=BufferConfig(size_kib=weight_kib), output=BufferConfig(size_kib=1)),
        # 1 GB/s at 1 GHz: one byte per cycle; plenty of requests in flight
        dram=DramConfig(bandwidth_gb_per_s=1, latency_ns=latency_ns, burst_bytes=64, max_outstanding=1024),
        dma=DmaConfig(engines=3, setup_cycles=setup, chunk_bytes=16384, prefetch_next_layer=prefetch),
        vector=VectorUnitConfig(elements_per_cycle=vector) if vector else None,
        control=ControlConfig(layer_overhead_cycles=overhead),
        activations=ActivationPlacement(activations),
    )

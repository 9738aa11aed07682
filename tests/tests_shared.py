"""Small hwconfigs several test modules use (text, so tests write them where they need them)."""

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

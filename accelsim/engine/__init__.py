"""The discrete-event engine (SimPy): DRAM, DMA engines, SRAM buffers and the array.

Events happen per step and per DMA chunk, never per cycle or per MAC; one
``simpy.Environment`` per simulation, one time unit = one accelerator cycle.
"""

from accelsim.engine.simulator import simulate

__all__ = ["simulate"]

"""Simulation against the real world: measured data, comparison, calibration, formula checks.

``measured`` reads per-layer measurements (a CSV format, ONNX Runtime profiles)
and pairs them with a workload; ``agreement`` holds the error and correlation
statistics; ``compare`` lines a run up against measurements; ``calibrate`` fits
physical parameters to them; ``formulas`` checks closed-form cycle formulas
against the simulator. docs/calibration.md documents all of it.
"""

from accelsim.compare.measured import Measured, MeasuredFile, load_measured, match_layers, read_measured

__all__ = ["Measured", "MeasuredFile", "load_measured", "match_layers", "read_measured"]

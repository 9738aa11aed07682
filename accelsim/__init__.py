"""accelsim: a cycle-approximate simulator for neural-network accelerators.

Public API::

    hw = accelsim.load_hardware("tpu_v1")          # or a YAML / SCALE-Sim .cfg path
    wl = accelsim.load_workload("resnet50", batch=1)
    run = accelsim.simulate(hw, wl)                # the SimPy engine
    est = accelsim.analyze(hw, wl)                 # the closed-form model
    res = accelsim.sweep("sweep.yaml", "sweep.h5")  # many designs in parallel (docs/sweeps.md)
"""

__version__ = "0.1.0"

from accelsim.config import Hardware, Workload, load_hardware, load_workload  # noqa: E402
from accelsim.models import analyze, simulate  # noqa: E402  (the engine and the closed form, size-checked)
from accelsim.errors import AccelsimError, ConfigError, MappingError, SimulationError  # noqa: E402
from accelsim.stats import LayerResult, RunResult  # noqa: E402
from accelsim import sweep  # noqa: E402  (callable: accelsim.sweep(spec, "results.h5"); docs/sweeps.md)

__all__ = [
    "AccelsimError", "ConfigError", "Hardware", "LayerResult", "MappingError", "RunResult",
    "SimulationError", "Workload", "analyze", "load_hardware", "load_workload", "simulate", "sweep", "__version__",
]

"""accelsim: a cycle-approximate simulator for neural-network accelerators.

Public API::

    hw = accelsim.load_hardware("tpu_v1")          # or a YAML / SCALE-Sim .cfg path
    wl = accelsim.load_workload("resnet50", batch=1)
    run = accelsim.simulate(hw, wl)                # the SimPy engine
    est = accelsim.analyze(hw, wl)                 # the closed-form model
    res = accelsim.sweep("sweep.yaml", "sweep.h5")  # many designs in parallel (docs/sweeps.md)
"""

__version__ = "0.1.0"

import importlib

# The public names and the modules that define them, imported on first use (PEP 562) so that
# ``import accelsim`` and ``accelsim --help`` load nothing they do not need.
_PUBLIC = {
    "Hardware": "accelsim.config", "Workload": "accelsim.config", "load_hardware": "accelsim.config",
    "load_workload": "accelsim.config",
    "analyze": "accelsim.models", "simulate": "accelsim.models",  # the engine and the closed form, size-checked
    "AccelsimError": "accelsim.errors", "ConfigError": "accelsim.errors", "MappingError": "accelsim.errors",
    "SimulationError": "accelsim.errors",
    "LayerResult": "accelsim.stats", "RunResult": "accelsim.stats",
}


def __getattr__(name: str):
    if name == "sweep":  # callable: accelsim.sweep(spec, "results.h5"); docs/sweeps.md
        return importlib.import_module("accelsim.sweep")
    if name not in _PUBLIC:
        raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC) | {"sweep"})


__all__ = [
    "AccelsimError", "ConfigError", "Hardware", "LayerResult", "MappingError", "RunResult",
    "SimulationError", "Workload", "analyze", "load_hardware", "load_workload", "simulate", "sweep", "__version__",
]

"""The models a run can use, by name: one registry for the CLI, sweeps and comparisons."""

from __future__ import annotations

from typing import Callable

from accelsim.analytical import analyze
from accelsim.engine import simulate
from accelsim.config import Hardware, Workload
from accelsim.errors import ConfigError
from accelsim.stats import RunResult

MODELS: dict[str, Callable[[Hardware, Workload], RunResult]] = {
    "engine": simulate,       # the default: discrete-event simulation
    "analytical": analyze,
}


def run_model(name: str, hw: Hardware, workload: Workload) -> RunResult:
    if name not in MODELS:
        raise ConfigError("--model", "", f"expected one of {', '.join(MODELS)}, got {name!r}")
    return MODELS[name](hw, workload)

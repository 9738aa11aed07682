"""Bounds on the work of one run, checked before anything large is allocated.

Each field of a hwconfig and a workload has its own bound (``config/schema.py``), but sizes
multiply: a 1 x 1 array running AlexNet's fc6 is 38 million folds (7 GB of fold tables), and a
1-byte DMA chunk turns a network into a hundred million engine events. So a run is also checked
as a whole, first in closed form from the mapping (folds and compute cycles per layer: no
schedule built yet), then, for the engine, from the schedule (DMA chunks, a bound on each
layer's cycles, which sizes the bandwidth trace). A run beyond a bound is a one-line
``ConfigError``; the bounds are far above every shipped design and network (at batch 8 the
largest shipped run has 1.6 million folds in one layer and 0.56 million DMA chunks) and are
documented in docs/hardware.md ("Input limits").
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.config import Hardware, Workload
from accelsim.errors import ConfigError

MAX_FOLDS_PER_LAYER = 2**21          # ~200 bytes of fold tables each
MAX_FOLDS_PER_RUN = 2**24
MAX_COMPUTE_CYCLES_PER_LAYER = 2**40  # keeps every byte and cycle count of a layer within 64 bits
MAX_ENGINE_CYCLES_PER_LAYER = 2**32   # the engine's bandwidth trace has one window per 1,000 cycles
MAX_DMA_CHUNKS_PER_RUN = 5_000_000    # ~2.5 us and ~180 bytes per chunk in the engine


def _refuse(hw: Hardware, workload: Workload, what: str) -> ConfigError:
    return ConfigError(f"{workload.name} on {hw.name}", "", f"{what} (docs/hardware.md, Input limits)")


def check_mapping(hw: Hardware, workload: Workload) -> None:
    """Folds and compute cycles of every layer, in closed form, within their bounds."""
    from accelsim.mapping.layer_mapping import map_layer

    total = 0
    for layer in workload.layers:
        mapping = map_layer(layer, hw.array, workload.batch)
        if mapping is None:
            continue
        if mapping.folds > MAX_FOLDS_PER_LAYER:
            raise _refuse(hw, workload, f"layer {layer.name}: {mapping.folds:,} folds on a {hw.array.rows}x"
                                        f"{hw.array.cols} array, expected at most {MAX_FOLDS_PER_LAYER:,}")
        if mapping.compute.total > MAX_COMPUTE_CYCLES_PER_LAYER:
            raise _refuse(hw, workload, f"layer {layer.name}: {mapping.compute.total:,} compute cycles, expected "
                                        f"at most {MAX_COMPUTE_CYCLES_PER_LAYER:,}")
        total += mapping.folds
    if total > MAX_FOLDS_PER_RUN:
        raise _refuse(hw, workload, f"{total:,} folds in all, expected at most {MAX_FOLDS_PER_RUN:,}")


def check_schedule(schedule) -> None:
    """For the engine: DMA chunks of the run, and a bound on each layer's cycles, within their bounds.

    A layer cannot take longer than its compute, its overhead, every descriptor's setup and
    bytes one after another at the achievable DRAM rate, and one DRAM latency per step.
    """
    from accelsim.schedule import DMA_COLUMNS

    moved_columns = [column for columns in DMA_COLUMNS.values() for column in columns]
    hw, workload = schedule.hardware, schedule.workload
    chunk, rate = hw.dma.chunk_bytes, hw.achievable_dram_bytes_per_cycle
    chunks = 0
    for ls in schedule.layers:
        steps = ls.steps
        if not len(steps):
            continue
        moved = np.stack([steps[c] for c in moved_columns])
        chunks += int((-(-moved // chunk)).sum())
        descriptors = int(np.count_nonzero(moved))
        memory = 0.0 if math.isinf(rate) else float(moved.sum()) / rate
        compute = sum(int(steps[c].sum()) for c in ("stream", "fill_drain", "preload", "vector"))
        bound = (compute + hw.control.layer_overhead_cycles + descriptors * hw.dma.setup_cycles + memory
                 + len(steps) * hw.dram_latency_cycles)
        if bound > MAX_ENGINE_CYCLES_PER_LAYER:
            raise _refuse(hw, workload, f"layer {ls.layer.name}: up to {bound:,.0f} cycles in the engine, expected "
                                        f"at most {MAX_ENGINE_CYCLES_PER_LAYER:,} (use --model analytical)")
        if chunks > MAX_DMA_CHUNKS_PER_RUN:
            raise _refuse(hw, workload, f"more than {MAX_DMA_CHUNKS_PER_RUN:,} DMA chunks of dma.chunk_bytes = "
                                        f"{chunk:,} (raise dma.chunk_bytes, or use --model analytical)")


def documented_limits() -> list[tuple[str, str, str]]:
    """(what, bound, why) for every bound that is not a field's own: the table in docs/hardware.md."""
    from accelsim.cli.common import MAX_OPTION_INT
    from accelsim.cli.validate_cmd import MAX_REFERENCE_PES
    from accelsim.compare import measured
    from accelsim.config import loader
    from accelsim.sweep import constraints, spec

    def n(value: int) -> str:
        return f"{value:,}"

    return [
        ("a text file (YAML, CSV, JSON, SCALE-Sim .cfg)", f"{loader.MAX_FILE_BYTES // 2**20} MiB, UTF-8 (a BOM is "
         "allowed)", "the whole file is read into memory; other encodings are refused with one line"),
        ("YAML nesting", f"{loader.MAX_YAML_DEPTH} levels", "the parser recurses per level"),
        ("YAML aliases (`*name`)", n(loader.MAX_YAML_ALIASES), "references to anchors"),
        ("YAML values once aliases are expanded", n(loader.MAX_YAML_NODES), "an alias bomb (\"billion laughs\") "
         "is refused before it is expanded"),
        ("digits of an integer (YAML, ONNX Runtime profile, .cfg)", n(loader.MAX_NUMBER_DIGITS),
         "every bounded field is far smaller"),
        ("ONNX Runtime profile nesting", f"{measured.MAX_JSON_DEPTH} levels", "a trace-event file is flat"),
        ("a measured-data CSV row", f"{n(measured.MAX_LINE_CHARS)} characters", "a row is a layer"),
        ("command-line integers (`--jobs`, `--top`, ...)", n(MAX_OPTION_INT), "`--batch` has the workload bound"),
        ("folds of one layer", n(MAX_FOLDS_PER_LAYER), "about 200 bytes of fold tables each (a 1 x 1 array "
         "running AlexNet's fc6 would be 38 million)"),
        ("folds of one run", n(MAX_FOLDS_PER_RUN), "about 1 s per million folds"),
        ("compute cycles of one layer", n(MAX_COMPUTE_CYCLES_PER_LAYER), "byte and cycle counts stay within 64 bits"),
        ("engine cycles of one layer (estimated from the schedule)", n(MAX_ENGINE_CYCLES_PER_LAYER),
         "the bandwidth trace keeps one window per 1,000 cycles; the analytical model has no such limit"),
        ("DMA chunks of one engine run", n(MAX_DMA_CHUNKS_PER_RUN), "one event each, about 2.5 us and 180 "
         "bytes (the largest shipped run at batch 8 has 0.56 million)"),
        ("PEs in accelsim validate", n(MAX_REFERENCE_PES), "the cycle-level register model holds every PE"),
        ("sweep axis values (a list or a range)", n(spec.MAX_RANGE_VALUES), "a typo in a step"),
        ("sweep designs considered (axis combinations x bases)", n(spec.MAX_COMBINATIONS), "before constraints"),
        ("sweep points", n(spec.MAX_POINTS), "each a row of the results file"),
        ("sweep layer records (all points)", n(spec.MAX_LAYER_ROWS), "the results file is allocated whole"),
        ("sweep hardware bases, workloads, constraints, batches", n(spec.MAX_ENTRIES), "each"),
        ("a constraint", f"{n(constraints.MAX_CONSTRAINT_CHARS)} characters, {constraints.MAX_CONSTRAINT_DEPTH} "
         "levels of nesting", "the interpreter recurses per level"),
    ]

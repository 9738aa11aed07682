"""A simulation's timeline as Chrome trace-event JSON (opens in Perfetto and chrome://tracing).

One process per run; one track (thread) for the array, one per DMA engine's
loads, one for the store path, and a DRAM bandwidth counter. With several cores
each core has its own tracks (``core1 array``, ``core1 dma0 loads``, ...; thread
ids offset by ``CORE_TID`` per core), and a core's wait for the layer's slowest
core is a ``load_imbalance`` span at the end of its layer. Spans are B/E
pairs, written per track in time order and properly nested (layer spans
contain their steps), so every begin has its end. Times are microseconds
(cycles / clock_mhz); every span also carries its cycles in ``args``.

Array track: per layer a span named after the layer; inside it the control
overhead, each wait charged to a stall part (``stall_input``, ...), each step's
compute (``compute``, or ``vector`` for the vector unit) and the tail while the
last stores drain (``stall_output``): the same accounting as the cycle
breakdown, so the children tile the layer exactly.

DMA tracks: per descriptor a span from its first chunk's start on a DRAM
channel to its last chunk's end (clipped at the next descriptor on the same
track, which can only overlap it with several DRAM channels), named ``load
input``, ``load weight``, ``load psum`` or ``store``.
"""

from __future__ import annotations

import json
import math

from accelsim import __version__
from accelsim.engine.simulator import BANDWIDTH_WINDOW_CYCLES
from accelsim.engine.timeline import Timeline
from accelsim.stats import RunResult

PID = 1
ARRAY_TID = 1
DMA_TID = 10       # + engine index
STORE_TID = 100
CORE_TID = 1000    # thread ids of core c: the above + c x CORE_TID
MAX_COUNTER_SAMPLES = 5000


def _span_events(spans: list[tuple], tid: int, us) -> list[dict]:
    """B/E events of ``(start, end, depth, name, cat, args)`` spans, nested by depth, in time order.

    At equal times ends come before begins, deeper ends first and shallower begins first,
    so a parent opens before and closes after its children. Empty spans are dropped.
    """
    keyed = []
    for i, (start, end, depth, name, cat, args) in enumerate(spans):
        if end <= start:
            continue
        keyed.append(((start, 1, depth, i), {"ph": "B", "pid": PID, "tid": tid, "ts": us(start), "name": name,
                                             "cat": cat, "args": args}))
        keyed.append(((end, 0, -depth, -i), {"ph": "E", "pid": PID, "tid": tid, "ts": us(end), "name": name,
                                             "cat": cat}))
    keyed.sort(key=lambda item: item[0])
    return [event for _, event in keyed]


def _array_spans(run: RunResult, timeline: Timeline, core: int = 0) -> list[tuple]:
    spans = []
    schedule = timeline.schedule
    record = timeline.core(core)
    steps_by_layer: dict[int, list] = {}
    for step in record.steps:
        steps_by_layer.setdefault(step[0], []).append(step)
    for li, (layer, times) in enumerate(zip(run.layers, record.layers)):
        if times.end <= times.start:
            continue
        spans.append((times.start, times.end, 0, layer.name, "layer",
                      {"kind": layer.kind, "unit": layer.unit, "cycles": layer.cycles, "macs": layer.macs,
                       "dominant": layer.breakdown.dominant()}))
        if times.overhead:
            spans.append((times.start, times.start + times.overhead, 1, "overhead", "overhead",
                          {"cycles": times.overhead}))
        last = times.start + times.overhead
        rows = schedule.layers[li].core(core).steps
        for _, si, waited_from, start, end, cause in steps_by_layer.get(li, []):
            if cause is not None and start > waited_from:
                spans.append((waited_from, start, 1, cause, "stall", {"step": si, "cycles": start - waited_from}))
            row = rows[si]
            name = "vector" if layer.unit == "vector" else "compute"
            spans.append((start, end, 1, name, "compute",
                          {"step": si, "cycles": end - start, "folds": int(row["folds"]),
                           "stream": int(row["stream"]), "fill_drain": int(row["fill_drain"]),
                           "preload": int(row["preload"])}))
            last = end
        waited = times.parts.get("load_imbalance", 0)
        if times.end - waited > last:
            spans.append((last, times.end - waited, 1, "stall_output", "stall",
                          {"cycles": times.end - waited - last, "tail": True}))
        if waited:
            spans.append((times.end - waited, times.end, 1, "load_imbalance", "stall", {"cycles": waited}))
    return spans


def _transfer_spans(records: list[tuple], names: list[str]) -> list[tuple]:
    """Descriptor spans of one track, each clipped at the next one's start."""
    records = sorted(records, key=lambda r: (r[4], r[3]))
    spans = []
    for i, (_, (kind, li, si), nbytes, began, first, transfer_end, arrival) in enumerate(records):
        end = transfer_end if i + 1 == len(records) else min(transfer_end, records[i + 1][4])
        name = "store" if kind == "store" else f"load {kind}"
        spans.append((first, end, 0, name, kind,
                      {"layer": names[li], "step": si, "bytes": nbytes, "queued_cycle": began,
                       "first_chunk_cycle": first, "transfer_end_cycle": transfer_end, "arrival_cycle": arrival}))
    return spans


def _bandwidth_counter(run: RunResult, timeline: Timeline, us) -> list[dict]:
    """DRAM GB/s averaged over windows (1,000 cycles, wider for long runs), as a counter track."""
    cycles = run.cycles
    if not cycles or timeline.dram is None:
        return []
    import numpy as np

    window = max(BANDWIDTH_WINDOW_CYCLES, math.ceil(cycles / MAX_COUNTER_SAMPLES))
    bounds = np.append(np.arange(0, cycles, window, dtype=np.float64), float(cycles))
    moved = np.diff(timeline.dram.moved(bounds))
    rates = moved / np.diff(bounds) * run.hardware.clock_hz / 1e9
    events = [{"ph": "C", "pid": PID, "name": "DRAM GB/s", "ts": us(int(b)), "args": {"GB/s": round(float(r), 6)}}
              for b, r in zip(bounds[:-1], rates)]
    events.append({"ph": "C", "pid": PID, "name": "DRAM GB/s", "ts": us(cycles), "args": {"GB/s": 0.0}})
    return events


def trace_events(run: RunResult, timeline: Timeline) -> dict:
    """The Chrome trace-event document (a dict) of one engine run and its filled timeline."""
    hw = run.hardware
    clock_mhz = hw.clock_mhz

    def us(cycle: int) -> float:
        return cycle / clock_mhz

    names = [layer.name for layer in run.layers]
    meta = [{"ph": "M", "pid": PID, "name": "process_name",
             "args": {"name": f"{hw.name}: {run.workload.name}, batch {run.workload.batch}"}}]

    def thread(tid: int, name: str, order: int) -> None:
        meta.append({"ph": "M", "pid": PID, "tid": tid, "name": "thread_name", "args": {"name": name}})
        meta.append({"ph": "M", "pid": PID, "tid": tid, "name": "thread_sort_index", "args": {"sort_index": order}})

    events = []
    for core in range(hw.cores):
        record = timeline.core(core)
        prefix, base = (f"core{core} " if hw.cores > 1 else ""), core * CORE_TID
        order = core * (record.engines + 2)
        thread(base + ARRAY_TID, f"{prefix}array", order)
        events += _span_events(_array_spans(run, timeline, core), base + ARRAY_TID, us)
        loads: dict[int, list] = {i: [] for i in range(record.engines)}
        stores = []
        for transfer in record.transfers:
            (stores if transfer[1][0] == "store" else loads[transfer[0]]).append(transfer)
        for engine, records in loads.items():
            kinds = sorted({r[1][0] for r in records})
            thread(base + DMA_TID + engine, f"{prefix}dma{engine} loads" + (f" ({', '.join(kinds)})" if kinds else ""),
                   order + 1 + engine)
            events += _span_events(_transfer_spans(records, names), base + DMA_TID + engine, us)
        thread(base + STORE_TID, f"{prefix}store path (dma{record.store_engine})", order + 1 + record.engines)
        events += _span_events(_transfer_spans(stores, names), base + STORE_TID, us)
    events += _bandwidth_counter(run, timeline, us)
    return {
        "traceEvents": meta + events,
        "otherData": {"accelsim_version": __version__, "hardware": hw.name, "workload": run.workload.name,
                      "batch": run.workload.batch, "clock_mhz": clock_mhz, "cycles": run.cycles,
                      "time_unit": "microseconds; one cycle is 1/clock_mhz"},
    }


def to_trace_json(run: RunResult, timeline: Timeline) -> str:
    return json.dumps(trace_events(run, timeline), separators=(",", ":"), allow_nan=False) + "\n"

#!/usr/bin/env python3
"""Mutation fuzzing of every input accelsim reads, through the command line's own entry point.

Each case starts from a shipped or generated valid input of one kind, mutates it (a value
replaced by a hostile one, a key dropped or added, bytes flipped, the file truncated,
re-encoded, nested deep or turned into an alias bomb) and runs the ``accelsim`` command that
reads it (``accelsim.cli.main``, in a forked child per case). A case passes when the command
exits 0 (the mutation left valid input) or 2 with exactly one line on stderr; anything else is
a traceback (or another exit status), a hang (over ``--timeout-s``, default 10 s) or a memory
blow-up (over ``--memory-mib`` of resident memory, default 1024, or a MemoryError). The time
limit is the child's CPU time (so a busy machine does not turn quick cases into hangs), and its
address space is capped a little above the memory limit, so a blow-up fails fast.

    python scripts/fuzz.py --cases 5000                 # about 600 per input kind
    python scripts/fuzz.py --cases 200 --kind hardware --show 5

``tests/test_fuzz.py`` runs the same mutators in the test suite, in-process and bounded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WALL_FACTOR = 6  # wall-clock limit of a case, in CPU-time limits (a blocked child)
sys.path.insert(0, str(ROOT))

# ---------------------------------------------------------------- hostile values

HOSTILE: list[Any] = [
    0, -1, 1, 2**31, 2**63, -2**63, 10**12, 10**100, 1e100, -1e-300, 1e-300, math.inf, -math.inf, math.nan,
    0.5, 1.5, True, False, None, "", " ", "x", "1:40", "010", "0o10", "0x10", "1_000", "yes", "2024-05-02",
    "$\\frac{$", "%(x)s", "%", "\x00", "é", "a" * 5000, [], [1], [[[]]], {}, {"a": 1}, {"k": [1, 2]},
]
HOSTILE_TOKENS = ["010", "0o777", "1:40", "1e999", ".inf", "-.inf", ".nan", "9" * 60, "2e63", "-0", "~", "yes",
                  "[", "]", "{", "}", "&a", "*a", "!!binary", "!!set", "? [a]", "<<", "%", "\t", "\\x", "'", '"']


def _leaves(data: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every value of a nested structure (the structure itself included)."""
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _leaves(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _leaves(value, path + (i,))
    return out


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def _deep(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def mutate_data(rng: random.Random, data: Any) -> Any:
    """One to three structural mutations of parsed data."""
    data = json.loads(json.dumps(data))  # a private copy (the seeds are plain data)
    for _ in range(rng.randint(1, 3)):
        paths = _leaves(data)
        path = rng.choice(paths)
        move = rng.random()
        parent = _get(data, path[:-1]) if path else None
        if move < 0.55:
            value = rng.choice(HOSTILE)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and rng.random() < 0.3:
                current = _get(data, path)
                if isinstance(current, (int, float)) and not isinstance(current, bool) and math.isfinite(value):
                    value = current * rng.choice([10, 1000, 10**6, -1, 0]) if rng.random() < 0.7 else value
            data = _set(data, path, value)
        elif move < 0.7 and path and isinstance(parent, dict):
            del parent[path[-1]]
        elif move < 0.8 and path and isinstance(parent, list) and len(parent) > 1:
            del parent[path[-1]]
        elif move < 0.88 and isinstance(_get(data, path), dict):
            _get(data, path)[rng.choice(["extra", "typo_key", "rows", "name", "type", "0"])] = rng.choice(HOSTILE)
        elif move < 0.94 and isinstance(_get(data, path), list) and _get(data, path):
            items = _get(data, path)
            items.extend(json.loads(json.dumps(items)) * rng.choice([1, 3]))
        else:
            data = _set(data, path, _deep(rng.choice([10, 70, 200])))  # deeper: mutate_text
    return data


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def mutate_text(rng: random.Random, text: str) -> bytes:
    """Text-level damage: tokens, bytes, truncation, encodings, nesting, alias bombs."""
    move = rng.random()
    if move < 0.3:  # a number or word replaced by a hostile token
        import re

        spots = [m.span() for m in re.finditer(r"[0-9A-Za-z_.]+", text)]
        if spots:
            for _ in range(rng.randint(1, 3)):
                a, b = rng.choice(spots)
                text = text[:a] + rng.choice(HOSTILE_TOKENS) + text[b:]
                spots = [m.span() for m in re.finditer(r"[0-9A-Za-z_.]+", text)]
        return text.encode()
    if move < 0.45:  # random bytes flipped
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            if raw:
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if move < 0.55:  # truncated
        raw = text.encode()
        return raw[: rng.randrange(len(raw) + 1)]
    if move < 0.65:  # another encoding
        return text.encode(rng.choice(["utf-16", "utf-32", "latin-1", "utf-8-sig", "cp1252"]), errors="replace") \
            + ("é".encode("latin-1") if rng.random() < 0.5 else b"")
    if move < 0.75:  # lines repeated, dropped or swapped
        lines = text.splitlines()
        if lines:
            i = rng.randrange(len(lines))
            choice = rng.random()
            if choice < 0.4:
                lines.insert(i, lines[i])
            elif choice < 0.7:
                del lines[i]
            else:
                j = rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
        return ("\n".join(lines) + "\n").encode()
    if move < 0.85:  # a huge line, deep nesting, or an alias bomb appended
        pick = rng.random()
        if pick < 0.33:
            return (text + "\n" + "x" * 300_000 + "\n").encode()
        if pick < 0.66:
            return (text + "\n" + "deep: " + "[" * 5000 + "]" * 5000 + "\n").encode()
        bomb = "lol0: &l0 [a, a, a, a, a, a, a, a, a, a]\n" + "".join(
            f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9))
        return (bomb + text).encode()
    return text.encode()  # unchanged: a valid input must still work


# ---------------------------------------------------------------- input kinds


@dataclass
class Case:
    kind: str
    args: list[str]        # the accelsim command line
    files: dict[str, bytes]  # file name (relative to the case folder) -> content


def _yaml_text(data: Any) -> str:
    from accelsim.config.loader import dump_yaml

    try:
        return dump_yaml(data)
    except Exception:  # noqa: BLE001 - a value the dumper cannot write (a NaN key...): use JSON, also YAML
        return json.dumps(data, allow_nan=True) + "\n"


def _data_or_text(rng: random.Random, text: str) -> bytes:
    """Half structural (parsed, mutated, dumped), half text-level."""
    from accelsim.config.loader import parse_yaml

    if rng.random() < 0.5:
        return _yaml_text(mutate_data(rng, parse_yaml(text, "seed"))).encode()
    return mutate_text(rng, text)


def _shipped(kind: str, suffix: str) -> list[Path]:
    return sorted((ROOT / kind).glob(f"*{suffix}"))


SMALL_WORKLOADS = ["alexnet", "bert_base_layer", "mobilenet_v1", "resnet18"]
SPEC_SEED = """\
name: fuzz
hardware: gemmini
axes:
  array.rows: [8, 16]
  dram.bandwidth_gb_per_s: {start: 8, stop: 16, num: 2, scale: log}
constraints:
  - array.rows >= 8 and array.dataflow in ('ws', 'os')
  - sram.input.size_kib * 2 >= 64
workloads: [{workload: alexnet, batch: [1]}]
model: analytical
"""
CFG_SEED = (ROOT / "hwconfigs" / "scalesim_example.cfg")
TOPOLOGY_ROWS = 12  # of SCALE-Sim's ResNet-50 topology, to keep a case fast


def _profile_seed() -> str:
    from accelsim.config import load_workload

    events, ts = [], 0
    for run in range(3):
        events.append({"cat": "Session", "name": "model_run", "ts": ts, "dur": 5000, "ph": "X"})
        for layer in load_workload("alexnet").layers:
            events.append({"cat": "Node", "name": f"{layer.name}_kernel_time", "ts": ts + 1, "dur": 100 + run,
                           "ph": "X", "args": {"op_name": "Conv"}})
            ts += 200
        ts += 1000
    return json.dumps(events)


def _onnx_seed() -> bytes:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    def w(name, shape):
        return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)

    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p1"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "wfc"], ["y"], name="fc", transB=1),
             helper.make_node("MatMul", ["y", "wmm"], ["z"], name="mm")]
    graph = helper.make_graph(nodes, "fuzz", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 16, 16])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                              initializer=[w("w1", [8, 3, 3, 3]), w("wfc", [10, 512]), w("wmm", [10, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _mutate_onnx(rng: random.Random, seed: bytes) -> bytes:
    import onnx

    if rng.random() < 0.35:  # damaged protobuf bytes
        raw = bytearray(seed)
        if rng.random() < 0.5:
            return bytes(raw[: rng.randrange(len(raw))])
        for _ in range(rng.randint(1, 10)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    model = onnx.load_model_from_string(seed)
    graph = model.graph
    for _ in range(rng.randint(1, 3)):
        move = rng.random()
        if move < 0.3:  # a tensor's dimension
            tensor = rng.choice(list(graph.initializer))
            if tensor.dims:
                i = rng.randrange(len(tensor.dims))
                tensor.dims[i] = rng.choice([0, 1, 2, 7, 10**6, 2**31, 2**40])
                tensor.ClearField("raw_data")
        elif move < 0.5:  # an attribute
            node = rng.choice(list(graph.node))
            for attr in node.attribute:
                if attr.ints:
                    attr.ints[rng.randrange(len(attr.ints))] = rng.choice([0, -1, 2**40, 100, 3])
                elif attr.type == onnx.AttributeProto.INT:
                    attr.i = rng.choice([0, -1, 2**40, 7])
        elif move < 0.65:  # the input's shape
            dims = graph.input[0].type.tensor_type.shape.dim
            d = dims[rng.randrange(len(dims))]
            if rng.random() < 0.5:
                d.dim_value = rng.choice([0, 1, 3, 10**7, 2**40])
            else:
                d.dim_param = rng.choice(["N", "seq", "", "?"])
        elif move < 0.8:  # an operator renamed or rewired
            node = rng.choice(list(graph.node))
            if rng.random() < 0.5:
                node.op_type = rng.choice(["MatMul", "Gemm", "Conv", "LSTM", "Einsum", "Mystery", "Loop", "Add"])
            elif node.input:
                node.input[rng.randrange(len(node.input))] = rng.choice(["x", "w1", "y", "missing", ""])
        elif move < 0.9:  # a node dropped or duplicated
            nodes = list(graph.node)
            i = rng.randrange(len(nodes))
            nodes.insert(i, nodes[i]) if rng.random() < 0.5 else nodes.pop(i)
            del graph.node[:]
            graph.node.extend(nodes)
        else:
            model.ir_version = rng.choice([0, 1, 3, 99])
            model.opset_import[0].version = rng.choice([1, 7, 17, 999])
    return model.SerializeToString()


def _cli_case(rng: random.Random) -> list[str]:
    seeds = [
        ["run", "--model", "analytical", "--hw", "gemmini", "--workload", "alexnet"],
        ["run", "--model", "analytical", "--hw", "tpu_v1", "--workload", "resnet18", "--format", "csv"],
        ["run", "--hw", "gemmini", "--workload", "alexnet", "--set", "dram.bandwidth_gb_per_s=8"],
        ["list"],
        ["bench", "micro", "--hw", "gemmini", "--model", "analytical", "--jobs", "1"],
        ["formulas", "--hw", "gemmini", "--workload", "alexnet", "--model", "analytical"],
        ["compare", "--measured", "eyeriss_alexnet_jssc2017", "--model", "analytical"],
        ["runs", "show", "missing.h5"],
        ["schema", "hardware"],
        ["import", "missing.onnx"],
    ]
    args = list(rng.choice(seeds))
    tokens = ["--batch", "--set", "--hw", "--workload", "--dim", "--model", "--format", "-o", "--jobs", "--top",
              "--sort", "--dataflow", "--threshold", "--show", "--budget-s", "-q", "--wide", "--explain"]
    values = ["0", "-1", "x", "9" * 50, str(2**63), "1e9", "", "=", "array.rows=0", "array.rows=", "a.b.c=1",
              "dram.latency_ns=.inf", "array.rows=[[[[1]]]]", "clock_mhz=1:40", "seq=0", "N=99999999999",
              "/", "out/", "ws", "nan", "inf", "--", "-", "%s", "$\\frac{$", "é"]
    for _ in range(rng.randint(1, 4)):
        move = rng.random()
        if move < 0.4:
            args.insert(rng.randint(1, len(args)), rng.choice(tokens))
        if move < 0.8:
            args.insert(rng.randint(1, len(args)), rng.choice(values))
        elif len(args) > 1:
            del args[rng.randrange(1, len(args))]
    return args


def make_case(kind: str, rng: random.Random) -> Case:
    """One mutated input of ``kind`` and the command that reads it (paths relative to the case folder)."""
    if kind == "hardware":
        seed = rng.choice(_shipped("hwconfigs", ".yaml")).read_text()
        return Case(kind, ["run", "--model", rng.choice(["analytical", "analytical", "engine"]), "--hw", "hw.yaml",
                           "--workload", "alexnet"], {"hw.yaml": _data_or_text(rng, seed)})
    if kind == "workload":
        seed = (ROOT / "workloads" / f"{rng.choice(SMALL_WORKLOADS)}.yaml").read_text()
        return Case(kind, ["run", "--model", "analytical", "--hw", "gemmini", "--workload", "wl.yaml"],
                    {"wl.yaml": _data_or_text(rng, seed)})
    if kind == "scalesim_cfg":
        return Case(kind, ["run", "--model", "analytical", "--hw", "s.cfg", "--workload", "alexnet"],
                    {"s.cfg": mutate_text(rng, CFG_SEED.read_text())})
    if kind == "scalesim_topology":
        lines = (ROOT / "workloads" / "scalesim_resnet50.csv").read_text().splitlines()[:TOPOLOGY_ROWS]
        return Case(kind, ["run", "--model", "analytical", "--hw", "gemmini", "--workload", "t.csv"],
                    {"t.csv": mutate_text(rng, "\n".join(lines) + "\n")})
    if kind == "measured_csv":
        seed = (ROOT / "measurements" / "eyeriss_alexnet_jssc2017.csv").read_text()
        return Case(kind, ["compare", "--measured", "m.csv", "--model", "analytical"],
                    {"m.csv": mutate_text(rng, seed)})
    if kind == "ort_profile":
        seed = _profile_seed()
        if rng.random() < 0.5:
            content = json.dumps(mutate_data(rng, json.loads(seed)), allow_nan=True).encode()
        else:
            content = mutate_text(rng, seed)
        return Case(kind, ["compare", "--measured", "p.json", "--hw", "gemmini", "--workload", "alexnet", "--model",
                           "analytical"], {"p.json": content})
    if kind == "sweep_spec":
        return Case(kind, ["sweep", "spec.yaml", "-o", "out.h5", "-j", "1", "-q"],
                    {"spec.yaml": _data_or_text(rng, SPEC_SEED)})
    if kind == "constraints":
        from accelsim.config.loader import parse_yaml

        data = parse_yaml(SPEC_SEED, "seed")
        pieces = ["array.rows", "array.cols", "==", "<", ">=", " and ", " or ", "not ", "(", ")", "+", "*", "/",
                  "//", "%", "1", "0", "9" * 30, "1e308", "'ws'", "('ws', 'os')", " in ", "None", "True", "x.y",
                  "open('x')", "__import__", "lambda: 1", "[1]", "{1}", "**", "sram.input.size_kib"]
        move = rng.random()
        if move < 0.6:
            data["constraints"] = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
                                   for _ in range(rng.randint(1, 3))]
        elif move < 0.8:
            data["constraints"] = ["not " * rng.choice([10, 40, 300, 3000]) + "array.rows > 1"]
        else:
            data["constraints"] = [" and ".join(["array.rows > 1"] * rng.choice([5, 50, 2000]))]
        return Case(kind, ["sweep", "spec.yaml", "-o", "out.h5", "-j", "1", "-q"],
                    {"spec.yaml": _yaml_text(data).encode()})
    if kind == "onnx_model":
        return Case(kind, ["import", "m.onnx", "--dim", "N=1"], {"m.onnx": _mutate_onnx(rng, _onnx_seed())})
    if kind == "cli_args":
        return Case(kind, _cli_case(rng), {})
    raise ValueError(kind)


KINDS = ["hardware", "workload", "scalesim_cfg", "scalesim_topology", "measured_csv", "ort_profile", "sweep_spec",
         "constraints", "onnx_model", "cli_args"]


# ---------------------------------------------------------------- running cases


def verdict(status: int | None, err: str) -> str:
    """ok, or what went wrong: traceback (any other exit, or more than one line), hang, memory."""
    if status in (0,) or (status == 2 and err.count("\n") == 1 and "Traceback" not in err):
        return "ok"
    if "MemoryError" in err:
        return "memory"
    return "traceback"


def run_in_process(case: Case, folder: Path) -> tuple[int, str]:
    """Write the case's files into ``folder`` and run its command here; (exit status, stderr)."""
    import contextlib
    import io

    from accelsim.cli import main

    for name, content in case.files.items():
        (folder / name).write_bytes(content)
    err, out = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                status = main(case.args)
            except SystemExit as exit_:
                status = exit_.code if isinstance(exit_.code, int) else 2
            except BaseException:  # noqa: BLE001 - what the fuzzer looks for
                traceback.print_exc()
                status = 99
    finally:
        os.chdir(cwd)
    return status, err.getvalue()


def run_forked(case: Case, folder: Path, timeout_s: float, memory_mib: int) -> tuple[str, float, int, str]:
    """(verdict, CPU seconds, peak resident MiB, stderr) of one case in a forked child.

    The time limit is on the child's CPU time (RLIMIT_CPU: SIGXCPU when it is spent), so a busy
    machine does not make a quick case look like a hang; a child still running after
    ``WALL_FACTOR`` times the limit in wall-clock time (blocked, not computing) is a hang too.
    """
    read, write = os.pipe()
    began = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
            limit = vm + (memory_mib + 512) * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            cpu = max(1, math.ceil(timeout_s))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            status, err = run_in_process(case, folder)
        except BaseException:  # noqa: BLE001
            status, err = 99, traceback.format_exc()
        os.write(write, json.dumps([status, err[-20_000:]]).encode())
        os._exit(0)
    os.close(write)
    chunks, status, err, hung = [], None, "", False
    deadline = began + max(WALL_FACTOR * timeout_s, 60.0)
    while True:
        ready, _, _ = select.select([read], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            hung = True
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(read, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _, wait_status, usage = os.wait4(pid, 0)
    seconds = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss // 1024
    if hung or (os.WIFSIGNALED(wait_status) and os.WTERMSIG(wait_status) in (signal.SIGXCPU, signal.SIGKILL)) \
            or seconds > timeout_s:
        return "hang", seconds, peak, ""
    try:
        status, err = json.loads(b"".join(chunks) or b"[98, \"the child died\"]")
    except ValueError:
        status, err = 98, f"the child died (wait status {wait_status})"
    result = verdict(status, err)
    if result == "ok" and peak > memory_mib:
        result = "memory"
    return result, seconds, peak, err


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=5000, help="cases in all, dealt round-robin over the kinds")
    p.add_argument("--kind", action="append", choices=KINDS, help="only these kinds (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout-s", type=float, default=10.0)
    p.add_argument("--memory-mib", type=int, default=1024)
    p.add_argument("--show", type=int, default=3, help="failures printed per kind and verdict")
    p.add_argument("--json", metavar="FILE", help="also write the counts and failures as JSON")
    args = p.parse_args()
    kinds = args.kind or KINDS
    import accelsim.cli  # noqa: F401 - imported once, before forking: every child starts warm
    from accelsim.models import simulate  # noqa: F401

    counts = {k: {"cases": 0, "ok": 0, "traceback": 0, "hang": 0, "memory": 0, "max_s": 0.0, "max_mib": 0}
              for k in kinds}
    failures: dict[str, list] = {k: [] for k in kinds}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="accelsim-fuzz-") as tmp:
        for n in range(args.cases):
            kind = kinds[n % len(kinds)]
            rng = random.Random(f"{args.seed}:{n}")
            case = make_case(kind, rng)
            folder = Path(tmp) / str(n)
            folder.mkdir()
            result, seconds, peak, err = run_forked(case, folder, args.timeout_s, args.memory_mib)
            c = counts[kind]
            c["cases"] += 1
            c[result] += 1
            c["max_s"] = max(c["max_s"], round(seconds, 2))
            c["max_mib"] = max(c["max_mib"], peak)
            if result != "ok":
                failures[kind].append({"case": n, "verdict": result, "args": case.args, "stderr": err[-3000:],
                                       "files": {k: v[:300].decode(errors="replace") for k, v in case.files.items()}})
            for path in folder.iterdir():
                path.unlink() if path.is_file() else None
            if (n + 1) % 100 == 0:
                print(f"fuzz: {n + 1}/{args.cases} cases, {time.monotonic() - began:.0f} s", file=sys.stderr,
                      flush=True)
    print(f"accelsim fuzz: {args.cases} cases, seed {args.seed}, timeout {args.timeout_s:g} s, memory "
          f"{args.memory_mib} MiB, {time.monotonic() - began:.0f} s")
    print(f"{'kind':<18} {'cases':>6} {'ok':>6} {'traceback':>9} {'hang':>5} {'>mem':>5} {'max CPU s':>9} "
          f"{'max MiB':>8}")
    for kind, c in counts.items():
        print(f"{kind:<18} {c['cases']:>6} {c['ok']:>6} {c['traceback']:>9} {c['hang']:>5} {c['memory']:>5} "
              f"{c['max_s']:>9.2f} {c['max_mib']:>8}")
    total = {key: sum(c[key] for c in counts.values()) for key in ("cases", "ok", "traceback", "hang", "memory")}
    print(f"{'all':<18} {total['cases']:>6} {total['ok']:>6} {total['traceback']:>9} {total['hang']:>5} "
          f"{total['memory']:>5}")
    for kind, found in failures.items():
        for f in found[: args.show]:
            print(f"\n{kind} case {f['case']} ({f['verdict']}): accelsim {' '.join(f['args'])}\n{f['stderr'][-1500:]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"counts": counts, "failures": failures}, indent=1))
    return 0 if total["ok"] == total["cases"] else 1


if __name__ == "__main__":
    sys.exit(main())

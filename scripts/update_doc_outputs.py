#!/usr/bin/env python3
"""Run the examples the docs show and paste their real output back in: the one way to refresh them.

Tables generated from the code (``<!-- generated: NAME -->`` blocks: hardware and workload
fields with their bounds, input limits, table columns; ``accelsim.config.docs``) and the JSON
Schemas in ``docs/schemas/`` are rewritten first.

A fenced block whose first line is ``$ accelsim ...`` holds commands (each ``$`` line) and
their output (stdout, then stderr); a ``python`` block is a script. Every example of README.md
and docs/*.md runs in one scratch folder that links to the repository's files (so what a
command writes does not land in the tree), README first, then the docs in alphabetical order
(results.md reads the sweep.h5 the README's snippet writes), with the input files the docs
name but do not ship made by ``FIXTURES``. ``tests/test_docs.py`` runs them all the same way
and compares.

Shown output may be abbreviated, explicitly: a line ``...`` stands for any lines, and a line
ending in ``...`` for any line that starts with the text before it. Times (``6.4 s``,
``29.0 ms``, ``3.08 points/s``) are compared as times, not values. A block this script cannot
refill (it is abbreviated) is left alone and listed. A python block preceded by
``<!-- example: not run: REASON -->`` is not run (the test lists those reasons).

    python scripts/update_doc_outputs.py README.md docs/*.md
    python scripts/update_doc_outputs.py docs/calibration.md --only "accelsim formulas"
    python scripts/update_doc_outputs.py --generated-only docs/*.md
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[a-z]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
NOT_RUN = re.compile(r"<!-- example: not run: (?P<reason>[^>]+?) -->\s*$")
TIME = re.compile(r"\d[\d,.]*\s*(?:ms|s|points/s)\b")
TIMEOUT_S = 600


@dataclass
class Command:
    line: str           # the command as shown, without "$ "
    shown: list[str]    # the output lines as shown


@dataclass
class Example:
    doc: Path
    start: int          # offset of the body in the document
    end: int
    indent: str
    kind: str           # "shell" or "python"
    body: str
    commands: list[Command] = field(default_factory=list)
    skip: str = ""      # why a python block is not run

    @property
    def where(self) -> str:
        line = self.doc.read_text()[: self.start].count("\n") + 1
        return f"{self.doc.relative_to(ROOT) if self.doc.is_relative_to(ROOT) else self.doc}:{line}"

    @property
    def abbreviated(self) -> bool:
        return any(line.rstrip().endswith("...") for c in self.commands for line in c.shown)


def examples(doc: Path) -> list[Example]:
    """The runnable examples of a document, in order."""
    text = doc.read_text()
    out = []
    for m in FENCE.finditer(text):
        indent, lang = m.group("indent"), m.group("lang")
        body = "\n".join(line[len(indent):] if line.startswith(indent) else line
                         for line in m.group("body").split("\n"))
        if body.startswith("$ accelsim "):
            ex = Example(doc, m.start("body"), m.end("body"), indent, "shell", body)
            for line in body.rstrip("\n").split("\n"):
                if line.startswith("$ "):
                    ex.commands.append(Command(line[2:], []))
                else:
                    ex.commands[-1].shown.append(line)
            out.append(ex)
        elif lang == "python":
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            skip = NOT_RUN.search(before)
            out.append(Example(doc, m.start("body"), m.end("body"), indent, "python", body,
                               skip=skip.group("reason") if skip else ""))
    return out


# ---------------------------------------------------------------- input files the docs name


def _bad_hwconfig(folder: Path) -> None:
    text = (ROOT / "hwconfigs" / "tpu_v1.yaml").read_text()
    (folder / "x.yaml").write_text(re.sub(r"name: unified_buffer, size_kib: \d+", "name: unified_buffer, size_kib: -4",
                                          text, count=1))


def _calibration_inputs(folder: Path) -> None:
    """docs/calibration.md: its CSV example as my_chip.csv (taken from the page, so it runs as written),
    and hidden.csv: engine cycles of calib_hw with a hidden change, as 'measured' data."""
    page = (ROOT / "docs" / "calibration.md").read_text()
    csv = page[page.index("# Measured on the dev board"):]
    (folder / "my_chip.csv").write_text(csv[: csv.index("```")])
    from accelsim.config import load_hardware, load_workload
    from accelsim.config.loader import with_overrides
    from accelsim.models import simulate

    data = ROOT / "tests" / "compare" / "data"
    hidden = with_overrides(load_hardware(data / "calib_hw.yaml"),
                            {"dram.efficiency": 0.7, "dma.setup_cycles": 200, "control.layer_overhead_cycles": 500})
    run = simulate(hidden, load_workload(data / "calib_wl.yaml"))
    (folder / "hidden.csv").write_text(
        "# source: accelsim itself, hidden change: dram.efficiency 0.7, dma.setup_cycles 200, "
        "control.layer_overhead_cycles 500\nlayer,cycles\n"
        + "".join(f"{layer.name},{layer.cycles}\n" for layer in run.layers if layer.cycles))


def _onnx_models(folder: Path) -> None:
    """docs/onnx.md: the models its examples import (small, made with onnx.helper)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def save(name, nodes, inputs, inits, extra=()):
        graph = helper.make_graph(nodes, name, inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                                  initializer=[numpy_helper.from_array(np.zeros(s, np.float32), n) for n, s in inits])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), *extra])
        model.ir_version = 8
        onnx.save(model, str(folder / name))

    (folder / "notes.onnx").write_text("Notes on the model: exported from PyTorch 2.3, opset 17.\n")
    image = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 32, 32])]
    save("model.onnx", [helper.make_node("Conv", ["x", "w"], ["c"], name="conv1", kernel_shape=[3, 3], pads=[1] * 4),
                        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
                        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
                        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
                        helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc", transB=1)],
         image, [("w", [16, 3, 3, 3]), ("fc", [10, 16])])
    ids = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])]
    save("bert.onnx", [helper.make_node("Gather", ["embedding", "input_ids"], ["e"], name="embed"),
                       helper.make_node("MatMul", ["e", "wq"], ["q"], name="query"),
                       helper.make_node("Transpose", ["e"], ["et"], name="transpose", perm=[0, 2, 1]),
                       helper.make_node("MatMul", ["q", "et"], ["s"], name="scores"),
                       helper.make_node("Softmax", ["s"], ["y"], name="softmax", axis=-1)],
         ids, [("embedding", [1000, 64]), ("wq", [64, 64])])
    save("lstm.onnx", [helper.make_node("LSTM", ["x", "w", "r"], ["h"], name="rnn", hidden_size=16),
                       helper.make_node("Identity", ["h"], ["y"], name="out")],
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 1, 8])], [("w", [1, 64, 8]), ("r", [1, 64, 16])])
    save("custom.onnx", [helper.make_node("Mystery", ["x"], ["/odd/out"], name="odd", domain="acme"),
                         helper.make_node("MatMul", ["/odd/out", "w"], ["y"], name="proj")],
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])], [("w", [8, 4])],
         [helper.make_opsetid("acme", 1)])


FIXTURES: dict[str, Callable[[Path], None]] = {"README.md": _bad_hwconfig, "calibration.md": _calibration_inputs,
                                                "onnx.md": _onnx_models}


def scratch_folder(folder: Path) -> Path:
    """A folder that sees the repository's files (links), with the fixtures of every doc."""
    for entry in ROOT.iterdir():
        if not entry.name.startswith(".") and not (folder / entry.name).exists():
            (folder / entry.name).symlink_to(entry)
    for make in FIXTURES.values():
        make(folder)
    return folder


def documents(paths: list[Path] | None = None) -> list[Path]:
    """README first, then the docs: results.md reads the sweep.h5 the README's snippet writes."""
    every = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [p for p in every if paths is None or p.resolve() in {q.resolve() for q in paths}]


# ---------------------------------------------------------------- running and comparing


def _python(args: list[str], folder: Path) -> tuple[int, str]:
    """(exit status, stdout + stderr) of ``python ARGS`` in ``folder``, with this checkout's accelsim."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, *args], cwd=folder, capture_output=True, text=True, timeout=TIMEOUT_S,
                          env=env)
    return proc.returncode, proc.stdout + proc.stderr


def run_command(line: str, folder: Path) -> tuple[int, str]:
    """One shown command (``accelsim ...``)."""
    return _python(["-m", "accelsim", *shlex.split(line)[1:]], folder)


def run_python(code: str, folder: Path, name: str) -> tuple[int, str]:
    """A snippet run as a script pasted into a file (``python snippet.py``)."""
    (folder / f"{name}.py").write_text(code)
    return _python([f"{name}.py"], folder)


def _normal(line: str) -> str:
    return TIME.sub("T", line.rstrip())


def matches(shown: list[str], actual: list[str]) -> bool:
    """Shown output against the real one, honouring the explicit abbreviations (see the module doc)."""
    shown = [s for s in shown]
    while shown and not shown[-1].strip():
        shown.pop()
    actual = [a for a in actual]
    while actual and not actual[-1].strip():
        actual.pop()

    def match(i: int, j: int) -> bool:
        if i == len(shown):
            return j == len(actual)
        line = shown[i].rstrip()
        if line == "...":
            return any(match(i + 1, k) for k in range(j, len(actual) + 1))
        if j == len(actual):
            return False
        if line.endswith("...") and line != "...":
            return _normal(actual[j]).startswith(_normal(line[:-3]).rstrip()) and match(i + 1, j + 1)
        return _normal(line) == _normal(actual[j]) and match(i + 1, j + 1)

    return match(0, 0)


def check(example: Example, folder: Path, number: int) -> list[str]:
    """Problems with one example (empty: it runs and shows what it prints)."""
    if example.kind == "python":
        if example.skip:
            return []
        status, output = run_python(example.body, folder, f"snippet_{number}")
        return [] if status == 0 else [f"{example.where}: the python block fails:\n{output[-2000:]}"]
    problems = []
    for command in example.commands:
        _, output = run_command(command.line, folder)
        if not matches(command.shown, output.splitlines()):
            problems.append(f"{example.where}: `$ {command.line}` prints something else now:\n{output[-3000:]}")
    return problems


def refill(text: str, example: Example, outputs: list[str]) -> str:
    """``text`` with the example's shown output replaced by ``outputs`` (one per command)."""
    lines = []
    for command, output in zip(example.commands, outputs):
        lines.append(f"$ {command.line}")
        lines += output.rstrip("\n").split("\n") if output.strip() else []
    body = "\n".join(example.indent + line if line else line for line in lines) + "\n"
    return text[: example.start] + body + text[example.end:]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("docs", nargs="+", type=Path)
    p.add_argument("--only", help="only commands that start with this text")
    p.add_argument("--generated-only", action="store_true", help="only the generated tables, run no command")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from accelsim.config.docs import generated_files, refresh

    for name, text in generated_files().items():  # the published JSON Schemas
        path = ROOT / name
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"{name}: updated")
    with tempfile.TemporaryDirectory(prefix="accelsim-docs-") as tmp:
        folder = None if args.generated_only else scratch_folder(Path(tmp))
        for doc in documents(args.docs):
            text = doc.read_text()
            fresh = refresh(text)
            if fresh != text:
                print(f"{doc}: updated  the generated tables")
            text = fresh
            if folder is not None:
                for n, example in reversed(list(enumerate(examples(doc)))):  # from the end: offsets hold
                    if example.kind == "python":
                        if not example.skip and args.only is None:
                            status, output = run_python(example.body, folder, f"snippet_{n}")
                            if status:
                                print(f"{example.where}: FAILED   python block:\n{output[-1500:]}")
                        continue
                    if args.only and not any(c.line.startswith(args.only) for c in example.commands):
                        continue
                    outputs = [run_command(c.line, folder)[1] for c in example.commands]
                    if example.abbreviated:
                        shown_ok = all(matches(c.shown, o.splitlines()) for c, o in zip(example.commands, outputs))
                        print(f"{doc}: {'ok' if shown_ok else 'CHANGED'}  {example.commands[0].line} (abbreviated: "
                              f"{'still matches' if shown_ok else 'edit it by hand'})")
                        continue
                    before = text
                    text = refill(text, example, outputs)
                    if text != before:
                        print(f"{doc}: updated  $ {example.commands[0].line}")
            doc.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Mutation fuzzing of every input kind through the command line (scripts/fuzz.py, bounded for CI).

Hypothesis draws which input kind and which mutation seed; the case runs in this process
through ``accelsim.cli.main``, the CLI's own entry point, and must exit 0 (a mutation that left
valid input) or 2 with exactly one line on stderr and no traceback. A few cases also run as
real ``accelsim`` processes. The long run (5,000+ cases, per-case time and memory caps) is
``python scripts/fuzz.py``; its last result is in docs/validation.md.
"""

from __future__ import annotations

import importlib.util
import random
import resource
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT

pytest.importorskip("onnx")

_spec = importlib.util.spec_from_file_location("fuzz", ROOT / "scripts" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz"] = fuzz  # dataclasses look their module up
_spec.loader.exec_module(fuzz)


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(fuzz.KINDS), seed=st.integers(0, 2**32))
def test_mutated_inputs_exit_0_or_2_with_one_line(tmp_path_factory, kind, seed):
    case = fuzz.make_case(kind, random.Random(seed))
    status, err = fuzz.run_in_process(case, tmp_path_factory.mktemp(kind))
    assert fuzz.verdict(status, err) == "ok", f"{kind} seed {seed}: accelsim {' '.join(case.args)} -> {status}\n{err}"


def test_the_verdict_tells_a_traceback_from_a_one_line_error():
    assert fuzz.verdict(0, "") == fuzz.verdict(2, "x.yaml: rows: expected ...\n") == "ok"
    assert fuzz.verdict(2, "line one\nline two\n") == "traceback"
    assert fuzz.verdict(99, "Traceback (most recent call last):\n  ...\nValueError: x\n") == "traceback"
    assert fuzz.verdict(99, "Traceback (most recent call last):\nMemoryError\n") == "memory"


@pytest.mark.parametrize("kind, seed", [("hardware", 3), ("sweep_spec", 1), ("cli_args", 5)])
def test_real_processes(tmp_path, kind, seed):
    case = fuzz.make_case(kind, random.Random(seed))
    for name, content in case.files.items():
        (tmp_path / name).write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "accelsim", *case.args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert fuzz.verdict(proc.returncode, proc.stderr) == "ok", proc.stderr


def test_the_forked_runner_reports_hangs_and_memory(tmp_path, monkeypatch):
    """The script's caps work: a case that computes forever is a hang, one that allocates a blow-up."""
    import accelsim.cli

    case = fuzz.Case("cli_args", ["list"], {})
    cap = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 + 256  # a forked child starts at our size
    def spin(args):
        while True:
            pass

    monkeypatch.setattr(accelsim.cli, "main", spin)
    assert fuzz.run_forked(case, tmp_path, timeout_s=1, memory_mib=cap)[0] == "hang"  # 1 s of CPU
    monkeypatch.setattr(accelsim.cli, "main", lambda args: len(bytearray((cap + 1024) * 2**20)))
    assert fuzz.run_forked(case, tmp_path, timeout_s=20, memory_mib=cap)[0] == "memory"
    monkeypatch.setattr(accelsim.cli, "main", lambda args: 0)
    assert fuzz.run_forked(case, tmp_path, timeout_s=20, memory_mib=cap)[0] == "ok"

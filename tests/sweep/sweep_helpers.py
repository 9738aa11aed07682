"""Helpers for the sweep tests: a tiny workload (fixture) and stored records to compare exactly.

Not a conftest.py: tests/conftest.py is imported by name (``from conftest import ROOT``) and a
second conftest module would shadow it.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

TINY = """\
name: tiny
layers:
  - {name: fc1, type: gemm, M: 64, K: 512, N: 256}
  - {name: relu1, type: eltwise, op: relu, elements: 16384}
  - {name: fc2, type: gemm, M: 64, K: 256, N: 128}
"""

# Everything a sweep stores except when it ran (created_utc, /timing).
RECORD_DATASETS = ("spec", "points", "axes", "config", "hardware", "status", "error", "totals", "layers")


@pytest.fixture
def tiny(tmp_path):
    """A three-layer workload (two GEMMs with full 256 x 256 weight tiles; fc1's 128 KiB of weights fit no 64 KiB weight buffer): milliseconds per point."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def stored_records(path) -> dict:
    """The stored records of a results file as (dtype, bytes) per dataset, for exact comparison."""
    out = {}
    with h5py.File(path, "r") as f:
        for name in RECORD_DATASETS:
            if name not in f:
                continue
            ds = f[name]
            info = h5py.check_string_dtype(ds.dtype)
            if info is not None and info.length is None:
                out[name] = ("text", repr(ds.asstr()[()]).encode())
            else:
                out[name] = (ds.dtype.descr, ds[()].tobytes())
        out["attrs"] = {k: f.attrs[k] for k in f.attrs if k != "created_utc"}
    return out


ROOT = Path(__file__).resolve().parents[2]

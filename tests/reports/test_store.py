"""The HDF5 results store: columns derived from records, slot-only writes, relayouts, reading."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import h5py
import numpy as np
import pytest

import accelsim
from accelsim.errors import ConfigError
from accelsim.reports import store as st
from accelsim.reports.records import flat, layer_record, total_record
from accelsim.results import load


def static(i: int, layers: int = 2, **axes) -> st.StaticPoint:
    return st.StaticPoint(key=f"{i:064x}", base="tpu_v1", hardware="tpu_v1", workload="w", batch=1,
                          layer_count=layers, axes=axes or {"array.rows": 16 * (i + 1)},
                          config={"array.rows": 16 * (i + 1), "array.dataflow": "ws", "vector": None},
                          hardware_yaml=f"name: design{i}\n")


def new_store(path, n: int = 3, layers: int = 2) -> st.Store:
    return st.Store.create(path, {"accelsim_version": "test", "model": "engine"}, "spec: text\n",
                           [static(i, layers) for i in range(n)])


def total(**extra) -> dict:
    return {"cycles": 100, "latency_s": 1e-6, "dominant": "computing", "arithmetic_intensity": None, **extra}


def layer(name: str, **extra) -> dict:
    return {"name": name, "cycles": 50, "utilization": 0.5, **extra}


# ------------------------------------------------------------ columns


def test_kind_join_is_a_lattice_so_arrival_order_does_not_matter():
    kinds = [st.NONE, st.BOOL, st.INT, st.FLOAT, st.STR]
    for a, b, c in itertools.product(kinds, repeat=3):
        assert st.join(a, b) == st.join(b, a)
        assert st.join(st.join(a, b), c) == st.join(a, st.join(b, c))
        assert st.join(a, a) == a
    assert (st.join(st.INT, st.NONE), st.join(st.BOOL, st.INT), st.join(st.INT, st.STR)) == (st.FLOAT, st.INT, st.STR)


def test_records_fit_the_columns_exactly_when_merging_would_not_change_them():
    """The writer encodes a batch in the file's columns unless it needs others (then the file is
    rewritten): the fast check must agree with ``merge_columns`` on every kind of record."""
    import random

    rng = random.Random(15)
    values = [None, True, 3, 2**70, 1.5, math.nan, "", "short", "x" * 40, [1, 2], {"a": 1}]
    for _ in range(2000):
        records = [{name: rng.choice(values) for name in rng.sample("abcd", rng.randint(0, 4))}
                   for _ in range(rng.randint(0, 3))]
        columns = st.merge_columns([], [{name: rng.choice(values) for name in rng.sample("abc", rng.randint(1, 3))}])
        fits = st._table(columns, records, strict=True) is not None
        assert fits == (st.merge_columns(columns, records) == columns), (columns, records)


def test_columns_come_from_the_records_including_new_fields(tmp_path):
    path = tmp_path / "r.h5"
    with new_store(path) as s:
        s.write(0, "done", seconds=0.5, total=total(**{"energy.total_pj": 12.5}),
                layers=[layer("a"), layer("b", **{"energy.mac_pj": 3.0})])
    with h5py.File(path, "r") as f:
        names = f["totals"].dtype.names  # the point's identity, so the table reads on its own, then the record
        assert names[:5] == ("hardware", "base", "workload", "batch", "array.rows")  # and the axis
        assert names[5:] == ("cycles", "latency_s", "dominant", "arithmetic_intensity", "energy.total_pj")
        assert f["layers"].dtype.names == ("name", "cycles", "utilization", "energy.mac_pj")
        row = f["totals"][0]
        assert (row["cycles"], row["dominant"], row["energy.total_pj"]) == (100, b"computing", 12.5)
        assert math.isnan(row["arithmetic_intensity"])     # null is NaN
        assert math.isnan(f["layers"][0]["energy.mac_pj"])  # absent in one record: NaN
        assert list(f["status"][()]) == [1, 0, 0]


def test_layout_grows_when_a_value_does_not_fit_and_keeps_what_was_stored(tmp_path):
    path = tmp_path / "r.h5"
    with new_store(path) as s:
        s.write(0, "done", total=total(folds=3), layers=[layer("a"), layer("b")])
        s.write(2, "done", total=total(folds=2.5), layers=[layer("x" * 40), layer("y")])  # float, longer name
        s.write(1, "failed", error="layer a: does not fit " + "z" * 100)
    r = load(path, as_pandas=False)
    assert list(r.points["status"]) == ["done", "failed", "done"]
    assert r.points["error"][1] == "layer a: does not fit " + "z" * 100
    assert list(r.totals["point"]) == [0, 2] and list(r.totals["folds"]) == [3.0, 2.5]
    assert list(r.layers["name"]) == ["a", "b", "x" * 40, "y"] and list(r.layers["point"]) == [0, 0, 2, 2]
    assert not (tmp_path / "r.h5.tmp").exists()


def test_a_batch_write_changes_only_its_points_slots(tmp_path):
    """The crash-safety argument: no metadata byte changes while points are stored."""
    path = tmp_path / "r.h5"
    with new_store(path, n=5, layers=3) as s:
        s.write(0, "done", total=total(), layers=[layer("a"), layer("b"), layer("c")])  # fixes the layout
        s.write(1, "failed", error="x" * 20)                                              # widens /error
        s.flush()
        before = path.read_bytes()
        s.write(2, "done", seconds=0.5, total=total(cycles=7), layers=[layer("d"), layer("e"), layer("f")])
        s.write(4, "failed", error="no")
        assert path.read_bytes() == before  # waiting in the batch
        s.flush()
        after = path.read_bytes()
        with h5py.File(path, "r", locking=False) as f:  # as readers open it
            allowed = set()
            for name, first, count in (("totals", 2, 1), ("layers", 6, 3), ("error", 2, 1), ("timing", 2, 1),
                                       ("status", 2, 1), ("seal", 2, 1), ("totals", 4, 1), ("layers", 12, 3),
                                       ("error", 4, 1), ("timing", 4, 1), ("status", 4, 1), ("seal", 4, 1)):
                ds = f[name]
                start = ds.id.get_offset() + first * ds.dtype.itemsize
                allowed |= set(range(start, start + count * ds.dtype.itemsize))
    assert len(before) == len(after)
    changed = {i for i, (a, b) in enumerate(zip(before, after)) if a != b}
    assert changed and changed <= allowed


def test_points_wait_in_a_batch_until_a_bound_or_a_flush(tmp_path):
    path = tmp_path / "r.h5"
    with new_store(path, n=st.BATCH_POINTS + 2) as s:
        for i in range(st.BATCH_POINTS - 1):
            s.write(i, "failed", error="no", seconds=0.0)
        assert load(path, as_pandas=False).count("pending") == st.BATCH_POINTS + 2  # all waiting
        s.write(st.BATCH_POINTS - 1, "failed", error="no", seconds=0.0)  # the batch is full: written
        assert load(path, as_pandas=False).count("failed") == st.BATCH_POINTS
        s.write(st.BATCH_POINTS, "failed", error="no", seconds=st.BATCH_SIMULATION_S)  # long enough alone
        assert load(path, as_pandas=False).count("failed") == st.BATCH_POINTS + 1
        s.write(st.BATCH_POINTS + 1, "failed", error="no", seconds=0.0)
        assert list(s.statuses()) == [2] * (st.BATCH_POINTS + 2)  # written first
    assert load(path, as_pandas=False).count("failed") == st.BATCH_POINTS + 2


def test_a_point_stored_again_leaves_no_trace_of_its_first_result(tmp_path):
    # resume rewrites a point whose slots a killed run had half written
    path = tmp_path / "r.h5"
    with new_store(path) as s:
        s.write(0, "done", total=total(), layers=[layer("a"), layer("b")])
        s.write(1, "done", total=total(), layers=[layer("a"), layer("b")])
        s.write(1, "failed", error="no")
    with h5py.File(path, "r") as f:
        fill = st.filled(st.columns_of(f["totals"].dtype), 1)[0]
        assert f["totals"][1].tobytes() == fill.tobytes()
        assert f["layers"][2:4].tobytes() == st.filled(st.columns_of(f["layers"].dtype), 2).tobytes()


def test_a_result_with_the_wrong_number_of_layers_is_stored_as_an_error(tmp_path):
    with new_store(tmp_path / "r.h5") as s:
        s.write(0, "done", total=total(), layers=[layer("a")])
    r = load(tmp_path / "r.h5", as_pandas=False)
    assert r.points["status"][0] == "error" and "expected a total and 2 layer records, got 1" in r.points["error"][0]


def test_long_errors_are_truncated(tmp_path):
    with new_store(tmp_path / "r.h5") as s:
        s.write(0, "failed", error="é" * 5000)
    message = load(tmp_path / "r.h5", as_pandas=False).points["error"][0]
    assert message.endswith("...") and len(message.encode()) <= st.MAX_ERROR_BYTES


# ------------------------------------------------------------ real records round trip


def test_records_of_a_real_run_round_trip(tmp_path):
    hw, wl = accelsim.load_hardware("gemmini"), accelsim.load_workload("alexnet")
    run = accelsim.analyze(hw, wl)
    expected_total = flat(total_record(run))
    expected_layers = [flat(layer_record(x, run)) for x in run.layers]
    path = tmp_path / "r.h5"
    with st.Store.create(path, {}, "", [static(0, len(wl.layers))]) as s:
        s.write(0, "done", total=expected_total, layers=expected_layers)
    r = load(path, as_pandas=False)
    for key, value in expected_total.items():
        got = r.totals[key][0]
        assert (value is None and math.isnan(got)) or got == value, key
    for i, record in enumerate(expected_layers):
        for key, value in record.items():
            got = r.layers[key][i]
            assert (value is None and math.isnan(got)) or got == value, (i, key)


# ------------------------------------------------------------ reading


def test_load_gives_numpy_structured_arrays(tmp_path):
    with new_store(tmp_path / "r.h5") as s:
        s.write(1, "done", seconds=0.25, total=total(), layers=[layer("a"), layer("b")])
    r = load(tmp_path / "r.h5", as_pandas=False)
    assert isinstance(r.totals, np.ndarray) and r.totals.dtype.names[:7] == \
        ("point", "key", "base", "hardware", "workload", "batch", "array.rows")
    assert r.totals["array.rows"][0] == 32 and r.totals["dominant"][0] == "computing"
    assert r.totals["dominant"].dtype.kind == "U"
    assert list(r.points["status"]) == ["pending", "done", "pending"] and r.points["seconds"][1] == 0.25
    assert list(r.config["array.dataflow"]) == ["ws"] * 3 and r.hardware_yaml[2] == "name: design2\n"
    assert (r.spec, r.model, r.accelsim_version, r.schema_version) == ("spec: text\n", "engine", "test", 1)


def test_load_gives_pandas_dataframes_when_pandas_is_installed(tmp_path):
    pd = pytest.importorskip("pandas")
    with new_store(tmp_path / "r.h5") as s:
        s.write(1, "done", total=total(), layers=[layer("a"), layer("b")])
    r = load(tmp_path / "r.h5")
    assert isinstance(r.totals, pd.DataFrame) and isinstance(r.layers, pd.DataFrame)
    numpy = load(tmp_path / "r.h5", as_pandas=False)
    for frame, array in ((r.points, numpy.points), (r.totals, numpy.totals), (r.layers, numpy.layers)):
        assert list(frame.columns) == list(array.dtype.names)
        for name in array.dtype.names:
            assert list(frame[name]) == list(array[name]) or (
                np.isnan(array[name].astype(float)).all() and frame[name].isna().all()), name


def test_readers_do_not_block_the_writer_and_a_second_writer_is_refused(tmp_path):
    path = tmp_path / "r.h5"
    with new_store(path) as s:
        s.write(0, "done", total=total(), layers=[layer("a"), layer("b")])
        s.flush()
        assert load(path, as_pandas=False).points["status"][0] == "done"  # while the writer holds it
        code = ("import sys\nfrom accelsim.reports.store import Store\nfrom accelsim.errors import ConfigError\n"
                f"try:\n    Store({str(path)!r})\nexcept ConfigError as e:\n    print(e)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out == f"{path}: in use by another process (is a sweep writing it?)\n"


def test_files_that_are_not_results_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match=f"^{tmp_path / 'none.h5'}: no such file$"):
        load(tmp_path / "none.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(ConfigError, match=r"text.h5: not a readable HDF5 file"):
        load(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(ConfigError, match=r"other.h5: not an accelsim sweep results file$"):
        load(tmp_path / "other.h5")
    with new_store(tmp_path / "future.h5"):
        pass
    with h5py.File(tmp_path / "future.h5", "r+") as f:
        f.attrs["schema_version"] = st.SCHEMA_VERSION + 1
    with pytest.raises(ConfigError, match=r"future.h5: written with results schema 2, .* \(upgrade accelsim\)$"):
        load(tmp_path / "future.h5")


def test_axes_that_are_not_scalars_round_trip_as_json(tmp_path):
    points = [static(0, vector=None), static(1, vector={"elements_per_cycle": 64}), static(2, vector="fused")]
    with st.Store.create(tmp_path / "r.h5", {}, "", points):
        pass
    r = load(tmp_path / "r.h5", as_pandas=False)
    assert r.axes == ("vector",) and list(r.points["vector"]) == [None, {"elements_per_cycle": 64}, "fused"]


def _sweep_file(tmp_path):
    from accelsim.sweep import execute, load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text("hardware: gemmini\naxes:\n  array.rows: [8, 16, 32, 64]\n"
                    "  dram.bandwidth_gb_per_s: [4, 8, 16, 32, 64]\nworkloads: [alexnet]\nmodel: analytical\n")
    execute(load_spec(spec), tmp_path / "r.h5", jobs=1)
    return spec, tmp_path / "r.h5"


def test_a_results_file_truncated_at_half_keeps_every_intact_point(tmp_path, capsys):
    """Cut a real results file at 50%: every point whose slots (and seal) lie before the cut is
    recovered exactly, the others are reported by index and run again on --resume."""
    from accelsim.cli import main
    from accelsim.results import load

    spec, path = _sweep_file(tmp_path)
    original = load(path, as_pandas=False)
    cut = path.stat().st_size // 2
    intact = []
    with h5py.File(path, "r") as f:  # which points' bytes all lie before the cut (independently of the seal)
        def before(name, first, count):
            ds = f[name]
            return ds.id.get_offset() + (first + count) * ds.dtype.itemsize <= cut
        for i, row in enumerate(f["points"][()]):
            offset, count = int(row["layer_offset"]), int(row["layer_count"])
            if all(before(n, i, 1) for n in ("status", "seal", "error", "timing", "totals")) and \
                    before("layers", offset, count):
                intact.append(i)
    assert 0 < len(intact) < 20
    with open(path, "r+b") as f:
        f.truncate(cut)
    assert main(["runs", "show", str(path)]) == 2  # HDF5 refuses the file whole
    capsys.readouterr()
    assert main(["runs", "repair", str(path)]) == 0
    out = capsys.readouterr().out
    lost = [i for i in range(20) if i not in intact]
    assert out.startswith(f"{path}: repaired: {len(intact)} of 20 points recovered; lost (damaged records): "
                          f"points {lost[0]}-{lost[-1]}")
    repaired = load(path, as_pandas=False)
    assert list(repaired.totals["point"]) == intact
    for name in original.totals.dtype.names:
        assert list(map(repr, repaired.totals[name])) == list(map(repr, original.totals[name][intact])), name
    assert (tmp_path / "r.h5.damaged").stat().st_size == cut
    assert main(["runs", "repair", str(path)]) == 0 and "intact" in capsys.readouterr().out
    # resume runs exactly the lost points, and the file ends up as a fresh run would be
    assert main(["sweep", str(spec), "-o", str(path), "--resume", "-j", "1", "-q"]) == 0
    assert f"this run stored {len(lost)}" in capsys.readouterr().out
    again = load(path, as_pandas=False)
    assert list(again.totals["cycles"]) == list(original.totals["cycles"])


def test_resume_repairs_a_damaged_file_first(tmp_path, capsys):
    from accelsim.cli import main

    spec, path = _sweep_file(tmp_path)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size * 3 // 4)
    assert main(["sweep", str(spec), "-o", str(path), "--resume", "-j", "1", "-q"]) == 0
    captured = capsys.readouterr()
    assert f"{path}: repaired: " in captured.err and "20 points: 20 done" in captured.out


def test_the_file_describes_itself(tmp_path):
    _, path = _sweep_file(tmp_path)
    with h5py.File(path, "r") as f:
        assert json.loads(f["status"].attrs["meanings"]) == {"0": "pending", "1": "done", "2": "failed", "3": "error"}
        units = json.loads(f["totals"].attrs["units"])
        assert (units["latency_s"], units["cycles"], units["dram_read_bytes"], units["energy_j"]) == \
            ("s", "cycles", "bytes", "J")
        assert units["utilization"] == "fraction" and units["breakdown.computing"] == "cycles"
        assert json.loads(f["timing"].attrs["units"])["seconds"].startswith("s")
        totals = f["totals"][()]
        assert {"workload", "batch", "array.rows", "dram.bandwidth_gb_per_s"} <= set(totals.dtype.names)
        done = f["status"][()] == 1
        assert set(totals["workload"][done]) == {b"alexnet"} and set(totals["array.rows"][done]) == {8, 16, 32, 64}

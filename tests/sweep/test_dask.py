"""Points on a Dask cluster (two workers on loopback) store exactly what a local run stores."""

from __future__ import annotations

import pytest

from accelsim.cli import main
from accelsim.errors import ConfigError
from accelsim.sweep import SweepSpec, execute
from sweep_helpers import stored_records, tiny  # noqa: F401  (tiny: a fixture)

distributed = pytest.importorskip("dask.distributed")


def spec(workload) -> SweepSpec:
    return SweepSpec(hardware="tpu_v1", workloads=[str(workload)], model="engine",
                     axes={"sram.weight.size_kib": [64, 128, 256, 512], "array.dataflow": ["os", "ws", "is"]})


@pytest.fixture(scope="module")
def cluster():
    # Worker threads in this process, talking TCP over loopback: the scheduler protocol and the
    # serialization of real deployments without the seconds of starting worker processes.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local


def test_dask_results_equal_the_local_run_byte_for_byte(tmp_path, tiny, cluster):
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:") and len(cluster.workers) == 2
    report = execute(spec(tiny), tmp_path / "dask.h5", scheduler=cluster.scheduler_address)
    assert (report.done, report.failed) == (11, 1)
    execute(spec(tiny), tmp_path / "local.h5", jobs=1)
    assert stored_records(tmp_path / "dask.h5") == stored_records(tmp_path / "local.h5")


def test_cli_scheduler_option(tmp_path, tiny, cluster, capsys):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(f"hardware: gemmini\naxes: {{array.rows: [8, 16]}}\nworkloads: [{tiny}]\n")
    assert main(["sweep", str(spec_path), "-o", str(tmp_path / "r.h5"), "--scheduler", cluster.scheduler_address,
                 "-q"]) == 0
    assert "2 points: 2 done, 0 failed" in capsys.readouterr().out


def test_workers_with_another_accelsim_are_refused(tmp_path, tiny, cluster, monkeypatch):
    import accelsim
    import accelsim.sweep.runner as runner

    monkeypatch.setattr(runner, "worker_version", lambda: "0.0.1")  # what an outdated worker would answer
    with pytest.raises(ConfigError, match=rf"^--scheduler: tcp://127.0.0.1:\d+: workers run accelsim 0.0.1, this is "
                                          rf"{accelsim.__version__} \(install the same version everywhere\)$"):
        execute(spec(tiny), tmp_path / "r.h5", scheduler=cluster.scheduler_address)
    assert not (tmp_path / "r.h5").exists()

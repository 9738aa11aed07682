import subprocess
import sys

from accelsim.cli import main
from accelsim.mapping import PipelinedFoldTiming
from accelsim.reference import HazardError

# ResNet-50 v1.5 at batch 1 on gemmini's 16 x 16 WS array, worked by hand: T = M = P.Q is 12544
# (conv1), 3136, 784, 196, 49 or 1 (fc). Every K and N is a multiple of 16 except conv1's
# K = 147 = 9.16 + 3 and fc's N = 1000 = 62.16 + 8, so the fold shapes (rows x cols, T) are
# 16x16 for each T, plus 3x16 at T = 12544 and 16x8 at T = 1: 8 shapes.
GEMMINI_RESNET50_SHAPES = 8


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "accelsim", *args], capture_output=True, text=True)


def test_gemmini_resnet50_passes(capsys):
    assert main(["validate", "--hw", "gemmini", "--workload", "resnet50"]) == 0
    out, err = capsys.readouterr()
    assert f"{GEMMINI_RESNET50_SHAPES} fold shapes checked, 0 mismatches" in out.splitlines()
    assert "skipped" not in out and "MISMATCH" not in out
    assert "3 x 16" in out and "12544" in out and "16 x 8" in out
    assert err == ""  # stderr is not a terminal here: no progress bar


def test_scalesim_config_passes_end_to_end():
    proc = run_cli("validate", "--hw", "scalesim_32x32", "--workload", "resnet50", "--budget-s", "120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SCALE-Sim compatible folds" in proc.stdout
    assert proc.stdout.splitlines()[-1].endswith("fold shapes checked, 0 mismatches")


def test_a_wrong_formula_fails(capsys, monkeypatch):
    # one cycle too many between folds whenever the stream (not the preload) sets the interval
    monkeypatch.setattr(PipelinedFoldTiming, "stream_start", lambda self, strategy, arr, time, index:
                        arr.rows + index * (max(time, arr.rows) + (time >= arr.rows)))
    assert main(["validate", "--hw", "gemmini", "--workload", "resnet50"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out
    # the T = 1 shapes (fc) are still right: their folds start every R cycles
    assert f"{GEMMINI_RESNET50_SHAPES} fold shapes checked, 6 mismatches" in out.splitlines()


def test_a_hazard_is_a_mismatch_with_its_message(capsys, monkeypatch):
    from accelsim.reference import checks

    real = checks.simulate_gemm

    def hazard(a, b, array, **kwargs):
        if a.size == 1:  # validate's warm-up run
            return real(a, b, array, **kwargs)
        raise HazardError(2, 17, 0, 3, 1)

    monkeypatch.setattr(checks, "simulate_gemm", hazard)
    assert main(["validate", "--hw", "gemmini", "--workload", "resnet50"]) == 1
    out = capsys.readouterr().out
    assert "HAZARD" in out
    assert "hazard in cycle 17 at PE(0,3), fold 1: the PE needed a stationary value that had not arrived" in out


def test_over_budget_shapes_are_skipped_not_passed(capsys):
    assert main(["validate", "--hw", "gemmini", "--workload", "resnet50", "--budget-s", "0.000001"]) == 3
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "0 fold shapes checked, 0 mismatches" in lines
    assert f"{GEMMINI_RESNET50_SHAPES} fold shapes skipped (over the 1e-06 s budget): not validated" in lines
    assert " ok" not in out
    assert "skipped" in err


def test_bad_hardware_is_one_line_and_exit_2():
    proc = run_cli("validate", "--hw", "no_such_chip", "--workload", "resnet50")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no_such_chip" in proc.stderr


def test_bad_budget_exits_2():
    proc = run_cli("validate", "--budget-s", "-3")
    assert proc.returncode == 2
    assert "expected a positive number of seconds, got -3" in proc.stderr.splitlines()[-1]

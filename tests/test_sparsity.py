"""Sparsity: zeros in the workload, and what a design does with them."""

from dataclasses import replace

import pytest

from accelsim import analyze, load_hardware, load_workload, simulate
from accelsim.config.loader import workload_from_data
from accelsim.config.sparsity import Compression, Sparsity, SparsityConfig, compressed_fraction
from accelsim.config.workload import Gemm, NetworkInput, Workload
from accelsim.errors import ConfigError
from tests_shared import tiny


# Eyeriss's own (Chen et al., JSSC 2017, Sec. V-B, V-C): run-length coded feature maps, 5-bit runs, zero gating
EYERISS = SparsityConfig(gate_zero_macs=True, activations=Compression.RUN_LENGTH, run_length_bits=5)


def gemm_workload(sparsity=None):
    return Workload(name="g", inputs=(NetworkInput(name="x", shape=(8, 16)),),
                    layers=(Gemm(name="g", M=8, K=16, N=4, inputs=("x",), sparsity=sparsity),))


def test_a_2_4_sparse_gemm_on_a_4x4_array_worked_by_hand():
    # tiny(): 4 x 4 WS array, pipelined folds: layer cycles = (F - 1) max(T, R) + T + 2R + C - 2.
    # g: M = 8 (T), K = 16, N = 4. Dense: 16 / 4 = 4 row folds, 1 column fold:
    #   3 x 8 + 8 + 8 + 4 - 2 = 42 cycles, 8 x 16 x 4 = 512 MACs; DRAM: inputs 8 x 16 = 128 B, weights
    #   16 x 4 = 64 B, outputs 8 x 4 = 32 B (partial sums, 8 x 4 x 4 B = 128 B, stay: 224 B).
    # 2:4 weights on an array that skips them: K' = 16 x 2 / 4 = 8, so 2 row folds:
    #   1 x 8 + 8 + 8 + 4 - 2 = 26 cycles, 8 x 8 x 4 = 256 MACs (256 skipped); inputs still 128 B
    #   (each row selects from its group of 4), weights 8 x 4 = 32 kept, each 8 bits + ceil(log2 4) =
    #   2 bits of index: 320 bits = 40 B; outputs 32 B: 200 B.
    hw = tiny()
    sparse_hw = replace(hw, array=replace(hw.array, sparse_nm="2:4"))
    dense = simulate(sparse_hw, gemm_workload()).layers[0]
    assert (dense.compute_cycles, dense.macs, dense.dram.total) == (42, 512, 224)
    run = simulate(sparse_hw, gemm_workload(Sparsity(weight_nm="2:4"))).layers[0]
    assert run.compute_cycles == 26 and run.macs == 256 and 512 - run.macs == 256
    assert (run.dram.input_read, run.dram.weight_read, run.dram.output_write) == (128, 40, 32)
    # an array without N:M support runs the zeros: the dense numbers
    plain = simulate(hw, gemm_workload(Sparsity(weight_nm="2:4"))).layers[0]
    assert (plain.compute_cycles, plain.macs, plain.dram.total) == (42, 512, 224)


def test_coded_sizes_follow_from_density():
    # bitmask: one bit per element + the non-zero values: (1 + 0.5 x 8) / 8 = 0.625
    assert compressed_fraction(Compression.BITMASK, 0.5, 8, 5) == pytest.approx(0.625)
    # run-length, 5-bit runs, 16-bit values: pairs per element 0.5 / (1 - 0.5^32) ~ 0.5, of 21 bits
    assert compressed_fraction(Compression.RUN_LENGTH, 0.5, 16, 5) == pytest.approx(0.5 * 21 / 16)
    # never above raw: dense data is sent as it is
    assert compressed_fraction(Compression.RUN_LENGTH, 0.9, 16, 5) == 1.0
    assert compressed_fraction(Compression.NONE, 0.1, 16, 5) == 1.0


def test_density_one_reproduces_the_dense_numbers_exactly():
    hw = replace(load_hardware("eyeriss_like"), sparsity=EYERISS)  # codes activations, gates zero MACs
    wl = load_workload("resnet18")
    dense = [replace(layer, sparsity=Sparsity(weight_density=1.0, input_zero_fraction=0.0))
             if hasattr(layer, "sparsity") else layer for layer in wl.layers]
    explicit = replace(wl, layers=tuple(dense))
    plain = replace(hw, sparsity=None)
    for model in (analyze,):
        a, b, c = model(hw, wl), model(hw, explicit), model(plain, wl)
        assert [x.cycles for x in a.layers] == [x.cycles for x in b.layers] == [x.cycles for x in c.layers]
        assert [x.dram for x in a.layers] == [x.dram for x in b.layers] == [x.dram for x in c.layers]
        assert a.gated_macs == 0


def test_compression_and_gating_follow_the_zeros():
    # conv3 of AlexNet reads inputs with 72.5% zeros (Eyeriss, Table V): coded at
    # d = 0.275 -> 0.275 / (1 - 0.725^32) pairs of 21 bits per 16-bit element
    hw = replace(load_hardware("eyeriss_like"), sparsity=EYERISS)
    wl = load_workload("alexnet", batch=4)
    zeros = Sparsity(input_zero_fraction=0.725)
    wl = replace(wl, layers=tuple(replace(layer, sparsity=zeros) if layer.name == "conv3" else layer
                                  for layer in wl.layers))
    coded, raw = analyze(hw, wl), analyze(replace(hw, sparsity=None), wl)
    conv3, raw3 = coded.layers[4], raw.layers[4]
    assert conv3.name == "conv3" and conv3.cycles > 0
    frac = 0.275 / (1 - 0.725 ** 32) * 21 / 16
    assert conv3.dram.input_read == pytest.approx(raw3.dram.input_read * frac, abs=2)
    assert conv3.dram.weight_read == raw3.dram.weight_read  # weights move uncoded
    # gated MACs: every MAC with a zero input (dense weights): 72.5% of them, energy only
    assert conv3.gated_macs == round(conv3.macs * 0.725)
    assert conv3.compute_cycles == raw3.compute_cycles


def test_bad_sparsity_is_one_line_naming_the_path(tmp_path):
    data = {"name": "w", "layers": [{"name": "g", "type": "gemm", "M": 4, "N": 4, "K": 4,
                                     "sparsity": {"weight_nm": "4:2"}}]}
    with pytest.raises(ConfigError, match=r"w.yaml: layers\[0\].sparsity.weight_nm: expected an N:M structure"):
        workload_from_data(data, "w.yaml")
    data = {"name": "w", "sparsity": {"input_zero_fraction": 1.0},
            "layers": [{"name": "g", "type": "gemm", "M": 4, "N": 4, "K": 4}]}
    with pytest.raises(ConfigError, match=r"w.yaml: sparsity.input_zero_fraction: expected a number in \[0, 1\)"):
        workload_from_data(data, "w.yaml")
    with pytest.raises(ConfigError, match="weight_density"):
        Sparsity(weight_nm="2:4", weight_density=0.9)
    assert SparsityConfig().activations is Compression.NONE


def test_a_workload_default_applies_to_every_layer():
    data = {"name": "w", "sparsity": {"input_zero_fraction": 0.5},
            "layers": [{"name": "a", "type": "gemm", "M": 4, "N": 4, "K": 4},
                       {"name": "b", "type": "gemm", "M": 4, "N": 4, "K": 4, "sparsity": {"weight_density": 0.5}}]}
    wl = workload_from_data(data, "w.yaml")
    assert wl.sparsity_of(wl.layers[0]).input_zero_fraction == 0.5
    assert wl.sparsity_of(wl.layers[1]) == Sparsity(weight_density=0.5)  # its own replaces the default


def test_gated_macs_cost_no_energy_worked_by_hand():
    # An 8 x 8 x 8 GEMM (512 MACs at 1 pJ) whose inputs are half zeros, on a design that gates
    # zero MACs: 512 x (1 - 1 x 0.5) = 256 gated, so 256 pJ of MAC energy; cycles unchanged.
    from accelsim.reports.records import run_record

    hw = replace(tiny(), array=replace(tiny().array, mac_pj=1.0), sparsity=SparsityConfig(gate_zero_macs=True))
    wl = Workload(name="g", layers=(Gemm(name="g", M=8, N=8, K=8, sparsity=Sparsity(input_zero_fraction=0.5)),))
    total = run_record(simulate(hw, wl))["total"]
    assert total["macs"] == 512 and total["gated_macs"] == 256
    assert total["energy_breakdown_j"]["mac"] == pytest.approx(256e-12)
    assert simulate(hw, wl).cycles == simulate(replace(hw, sparsity=None), wl).cycles

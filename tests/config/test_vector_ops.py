"""The vector unit's per-op cost table, and the schema's mapping fields it is written with."""

from dataclasses import dataclass
from typing import Mapping

import pytest

from accelsim import analyze, load_hardware
from accelsim.config.hardware import DEFAULT_OP_CYCLES_PER_ELEMENT, VectorUnitConfig
from accelsim.config.loader import hardware_from_data, hardware_to_yaml, load_hardware as load, with_overrides
from accelsim.config.schema import FrozenMap, Validated, build, field_docs, positive_int, spec, to_data
from accelsim.config.workload import NetworkInput, NonGemm, Workload
from accelsim.errors import ConfigError
from accelsim.schedule import vector_cycles
from tests_shared import tiny


@dataclass(frozen=True)
class _Costs(Validated):
    costs: Mapping[str, int] = spec(positive_int(), default=FrozenMap({"a": 1}), doc="per name")


def test_a_mapping_field_is_built_strictly_and_stays_hashable():
    built = build(_Costs, {"costs": {"x": 2, "y": 3}}, "f.yaml")
    assert built.costs == {"x": 2, "y": 3} and isinstance(built.costs, FrozenMap)
    assert hash(built) == hash(_Costs(costs={"y": 3, "x": 2}))  # a dict given in Python is frozen too
    assert to_data(built) == {"costs": {"x": 2, "y": 3}}
    assert build(_Costs, {}, "f.yaml").costs == {"a": 1}
    # the field's check applies to each value; the path names the key
    with pytest.raises(ConfigError, match=r"^f.yaml: costs.y: expected a positive integer, got 0$"):
        build(_Costs, {"costs": {"x": 2, "y": 0}}, "f.yaml")
    with pytest.raises(ConfigError, match=r"^f.yaml: costs: expected a mapping of names to values, each a "
                                          r"positive integer, got a list$"):
        build(_Costs, {"costs": [1, 2]}, "f.yaml")
    with pytest.raises(ConfigError, match=r"^<python>: costs.x: expected a positive integer, got 1.5$"):
        _Costs(costs={"x": 1.5})
    assert ("costs", "a mapping of names to values, each a positive integer", "a mapping", "per name") \
        in field_docs(_Costs)


def test_op_costs_default_and_override():
    v = VectorUnitConfig(elements_per_cycle=8)
    assert v.op_cycles_per_element == DEFAULT_OP_CYCLES_PER_ELEMENT
    assert [v.cycles_per_element(op) for op in ("softmax", "LayerNorm", "gelu", "add", "maxpool")] == [5, 4, 4, 1, 1]
    # a table that names some ops: the others keep their defaults
    mine = VectorUnitConfig(elements_per_cycle=8, op_cycles_per_element={"softmax": 2.5, "relu": 3})
    assert [mine.cycles_per_element(op) for op in ("softmax", "relu", "layernorm", "add")] == [2.5, 3, 4, 1]


def test_vector_cycles_use_the_op_cost():
    # 1,000 elements at 16 per cycle: softmax 5 per element -> ceil(5,000 / 16) = 313 cycles;
    # an op the table does not list costs 1 -> ceil(1,000 / 16) = 63, as before the table
    hw = tiny(vector=16, activations="on_chip")
    softmax = NonGemm(name="s", op="softmax", ops=1000)
    assert vector_cycles(softmax, hw, 1) == 313
    assert vector_cycles(NonGemm(name="r", op="relu", ops=1000), hw, 1) == 63
    assert vector_cycles(softmax, hw, 3) == 938  # ceil(15,000 / 16)
    half = with_overrides(hw, {"vector.op_cycles_per_element": {"softmax": 2.5}})
    assert vector_cycles(softmax, half, 1) == 157  # ceil(2,500 / 16)
    wl = Workload(name="v", inputs=(NetworkInput(name="x", shape=(1000,)),), layers=(softmax,))
    assert analyze(hw, wl).layers[0].breakdown.vector == 313


def test_yaml_tables_load_round_trip_and_bad_values_are_one_line_errors(tmp_path):
    hw = load_hardware("tpu_v1")
    assert hw.vector.op_cycles_per_element == DEFAULT_OP_CYCLES_PER_ELEMENT
    path = tmp_path / "hw.yaml"
    path.write_text(hardware_to_yaml(with_overrides(hw, {"vector.op_cycles_per_element.softmax": 8})))
    again = load(path)
    assert again.vector.cycles_per_element("softmax") == 8 and again.vector.cycles_per_element("gelu") == 4
    data = to_data(hw)
    data["vector"]["op_cycles_per_element"] = {"softmax": -1}
    with pytest.raises(ConfigError, match=r"^hw.yaml: vector.op_cycles_per_element.softmax: expected a finite "
                                          r"positive number, got -1$"):
        hardware_from_data(data, "hw.yaml")
    data["vector"]["op_cycles_per_element"] = 5
    with pytest.raises(ConfigError, match=r"^hw.yaml: vector.op_cycles_per_element: expected a mapping of names "
                                          r"to values, each a finite positive number, got 5$"):
        hardware_from_data(data, "hw.yaml")

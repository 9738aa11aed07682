"""Typed, validated, frozen inputs: hardware and workloads."""

from accelsim.config.hardware import (
    ActivationPlacement,
    ArrayConfig,
    BufferConfig,
    ControlConfig,
    Dataflow,
    DmaConfig,
    DramConfig,
    Hardware,
    Partition,
    SramConfig,
    VectorUnitConfig,
)
from accelsim.config.memory import DataKind, GlobalBufferConfig, MemoryHierarchy, MemoryLevel, OnChipBuffer
from accelsim.config.loader import (
    hardware_from_data,
    hardware_to_yaml,
    load_hardware,
    load_workload,
    workload_from_data,
    workload_to_yaml,
)
from accelsim.config.workload import Concat, Conv2d, Gemm, Layer, NetworkInput, NonGemm, Workload

__all__ = [
    "ActivationPlacement", "DataKind", "GlobalBufferConfig", "MemoryHierarchy", "MemoryLevel", "OnChipBuffer",
    "ArrayConfig", "BufferConfig", "Concat", "ControlConfig", "Conv2d", "Dataflow", "DmaConfig", "DramConfig",
    "Gemm", "Hardware", "Layer", "Partition", "NetworkInput", "NonGemm", "SramConfig", "VectorUnitConfig", "Workload",
    "hardware_from_data", "hardware_to_yaml", "load_hardware", "load_workload", "workload_from_data",
    "workload_to_yaml",
]

"""Other tools' model formats -> accelsim workloads.

Each importer turns one format into a :class:`accelsim.config.Workload` and
needs its format's package only when it is used (``onnx`` is an optional extra).
"""

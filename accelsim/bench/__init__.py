"""Benchmark suites: micro (single-layer kernels) and macro (whole networks), run on several designs.

The suites only define what to run and how to summarise it; every number comes from
``accelsim.reports.records`` (the one mapping from results to metrics).
"""

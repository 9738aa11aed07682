"""SCALE-Sim inputs (``.cfg`` hardware and topology ``.csv``), with SCALE-Sim's semantics.

What SCALE-Sim 3.0.0 does, and therefore what this loader does:

* A topology row is ``name, H, W, R, S, C, K, stride``; anything after the
  eighth field (SCALE-Sim's sparsity ratio, helper columns, ``#dw`` notes) is
  ignored, and the trailing comma is optional. Rows with an empty name (blank
  separators) are skipped.
* There is no padding column. SCALE-Sim sizes the output as
  ``ceil((H - R + stride) / stride)``, which is one more than
  ``floor((H - R) / stride) + 1`` whenever the stride does not divide ``H - R``.
  accelsim reproduces it exactly by giving such layers ``stride - 1`` rows and
  columns of padding at the bottom and right (same output size, same MACs).
* A layer whose name contains ``DP`` is depthwise: SCALE-Sim runs it as ``C``
  layers of one channel each; here it is one conv with ``groups = C`` and
  ``C x K`` filters (the same ``C`` GEMMs). Depthwise layers written as a dense
  layer with one filter (``mobilenet.csv``) or ``C = K = 1`` stay as written.
* A GEMM topology (header ``Layer, M, N, K``) gives one GEMM per row.
* The ``.cfg`` gives array shape, dataflow, SRAM sizes in KiB (SCALE-Sim's kB
  is 1024 bytes) and, with ``InterfaceBandwidth: USER``, the bandwidth in
  words per cycle. SCALE-Sim has no clock and uses one-byte words, so the
  hwconfig gets ``clock_mhz: 1000`` (bytes per cycle = GB/s), one byte per
  element and SCALE-Sim's fold timing (``pipelined_folds: false``).
* USER bandwidth is per buffer: SCALE-Sim gives the ifmap, filter and ofmap
  buffers each its own backing port at that many words per cycle
  (``single_layer_sim.py``; the ifmap and filter ports take ``[layout]``'s
  ``IfmapSRAMBankBandwidth`` / ``FilterSRAMBankBandwidth`` when the cfg has
  them). So each of the three buffers gets ``dram_port_bytes_per_cycle`` =
  words per cycle x the one-byte word, with ``dram.ports_independent: true``
  (no port waits for another), and the DRAM's bandwidth is the three ports'
  sum. ``CALC`` bandwidth (SCALE-Sim sizes it so nothing stalls) becomes an
  ideal memory, without ports.
* SCALE-Sim moves every layer's inputs and outputs through DRAM: the hwconfig says
  ``activations: dram`` (no tensor stays on chip between layers).
"""

from __future__ import annotations

import configparser
import math
from pathlib import Path

from accelsim.config.hardware import (
    ActivationPlacement,
    ArrayConfig,
    BufferConfig,
    Dataflow,
    DramConfig,
    Hardware,
    SramConfig,
)
from accelsim.config.loader import read_text
from accelsim.config.schema import MAX_ARRAY_SIDE, MAX_BUFFER_KIB, MAX_DRAM_GB_PER_S, MAX_NAME_CHARS
from accelsim.config.workload import Conv2d, Gemm, Workload
from accelsim.errors import ConfigError, expected

SCALESIM_CLOCK_MHZ = 1000.0
SCALESIM_WORD_BYTES = 1  # SCALE-Sim 3.0.0's word size (single_layer_sim.py: ``word_size = 1``)


def _option(cp: configparser.ConfigParser, source: str, section: str, key: str) -> str:
    if not cp.has_section(section):
        raise ConfigError(source, section, "missing required section")
    if not cp.has_option(section, key):
        raise ConfigError(source, f"{section}.{key}", "missing required key")
    return cp.get(section, key).strip()


def _positive(cp: configparser.ConfigParser, source: str, section: str, key: str, maximum: int) -> int:
    """A positive integer up to ``maximum`` (the hwconfig field's documented bound)."""
    raw = _option(cp, source, section, key)
    try:
        value = int(raw) if len(raw) <= 40 else int("too long")
    except ValueError:
        raise expected(source, f"{section}.{key}", "a positive integer", raw) from None
    if value <= 0:
        raise expected(source, f"{section}.{key}", "a positive integer", value)
    if value > maximum:
        raise ConfigError(source, f"{section}.{key}", f"expected at most {maximum:,} (the documented bound), "
                                                      f"got {raw}")
    return value


def _words_per_cycle(cp: configparser.ConfigParser, source: str, section: str, key: str) -> float:
    """A positive bandwidth in words per cycle, at most the hwconfig's documented bound."""
    raw = _option(cp, source, section, key).split(",")[0].strip()
    try:
        words_per_cycle = float(raw)
    except (ValueError, OverflowError):
        raise expected(source, f"{section}.{key}", "a positive number of words per cycle", raw) from None
    if not 0 < words_per_cycle <= MAX_DRAM_GB_PER_S:
        raise expected(source, f"{section}.{key}",
                       f"a positive number of words per cycle, at most {MAX_DRAM_GB_PER_S:,}", raw)
    return words_per_cycle


def load_scalesim_cfg(path: str | Path) -> Hardware:
    """A SCALE-Sim ``.cfg`` as a Hardware in SCALE-Sim compatible mode."""
    source = str(path)
    cp = configparser.ConfigParser(interpolation=None)  # a % in a value is a character, as in SCALE-Sim
    try:
        cp.read_string(read_text(path, "SCALE-Sim config"))
    except configparser.Error as err:
        message = str(getattr(err, "message", err)).splitlines()[0][:200]
        raise ConfigError(source, "", f"not a valid SCALE-Sim config: {message}") from None
    arch = "architecture_presets"
    dataflow_raw = _option(cp, source, arch, "Dataflow").lower()
    try:
        dataflow = Dataflow(dataflow_raw)
    except ValueError:
        raise expected(source, f"{arch}.Dataflow", "one of os, ws, is", dataflow_raw) from None
    mode = cp.get("run_presets", "InterfaceBandwidth", fallback="CALC").strip().upper()
    if mode == "USER":
        words_per_cycle = _words_per_cycle(cp, source, arch, "Bandwidth")
        # SCALE-Sim 3.0.0 (single_layer_sim.py) sets the ifmap and filter ports from [layout] when
        # the cfg has those keys, the ofmap port from Bandwidth
        ports = tuple(_words_per_cycle(cp, source, "layout", key) if cp.has_option("layout", key) else words_per_cycle
                      for key in ("IfmapSRAMBankBandwidth", "FilterSRAMBankBandwidth")) + (words_per_cycle,)
        port_bytes = tuple(w * SCALESIM_WORD_BYTES for w in ports)
        # each buffer its own port, none sharing a DRAM; the DRAM's bandwidth is their sum (the
        # aggregate, for the roofline and the reports: no transfer is limited by it)
        bandwidth = sum(port_bytes) * SCALESIM_CLOCK_MHZ / 1000  # bytes per cycle at 1 GHz -> GB/s
    elif mode == "CALC":
        bandwidth, port_bytes = math.inf, (None, None, None)
    else:
        raise expected(source, "run_presets.InterfaceBandwidth", "USER or CALC", mode)
    name = cp.get("general", "run_name", fallback=Path(path).stem).strip() or Path(path).stem
    if len(name) > MAX_NAME_CHARS:
        raise ConfigError(source, "general.run_name", f"expected at most {MAX_NAME_CHARS:,} characters, "
                                                      f"got {len(name):,}")

    def buffer(key: str, port: float | None) -> BufferConfig:
        return BufferConfig(size_kib=float(_positive(cp, source, arch, key, MAX_BUFFER_KIB)), double_buffered=True,
                            dram_port_bytes_per_cycle=port)

    return Hardware(
        name=name,
        clock_mhz=SCALESIM_CLOCK_MHZ,
        array=ArrayConfig(
            rows=_positive(cp, source, arch, "ArrayHeight", MAX_ARRAY_SIDE),
            cols=_positive(cp, source, arch, "ArrayWidth", MAX_ARRAY_SIDE),
            dataflow=dataflow,
            bytes_per_input=1, bytes_per_weight=1, bytes_per_psum=1, bytes_per_output=1,
            pipelined_folds=False,
        ),
        sram=SramConfig(input=buffer("IfmapSramSzkB", port_bytes[0]), weight=buffer("FilterSramSzkB", port_bytes[1]),
                        output=buffer("OfmapSramSzkB", port_bytes[2])),
        dram=DramConfig(bandwidth_gb_per_s=bandwidth, latency_ns=0.0, ports_independent=mode == "USER"),
        activations=ActivationPlacement.DRAM,
    )


def scalesim_output_padding(size: int, kernel: int, stride: int) -> int:
    """Bottom/right padding that makes ``floor`` sizing equal SCALE-Sim's ``ceil`` sizing."""
    return 0 if (size - kernel) % stride == 0 else stride - 1


def load_scalesim_topology(path: str | Path) -> Workload:
    """A SCALE-Sim topology CSV (convolution or GEMM form) as a Workload, batch 1."""
    source = str(path)
    lines = read_text(path, "SCALE-Sim topology").splitlines()
    if not lines:
        raise ConfigError(source, "", "empty topology file")
    header = [h.strip().lower() for h in lines[0].split(",")]
    gemm_form = header[1:4] == ["m", "n", "k"]
    width = 4 if gemm_form else 8
    names = ["M", "N", "K"] if gemm_form else ["IFMAP Height", "IFMAP Width", "Filter Height",
                                                 "Filter Width", "Channels", "Num Filter", "Strides"]
    layers = []
    for lineno, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split(",")]
        if not cells or not cells[0]:
            continue
        if len(cells) < width or any(c == "" for c in cells[1:width]):
            raise ConfigError(source, f"row {lineno}", f"expected {width} fields ({', '.join(['Layer name'] + names)}), "
                                                       f"got {line.strip()!r}")
        values = []
        for column, cell in zip(names, cells[1:width]):
            try:
                value = int(cell)
            except ValueError:
                raise expected(source, f"row {lineno}.{column}", "a positive integer", cell) from None
            if value <= 0:
                raise expected(source, f"row {lineno}.{column}", "a positive integer", value)
            values.append(value)
        name = cells[0]
        try:
            layers.append(_gemm_row(name, values) if gemm_form else _conv_row(name, values))
        except ConfigError as err:
            raise ConfigError(source, f"row {lineno}.{err.path}", err.message) from None
    if not layers:
        raise ConfigError(source, "", "no layers in topology file")
    try:
        return Workload(name=Path(path).stem or "topology", batch=1, layers=tuple(layers), source=source)
    except ConfigError as err:
        raise err.relocated(source) from None


def _gemm_row(name: str, values: list[int]) -> Gemm:
    m, n, k = values
    return Gemm(name=name, M=m, N=n, K=k)


def _conv_row(name: str, values: list[int]) -> Conv2d:
    h, w, r, s, c, k, stride = values
    if r > h or s > w:
        raise ConfigError("", "Filter Height" if r > h else "Filter Width",
                          f"expected a filter no larger than the IFMAP ({h} x {w}), got {r} x {s}")
    padding = (0, scalesim_output_padding(h, r, stride), 0, scalesim_output_padding(w, s, stride))
    if "DP" in name:
        return Conv2d(name=name, H=h, W=w, C=c, K=c * k, R=r, S=s, stride=(stride, stride),
                      padding=padding, groups=c)
    return Conv2d(name=name, H=h, W=w, C=c, K=k, R=r, S=s, stride=(stride, stride), padding=padding)

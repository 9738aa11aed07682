"""Where the shipped hwconfigs, workloads and measurements live, and name -> file lookup.

A name is looked up as a path, then in ``./hwconfigs/``, ``./workloads/`` or ``./measurements/``
of the working directory (your own files, by name), then among the shipped ones.

In a source checkout they are ``hwconfigs/``, ``workloads/`` and ``measurements/``
at the top of the repository; an installed wheel carries them as
``accelsim.hwconfigs``, ``accelsim.workloads`` and ``accelsim.measurements``
(see ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

from accelsim.errors import ConfigError

HW_SUFFIXES = (".yaml", ".yml", ".cfg")
WORKLOAD_SUFFIXES = (".yaml", ".yml", ".csv", ".onnx")
MEASUREMENT_SUFFIXES = (".csv", ".json")  # measured per-layer data (accelsim compare / calibrate)
SUFFIXES = {"hwconfigs": HW_SUFFIXES, "workloads": WORKLOAD_SUFFIXES, "measurements": MEASUREMENT_SUFFIXES}
WHAT = {"hwconfigs": "hardware config", "workloads": "workload", "measurements": "measurement file"}


def shipped_dir(kind: str) -> Path:
    """The directory of shipped ``hwconfigs``, ``workloads`` or ``measurements``."""
    package = Path(__file__).resolve().parents[1]
    installed = package / kind
    return installed if installed.is_dir() else package.parent / kind


def shipped(kind: str) -> dict[str, Path]:
    """Shipped files of one kind by name (file stem), sorted."""
    suffixes = SUFFIXES[kind]
    directory = shipped_dir(kind)
    files = [p for p in directory.iterdir() if p.suffix in suffixes] if directory.is_dir() else []
    return {p.stem: p for p in sorted(files)}


def local(kind: str, name: str) -> Path | None:
    """``./<kind>/<name>.<suffix>`` in the working directory (``accelsim import -o workloads/mine.yaml``
    makes ``--workload mine`` work), or None."""
    if not name or Path(name).name != name:
        return None
    for suffix in SUFFIXES[kind]:
        candidate = Path(kind) / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def resolve(kind: str, name_or_path: str | Path) -> Path:
    """A path to an existing file, a name in ``./<kind>/`` of the working directory, or the name of a
    shipped one (``tpu_v1``), in that order."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    mine = local(kind, str(name_or_path))
    if mine is not None:
        return mine
    found = shipped(kind)
    if str(name_or_path) in found:
        return found[str(name_or_path)]
    names = ", ".join(found) or "none"
    what = WHAT[kind]
    raise ConfigError(str(name_or_path), "", f"no such file, and not a shipped {what} (shipped: {names}; "
                                             f"names are also looked up in ./{kind}/)")

"""Where the shipped hwconfigs and workloads live, and name -> file lookup.

In a source checkout they are ``hwconfigs/`` and ``workloads/`` at the top of
the repository; an installed wheel carries them as ``accelsim.hwconfigs`` and
``accelsim.workloads`` (see ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

from accelsim.errors import ConfigError

HW_SUFFIXES = (".yaml", ".yml", ".cfg")
WORKLOAD_SUFFIXES = (".yaml", ".yml", ".csv", ".onnx")


def shipped_dir(kind: str) -> Path:
    """The directory of shipped ``hwconfigs`` or ``workloads``."""
    package = Path(__file__).resolve().parents[1]
    installed = package / kind
    return installed if installed.is_dir() else package.parent / kind


def shipped(kind: str) -> dict[str, Path]:
    """Shipped files of one kind by name (file stem), sorted."""
    suffixes = HW_SUFFIXES if kind == "hwconfigs" else WORKLOAD_SUFFIXES
    directory = shipped_dir(kind)
    files = [p for p in directory.iterdir() if p.suffix in suffixes] if directory.is_dir() else []
    return {p.stem: p for p in sorted(files)}


def resolve(kind: str, name_or_path: str | Path) -> Path:
    """A path to an existing file, or the name of a shipped one (``tpu_v1``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    found = shipped(kind)
    if str(name_or_path) in found:
        return found[str(name_or_path)]
    names = ", ".join(found) or "none"
    what = "hardware config" if kind == "hwconfigs" else "workload"
    raise ConfigError(str(name_or_path), "", f"no such file, and not a shipped {what} (shipped: {names})")

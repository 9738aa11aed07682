"""Errors a user can act on.

Every error accelsim raises for bad input is one line: where (file, dotted path
or layer), what was found, and what was expected. The CLI prints ``str(err)``
and exits with status 2; nothing else is needed to understand it.
"""

from __future__ import annotations


class AccelsimError(Exception):
    """Base class: an error caused by the user's input, printed as one line."""


class ConfigError(AccelsimError):
    """A hardware, workload or spec file (or object) is invalid.

    ``source`` is the file (or ``<python>`` for objects built in code), ``path``
    the dotted path of the offending field, ``message`` what is wrong.
    """

    def __init__(self, source: str, path: str, message: str):
        self.source = source
        self.path = path
        self.message = message
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {message}")

    def relocated(self, source: str, prefix: str = "") -> "ConfigError":
        """The same error, reported against another file and under a parent path."""
        path = ".".join(p for p in (prefix, self.path) if p)
        return ConfigError(source, path, self.message)


SHOWN_CHARS = 80  # a bad string is quoted up to this many characters (error messages stay one short line)


def describe(value: object) -> str:
    """Render a bad value the way the user wrote it (YAML-ish, one line, bounded in length)."""
    if isinstance(value, str):
        if len(value) > SHOWN_CHARS:
            return repr(value[:SHOWN_CHARS]) + f"... ({len(value):,} characters)"
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def expected(source: str, path: str, what: str, value: object) -> ConfigError:
    """The common shape: ``file: path: expected <what>, got <value>``."""
    return ConfigError(source, path, f"expected {what}, got {describe(value)}")


class MappingError(AccelsimError):
    """A layer cannot be mapped onto the hardware (a tile does not fit a buffer)."""

    def __init__(self, layer: str, buffer: str, needed_bytes: int, available_bytes: int, detail: str = ""):
        self.layer = layer
        self.buffer = buffer
        self.needed_bytes = needed_bytes
        self.available_bytes = available_bytes
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"layer {layer}: does not fit the {buffer} buffer: needs {needed_bytes} bytes, "
            f"{available_bytes} bytes available{extra}"
        )


class SimulationError(AccelsimError):
    """The engine reached an impossible state (a bug, or an inconsistent schedule)."""

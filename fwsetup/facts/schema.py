"""Facts tables as typed, validated data: a TOML table becomes a frozen dataclass.

The dataclass is the schema: a field without a default is a required key, a field with one is
optional, and any key the dataclass does not name is refused. A misspelt key in a data file
would otherwise silently change a decision (`.get("arhcs", [])` is an empty arch list), so a
bad file fails loudly, naming the file, the key and the problem.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

from fwsetup import tomlfile

T = TypeVar("T")
DATA_DIR = Path(__file__).parent


class FactsError(ValueError):
    """A facts file that does not match its schema: a bug in fwsetup's data, never the user's."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: key '{key}': {problem}")
        self.file, self.key, self.problem = file, key, problem


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _convert(tp: Any, value: Any, file: str, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Union:  # Optional[X]
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(inner, value, file, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise FactsError(file, where, f"expected a list, got {type(value).__name__}")
        item = typing.get_args(tp)[0]
        return tuple(_convert(item, v, file, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return build(tp, value, file, where)  # type: ignore[arg-type]
    if tp is bool or tp is str:
        ok = isinstance(value, tp)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:  # pragma: no cover - a schema bug, caught by the loader tests
        raise TypeError(f"unsupported facts field type {tp!r}")
    if not ok:
        raise FactsError(file, where, f"expected {tp.__name__}, got {type(value).__name__}")
    return value


def build(cls: type[T], raw: Any, file: str, where: str = "") -> T:
    """`cls` from one TOML table; refuses unknown keys, missing keys and wrong types."""
    if not isinstance(raw, dict):
        raise FactsError(file, where or "(top)", f"expected a table, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    prefix = f"{where}." if where else ""
    for key in raw:
        if key not in fields:
            raise FactsError(
                file, prefix + key, f"unknown key (expected one of: {', '.join(sorted(fields))})"
            )
    hints = _hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise FactsError(file, prefix + name, "required key missing")
            continue
        kwargs[name] = _convert(hints[name], raw[name], file, prefix + name)
    return cls(**kwargs)


def parse(cls: type[T], text: str, file: str) -> T:
    """`cls` from TOML text (tests feed edited copies of the real files through this)."""
    try:
        raw = tomlfile.loads(text)
    except tomlfile.TOMLDecodeError as exc:
        raise FactsError(file, "(file)", f"not valid TOML: {exc}") from None
    return build(cls, raw, file)


def read(cls: type[T], name: str) -> T:
    """`cls` from fwsetup/facts/<name>.toml. Callers cache (each table module has one reader)."""
    path = DATA_DIR / f"{name}.toml"
    return parse(cls, path.read_text(encoding="utf-8"), f"fwsetup/facts/{name}.toml")

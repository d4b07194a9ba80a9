"""Facts tables as typed, validated data: a TOML table becomes a frozen dataclass.

The dataclass is the schema: a field without a default is a required key, a field with one is
optional, and any key the dataclass does not name is refused. A misspelt key in a data file
would otherwise silently change a decision (`.get("arhcs", [])` is an empty arch list), so a
bad file fails loudly, naming the file, the key and the problem.
"""

from __future__ import annotations

import datetime
import typing
from pathlib import Path
from typing import Any, Callable, TypeVar, Union

from fwsetup import records, tomlfile

T = TypeVar("T")
DATA_DIR = Path(__file__).parent


class FactsError(ValueError):
    """A facts file that does not match its schema: a bug in fwsetup's data, never the user's."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: key '{key}': {problem}")
        self.file, self.key, self.problem = file, key, problem


Convert = Callable[[Any, str, str], Any]
_FIELDS: dict[type, tuple[dict[str, Convert], frozenset[str], str]] = {}


def _converter(tp: Any) -> Convert:
    """A function (value, file, where) -> value checked and converted for the type `tp`."""
    origin = typing.get_origin(tp)
    if origin is Union:  # Optional[X]
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _converter(inner)
    if origin is tuple:
        item = _converter(typing.get_args(tp)[0])

        def as_tuple(value: Any, file: str, where: str) -> Any:
            if not isinstance(value, list):
                raise FactsError(file, where, f"expected a list, got {type(value).__name__}")
            return tuple(item(v, file, f"{where}[{i}]") for i, v in enumerate(value))

        return as_tuple
    if records.is_dataclass(tp):
        return lambda value, file, where: build(tp, value, file, where)
    if tp not in (str, bool, int, datetime.date):  # pragma: no cover - a schema bug, caught by the loader tests
        raise TypeError(f"unsupported facts field type {tp!r}")

    def scalar(value: Any, file: str, where: str) -> Any:
        if type(value) is not tp:  # bool is not an int here; a datetime is not a date
            raise FactsError(file, where, f"expected {tp.__name__}, got {type(value).__name__}")
        return value

    return scalar


def _fields(cls: type) -> tuple[dict[str, Convert], frozenset[str], str]:
    """Per dataclass, worked out once: a converter per field, the required ones, the key list."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        fields = records.fields(cls)
        required = frozenset(
            f.name
            for f in fields
            if f.default is records.MISSING and f.default_factory is records.MISSING
        )
        _FIELDS[cls] = (
            {f.name: _converter(hints[f.name]) for f in fields},
            required,
            ", ".join(sorted(hints)),
        )
    return _FIELDS[cls]


def build(cls: type[T], raw: Any, file: str, where: str = "") -> T:
    """`cls` from one TOML table; refuses unknown keys, missing keys and wrong types."""
    if not isinstance(raw, dict):
        raise FactsError(file, where or "(top)", f"expected a table, got {type(raw).__name__}")
    converters, required, expected = _fields(cls)
    prefix = f"{where}." if where else ""
    kwargs = {}
    for key, value in raw.items():
        convert = converters.get(key)
        if convert is None:
            raise FactsError(file, prefix + key, f"unknown key (expected one of: {expected})")
        kwargs[key] = convert(value, file, prefix + key)
    for key in required:
        if key not in raw:
            raise FactsError(file, prefix + key, "required key missing")
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
    file = f"fwsetup/facts/{name}.toml"
    try:
        raw = tomlfile.load(DATA_DIR / f"{name}.toml")
    except tomlfile.TOMLDecodeError as exc:
        raise FactsError(file, "(file)", f"not valid TOML: {exc}") from None
    return build(cls, raw, file)

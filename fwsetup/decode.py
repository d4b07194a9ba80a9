"""The one mapping → record decoder: data read from a file becomes a frozen record, checked.

The record is the schema: a field without a default is a required key, its annotation the type
the value must have. Facts tables (facts/schema.py) refuse keys the record does not name, since
a misspelt key in fwsetup's own data would silently change a decision; files written by another
fwsetup (a saved report, a generation's fwsetup.json) may carry keys this one does not know,
which are skipped. A value that does not fit raises DecodeError naming where it is; each caller
turns that into its own error with its own fix.

Supported annotations: str, int, float (an int is accepted), bool, datetime.date, Any,
Optional[X], list[X], tuple[X, ...], dict[K, V] (kept as read) and nested records. A bool is
never an int and a datetime never a date, although Python says otherwise.
"""

from __future__ import annotations

import datetime
import typing
from typing import Any, Callable, TypeVar

from fwsetup import records

T = TypeVar("T")
Convert = Callable[[Any, str, bool], Any]  # (value, where, strict) -> value

# Names the records' string annotations may use without their module importing typing at runtime
# (report.py does not, so doctor never loads it).
_NAMES = {"Any": typing.Any, "Optional": typing.Optional, "Union": typing.Union}
_SCALARS: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (int, float),
    bool: (bool,),
    datetime.date: (datetime.date,),
}


class DecodeError(ValueError):
    """A value that does not fit its record: `where` is the dotted path, `problem` what is wrong."""

    def __init__(self, where: str, problem: str, *, missing: bool = False) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem, self.missing = where, problem, missing


class _Shape:
    """A record's fields worked out once: a converter each, which are required, every name.
    Resolving type hints for each GPU of a 20,000-GPU report would cost most of reading it."""

    def __init__(self, cls: type) -> None:
        hints = field_types(cls)
        fields = records.fields(cls)
        self.converters: dict[str, Convert] = {f.name: _converter(hints[f.name]) for f in fields}
        self.required = [
            f.name for f in fields if f.default is records.MISSING and f.default_factory is records.MISSING
        ]
        self.names = ", ".join(sorted(hints))


_SHAPES: dict[type, _Shape] = {}


def field_types(cls: type) -> dict[str, Any]:
    """A record's field types, resolved (its annotations are strings)."""
    return typing.get_type_hints(cls, localns=_NAMES)


def _shape(cls: type) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = _Shape(cls)
    return shape


def _kind(value: Any) -> str:
    return "a boolean" if isinstance(value, bool) else type(value).__name__


def _converter(tp: Any) -> Convert:
    """A function (value, where, strict) -> the value checked (records built) for type `tp`."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:  # Optional[X]
        inner = _converter(next(a for a in typing.get_args(tp) if a is not type(None)))
        return lambda value, where, strict: None if value is None else inner(value, where, strict)
    if origin in (list, tuple):
        item = _converter(typing.get_args(tp)[0])
        make = list if origin is list else tuple

        def sequence(value: Any, where: str, strict: bool) -> Any:
            if not isinstance(value, list):
                raise DecodeError(where, f"expected a list, got {_kind(value)}")
            return make(item(v, f"{where}[{i}]", strict) for i, v in enumerate(value))

        return sequence
    if origin is dict:

        def mapping(value: Any, where: str, strict: bool) -> Any:
            if not isinstance(value, dict):
                raise DecodeError(where, f"expected an object, got {_kind(value)}")
            return dict(value)

        return mapping
    if records.is_dataclass(tp):
        return lambda value, where, strict: decode(tp, value, where, strict=strict)
    if tp is typing.Any:
        return lambda value, where, strict: value
    accepted = _SCALARS.get(tp)
    if accepted is None:  # pragma: no cover - a schema bug, caught by the loaders' tests
        raise TypeError(f"unsupported field type {tp!r}")

    def scalar(value: Any, where: str, strict: bool) -> Any:
        if type(value) not in accepted:  # exact: a bool is not an int, a datetime not a date
            raise DecodeError(where, f"expected {tp.__name__}, got {_kind(value)}")
        return value

    return scalar


def decode(cls: type[T], data: Any, where: str = "", *, strict: bool = True) -> T:
    """`cls` from a mapping (and its nested mappings); `strict` refuses keys `cls` does not name."""
    if not isinstance(data, dict):
        raise DecodeError(where or "(top)", f"expected an object, got {_kind(data)}")
    shape = _shape(cls)
    prefix = f"{where}." if where else ""
    if strict:
        for key in data:
            if key not in shape.converters:
                raise DecodeError(prefix + key, f"unknown key (expected one of: {shape.names})")
    for key in shape.required:
        if key not in data:
            raise DecodeError(prefix + key, "required key missing", missing=True)
    kwargs = {
        key: convert(data[key], prefix + key, strict)
        for key, convert in shape.converters.items()
        if key in data
    }
    return cls(**kwargs)

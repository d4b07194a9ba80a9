"""Frozen data classes that cost nothing to define: the subset of `dataclasses` fwsetup uses.

Why not the standard library's: importing `dataclasses` imports `inspect` (and with it `ast`,
`dis`, `tokenize`), and every `@dataclass` compiles its generated methods with `exec`. Measured
here, 30 frozen dataclasses plus that import cost 2.8x a bare `python -c pass` — more than all of
doctor's probes together — and fwsetup defines more than 70. These classes are made from closures
instead: the same decorator, `field`, `fields`, `replace`, `asdict` and `is_dataclass`, with the
same semantics for what fwsetup uses (positional and keyword construction, defaults and default
factories, frozen instances, field-wise `==`, `hash` and `repr`, generic bases). Not supported:
inheritance between data classes, `__post_init__`, `InitVar`, ordering, `kw_only`, slots.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs doctor's start-up more than it is worth here
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, overload

    from typing_extensions import dataclass_transform

    T = TypeVar("T")
    C = TypeVar("C", bound=type)
else:

    def dataclass_transform(**_kwargs: object) -> object:
        return lambda decorated: decorated

    def overload(function: object) -> object:  # ruff takes the defs below for redefinitions: noqa F811
        return function

_FIELDS = "__record_fields__"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen instance."""


class Field:
    __slots__ = ("default", "default_factory", "name", "type")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


@overload
def field(*, default: T) -> T: ...
@overload
def field(*, default_factory: Callable[[], T]) -> T: ...  # noqa: F811
def field(*, default: Any = MISSING, default_factory: Any = MISSING) -> Any:  # noqa: F811
    """A field with a default, or a factory for a fresh mutable default per instance."""
    return Field(default, default_factory)


@overload
def dataclass(cls: C, /) -> C: ...
@overload
def dataclass(*, frozen: bool = False) -> Callable[[C], C]: ...  # noqa: F811
@dataclass_transform(field_specifiers=(field,))
def dataclass(cls: Any = None, /, *, frozen: bool = False) -> Any:  # noqa: F811
    """`@dataclass` or `@dataclass(frozen=True)`: __init__, __repr__, __eq__ (and __hash__ when
    frozen) over the annotated fields, in order."""

    def wrap(klass: C) -> C:
        return _process(klass, frozen)

    return wrap if cls is None else wrap(cls)


def _own_annotations(cls: type) -> dict[str, Any]:
    """The class's own field annotations (strings under `from __future__ import annotations`),
    without a base class's; Python 3.14 keeps them behind `__annotate__` otherwise."""
    own: Any = cls.__dict__.get("__annotations__")  # noqa: RUF063 - no inspect import
    if own is None:
        own = getattr(cls, "__annotations__", {}) if "__annotate__" in cls.__dict__ else {}
    return dict(own)


def _process(cls: C, frozen: bool) -> C:
    found: list[Field] = []
    for name, annotation in _own_annotations(cls).items():
        if isinstance(annotation, str) and annotation.startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, MISSING)
        spec = value if isinstance(value, Field) else Field(value)
        spec.name, spec.type = name, annotation
        if spec.default is MISSING and name in cls.__dict__:
            delattr(cls, name)  # a default_factory field: no class attribute, as dataclasses does
        elif spec.default is not MISSING:
            setattr(cls, name, spec.default)
        required = spec.default is MISSING and spec.default_factory is MISSING
        if required and any(f.default is not MISSING or f.default_factory is not MISSING for f in found):
            raise TypeError(f"non-default argument {name!r} follows default argument")
        found.append(spec)
    specs = tuple(found)
    names = tuple(f.name for f in specs)
    setattr(cls, _FIELDS, specs)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(specs):
            raise TypeError(f"{cls.__name__}() takes {len(specs)} positional arguments but {len(args)} were given")
        for i, spec in enumerate(specs):
            if i < len(args):
                if spec.name in kwargs:
                    raise TypeError(f"{cls.__name__}() got multiple values for argument {spec.name!r}")
                value = args[i]
            elif spec.name in kwargs:
                value = kwargs.pop(spec.name)
            elif spec.default is not MISSING:
                value = spec.default
            elif spec.default_factory is not MISSING:
                value = spec.default_factory()
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {spec.name!r}")
            object.__setattr__(self, spec.name, value)
        if kwargs:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}")

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)

    cls.__init__ = __init__  # type: ignore[misc]
    cls.__repr__ = __repr__  # type: ignore[assignment]
    cls.__eq__ = __eq__  # type: ignore[assignment]
    if frozen:

        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenInstanceError(f"cannot delete field {name!r}")

        def __hash__(self: Any) -> int:
            return hash(tuple(getattr(self, n) for n in names))

        cls.__setattr__ = __setattr__  # type: ignore[assignment]
        cls.__delattr__ = __delattr__  # type: ignore[assignment]
        cls.__hash__ = __hash__  # type: ignore[assignment]
    else:
        cls.__hash__ = None  # type: ignore[assignment]  # mutable and comparable: unhashable
    return cls


def is_dataclass(obj: Any) -> bool:
    return hasattr(obj if isinstance(obj, type) else type(obj), _FIELDS)


def fields(obj: Any) -> tuple[Field, ...]:
    try:
        specs: tuple[Field, ...] = getattr(obj, _FIELDS)
    except AttributeError:
        raise TypeError(f"{obj!r} is not a data class") from None
    return specs


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of `obj` with some fields changed (a new instance: the original stays as it was)."""
    values = {f.name: changes.pop(f.name) if f.name in changes else getattr(obj, f.name) for f in fields(obj)}
    if changes:
        raise TypeError(f"{type(obj).__name__} has no field {next(iter(changes))!r}")
    return type(obj)(**values)


def asdict(obj: Any) -> dict[str, Any]:
    """The instance as plain dicts and lists, recursively (JSON-ready where its values are)."""
    if not is_dataclass(obj) or isinstance(obj, type):
        raise TypeError("asdict() should be called on data class instances")
    converted: dict[str, Any] = _plain(obj)
    return converted


def _plain(value: Any) -> Any:
    if hasattr(type(value), _FIELDS):
        return {f.name: _plain(getattr(value, f.name)) for f in getattr(type(value), _FIELDS)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return type(value)(_plain(v) for v in value) if not hasattr(value, "_fields") else value
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    import copy

    return copy.deepcopy(value)

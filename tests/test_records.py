"""fwsetup.records: the data classes every stage uses, without dataclasses' start-up cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Generic, Optional, TypeVar

import pytest

from fwsetup import records
from fwsetup.records import FrozenInstanceError, dataclass, field

T = TypeVar("T")


@dataclass(frozen=True)
class Point:
    x: int
    label: str = "p"
    note: Optional[str] = None
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pair:
    a: int
    b: str = ""


@dataclass
class Box(Generic[T]):
    item: T
    points: tuple[Point, ...] = ()


def test_construction_defaults_and_fresh_factories() -> None:
    a, b = Point(1), Point(2, "b", tags=["t"])
    assert (a.x, a.label, a.note, a.tags) == (1, "p", None, [])
    assert (b.x, b.label, b.tags) == (2, "b", ["t"])
    assert Point(3).tags is not Point(3).tags  # a fresh list per instance
    with pytest.raises(TypeError, match="missing required argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'y'"):
        Point(1, y=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="positional"):
        Point(1, "a", None, [], 5)  # type: ignore[call-arg]


def test_frozen_equality_hash_and_repr() -> None:
    a = Point(1, tags=[])
    with pytest.raises(FrozenInstanceError):
        a.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del a.x
    assert Point(1) == Point(1) and Point(1) != Point(2) and Point(1).__eq__((1,)) is NotImplemented
    assert hash(Pair(1, "n")) == hash(Pair(1, "n")) and {Pair(1), Pair(1)} == {Pair(1)}
    with pytest.raises(TypeError, match="unhashable"):  # as with dataclasses: a list field
        hash(Point(1))
    assert repr(Point(1)) == "Point(x=1, label='p', note=None, tags=[])"
    box = Box(1)
    box.item = 2  # not frozen: assignable, and unhashable like a mutable dataclass
    with pytest.raises(TypeError):
        hash(box)


def test_replace_fields_asdict_is_dataclass() -> None:
    a = Point(1)
    b = records.replace(a, label="b")
    assert (a.label, b.label, b.x) == ("p", "b", 1)
    with pytest.raises(TypeError, match="no field 'nope'"):
        records.replace(a, nope=1)
    assert [f.name for f in records.fields(Point)] == ["x", "label", "note", "tags"]
    assert records.fields(Point)[1].default == "p" and records.fields(Point)[3].default_factory is list
    assert records.fields(Point)[0].default is records.MISSING
    nested = Box({"k": [Point(1)]}, (Point(2, tags=["t"]),))
    assert records.asdict(nested) == {
        "item": {"k": [{"x": 1, "label": "p", "note": None, "tags": []}]},
        "points": ({"x": 2, "label": "p", "note": None, "tags": ["t"]},),
    }
    assert records.is_dataclass(Point) and records.is_dataclass(a) and not records.is_dataclass(1)
    with pytest.raises(TypeError):
        records.fields(1)


def test_a_required_field_after_a_default_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):

        @dataclass
        class Bad:
            x: int = 0
            y: int  # type: ignore[misc]


def test_no_fwsetup_module_uses_the_standard_dataclasses() -> None:
    package = Path(__file__).parent.parent / "fwsetup"
    offenders = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p.name != "records.py"
        and any(
            line.strip().startswith(("import dataclasses", "from dataclasses"))
            for line in p.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []


def test_doctor_imports_none_of_the_costly_modules() -> None:
    """bench/bench_cli.py holds doctor to 5x a bare interpreter start; these imports alone broke it."""
    heavy = ("dataclasses", "inspect", "typer", "tomllib", "typing", "packaging", "pathlib", "datetime", "glob")
    code = (
        "import sys, io; from fwsetup.cli.app import run\n"
        "out, sys.stdout = sys.stdout, io.StringIO(); run(['doctor', '--json']); sys.stdout = out\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_runner_which_finds_what_shutil_which_finds(tmp_path: Path) -> None:
    """runner.which searches PATH itself on POSIX (no shutil import at doctor's start-up)."""
    import os
    import shutil

    from fwsetup import runner

    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
    (a / "tool").write_text("not executable")
    (b / "tool").write_text("#!/bin/sh\n")
    (b / "tool").chmod(0o755)
    (a / "dirtool").mkdir()
    env = {"PATH": os.pathsep.join([str(a), str(b), "/nonexistent"])}
    for name in ("tool", "dirtool", "missing", str(b / "tool"), str(a / "tool"), "sh"):
        assert runner.which(name, env) == shutil.which(name, path=env["PATH"]), name

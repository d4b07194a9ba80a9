"""Every local JSON file fwsetup keeps, damaged in each way a disk, an editor or another tool can
damage it, through every command that reads it: a clear message and a documented exit code (or
the bad entry skipped with a warning), never an internal error; one bad environment never hides
the others from `envs --json` (issue 20, point 5).

One set of real environments is built once (two fwsetup envs, one with two generations, and a
project venv installed `--into`), and restored byte for byte before each case."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from helpers import cli, fwsetup, json_out, tiny_env

from fwsetup.install import envs
from fwsetup.install.backends import find_uv


class World:
    """The environments of one machine: `a` (--env path, generations 1 and 2), `b` (the default
    home's tinyb env), `venv` (a project venv tiny was installed into)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.a = root / "a"
        self.b = self.home / "envs" / "tinyb-cpu"
        self.venv = root / "proj"

    def env(self) -> dict[str, str]:
        return tiny_env(self.home)

    def current(self, env: Path) -> Path:
        return Path(os.readlink(env))


class Built:
    """The world and its pristine copy; `dirty` when a case changed more than the small files."""

    def __init__(self, world: World, pristine: Path) -> None:
        self.world, self.pristine, self.dirty = world, pristine, False


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("damaged")
    world = World(root / "w")
    w = world.env()
    for args in (
        ["install", "tiny", "--cpu", "--version", "1.16.0", "--env", str(world.a)],
        ["install", "tiny", "--cpu", "--version", "1.17.0", "--env", str(world.a)],
        ["install", "tinyb", "--cpu"],
    ):
        done = cli(*args, "--json", env=w)
        assert done.returncode == 0, done.stdout + done.stderr
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(world.venv)], check=True)
    uv = find_uv()
    assert uv is not None
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(world.venv / "bin" / "python"), "six==1.17.0"],
        check=True,
    )
    into = fwsetup("install", "tiny", "--cpu", "--into", str(world.venv), "--json", env=w)
    assert into.returncode == 0, into.stdout + into.stderr
    pristine = root / "pristine"
    shutil.copytree(world.root, pristine, symlinks=True)
    yield Built(world, pristine)


# What a command may change besides these small files: the world is restored after it.
MUTATING = {"rollback ENV", "rollback VENV", "install --add", "install --into", "remove", "envs --prune"}


@pytest.fixture
def world(built: Built, request: pytest.FixtureRequest) -> Iterator[World]:
    """The built environments as they were after the build (venvs hold absolute paths: same place).
    A case that only reads gets its small files back; one that may change more gets a new copy
    (hard links: nothing here writes a file in place, every write replaces it)."""
    w = built.world
    if built.dirty:
        shutil.rmtree(w.root)
        subprocess.run(["cp", "-al", str(built.pristine), str(w.root)], check=True)
        built.dirty = False
    small = [f(w) for f in (_registry, _history, _last_smoke, _metadata, _into_record)]
    saved = {f: f.read_bytes() for f in small}
    command = getattr(request.node, "callspec", None)
    built.dirty = (
        command is None or command.params.get("command") in MUTATING or "symlink" in request.node.name
    )
    yield w
    if not built.dirty:
        for f, content in saved.items():
            replace(f, content)


def replace(path: Path, content: bytes) -> None:
    """A new file in its place (never written in place: the world's files are hard links)."""
    tmp = path.with_name(path.name + ".test-tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


# --- where each file is, and how it is damaged -----------------------------------------------------

NOT_UTF8 = b"\xff\xfe\x00[\x80]"


def _registry(w: World) -> Path:
    return w.home / envs.REGISTRY


def _history(w: World) -> Path:
    return envs.EnvLayout(w.a).store / envs.HISTORY


def _last_smoke(w: World) -> Path:
    return envs.EnvLayout(w.a).store / envs.LAST_SMOKE


def _metadata(w: World) -> Path:
    return w.current(w.a) / envs.METADATA


def _into_record(w: World) -> Path:
    return next((w.home / "into").glob("*.json"))


def _meta_with(**changes: Any) -> Callable[[Path], bytes]:
    """The real fwsetup.json with a value replaced by one of the wrong shape."""

    def damage(path: Path) -> bytes:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, value in changes.items():
            if key == "first_plan":
                data["frameworks"][0]["plan"] = value
            else:
                data[key] = value
        return json.dumps(data).encode()

    return damage


def _fixed(content: bytes) -> Callable[[Path], bytes]:
    return lambda path: content


COMMON = {
    "not UTF-8": _fixed(NOT_UTF8),
    "truncated": _fixed(b'[{"generation": 1, '),
    "empty": _fixed(b""),
}
# file -> (where, {shape: damage})
FILES: dict[str, tuple[Callable[[World], Path], dict[str, Callable[[Path], bytes]]]] = {
    "envs.json": (
        _registry,
        {
            **COMMON,
            "an object": _fixed(b'{"envs": []}'),
            "a string": _fixed(b'"/x"'),
            "wrong entries": _fixed(b'[1, {"a": 1}, "relative/path", null]'),
        },
    ),
    "history.json": (
        _history,
        {
            **COMMON,
            "an object": _fixed(b"{}"),
            "a string": _fixed(b'"x"'),
            "wrong entries": _fixed(
                b'[1, "x", {"generation": "2"}, {"generation": 99}, {"generation": true}]'
            ),
        },
    ),
    "fwsetup.json": (
        _metadata,
        {
            **COMMON,
            "a list": _fixed(b"[]"),
            "a string": _fixed(b'"x"'),
            "frameworks a string": _meta_with(frameworks="x"),
            "frameworks of numbers": _meta_with(frameworks=[1, 2]),
            "env a string": _meta_with(env="x"),
            "packages a list": _meta_with(packages=["six"]),
            "plan a string": _meta_with(plan="x", first_plan="x"),
        },
    ),
    "last-smoke.json": (
        _last_smoke,
        {**COMMON, "a list": _fixed(b"[]"), "a string": _fixed(b'"x"')},
    ),
    "into record": (
        _into_record,
        {**COMMON, "an object": _fixed(b"{}"), "wrong entries": _fixed(b'[1, "x", {"venv": 3}]')},
    ),
}


# --- every command that reads them -----------------------------------------------------------------

# name -> (argv built from the world, the exit codes it may end with)
COMMANDS: dict[str, tuple[Callable[[World], list[str]], set[int]]] = {
    "envs": (lambda w: ["envs"], {0}),
    "envs --json": (lambda w: ["envs", "--json"], {0}),
    "envs ENV --json": (lambda w: ["envs", str(w.a), "--json"], {0, 2}),
    "envs --prune": (lambda w: ["envs", "--prune", "--yes", "--json"], {0}),
    "rollback ENV": (lambda w: ["rollback", str(w.a), "--json"], {0, 2}),
    "rollback VENV": (lambda w: ["rollback", str(w.venv), "--json"], {0, 2}),
    "smoke --env": (lambda w: ["smoke", "tiny", "--env", str(w.a), "--json"], {0, 2}),
    "smoke by name": (lambda w: ["smoke", "tinyb", "--json"], {0, 2}),
    "install --add": (lambda w: ["install", "tinyb", "--cpu", "--add", "--env", str(w.a), "--json"], {0, 2}),
    "remove": (lambda w: ["remove", str(w.a), "--yes", "--json"], {0, 2}),
    "install --into": (lambda w: ["install", "tinyb", "--cpu", "--into", str(w.venv), "--json"], {0, 2}),
    "run": (lambda w: ["run", str(w.a), "--", "true"], {0, 2}),
}
READERS = {
    "envs.json": ["envs", "envs --json", "envs --prune", "smoke by name", "remove", "install --add", "run"],
    "history.json": [
        "envs",
        "envs --json",
        "envs ENV --json",
        "envs --prune",
        "rollback ENV",
        "install --add",
        "remove",
    ],
    "fwsetup.json": [
        "envs",
        "envs --json",
        "envs ENV --json",
        "rollback ENV",
        "smoke --env",
        "install --add",
        "remove",
        "run",
    ],
    "last-smoke.json": ["envs", "envs --json", "smoke --env"],
    "into record": ["envs", "envs --json", "rollback VENV", "envs --prune", "install --into"],
}
CASES = [
    pytest.param(file, shape, command, id=f"{file}:{shape}:{command}")
    for file, (_, shapes) in FILES.items()
    for shape in shapes
    for command in READERS[file]
]


def run(w: World, command: str) -> subprocess.CompletedProcess[str]:
    argv = COMMANDS[command][0](w)
    if command == "run":  # it replaces the process it runs in: a child
        return fwsetup(*argv, env=w.env())
    return cli(*argv, env=w.env())


def assert_clear(out: subprocess.CompletedProcess[str], command: str) -> Any:
    """A documented exit code, no internal error, and with --json exactly one JSON document."""
    allowed = COMMANDS[command][1]
    assert out.returncode in allowed, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "internal error" not in out.stdout + out.stderr and "Traceback" not in out.stderr, (
        out.stdout + out.stderr
    )
    if "--json" in out.args:
        data = json_out(out)
        if out.returncode != 0:
            assert data["error"]["message"] and data["error"]["fix"], data
        return data
    return None


@pytest.mark.parametrize(("file", "shape", "command"), CASES)
def test_a_damaged_file_through_each_command_that_reads_it(
    world: World, file: str, shape: str, command: str
) -> None:
    where, shapes = FILES[file]
    path = where(world)
    damaged = shapes[shape](path)
    replace(path, damaged)
    data = assert_clear(run(world, command), command)
    if file == "into record" and command in ("rollback VENV", "install --into"):
        assert path.read_bytes() == damaged  # refused, never overwritten: the user can still read it
    if command in ("envs --json", "envs --prune"):
        statuses = {r["env"]: r["status"] for r in data["envs"]}
        assert statuses.get(str(world.b)) == "ok", data  # one bad env never hides the others
        if file in ("envs.json", "into record"):  # said, not silently dropped
            assert data["warnings"] and path.name in data["warnings"][0], data
        if file == "fwsetup.json":
            assert statuses.get(str(world.a)) in ("damaged", "ok"), data
    if command == "envs --prune":
        assert world.a.is_symlink() and world.b.is_symlink()  # a damaged env is not an orphan


@pytest.mark.parametrize("command", ["envs", "envs --json", "envs ENV --json", "envs --prune", "rollback ENV",
                                     "smoke --env", "install --add", "remove", "run"])  # fmt: skip
def test_a_store_that_is_a_symlink_through_each_command(world: World, command: str) -> None:
    store = envs.EnvLayout(world.a).store
    moved = world.root / "moved-store"
    store.rename(moved)
    store.symlink_to(moved)
    world.a.unlink()
    world.a.symlink_to(store / "gen-2")
    data = assert_clear(run(world, command), command)
    if command in ("envs --json", "envs --prune"):
        statuses = {r["env"]: r["status"] for r in data["envs"]}
        assert statuses[str(world.b)] == "ok" and statuses[str(world.a)] == "foreign", data
    assert (moved / "gen-1" / envs.METADATA).is_file() and (moved / "gen-2" / envs.METADATA).is_file()


def test_a_damaged_registry_is_kept_aside_not_overwritten(world: World) -> None:
    replace(_registry(world), NOT_UTF8)
    done = cli("install", "tiny", "--cpu", "--env", str(world.root / "c"), "--json", env=world.env())
    assert done.returncode == 0, done.stdout
    kept = list(world.home.glob(envs.REGISTRY + ".damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == NOT_UTF8
    assert json.loads(_registry(world).read_text()) == [str(world.root / "c")]


def test_an_install_over_damaged_metadata_needs_replace(world: World) -> None:
    """fwsetup cannot tell what the env holds: --add or a plain install would guess; --replace
    builds a fresh generation and keeps the damaged one for rollback."""
    replace(_metadata(world), b"[]")
    damaged = world.current(world.a)
    for mode in ([], ["--add"]):
        out = cli("install", "tinyb", "--cpu", *mode, "--env", str(world.a), "--json", env=world.env())
        assert out.returncode == 2 and "--replace" in json_out(out)["error"]["fix"], out.stdout
        assert world.current(world.a) == damaged
    out = cli("install", "tinyb", "--cpu", "--replace", "--env", str(world.a), "--json", env=world.env())
    assert out.returncode == 0, out.stdout
    assert json_out(out)["frameworks"] == ["tinyb"] and world.current(world.a) != damaged and damaged.is_dir()

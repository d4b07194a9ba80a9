"""Environments on disk: generations behind a symlink, a lock, metadata, rollback.

An environment path P is a symlink to P's generation directory
`<parent>/.<name>.fwsetup/gen-N`. A new install builds gen-N+1 at its final location
(venvs cannot be moved: their scripts hold absolute paths), proves it with the smoke
test, then swaps the symlink with one atomic rename. Until that rename P keeps pointing
at the previous, working generation: a failure, Ctrl-C or SIGKILL at any moment leaves
it untouched. The previous generation is kept for `fwsetup rollback`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from fwsetup.errors import InstallError, LockedError, UsageError
from fwsetup.install.generation import GenerationMeta
from fwsetup.probe import dists
from fwsetup.records import dataclass

INCOMPLETE_MARKER = ".fwsetup-incomplete"
METADATA = "fwsetup.json"
KEEP_GENERATIONS = 2  # the newest ones kept besides the current one and the one rollback returns to
HISTORY = "history.json"  # in the store: which generation was active when, in order
REGISTRY = "envs.json"  # in FWSETUP_HOME: every environment path fwsetup made
LAST_SMOKE = "last-smoke.json"  # in the store: the latest smoke verdict, for `fwsetup envs`
STORE_MARKER = "fwsetup-store"  # in the store, written when fwsetup creates it: the store is fwsetup's


@dataclass(frozen=True)
class EnvLayout:
    path: Path  # what the user names: a symlink managed by fwsetup

    @property
    def store(self) -> Path:
        return self.path.parent / f".{self.path.name}.fwsetup"

    @property
    def lock_file(self) -> Path:
        return self.path.parent / f".{self.path.name}.fwsetup.lock"

    def owned(self) -> bool:
        """The store is fwsetup's to change or delete: a real directory (never a symlink) with the
        marker fwsetup writes when it creates one, or holding only what older versions put there."""
        if not _real_dir(self.store):
            return False
        marker = self.store / STORE_MARKER
        return (marker.is_file() and not marker.is_symlink()) or _made_by_older_fwsetup(self.store)

    def generations(self) -> list[Path]:
        """Complete generations, oldest first (none in a store that is a symlink)."""
        if not _real_dir(self.store):
            return []
        gens = [p for p in self.store.iterdir() if is_generation_name(p.name)]
        return sorted((g for g in gens if not (g / INCOMPLETE_MARKER).exists()), key=_gen_number)

    def current(self) -> Optional[Path]:
        if not self.path.is_symlink():
            return None
        target = Path(os.readlink(self.path))
        if not target.is_absolute():
            target = self.path.parent / target
        return target if target.is_dir() else None

    def new_generation(self) -> Path:
        claim_store(self)
        existing = [_gen_number(p) for p in self.store.iterdir() if is_generation_name(p.name)]
        gen = self.store / f"gen-{max(existing, default=0) + 1}"
        gen.mkdir()
        (gen / INCOMPLETE_MARKER).write_text(str(os.getpid()))
        return gen


def is_generation_name(name: str) -> bool:
    """gen-N, N in ASCII digits: a stray `gen-²` (isdigit, but no int) in a store is not one."""
    number = name[4:]
    return name.startswith("gen-") and number.isascii() and number.isdigit() and len(number) <= 9


def _gen_number(p: Path) -> int:
    return int(p.name[4:])


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _made_by_older_fwsetup(store: Path) -> bool:
    """A store from before the marker: only generations (at least one with fwsetup's metadata or
    its half-built marker) and fwsetup's own files, nothing a user put there. An empty one too
    (a run stopped between creating it and marking it): it holds nothing to lose."""
    own = (HISTORY, LAST_SMOKE)
    try:
        entries = list(store.iterdir())
    except OSError:
        return False
    gens = [e for e in entries if is_generation_name(e.name) and _real_dir(e)]
    others = [e for e in entries if e not in gens]
    if any(e.name not in own and not e.name.startswith(tuple(f"{n}.tmp-" for n in own)) for e in others):
        return False
    return not entries or any((g / METADATA).is_file() or (g / INCOMPLETE_MARKER).is_file() for g in gens)


def refusal(layout: EnvLayout) -> Optional[UsageError]:
    """Why fwsetup will not change or delete this environment's files, or None: a path or a store
    fwsetup did not make (a user's `.backup.fwsetup`, a symlinked store, a directory at the path)."""
    p, store = layout.path, layout.store
    if p.is_symlink():
        target = Path(os.readlink(p))
        resolved = target if target.is_absolute() else p.parent / target
        if resolved.parent != store:
            return UsageError(
                f"{p} is a symlink fwsetup did not create (→ {target})",
                "choose another --env path, or remove the link yourself",
            )
    elif p.exists() or not p.name:
        return UsageError(
            f"{p} already exists and is not an fwsetup environment; fwsetup will not overwrite or delete it",
            "choose another --env path, or move that directory away",
        )
    if os.path.lexists(store) and not layout.owned():
        what = "a symlink" if store.is_symlink() else "not a directory fwsetup made"
        return UsageError(
            f"{store} is {what}; fwsetup will not use or delete it",
            f"move it away (it is not fwsetup's), or choose another --env path than {p}",
        )
    return None


def claim_store(layout: EnvLayout) -> None:
    """Create the store with its marker, or mark one an older fwsetup made (the caller holds the
    env lock and has checked `refusal`)."""
    layout.store.mkdir(parents=True, exist_ok=True)
    marker = layout.store / STORE_MARKER
    if not marker.is_file():
        marker.write_text(f"{layout.path}\n", encoding="utf-8")


def check_target(layout: EnvLayout) -> None:
    """Refuse to take over a path or a store fwsetup does not manage: never lose what the user had."""
    refused = refusal(layout)
    if refused is not None:
        raise refused


def swap_in(layout: EnvLayout, gen: Path, action: str = "install") -> list[str]:
    """Point the environment path at `gen` with one atomic rename, then record it in the history
    (rollback returns to the generation active before the last install or rollback). A failure
    before the rename raises and changes nothing; what cannot be recorded after it cannot undo
    it, so it comes back as warnings (the switch stands)."""
    switch(layout, gen)
    return record_history(layout, gen, action)


def record_history(layout: EnvLayout, gen: Path, action: str) -> list[str]:
    """Add the switch to `gen` to the history; a failure is a warning (the switch stands)."""
    try:
        history = read_history(layout)
        history.append({"generation": _gen_number(gen), "action": action, "at": now()})
        _write_json(layout.store / HISTORY, history)
    except OSError as exc:
        return [
            f"{layout.path} now points to {gen.name}, but its history could not be written "
            f"({exc.strerror or exc}): make {layout.store / HISTORY} writable; until then `fwsetup rollback` "
            f"may return to another generation than the previous one (`fwsetup rollback {layout.path} --to N` picks one)"
        ]
    return []


def switch(layout: EnvLayout, gen: Path) -> None:
    """The one atomic step: `gen` is complete on disk (its half-built marker gone, synced), then a
    new link is renamed over the environment path. Nothing is left behind when it fails."""
    (gen / INCOMPLETE_MARKER).unlink(missing_ok=True)
    _fsync_dir(gen)
    tmp_link = layout.path.parent / f".{layout.path.name}.fwsetup.link-{os.getpid()}"
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp_link.unlink()
        os.symlink(gen, tmp_link)
        os.replace(tmp_link, layout.path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_link.unlink()
        raise
    _fsync_dir(layout.path.parent)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def read_history(layout: EnvLayout) -> list[dict[str, Any]]:
    """Which generation was active when; a damaged file reads as none (rollback then returns to
    the newest older generation, as for an env made before the history existed)."""
    try:
        data = json.loads((layout.store / HISTORY).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
        return []
    return (
        [e for e in data if isinstance(e, dict) and isinstance(e.get("generation"), int)]
        if isinstance(data, list)
        else []
    )


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def previous(layout: EnvLayout) -> Optional[Path]:
    """The generation that was active before the current one (what `rollback` returns to)."""
    current = layout.current()
    if current is None:
        return None
    existing = {_gen_number(g): g for g in layout.generations()}
    for entry in reversed(read_history(layout)):
        number = entry["generation"]
        if number != _gen_number(current) and number in existing:
            return existing[number]
    # No history (an environment made by an older fwsetup): the newest older generation.
    older = [g for g in existing.values() if _gen_number(g) < _gen_number(current)]
    return max(older, key=_gen_number) if older else None


def prune(layout: EnvLayout) -> list[Path]:
    """Remove half-built generations and old complete ones, never the current generation nor the
    one `rollback` returns to."""
    removed: list[Path] = []
    if not layout.store.is_dir():
        return removed
    current = layout.current()
    keep = {g.resolve() for g in (current, previous(layout)) if g is not None}
    for p in layout.store.iterdir():
        if p.name.startswith("gen-") and (p / INCOMPLETE_MARKER).exists():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    complete = layout.generations()
    for old in complete[:-KEEP_GENERATIONS]:
        if old.resolve() in keep:
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed


def rollback(layout: EnvLayout, to: Optional[int] = None) -> tuple[Path, list[str]]:
    """Return to the generation active before the last install or rollback, or to generation `to`."""
    current = layout.current()
    if current is None and to is not None and layout.store.is_dir() and not layout.path.exists():
        return rollback_missing(layout, to)
    if current is None:
        if layout.store.is_dir():
            raise UsageError(
                f"{layout.path} is missing, but its generations are still in {layout.store}",
                f"pick one with `fwsetup rollback {layout.path} --to N` (see `fwsetup envs {layout.path}`), "
                f"or delete them with `fwsetup remove {layout.path}`",
            )
        raise UsageError(
            f"{layout.path} is not an fwsetup environment",
            "see `fwsetup envs` for the environments fwsetup made",
        )
    gens = {_gen_number(g): g for g in layout.generations()}
    if to is not None:
        if to not in gens:
            raise UsageError(
                f"{layout.path} has no generation {to}",
                "generations kept: " + ", ".join(str(n) for n in sorted(gens)),
            )
        target: Optional[Path] = gens[to]
    else:
        target = previous(layout)
    if target is None:
        raise UsageError(
            f"{layout.path} has no previous generation to roll back to",
            f"generations kept: {', '.join(str(n) for n in sorted(gens))} (see `fwsetup envs {layout.path}`)",
        )
    return target, swap_in(layout, target, action="rollback")


def rollback_missing(layout: EnvLayout, to: int) -> tuple[Path, list[str]]:
    """`rollback --to N` after the link was deleted: recreate it."""
    gens = {_gen_number(g): g for g in layout.generations()}
    if to not in gens:
        raise UsageError(
            f"{layout.path} has no generation {to}",
            "generations kept: " + (", ".join(str(n) for n in sorted(gens)) or "none"),
        )
    return gens[to], swap_in(layout, gens[to], action="rollback")


@contextlib.contextmanager
def locked(layout: EnvLayout) -> Iterator[None]:
    """One fwsetup at a time per environment (filelock: flock on POSIX, msvcrt on Windows). The
    OS drops the lock when its holder dies, so a stale lock from a killed run is simply taken
    over. The holder's pid sits beside the lock, for the message the second fwsetup prints."""
    from filelock import FileLock, Timeout

    layout.lock_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file = layout.lock_file.with_name(layout.lock_file.name + ".pid")
    lock = FileLock(str(layout.lock_file), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = pid_file.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise LockedError(
            f"{layout.path} is being changed by another fwsetup (pid {holder})",
            "wait for it to finish, or stop that process",
        ) from None
    try:
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        lock.release()


def env_python(env_dir: Path) -> Path:
    if sys.platform == "win32":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def read_metadata(env_dir: Path) -> GenerationMeta:
    """What a generation says about itself; any layout fwsetup has written (install/generation.py)."""
    path = env_dir / METADATA
    try:
        return GenerationMeta.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError) as exc:  # JSONDecodeError and DecodeError are ValueErrors
        raise UsageError(
            f"{env_dir} has no readable fwsetup metadata ({exc})",
            "pass an environment made by `fwsetup install`",
        ) from None


def write_metadata(env_dir: Path, meta: GenerationMeta) -> None:
    _write_json(env_dir / METADATA, meta.to_dict())


def site_packages(env_dir: Path) -> list[str]:
    lib = env_dir / "lib"
    found = sorted(str(p) for p in lib.glob("python*/site-packages")) if lib.is_dir() else []
    win = env_dir / "Lib" / "site-packages"
    return found + ([str(win)] if win.is_dir() else [])


def install_result(
    framework: Optional[str], env: Path, python: Optional[str], where: Path, smoke: Optional[dict[str, Any]]
) -> dict[str, Any]:
    """The keys an `install --json` result starts with: what is installed, where, and its smoke test
    (`where`: the directory holding the packages, the generation behind a link or the venv itself)."""
    return {
        "framework": framework,
        "env": str(env),
        "python": python,
        "packages": installed_packages(where),
        "smoke": smoke,
    }


def installed_packages(env_dir: Path) -> dict[str, str]:
    return {
        d.name: d.version for d in sorted(dists.scan(site_packages(env_dir)).values(), key=lambda d: d.name)
    }


def ensure_writable(parent: Path) -> None:
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InstallError(
            f"cannot create {parent}: {exc.strerror}",
            "choose a writable location with --env PATH or FWSETUP_HOME",
        ) from None
    if not os.access(parent, os.W_OK):
        raise InstallError(
            f"{parent} is not writable",
            "choose a writable location with --env PATH or FWSETUP_HOME",
        )


def activated_environ(env: Path, fixes: dict[str, str], base: Any) -> dict[str, str]:
    """What `activate` would set, for a command run in the env (`fwsetup run`)."""
    environ = {k: v for k, v in dict(base).items() if k not in ("PYTHONHOME",)}
    bindir = env_python(env).parent
    environ["VIRTUAL_ENV"] = str(env)
    environ["PATH"] = os.pathsep.join([str(bindir), environ.get("PATH", "")]).rstrip(os.pathsep)
    for key, value in fixes.items():
        if key == "LD_LIBRARY_PATH" and environ.get(key):
            environ[key] = value + os.pathsep + environ[key]
        else:
            environ[key] = value
    from fwsetup.install import protect

    return protect.uv_environ(env, environ)

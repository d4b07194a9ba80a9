"""Every environment fwsetup made, for `fwsetup envs`, `remove` and `run`.

A small JSON list in FWSETUP_HOME names the paths (`--env` ones live anywhere); the truth about
each stays on disk (link, store, generations' metadata), so an `rm -rf ENV` shows up as an
orphaned store with the command that frees its space, never as a silent leak.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Optional

from fwsetup import paths
from fwsetup.errors import FwsetupError, UsageError
from fwsetup.install import envs, projects
from fwsetup.install.generation import GenerationMeta


def registry_file() -> Path:
    return paths.home() / envs.REGISTRY


def known() -> list[Path]:
    return read()[0]


def read() -> tuple[list[Path], list[str]]:
    """The registered paths, and what is wrong with the file (a warning each: the environments it
    still names are listed, the default home's are found on disk anyway)."""
    target = registry_file()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], []
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
        return [], [_damaged(target, str(getattr(exc, "strerror", None) or exc))]
    if not isinstance(data, list):
        return [], [_damaged(target, f"a JSON {type(data).__name__}, not a list of paths")]
    paths_ = [Path(p) for p in data if isinstance(p, str) and os.path.isabs(p) and "\0" not in p]
    bad = len(data) - len(paths_)
    return paths_, [_damaged(target, f"{bad} entries that are not absolute paths, skipped")] if bad else []


def _damaged(target: Path, why: str) -> str:
    return (
        f"{target} is damaged ({why}); environments outside {paths.env_root()} that only it named are not "
        f"listed: move it away, and `fwsetup install` each of them again to list it"
    )


def _save(entries: list[Path]) -> None:
    from filelock import FileLock

    target = registry_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=30):
        envs._write_json(target, sorted({str(p) for p in entries}))


def register(path: Path) -> None:
    from filelock import FileLock

    target = registry_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=30):
        entries, damaged = read()
        if damaged and target.is_file() and not target.is_symlink():  # kept for the user to look at
            os.replace(target, target.with_name(f"{target.name}.damaged-{os.getpid()}"))
        envs._write_json(target, sorted({str(p) for p in entries} | {str(path)}))


def unregister(path: Path) -> None:
    if path in known():
        _save([p for p in known() if p != path])


def _store_owner(store: Path) -> Optional[Path]:
    """`.NAME.fwsetup` → the environment path NAME beside it."""
    name = store.name
    if name.startswith(".") and name.endswith(".fwsetup") and len(name) > len("..fwsetup"):
        return store.parent / name[1 : -len(".fwsetup")]
    return None


def all_layouts(registered: Optional[list[Path]] = None) -> list[envs.EnvLayout]:
    """The registry's paths, the default home's environments, and any store fwsetup made beside
    them (a directory that only looks like one, a user's `.backup.fwsetup`, is not listed)."""
    found: dict[Path, envs.EnvLayout] = {p: envs.EnvLayout(p) for p in (known() if registered is None else registered)}
    for d in {paths.env_root(), *(p.parent for p in found)}:
        try:
            entries = list(d.iterdir()) if d.is_dir() else []
        except OSError:
            continue
        for entry in entries:
            owner = _store_owner(entry)
            if owner is not None and envs.EnvLayout(owner).owned():
                found.setdefault(owner, envs.EnvLayout(owner))
            elif entry.is_symlink() and d == paths.env_root():
                found.setdefault(entry, envs.EnvLayout(entry))
    return [found[p] for p in sorted(found)]


def dir_size(path: Path) -> int:
    total = 0
    stack = [path]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as it:
            for e in it:
                with contextlib.suppress(OSError):
                    if e.is_dir(follow_symlinks=False):
                        stack.append(Path(e.path))
                    else:
                        total += e.stat(follow_symlinks=False).st_size
    return total


def generations(layout: envs.EnvLayout) -> list[dict[str, Any]]:
    current = layout.current()
    back = envs.previous(layout)
    rows = []
    for g in layout.generations():
        try:
            meta = envs.read_metadata(g)
        except UsageError:
            meta = GenerationMeta()
        rows.append(
            {
                "generation": int(g.name[4:]),
                "path": str(g),
                "active": current is not None and g.resolve() == current.resolve(),
                "rollback_target": back is not None and g.resolve() == back.resolve(),
                "frameworks": [f.brief() for f in meta.held()],
                "python": meta.python,
                "created": meta.created,
                "packages": len(meta.packages),
            }
        )
    return rows


def last_smoke(layout: envs.EnvLayout) -> Optional[dict[str, Any]]:
    try:
        data = json.loads((layout.store / envs.LAST_SMOKE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON: shown as never smoke-tested
        return None
    return data if isinstance(data, dict) else None


def record_smoke(env_path: Path, ok: bool, device: Optional[str]) -> list[str]:
    """Kept beside the generations so `fwsetup envs` can say when the env last proved itself; a
    failure to write it is a warning, never the smoke test's verdict."""
    layout = envs.EnvLayout(env_path)
    if not layout.owned():
        return []
    try:
        envs._write_json(layout.store / envs.LAST_SMOKE, {"ok": ok, "device": device, "at": envs.now()})
    except OSError as exc:
        return [
            f"the smoke test's result could not be recorded in {layout.store / envs.LAST_SMOKE} "
            f"({exc.strerror or exc}): `fwsetup envs` shows the one before"
        ]
    return []


def describe(layout: envs.EnvLayout, sizes: bool = True) -> dict[str, Any]:
    """One environment's row of `fwsetup envs`; never raises: a damaged one is a row that says so."""
    try:
        return _describe(layout, sizes)
    except (OSError, ValueError, FwsetupError) as exc:
        return {
            **_row(layout, "damaged", None),
            "fix": f"fwsetup cannot read it ({getattr(exc, 'message', None) or exc}); `fwsetup remove {layout.path}` deletes it",
        }


FOREIGN = "foreign"  # the status of a listed path or store fwsetup did not make


def foreign_fix(refused: UsageError) -> str:
    return (
        f"{refused.message}. If it is not an environment, delete its line from {registry_file()}; "
        f"if its store is yours, move it away"
    )


def _row(layout: envs.EnvLayout, status: str, size: Optional[int]) -> dict[str, Any]:
    return {
        "env": str(layout.path),
        "store": str(layout.store),
        "status": status,
        "frameworks": [],
        "python": None,
        "generation": None,
        "generations": 0,
        "size_bytes": size,
        "last_smoke": None,
        "fix": None,
    }


def _describe(layout: envs.EnvLayout, sizes: bool) -> dict[str, Any]:
    refused = envs.refusal(layout)
    if refused is not None:  # a path or store fwsetup did not make: shown, never touched
        return {**_row(layout, FOREIGN, None), "fix": foreign_fix(refused)}
    current = layout.current()
    gens = layout.generations()
    row: dict[str, Any] = {
        "env": str(layout.path),
        "store": str(layout.store),
        "status": "ok",
        "frameworks": [],
        "python": None,
        "generation": None,
        "generations": len(gens),
        "size_bytes": dir_size(layout.store) if sizes and layout.store.is_dir() else None,
        "last_smoke": last_smoke(layout),
        "fix": None,
        "protected": False,  # a later pip/uv install in it cannot replace the build (install/protect.py)
    }
    if current is None:
        if layout.store.is_dir():
            row["status"] = "orphaned"
            row["fix"] = (
                f"`fwsetup remove {layout.path}` (or `fwsetup envs --prune`) frees it; `fwsetup rollback {layout.path} --to N` restores it"
            )
        else:
            row["status"] = "missing"
            row["fix"] = "`fwsetup envs --prune` forgets it"
        return row
    try:
        meta = envs.read_metadata(current)
    except UsageError as exc:
        meta = GenerationMeta()
        row["status"], row["fix"] = "damaged", f"{exc.message}; `fwsetup rollback {layout.path}` returns to another generation"
    row["frameworks"] = [f.brief() for f in meta.held()]
    row["python"] = meta.python
    row["generation"] = int(current.name[4:]) if current.name[4:].isdigit() else None
    row["protected"] = _protected(current)
    return row


def _protected(env: Path) -> bool:
    from fwsetup.install import protect

    return protect.constraints_of(env) is not None


def project_venvs(sizes: bool = True) -> tuple[list[dict[str, Any]], list[str]]:
    """The venvs `install --into` changed, with what it added (`fwsetup rollback VENV` undoes each),
    and a warning for each damaged record."""
    rows = []
    recorded, warnings = projects.recorded_venvs()
    for venv, entries in recorded:
        rows.append(
            {
                "env": str(venv),
                "store": None,
                "status": "project-venv" if venv.is_dir() else "missing",
                "frameworks": [{k: e.get(k) for k in ("framework", "version", "variant")} for e in entries],
                "python": None,
                "generation": None,
                "generations": len(entries),  # installs `fwsetup rollback VENV` can undo, one at a time
                "size_bytes": dir_size(venv) if sizes and venv.is_dir() else None,
                "last_smoke": None,
                "fix": f"`fwsetup rollback {venv}` undoes the last install into it",
                "protected": _protected(venv),
            }
        )
    return rows, warnings


def remove(layout: envs.EnvLayout) -> list[str]:
    """Delete the link, the store with every generation and the registry entry (the caller holds
    the env lock, and removes the lock files after releasing it). Only what fwsetup made: a path or
    store it did not make is refused before anything is deleted, and a store is never followed
    through a symlink."""
    refused = envs.refusal(layout)
    if refused is not None:
        raise refused
    removed = []
    p = layout.path
    try:
        if p.is_symlink():
            p.unlink()
            removed.append(str(p))
        if layout.store.is_dir() and not layout.store.is_symlink():
            shutil.rmtree(layout.store)
            removed.append(str(layout.store))
    except OSError as exc:
        raise UsageError(
            f"cannot delete {exc.filename or layout.store}: {exc.strerror or exc}",
            f"fix its permissions (or make it mutable: `chattr -i`) and run `fwsetup remove {p}` again",
        ) from None
    unregister(p)
    return removed


def remove_lock_files(layout: envs.EnvLayout) -> None:
    """After the lock is released: the lock file and its pid, beside a removed environment."""
    for extra in (layout.lock_file, layout.lock_file.with_name(layout.lock_file.name + ".pid")):
        with contextlib.suppress(OSError):
            extra.unlink()


def resolve(name: str) -> Path:
    """An environment by path, or by framework name when exactly one environment holds it."""
    candidate = Path(os.path.abspath(os.path.expanduser(name)))
    if candidate.is_symlink() or candidate.exists() or os.sep in name or name.startswith("."):
        return candidate
    holders = []
    for layout in all_layouts():
        row = describe(layout, sizes=False)
        if row["status"] == "ok" and any(f["framework"] == name for f in row["frameworks"]):
            holders.append(layout.path)
    if len(holders) == 1:
        return holders[0]
    if not holders:
        raise UsageError(
            f"{name} is neither an environment path nor a framework in any environment fwsetup made",
            "see `fwsetup envs`",
        )
    raise UsageError(
        f"several environments hold {name}: {', '.join(map(str, holders))}",
        "name the environment by its path",
    )

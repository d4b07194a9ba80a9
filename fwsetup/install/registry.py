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
from fwsetup.errors import UsageError
from fwsetup.install import envs, projects
from fwsetup.install.generation import GenerationMeta


def _registry_file() -> Path:
    return paths.home() / envs.REGISTRY


def known() -> list[Path]:
    try:
        data = json.loads(_registry_file().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [Path(p) for p in data if isinstance(p, str)] if isinstance(data, list) else []


def _save(entries: list[Path]) -> None:
    from filelock import FileLock

    target = _registry_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=30):
        envs._write_json(target, sorted({str(p) for p in entries}))


def register(path: Path) -> None:
    from filelock import FileLock

    target = _registry_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=30):
        entries = {str(p) for p in known()} | {str(path)}
        envs._write_json(target, sorted(entries))


def unregister(path: Path) -> None:
    if path in known():
        _save([p for p in known() if p != path])


def _store_owner(store: Path) -> Optional[Path]:
    """`.NAME.fwsetup` → the environment path NAME beside it."""
    name = store.name
    if name.startswith(".") and name.endswith(".fwsetup") and len(name) > len("..fwsetup"):
        return store.parent / name[1 : -len(".fwsetup")]
    return None


def all_layouts() -> list[envs.EnvLayout]:
    """The registry's paths, the default home's environments, and any store beside them."""
    found: dict[Path, envs.EnvLayout] = {p: envs.EnvLayout(p) for p in known()}
    dirs = {paths.env_root(), *(p.parent for p in found)}
    for d in dirs:
        if not d.is_dir():
            continue
        for entry in d.iterdir():
            owner = _store_owner(entry) if entry.is_dir() else None
            if owner is not None:
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
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def record_smoke(env_path: Path, ok: bool, device: Optional[str]) -> None:
    """Kept beside the generations so `fwsetup envs` can say when the env last proved itself."""
    layout = envs.EnvLayout(env_path)
    if layout.store.is_dir():
        with contextlib.suppress(OSError):
            envs._write_json(layout.store / envs.LAST_SMOKE, {"ok": ok, "device": device, "at": envs.now()})


def describe(layout: envs.EnvLayout, sizes: bool = True) -> dict[str, Any]:
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
    except UsageError:
        meta = GenerationMeta()
    row["frameworks"] = [f.brief() for f in meta.held()]
    row["python"] = meta.python
    row["generation"] = int(current.name[4:]) if current.name[4:].isdigit() else None
    row["protected"] = _protected(current)
    return row


def _protected(env: Path) -> bool:
    from fwsetup.install import protect

    return protect.constraints_of(env) is not None


def project_venvs(sizes: bool = True) -> list[dict[str, Any]]:
    """The venvs `install --into` changed, with what it added; `fwsetup rollback VENV` undoes each."""
    rows = []
    for venv, entries in projects.recorded_venvs():
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
    return rows


def remove(layout: envs.EnvLayout) -> list[str]:
    """Delete the link, the store with every generation, the lock and the registry entry."""
    removed = []
    p = layout.path
    if p.is_symlink():
        envs.check_target(layout)  # refuses a link fwsetup did not make
        p.unlink()
        removed.append(str(p))
    elif p.exists():
        raise UsageError(
            f"{p} is not an fwsetup environment; fwsetup will not delete it",
            "delete it yourself if you mean to",
        )
    if layout.store.is_dir():
        shutil.rmtree(layout.store)
        removed.append(str(layout.store))
    for extra in (layout.lock_file, layout.lock_file.with_name(layout.lock_file.name + ".pid")):
        if extra.exists():
            extra.unlink()
            removed.append(str(extra))
    unregister(p)
    return removed


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

"""The record of what `install --into` changed in each project venv (FWSETUP_HOME/into/).

One file per venv: the list of its installs, each with the package set from before it, so
`fwsetup rollback VENV` can restore it. Kept apart from into.py, which installs, so that the
registry of environments (`fwsetup envs`) can list project venvs without the installer.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from fwsetup import paths
from fwsetup.install import envs


def record_file(venv: Path) -> Path:
    key = hashlib.sha256(str(venv).encode()).hexdigest()[:16]
    return paths.home() / "into" / f"{venv.name}-{key}.json"


def history(venv: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(record_file(venv).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return data if isinstance(data, list) else []


def save(venv: Path, entries: list[dict[str, Any]]) -> None:
    target = record_file(venv)
    target.parent.mkdir(parents=True, exist_ok=True)
    envs._write_json(target, entries)


def recorded_venvs() -> list[tuple[Path, list[dict[str, Any]]]]:
    """Every project venv fwsetup installed into and has not fully rolled back, with its history."""
    found = []
    for record in sorted((paths.home() / "into").glob("*.json")):
        try:
            entries = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if (
            isinstance(entries, list)
            and entries
            and isinstance(entries[-1], dict)
            and entries[-1].get("venv")
        ):
            found.append((Path(str(entries[-1]["venv"])), entries))
    return found


def is_recorded(venv: Path) -> bool:
    return bool(history(venv)) and not os.path.islink(venv)

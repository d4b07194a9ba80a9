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
from fwsetup.errors import UsageError
from fwsetup.install import envs


def record_file(venv: Path) -> Path:
    key = hashlib.sha256(str(venv).encode()).hexdigest()[:16]
    return paths.home() / "into" / f"{venv.name}-{key}.json"


def history(venv: Path) -> list[dict[str, Any]]:
    """What fwsetup changed in `venv`, oldest first; a damaged record is refused (exit 2), since
    restoring from it could remove the wrong packages, and is never overwritten."""
    record = record_file(venv)
    entries, problem = _read_record(record)
    if problem:
        raise UsageError(
            f"the record of what fwsetup installed into {venv} ({record}) is damaged: {problem}",
            f"fwsetup cannot undo those installs; move {record} away (then `pip install` what you need into {venv})",
        )
    return entries


def _read_record(record: Path) -> tuple[list[dict[str, Any]], str]:
    """The entries of one record file, or why they cannot be trusted."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], ""
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
        return [], str(getattr(exc, "strerror", None) or exc)
    if not isinstance(data, list) or not all(_valid_entry(e) for e in data):
        return [], "not a list of installs (venv, at, packages)"
    return data, ""


def _valid_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("venv"), str)
        and isinstance(entry.get("at"), str)
        and isinstance(entry.get("packages"), dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in entry["packages"].items())
    )


def save(venv: Path, entries: list[dict[str, Any]]) -> None:
    target = record_file(venv)
    target.parent.mkdir(parents=True, exist_ok=True)
    envs._write_json(target, entries)


def recorded_venvs() -> tuple[list[tuple[Path, list[dict[str, Any]]]], list[str]]:
    """Every project venv fwsetup installed into and has not fully rolled back, with its history;
    and a warning for each damaged record (skipped)."""
    found, warnings = [], []
    for record in sorted((paths.home() / "into").glob("*.json")):
        entries, problem = _read_record(record)
        if problem:
            warnings.append(f"{record} is damaged ({problem}): the venv it records is not listed; move it away")
        elif entries:
            found.append((Path(entries[-1]["venv"]), entries))
    return found, warnings


def is_recorded(venv: Path) -> bool:
    return bool(history(venv)) and not os.path.islink(venv)

"""`fwsetup envs`: every environment fwsetup made (and every venv it installed into), or one
environment's generations; `--prune` removes what `rm -rf ENV` left behind, once confirmed."""

from __future__ import annotations

from typing import Any, Optional

from fwsetup.commands.common import absolute
from fwsetup.errors import FwsetupError, UsageError
from fwsetup.install import envs, registry
from fwsetup.progress import Progress
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class Options:
    env: Optional[str] = None  # list this environment's generations
    prune: bool = False
    yes: bool = False  # --prune may delete (the option, or a yes in a terminal)


@dataclass(frozen=True)
class EnvsResult:
    env: Optional[str] = None  # one environment: its generations
    generations: list[dict[str, Any]] = field(default_factory=list)
    envs: list[dict[str, Any]] = field(default_factory=list)  # every environment
    removed: list[str] = field(default_factory=list)  # what --prune deleted
    skipped: list[dict[str, Any]] = field(default_factory=list)  # what --prune would not touch: env, reason, fix
    warnings: list[str] = field(default_factory=list)  # a damaged registry file

    def to_dict(self) -> dict[str, Any]:
        if self.env is not None:
            return {"env": self.env, "generations": self.generations}
        return {"envs": self.envs, "removed": self.removed, "skipped": self.skipped, "warnings": self.warnings}


STALE = ("orphaned", "missing", registry.FOREIGN)


def _stale(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] in STALE]


def question(options: Options) -> Optional[str]:
    """What --prune would delete, to be confirmed first; None when nothing would be."""
    if options.env is not None or not options.prune:
        return None
    stale = _stale([registry.describe(layout, sizes=False) for layout in registry.all_layouts()])
    return f"remove {len(stale)} orphaned or missing environment(s)" if stale else None


def execute(options: Options, progress: Optional[Progress] = None) -> EnvsResult:
    if options.env is not None:
        layout = envs.EnvLayout(absolute(options.env))
        refused = envs.refusal(layout)
        if refused is not None:
            raise refused
        rows = registry.generations(layout)
        if not rows:
            raise UsageError(f"{layout.path} has no fwsetup generations", "see `fwsetup envs` for the environments")
        return EnvsResult(str(layout.path), generations=rows)
    registered, warnings = registry.read()
    rows = [registry.describe(layout) for layout in registry.all_layouts(registered)]
    pruned: list[str] = []
    skipped: list[dict[str, Any]] = []
    if options.prune:
        stale = _stale(rows)
        if stale and not options.yes:
            raise UsageError(f"remove {len(stale)} orphaned or missing environment(s) needs a yes", "pass --yes")
        for r in stale:
            try:
                pruned += _prune_one(envs.EnvLayout(absolute(r["env"])))
            except FwsetupError as exc:  # not fwsetup's, or being installed right now: the next one
                skipped.append({"env": r["env"], "reason": exc.message, "fix": exc.fix})
        rows = [r for r in rows if r["status"] not in STALE or r["env"] in {s["env"] for s in skipped}]
    venvs, damaged = registry.project_venvs()
    return EnvsResult(
        envs=rows + venvs, removed=pruned, skipped=skipped, warnings=warnings + damaged + _defeated(rows + venvs)
    )


def _defeated(rows: list[dict[str, Any]]) -> list[str]:
    """A protected env whose pins pip would not apply from this shell (PIP_CONSTRAINT, or a
    PIP_CONFIG_FILE that names another constraint): one warning each, with the way round."""
    import os
    from pathlib import Path

    from fwsetup.install import protect

    out = []
    for row in rows:
        why = protect.defeated(Path(row["env"]), os.environ) if row.get("protected") else None
        if why is not None:
            out.append(
                f"{why}; `fwsetup run {row['env']} -- pip …` puts the pins first in PIP_CONSTRAINT "
                f"(or add {Path(row['env']) / protect.CONSTRAINTS} to it yourself)"
            )
    return out


def _prune_one(layout: envs.EnvLayout) -> list[str]:
    """Remove one orphaned or missing environment under its lock, if it still is one then (an
    install may be building its first generation, or may have just finished)."""
    refused = envs.refusal(layout)
    if refused is not None:
        raise refused
    with envs.locked(layout):
        if registry.describe(layout, sizes=False)["status"] not in STALE:
            return []
        removed = registry.remove(layout)
    registry.remove_lock_files(layout)
    return removed

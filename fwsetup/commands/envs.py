"""`fwsetup envs`: every environment fwsetup made (and every venv it installed into), or one
environment's generations; `--prune` removes what `rm -rf ENV` left behind, once confirmed."""

from __future__ import annotations

from typing import Any, Optional

from fwsetup.commands.common import absolute
from fwsetup.errors import UsageError
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

    def to_dict(self) -> dict[str, Any]:
        if self.env is not None:
            return {"env": self.env, "generations": self.generations}
        return {"envs": self.envs, "removed": self.removed}


def _stale(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] not in ("ok", "project-venv")]


def question(options: Options) -> Optional[str]:
    """What --prune would delete, to be confirmed first; None when nothing would be."""
    if options.env is not None or not options.prune:
        return None
    stale = _stale([registry.describe(layout, sizes=False) for layout in registry.all_layouts()])
    return f"remove {len(stale)} orphaned or missing environment(s)" if stale else None


def execute(options: Options, progress: Optional[Progress] = None) -> EnvsResult:
    if options.env is not None:
        layout = envs.EnvLayout(absolute(options.env))
        rows = registry.generations(layout)
        if not rows:
            raise UsageError(f"{layout.path} has no fwsetup generations", "see `fwsetup envs` for the environments")
        return EnvsResult(str(layout.path), generations=rows)
    rows = [registry.describe(layout) for layout in registry.all_layouts()]
    pruned: list[str] = []
    if options.prune:
        stale = _stale(rows)
        if stale and not options.yes:
            raise UsageError(f"remove {len(stale)} orphaned or missing environment(s) needs a yes", "pass --yes")
        for r in stale:
            pruned += registry.remove(envs.EnvLayout(absolute(r["env"])))
        rows = [r for r in rows if r["status"] == "ok"]
    return EnvsResult(envs=rows + registry.project_venvs(), removed=pruned)

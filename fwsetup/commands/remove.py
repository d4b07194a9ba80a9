"""`fwsetup remove`: delete an environment, its link, every generation, its lock and its registry
entry, once confirmed."""

from __future__ import annotations

import os
from typing import Any, Optional

from fwsetup.commands.common import absolute
from fwsetup.errors import UsageError
from fwsetup.install import envs, registry
from fwsetup.progress import Progress
from fwsetup.records import dataclass


@dataclass(frozen=True)
class Options:
    env: str
    yes: bool = False  # the deletion is confirmed (the option, or a yes in a terminal)


@dataclass(frozen=True)
class RemoveResult:
    env: str
    removed: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "removed": self.removed}


def question(options: Options) -> str:
    """What will be deleted, to be confirmed first; a path or store fwsetup did not make is
    refused here, before a lock file is created beside it."""
    layout = envs.EnvLayout(absolute(options.env))
    if not layout.path.is_symlink() and not os.path.lexists(layout.store) and layout.path not in registry.known():
        raise UsageError(f"{layout.path} is not an environment fwsetup made", "see `fwsetup envs`")
    refused = envs.refusal(layout)
    if refused is not None:
        raise refused
    return f"delete {layout.path} and all {len(layout.generations())} of its generations"


def execute(options: Options, progress: Optional[Progress] = None) -> RemoveResult:
    asked = question(options)
    if not options.yes:
        raise UsageError(f"{asked} needs a yes", "pass --yes")
    layout = envs.EnvLayout(absolute(options.env))
    with envs.locked(layout):
        removed = registry.remove(layout)
    registry.remove_lock_files(layout)
    return RemoveResult(str(layout.path), removed)

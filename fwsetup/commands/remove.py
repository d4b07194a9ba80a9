"""`fwsetup remove`: delete an environment, its link, every generation, its lock and its registry
entry, once confirmed."""

from __future__ import annotations

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
    """What will be deleted, to be confirmed first; a path fwsetup did not make is refused here."""
    layout = envs.EnvLayout(absolute(options.env))
    if not layout.path.is_symlink() and not layout.store.is_dir() and layout.path not in registry.known():
        raise UsageError(f"{layout.path} is not an environment fwsetup made", "see `fwsetup envs`")
    return f"delete {layout.path} and all {len(layout.generations())} of its generations"


def execute(options: Options, progress: Optional[Progress] = None) -> RemoveResult:
    asked = question(options)
    if not options.yes:
        raise UsageError(f"{asked} needs a yes", "pass --yes")
    layout = envs.EnvLayout(absolute(options.env))
    with envs.locked(layout):
        removed = registry.remove(layout)
    for extra in (layout.lock_file, layout.lock_file.with_name(layout.lock_file.name + ".pid")):
        extra.unlink(missing_ok=True)
    return RemoveResult(str(layout.path), removed)

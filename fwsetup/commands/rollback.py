"""`fwsetup rollback`: return an environment to the generation before the last install (or to
generation N); for a venv fwsetup installed `--into`, restore its recorded package set."""

from __future__ import annotations

from typing import Any, Optional

from fwsetup.commands.common import absolute
from fwsetup.errors import UsageError
from fwsetup.install import envs
from fwsetup.install import into as into_venv
from fwsetup.progress import Progress
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class Options:
    env: str
    to: Optional[str] = None  # a generation number (`fwsetup envs ENV` lists them)


@dataclass(frozen=True)
class RollbackResult:
    env: str
    generation: Optional[str] = None  # the generation the env now points to
    undone: Optional[dict[str, Any]] = None  # --into: what was removed and reinstalled
    warnings: list[str] = field(default_factory=list)  # the history could not be written: the switch stands

    def to_dict(self) -> dict[str, Any]:
        if self.undone is not None:
            return self.undone
        return {"env": self.env, "generation": self.generation, "warnings": self.warnings}


def execute(options: Options, progress: Optional[Progress] = None) -> RollbackResult:
    to, env = options.to, options.env
    # ASCII digits only ('²'.isdigit() is true, int('²') fails) and few of them (int() refuses
    # more than 4,300 digits; no environment has a billion generations).
    if to is not None and not (to.isascii() and to.isdigit() and len(to) <= 9):
        shown = repr(to) if len(to) <= 40 else f"{to[:40]!r}… ({len(to)} characters)"
        raise UsageError(f"--to {shown} is not a generation number", "see `fwsetup envs ENV` for the numbers")
    layout = envs.EnvLayout(absolute(env))
    if not layout.path.is_symlink() and into_venv.is_recorded(layout.path):
        if to is not None:
            raise UsageError("--to applies to environments fwsetup made", f"`fwsetup rollback {env}` undoes the last --into")
        return RollbackResult(str(layout.path), undone=into_venv.rollback(layout.path))
    if layout.current() is None and not layout.store.exists():  # refuse before taking the lock:
        raise UsageError(  # nothing is created beside a wrong path
            f"{layout.path} is not an fwsetup environment", "pass the --env path used at install (`fwsetup envs`)"
        )
    refused = envs.refusal(layout)
    if refused is not None:
        raise refused
    with envs.locked(layout):
        gen, warnings = envs.rollback(layout, int(to) if to is not None else None)
    return RollbackResult(str(layout.path), generation=str(gen), warnings=warnings)

"""`fwsetup run ENV|FRAMEWORK -- CMD …`: CMD inside the environment, with its settings. `execute`
finds what to run; `launch` replaces this process with it (CMD's output and exit status are its own)."""

from __future__ import annotations

import os
import shutil
from typing import Any, NoReturn, Optional

from fwsetup.errors import UsageError
from fwsetup.install import envs, registry
from fwsetup.progress import Progress
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class Options:
    env: str  # an environment path, or a framework name when one env holds it
    argv: list[str] = field(default_factory=list)  # the command line after `--`


@dataclass(frozen=True)
class Launch:
    env: str
    program: str  # argv[0] found on the environment's PATH
    argv: list[str]
    environ: dict[str, str]  # the environment activated: its PATH, VIRTUAL_ENV and recipe settings

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "program": self.program, "argv": self.argv}


def execute(options: Options, progress: Optional[Progress] = None) -> Launch:
    argv = options.argv
    if not argv:
        raise UsageError("run needs a command after --", "e.g. `fwsetup run pytorch -- python train.py`")
    path = registry.resolve(options.env)
    current = envs.EnvLayout(path).current()
    if current is None:
        raise UsageError(f"{path} is not an fwsetup environment", "see `fwsetup envs`")
    meta = envs.read_metadata(current)
    environ = envs.activated_environ(path, meta.env, os.environ)
    program = shutil.which(argv[0], path=environ["PATH"]) or argv[0]
    return Launch(str(path), program, list(argv), environ)


def launch(found: Launch) -> NoReturn:
    try:
        os.execvpe(found.program, found.argv, found.environ)  # noqa: S606 - the user's own command, as they typed it
    except OSError as exc:
        raise UsageError(
            f"cannot run {found.argv[0]}: {exc.strerror or exc}", f"is it installed in {found.env}?"
        ) from None

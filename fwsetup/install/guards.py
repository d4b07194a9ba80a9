"""Checks made before an install touches the disk, so that a bad path, a full disk or a plan
without its smoke test is refused with its exit code and leaves nothing behind (no half-built
generation, no lock file beside a wrong path).

execute() would find each of these too, but only after it had created a generation: a log
directory under FWSETUP_HOME=/dev/null/x, a log file that is a directory or /dev/full, an
--env under /proc, or a disk with no room. Here they are exit 2 (bad input) or 4 (no room), first.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from fwsetup import paths
from fwsetup.errors import InstallError, UsageError
from fwsetup.plan.model import Plan
from fwsetup.plan.recipes import recipes_dir

MIN_FREE_MIB = 64  # a venv with pip alone is ~20 MiB; below this nothing can succeed
_SMOKE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.py\Z")


def preflight(plan: Plan, target: Path, log_file: Optional[Path]) -> None:
    """Every check, in the order a user would fix them."""
    check_smoke(plan)
    check_path_for_distutils(plan, target)
    where = writable_dir(target.parent, "--env (or FWSETUP_HOME)")
    if log_file is None:
        writable_dir(paths.home() / "logs", "FWSETUP_HOME (its logs/ directory)")
    else:
        check_log_file(log_file)
    check_free_space(where, target)


def check_smoke(plan: Plan) -> None:
    """An install is proved by its smoke test before the switch, or refused: never switched untested."""
    if plan.route not in ("pip", "apt"):
        return
    if not plan.smoke or not _SMOKE_NAME.match(plan.smoke) or not (recipes_dir() / "smoke" / plan.smoke).is_file():
        raise UsageError(
            f"{plan.framework} {plan.variant}: smoke test {plan.smoke or '(none)'!r} is not one of fwsetup's "
            f"smoke scripts in {recipes_dir() / 'smoke'}; fwsetup never switches to an untested environment",
            "name one of fwsetup's smoke scripts (recipes/smoke/*.py), or regenerate the lock with `fwsetup lock`",
        )


_DOLLAR_NAME = re.compile(r"\$[A-Za-z_]")


def check_path_for_distutils(plan: Plan, target: Path) -> None:
    """Python 3.9 and older compute install paths through distutils, which expands `$NAME` in
    them: pip and uv would install into `/root/...` for an env path holding `$HOME` (or fail for
    an unset name) while the venv stays empty, so the smoke test fails. Refused first."""
    if not plan.python or not _DOLLAR_NAME.search(str(target)):
        return
    try:
        major, minor = (int(part) for part in plan.python.split(".")[:2])
    except ValueError:
        return
    if (major, minor) < (3, 10):
        raise UsageError(
            f"environment path {target} holds '$' before a name: Python {plan.python}'s installers "
            "(distutils) would expand it as a variable and install elsewhere",
            "choose an environment path without '$', or a Python 3.10+ with --python",
        )


def _existing_ancestor(path: Path) -> Path:
    p = Path(os.path.abspath(path))
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def writable_dir(path: Path, flag: str) -> Path:
    """The nearest existing directory at or above `path`, once a file could be created in it
    (exit 4 like execute's own check of the --env parent: the install cannot be made there)."""
    base = _existing_ancestor(path)
    fix = f"choose a writable location with {flag}"
    if not base.is_dir():
        raise InstallError(f"cannot create {path}: {base} is not a directory", fix)
    try:
        fd, probe = tempfile.mkstemp(prefix=".fwsetup-probe-", dir=base)
    except OSError as exc:
        raise InstallError(f"cannot create {path}: {base}: {exc.strerror or exc}", fix) from None
    os.close(fd)
    os.unlink(probe)
    return base


def check_log_file(log: Path) -> None:
    """The log must take writes: a directory, /dev/full or a read-only file is refused here."""
    fix = "pass a writable file with --log-file (or FWSETUP_LOG_FILE)"
    if log.is_dir():
        raise UsageError(f"log file {log} is a directory", fix)
    writable_dir(log.parent, "--log-file (or FWSETUP_LOG_FILE)")
    try:
        with log.open("a", encoding="utf-8") as fh:
            fh.write("# fwsetup install log\n")
            fh.flush()
    except OSError as exc:
        raise UsageError(f"cannot write the log file {log}: {exc.strerror or exc}", fix) from None


def check_free_space(where: Path, target: Path) -> None:
    try:
        free = shutil.disk_usage(where).free // (1024 * 1024)
    except OSError:
        return  # no figure to judge by: the install's own errors still apply
    if free < MIN_FREE_MIB:
        raise InstallError(
            f"only {free} MiB free at {where}; installing {target} needs at least {MIN_FREE_MIB} MiB",
            "free disk space, or choose another location with --env PATH (nothing was changed)",
            code="no-space",
        )

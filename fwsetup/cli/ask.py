"""The questions fwsetup asks in a terminal, before a command runs: commands never prompt.

Replace or add to an environment that holds another framework, install the system packages a
recipe needs, protect a project venv's build (`--into`), delete an environment. Each answer
becomes the option a user could have passed
(`--replace`/`--add`, `--system-packages`, `--yes`). Without a terminal nothing is asked: the
options decide, and what needs a yes is refused with the option that gives it."""

from __future__ import annotations

import sys

from fwsetup import records
from fwsetup.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from fwsetup.commands import install as installing
    from fwsetup.install.combine import Conflict
    from fwsetup.progress import Progress


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _answer(prompt: str) -> str:
    return input(prompt).strip().lower()


def confirm(question: Optional[str], options: Any) -> Any:
    """`options` with yes=True once a terminal said yes; without one, only --yes goes ahead."""
    if question is None or options.yes:
        return options
    if not sys.stdin.isatty():
        raise UsageError(f"{question} needs a yes, and stdin is not a terminal", "pass --yes")
    if _answer(f"{question} [y/N] ") not in ("y", "yes"):
        raise UsageError("nothing was done", None, code="declined")
    return records.replace(options, yes=True)


def mode(found: Conflict) -> str:
    """replace, add, or "" (do nothing: the install is then refused, naming both options)."""
    answer = _answer(
        f"{found.what}.\n[r] replace it (the old generation stays for `fwsetup rollback`)"
        + ("\n[a] add to it (installed together, every framework smoke-tested)" if found.can_add else "")
        + "\n[N] do nothing\nChoice: "
    )
    if answer in ("r", "replace"):
        return "replace"
    return "add" if answer in ("a", "add") and found.can_add else ""


def install(options: installing.Options, progress: Progress) -> Any:
    """Plan, ask what the plan raises (in a terminal), then install with the answers."""
    from fwsetup.commands import install as installing  # imported here: doctor's path loads this module

    planned = installing.plan(options)
    if options.into is not None and not (options.dry_run or options.protect or options.yes) and interactive():
        yes = _answer(
            f"Keep this build in {options.into}: pip and uv there may not replace "
            f"{' '.join(planned.plan.packages[:1])} (a constraints file and the venv's pip.conf)? [y/N] "
        )
        options = records.replace(options, protect=yes in ("y", "yes"))
    if options.dry_run or options.into is not None:
        return installing.execute(options, progress, planned)
    found = installing.conflict(planned, options)
    if found is not None and interactive():
        chosen = mode(found)
        options = records.replace(options, replace=chosen == "replace", add=chosen == "add")
    if not (options.system_packages or options.yes) and sys.stdin.isatty():
        command = installing.apt_command(planned)
        if command is not None:
            import shlex

            yes = _answer(f"fwsetup would run: {shlex.join(command)}\nInstall these system packages now? [y/N] ")
            options = records.replace(options, system_packages=yes in ("y", "yes"))  # no: skipped, and said
    return installing.execute(options, progress, planned)

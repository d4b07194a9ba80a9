"""`fwsetup lock`: resolve the plan for this machine, or for each machine report, to exact
versions and hashes, and write the lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from fwsetup.commands import plans
from fwsetup.commands.common import write_output
from fwsetup.errors import Refusal
from fwsetup.fleet import lockfile, names
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.plan import planning, recipes
from fwsetup.progress import Progress
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class Options:
    framework: str
    choice: plans.Choice = field(default_factory=plans.Choice)
    wheelhouse: list[Path] = field(default_factory=list)  # wheels to prefer
    system_reports: list[Path] = field(default_factory=list)  # one target each; none: this machine
    output: Path = Path("fwsetup.lock")
    timeout: float = 900.0  # each resolution


@dataclass(frozen=True)
class LockResult:
    lock: Path
    targets: list[LockTarget]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lock": str(self.lock),
            "targets": [
                {
                    "name": t.name,
                    "version": t.version,
                    "variant": t.variant,
                    "python": t.python,
                    "platform": t.platform,
                    "packages": len(t.requirements),
                }
                for t in self.targets
            ],
        }


def execute(options: Options, progress: Progress) -> LockResult:
    choice = options.choice.checked()
    recipe = recipes.find(options.framework)
    named = zip(names.machine_names(options.system_reports), options.system_reports)
    sources: list[tuple[str, Optional[Path]]] = [(name, p) for name, p in named] or [("this-machine", None)]
    from fwsetup import pipconfig

    pipconfig.check_constraints(pipconfig.read())  # uv pip compile is given the same list: stops at a missing file
    targets = []
    for name, path in sources:
        report = planning.machine_report(path)
        request = plans.request(recipe.name, choice, options.wheelhouse, use_pip_config=path is None)
        outcome = plans.make_plan(recipe.name, report, request)
        if isinstance(outcome, Refusal):
            outcome.message = f"{name}: {outcome.message}"
            raise outcome
        progress.info(f"locking {name}: {outcome.framework} {outcome.version} {outcome.variant}, Python {outcome.python}")
        targets.append(lockfile.resolve(outcome, report, name, timeout=options.timeout))
    write_output(options.output, lockfile.dumps(recipe.name, targets), "the lock")
    return LockResult(options.output, targets)

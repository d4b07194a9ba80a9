"""The one table of export formats: `export --format NAME` → what renders it and what writes it.

Provisioning scripts (shell, dockerfile, cloud-init, github-actions: fleet/export.py) embed the
lock; the fleet engines (ansible, kubernetes, slurm) carry it beside them or as data; the
requirement formats (requirements, pylock: fleet/pipexport.py) are one target's pins for the
user's own tools. Every format renders text; one that needs more than that file when written
with `-o` (the lock beside a playbook, a directory of sbatch scripts) has its own `write`.
Adding a format: its module, and one entry here.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable, Optional

from fwsetup.errors import UsageError
from fwsetup.fleet import ansible, export, kubernetes, lockfile, pipexport, slurm
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.records import dataclass


@dataclass(frozen=True)
class Job:
    """One export: the lock (read and checked), and the options every format may use."""

    lock_name: str
    lock_text: str
    targets: list[LockTarget]
    fwsetup_spec: str  # checked by export.check_spec
    wheelhouse: str  # checked by export.check_wheelhouse
    target: Optional[str] = None  # --target: the one target a requirement format exports


@dataclass(frozen=True)
class Format:
    render: Callable[[Job], str]
    write: Optional[Callable[[Job, Path, Path], list[Path]]] = None  # (job, lock, output) -> written
    mode: Optional[int] = None  # of the one file written with -o
    needs_url: bool = False  # the machines fetch the bundle themselves: --bundle is a URL
    provisions: bool = True  # installs fwsetup and the lock (False: the lock's pins for other tools)


def _lock_beside(lock: Path, directory: Path) -> Path:
    dest = directory / ansible.LOCK_NAME
    if not (dest.exists() and dest.resolve() == lock.resolve()):
        shutil.copyfile(lock, dest)
    return dest


def _write_ansible(job: Job, lock: Path, output: Path) -> list[Path]:
    """The playbook at `output`, the lock beside it as fwsetup.lock."""
    output.parent.mkdir(parents=True, exist_ok=True)  # `-o play/site.yml`, as the README writes it
    output.write_text(ansible.render(job.fwsetup_spec), encoding="utf-8")
    return [output, _lock_beside(lock, output.parent)]


def _write_slurm(job: Job, lock: Path, output: Path) -> list[Path]:
    """`output` is a directory: one `<target>.sbatch` per target, and the lock beside them."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in slurm.scripts(job.targets, job.wheelhouse, job.fwsetup_spec).items():
        path = output / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
        written.append(path)
    return [*written, _lock_beside(lock, output)]


def _script(make: Callable[[str, str, str], str]) -> Callable[[Job], str]:
    return lambda job: make(job.lock_text, job.fwsetup_spec, job.wheelhouse)


FORMATS: dict[str, Format] = {
    "shell": Format(_script(export.shell), mode=0o755),
    "dockerfile": Format(_script(export.dockerfile)),
    "cloud-init": Format(_script(export.cloud_init)),
    "github-actions": Format(_script(export.github_actions)),
    "ansible": Format(lambda job: ansible.render(job.fwsetup_spec), write=_write_ansible),
    "kubernetes": Format(
        lambda job: kubernetes.render(job.lock_text, job.targets, job.wheelhouse, job.fwsetup_spec),
        needs_url=True,
    ),
    "slurm": Format(
        lambda job: slurm.render(job.targets, job.wheelhouse, job.fwsetup_spec), write=_write_slurm
    ),
    "requirements": Format(
        lambda job: pipexport.requirements(pipexport.choose_target(job.targets, job.target), job.lock_name),
        provisions=False,
    ),
    "pylock": Format(
        lambda job: pipexport.pylock(pipexport.choose_target(job.targets, job.target)), provisions=False
    ),
}
# Every --format name, in the order help lists them (cli/app.py spells them out as EXPORT_FORMATS).
ALL_FORMATS = tuple(FORMATS)
# The formats that install fwsetup and the locked environment on the machine that runs them.
PROVISIONING = tuple(name for name, f in FORMATS.items() if f.provisions)


def chosen(name: str, fwsetup_spec: str, wheelhouse: str) -> Format:
    """The format `--format` names, once its options are known to fit it (else exit 2).

    The one place the options are checked, for every format and before anything is read or
    written: an export to stdout and one written with `-o` (a playbook with the lock beside it, a
    directory of sbatch scripts) refuse the same values, and a format that does not use `--bundle`
    (requirements, pylock) refuses a hostile one too rather than ignore it."""
    found = FORMATS.get(name)
    if found is None:
        raise UsageError(f"--format {name!r} is not one of {', '.join(FORMATS)}", "pick one of those")
    export.check_spec(fwsetup_spec)
    export.check_wheelhouse(wheelhouse)
    if found.needs_url and not wheelhouse.startswith(("http://", "https://")):
        raise UsageError(
            f"--format {name} needs the bundle's URL: pods fetch it", "pass --bundle http(s)://…"
        )
    return found


def job(
    lock: Path,
    targets: list[LockTarget],
    fwsetup_spec: str,
    wheelhouse: str,
    target: Optional[str],
) -> Job:
    """The export of a lock already read and checked (lockfile.load, check_form), with options
    `chosen` checked."""
    return Job(
        lock_name=lock.name,
        lock_text=lock.read_text(encoding="utf-8"),
        targets=targets,
        fwsetup_spec=fwsetup_spec,
        wheelhouse=wheelhouse,
        target=target,
    )


def render(name: str, lock_text: str, fwsetup_spec: str, wheelhouse: str = export.WHEELHOUSE) -> str:
    """One format's text from a lock's text (its targets read as `fwsetup export` reads them)."""
    with tempfile.TemporaryDirectory(prefix="fwsetup-export-") as tmp:
        path = Path(tmp) / "fwsetup.lock"
        path.write_text(lock_text, encoding="utf-8")
        targets = lockfile.load(path)[1]
        found = chosen(name, fwsetup_spec, wheelhouse)
        return found.render(job(path, targets, fwsetup_spec, wheelhouse, None))

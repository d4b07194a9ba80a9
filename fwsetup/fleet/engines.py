"""The fleet-engine export formats (ansible, kubernetes, slurm): rendering, and the files they
need beside them (the lock beside a playbook or the sbatch scripts; one script per target)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fwsetup.fleet import ansible, kubernetes, lockfile, slurm
from fwsetup.fleet.lockfile import LockTarget

ENGINES = ("ansible", "kubernetes", "slurm")


def targets_of(lock_text: str) -> list[LockTarget]:
    """The lock's targets, read (and checked) by lockfile.load."""
    with tempfile.TemporaryDirectory(prefix="fwsetup-export-") as tmp:
        path = Path(tmp) / "fwsetup.lock"
        path.write_text(lock_text, encoding="utf-8")
        return lockfile.load(path)[1]


def render(fmt: str, lock_text: str, fwsetup_spec: str, wheelhouse: str) -> str:
    if fmt == "ansible":
        return ansible.render(fwsetup_spec)
    if fmt == "kubernetes":
        return kubernetes.render(lock_text, targets_of(lock_text), wheelhouse, fwsetup_spec)
    if fmt == "slurm":
        return slurm.render(targets_of(lock_text), wheelhouse, fwsetup_spec)
    raise ValueError(fmt)


def write(fmt: str, lock: Path, output: Path, fwsetup_spec: str, wheelhouse: str) -> list[Path]:
    """Write the export to `output` with what it needs beside it; the paths written.

    ansible: the playbook at `output`, the lock beside it as fwsetup.lock. slurm: `output` is a
    directory; one `<target>.sbatch` per target and the lock beside them. kubernetes: one file."""
    lock_text = lock.read_text(encoding="utf-8")
    if fmt == "slurm":
        output.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in slurm.scripts(targets_of(lock_text), wheelhouse, fwsetup_spec).items():
            path = output / name
            path.write_text(text, encoding="utf-8")
            path.chmod(0o755)
            written.append(path)
        return [*written, _lock_beside(lock, output)]
    output.parent.mkdir(parents=True, exist_ok=True)  # `-o play/site.yml`, as the README writes it
    output.write_text(render(fmt, lock_text, fwsetup_spec, wheelhouse), encoding="utf-8")
    if fmt == "ansible":
        return [output, _lock_beside(lock, output.parent)]
    return [output]


def _lock_beside(lock: Path, directory: Path) -> Path:
    dest = directory / ansible.LOCK_NAME
    if not (dest.exists() and dest.resolve() == lock.resolve()):
        shutil.copyfile(lock, dest)
    return dest

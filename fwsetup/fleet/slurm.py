"""`fwsetup export --format slurm`: one sbatch script per lock target.

Each script asks for one node with the target's GPUs (`--gres=gpu:N`), installs fwsetup from the
bundle (a path on the shared file system or an http(s) URL) into its own venv, the locked
environment offline, and runs the smoke test as a job step (`srun`) on the compute node. The lock
is read beside the script (`$SLURM_SUBMIT_DIR/fwsetup.lock`). Lock values enter a script only as
shell-quoted assignments, and the `#SBATCH` lines only as sanitized names; the exit code is
fwsetup's.
"""

from __future__ import annotations

import shlex

from fwsetup.errors import UsageError
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.fleet.steps import PROVISION, SMOKE, SPEC, dns_label


def script(t: LockTarget, wheelhouse: str, spec: str = SPEC) -> str:
    gpu = t.accelerator == "cuda"
    count = max(len(t.gpu_names), len(t.gpus), 1) if gpu else 0
    name = dns_label(t.name)
    directives = [
        f"--job-name={name}",
        "--nodes=1",
        "--ntasks=1",
        f"--output={name}-%j.out",
        *([f"--gres=gpu:{count}"] if gpu else []),
    ]
    assignments = {
        "FWSETUP_TARGET": t.name,
        "FWSETUP_FRAMEWORK": t.framework,
        "FWSETUP_PYTHON": t.python,
        "FWSETUP_SPEC": spec,
        "FWSETUP_SMOKE_FLAGS": "--gpu" if gpu else "",
    }
    lines = [
        "#!/bin/bash",
        *[f"#SBATCH {d}" for d in directives],
        "# Made by `fwsetup export --format slurm`: submit with `sbatch` from the directory holding",
        "# fwsetup.lock. FWSETUP_WHEELHOUSE and FWSETUP_PREFIX may be set in the submitting environment.",
        *[f"{k}={bash_quote(v)}" for k, v in assignments.items()],
        f'[ -n "${{FWSETUP_WHEELHOUSE:-}}" ] || FWSETUP_WHEELHOUSE={bash_quote(wheelhouse)}',
        'FWSETUP_PREFIX="${FWSETUP_PREFIX:-$HOME/.fwsetup/' + name + '}"',
        'FWSETUP_LOCK="${FWSETUP_LOCK:-${SLURM_SUBMIT_DIR:-$PWD}/fwsetup.lock}"',
        "export FWSETUP_TARGET FWSETUP_FRAMEWORK FWSETUP_PYTHON FWSETUP_SPEC FWSETUP_SMOKE_FLAGS",
        "export FWSETUP_WHEELHOUSE FWSETUP_PREFIX FWSETUP_LOCK",
    ]
    smoke_step = "srun --ntasks=1 " + SMOKE
    return "\n".join(lines) + "\n" + PROVISION + smoke_step


def bash_quote(value: str) -> str:
    """One bash word for `value` that never spans lines: shlex's quoting, or $'…' with escapes when
    the value holds control characters (a newline would start a line Slurm may read)."""
    if not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return shlex.quote(value)
    out = []
    for c in value:
        if c in "\\'":
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    return "$'" + "".join(out) + "'"


def scripts(targets: list[LockTarget], wheelhouse: str, spec: str = SPEC) -> dict[str, str]:
    """File name -> sbatch script, one per target (two targets of one name are refused, never
    one script in place of both)."""
    out: dict[str, str] = {}
    for t in targets:
        name = f"{dns_label(t.name)}.sbatch"
        if name in out:
            raise UsageError(
                f"two lock targets would both be written as {name} (target {t.name!r})",
                "give each target of the lock its own name (`fwsetup lock` does)",
            )
        out[name] = script(t, wheelhouse, spec)
    return out


def render(targets: list[LockTarget], wheelhouse: str, spec: str = SPEC) -> str:
    """Every target's script one after another (write them one per file with `-o DIR`)."""
    return "\n".join(scripts(targets, wheelhouse, spec).values())

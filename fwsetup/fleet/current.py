"""`install --lock` on an environment that already holds the lock: prove it, change nothing.

Fleet engines run the same step again and again (Ansible's second run must report no change).
An environment matches a lock target when its current generation was installed from exactly
these hash-pinned requirements (the copy execute keeps beside it), for the same build, and its
site-packages still hold every pinned version. Such an environment gets its smoke test run again
and is reported `unchanged`; anything else is installed as a new generation as usual.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from packaging.utils import canonicalize_name

from fwsetup.errors import FwsetupError, SmokeError
from fwsetup.install import builds, envs, smoke
from fwsetup.install.sources import LOCK_REQUIREMENTS_FILE as LOCK_REQUIREMENTS  # written by execute
from fwsetup.plan.model import Plan


def pins(locked: tuple[str, ...]) -> dict[str, str]:
    """`name==version --hash=…` lines as {canonical name: version}."""
    out: dict[str, str] = {}
    for line in locked:
        spec = line.split()[0] if line.split() else ""
        name, sep, version = spec.partition("==")
        if sep:
            out[canonicalize_name(name.split("[")[0])] = version.split(";")[0].strip()
    return out


def matching_generation(env: Path, plan: Plan, locked: tuple[str, ...]) -> Optional[Path]:
    """The current generation of `env` when it holds exactly this lock target; else None."""
    gen = envs.EnvLayout(env).current()
    if gen is None or not locked:
        return None
    try:
        recorded = (gen / LOCK_REQUIREMENTS).read_text(encoding="utf-8")
        meta = envs.read_metadata(gen)
    except (OSError, FwsetupError):
        return None
    if recorded != "\n".join(locked) + "\n":
        return None
    if (meta.framework, meta.version, meta.variant) != (
        plan.framework,
        plan.version,
        plan.variant,
    ):
        return None
    installed: dict[str, str] = {canonicalize_name(k): v for k, v in envs.installed_packages(gen).items()}
    if any(installed.get(name) != version for name, version in pins(locked).items()):
        return None
    return gen


def reprove(env: Path, gen: Path, *, gpu: bool, timeout: float, display_name: str) -> dict[str, Any]:
    """Smoke-test the matching generation again; the result in `install --json`'s shape, plus
    `unchanged: true`. A failing smoke test raises (exit 5) as after a fresh install."""
    started = time.perf_counter()
    meta = envs.read_metadata(gen)
    script = gen / str(meta.smoke or "")
    result: Optional[smoke.SmokeResult] = None
    if meta.smoke and script.is_file():
        fixes = {str(k): str(v) for k, v in meta.env.items()}
        planned = builds.of_metadata(meta, str(meta.framework))
        result = smoke.run(envs.env_python(gen), script, gpu=gpu, env=fixes, timeout=timeout, planned=planned)
        try:
            smoke.verdict(result, gpu, display_name)
        except SmokeError as exc:
            exc.fix = (exc.fix + "; " if exc.fix else "") + f"{env} was not changed"
            raise
    return {
        **envs.install_result(meta.framework, env, meta.python, gen, result.to_dict() if result else None),
        "generation": str(gen),
        "backend": meta.backend,
        "seconds": round(time.perf_counter() - started, 2),
        "skipped": [],
        "warnings": [],
        "unchanged": True,
    }

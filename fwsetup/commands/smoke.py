"""`fwsetup smoke`: prove an environment (or any interpreter) works: a real computation checked
against known answers, on the GPU when asked."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Optional

from fwsetup.commands.common import absolute
from fwsetup.errors import FwsetupError, SmokeError, UsageError
from fwsetup.install import envs, registry
from fwsetup.install.smoke import run_in_env, run_with_python, verdict
from fwsetup.plan import recipes
from fwsetup.progress import Progress
from fwsetup.records import dataclass


@dataclass(frozen=True)
class Options:
    framework: str
    env: Optional[Path] = None  # default: the framework's environment
    python: Optional[Path] = None  # test this interpreter instead of an fwsetup environment
    gpu: bool = False  # fail unless the work ran on a GPU
    timeout: float = 600.0


@dataclass(frozen=True)
class SmokeTestResult:
    """`payload`: what ran where and what it computed. `failure`: the verdict when it failed (exit 5);
    the result is still shown, so nothing says "passed" above the failure."""

    payload: dict[str, Any]
    failure: Optional[SmokeError] = None

    def to_dict(self) -> dict[str, Any]:
        if self.failure is not None:  # one document: the error, with the result it judged
            return {"error": self.failure.to_dict(), "smoke": self.payload}
        return self.payload


def execute(options: Options, progress: Optional[Progress] = None) -> SmokeTestResult:
    recipe = recipes.find(options.framework)
    gpu, build = options.gpu, ""
    if options.python is not None:
        if options.env is not None:
            raise UsageError("--python and --env exclude each other", "pass one of them")
        result = run_with_python(recipe, options.python, gpu=gpu, timeout=options.timeout)
        where = str(absolute(options.python))
        payload = {"framework": recipe.name, "env": where, "python": where, **result.to_dict()}
    else:
        result, env_dir = run_in_env(recipe, options.env, gpu=gpu, timeout=options.timeout)
        with contextlib.suppress(FwsetupError):
            held = envs.read_metadata(env_dir).held()
            build = next((str(f.accelerator or "") for f in held if f.framework == recipe.name), "")
        registry.record_smoke(env_dir, result.ok and not (gpu and (result.device or "cpu").startswith("cpu")), result.device)
        payload = {"framework": recipe.name, "env": str(env_dir), **result.to_dict()}
    try:
        verdict(result, gpu, recipe.display_name, build=build)
    except SmokeError as exc:
        return SmokeTestResult({**payload, "ok": False}, exc)
    return SmokeTestResult(payload)

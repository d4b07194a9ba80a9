"""Run a recipe's smoke script inside the target interpreter and read its verdict.

The script prints one JSON object on its last stdout line: ok, framework_version, the
device actually used, the checks against known answers, seconds. Running it as a
child process with a timeout keeps a crashing or hanging framework from taking fwsetup down.

A script is named like its framework (jax.py) and Python puts a script's own folder first on
sys.path, so run in place `import jax` would import the script itself. Every route therefore runs
a copy under a name no import statement can spell, alone in a private folder that is also its
working directory: nothing beside it can shadow a package, on any interpreter (2.7 included,
which has no `-P`).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

from fwsetup import paths, runner
from fwsetup.errors import SmokeError, UsageError
from fwsetup.install import builds, envs, registry
from fwsetup.install.builds import Build
from fwsetup.plan.recipes import recipes_dir
from fwsetup.records import dataclass, field
from fwsetup.redact import redact

SMOKE_TIMEOUT = 600.0


@dataclass(frozen=True)
class SmokeResult:
    ok: bool
    device: Optional[str]
    framework_version: Optional[str]
    seconds: float
    checks: dict[str, bool] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: Optional[str] = None
    planned_build: Optional[Build] = None  # the build the plan chose (install/builds.py)
    found_build: Optional[Build] = None  # the build the script imported

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "device": self.device,
            "framework_version": self.framework_version,
            "seconds": self.seconds,
            "checks": self.checks,
            "details": self.details,
            "error": self.error,
            "planned_build": self.planned_build.to_dict() if self.planned_build else None,
            "found_build": self.found_build.to_dict() if self.found_build else None,
        }


def run(
    python: Path,
    script: Path,
    *,
    gpu: bool = False,
    env: Optional[Mapping[str, str]] = None,
    timeout: float = SMOKE_TIMEOUT,
    planned: Optional[Build] = None,
) -> SmokeResult:
    """Run `script`; `planned` (the build the plan chose) rides on the result for verdict()."""
    full_env = runner.installer_env(env)
    started = time.perf_counter()
    try:
        with _alone(script) as staged:
            # The runner gives the script its own process group: a timeout or Ctrl-C stops it and
            # every worker it spawned (data loaders, compilers) at once; fwsetup never waits on them.
            proc = runner.probe(
                [str(python), staged, "--device", "gpu" if gpu else "cpu"],
                timeout=timeout,
                environ=full_env,
                cwd=os.path.dirname(staged),
            )
    except OSError as exc:  # no temporary folder, or the disk is full
        return SmokeResult(
            False, None, None, 0.0, error=f"cannot copy the smoke script {script}: {exc.strerror or exc}"
        )
    if proc.error == "timeout":
        return SmokeResult(
            False,
            None,
            None,
            round(time.perf_counter() - started, 3),
            error=f"smoke test did not finish within {timeout:.0f} s",
            planned_build=planned,
        )
    if proc.error is not None:
        return SmokeResult(
            False, None, None, 0.0, error=f"cannot run {python}: {proc.error}", planned_build=planned
        )
    wall = round(time.perf_counter() - started, 3)
    code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    data = _last_json(stdout)
    if data is None:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-8:])
        return SmokeResult(
            False,
            None,
            None,
            wall,
            error=f"smoke script exited {code} without a result:\n{redact(tail)}",
            planned_build=planned,
        )
    return SmokeResult(
        ok=bool(data.get("ok")) and code == 0,
        device=data.get("device"),
        framework_version=data.get("framework_version"),
        seconds=float(data.get("seconds", wall)),
        checks={str(k): bool(v) for k, v in (data.get("checks") or {}).items()},
        details=dict(data.get("details") or {}),
        error=data.get("error"),
        planned_build=planned,
        found_build=builds.found(data),
    )


@contextlib.contextmanager
def _alone(script: Path) -> Iterator[str]:
    """A copy of the script, named so that no import reaches it, alone in a new private folder."""
    private = tempfile.mkdtemp(prefix="fwsetup-smoke-")
    try:
        staged = os.path.join(private, staged_name(script.name))
        shutil.copyfile(script, staged)
        yield staged
    finally:
        shutil.rmtree(private, ignore_errors=True)


def staged_name(name: str) -> str:
    """The script's file name made unimportable (a '-' is not allowed in a module name), still
    naming the framework in a traceback: jax.py runs as fwsetup-smoke-jax.py."""
    return name if name.startswith("fwsetup-smoke") else f"fwsetup-smoke-{name}"


def _last_json(stdout: str) -> Optional[dict[str, Any]]:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def verdict(result: SmokeResult, gpu: bool, framework: str, *, build: str = "") -> None:
    """Raise SmokeError (exit 5) when the smoke test failed or ran on the wrong device; a CPU run
    under --gpu says which is true: the env holds a CPU build, or the machine shows no GPU.
    What became of an environment depends on the route, so each caller adds it to the fix:
    `smoke` changes none, an install keeps the previous one, `--into` restores the venv."""
    if not result.ok:
        failed = [k for k, v in result.checks.items() if not v]
        why = result.error or ("checks failed: " + ", ".join(failed) if failed else "not ok")
        raise SmokeError(f"{framework} smoke test failed: {why}", "see the output above")
    wrong = builds.mismatch(result.planned_build, result.found_build)
    if wrong:
        raise SmokeError(
            f"{framework} smoke test: {wrong} (a dependency may have pulled {framework} from the default index)",
            f"reinstall it with `fwsetup install {framework.lower()} --replace`, and install what depends on it "
            "with the same index; `fwsetup doctor --python ENV/bin/python` shows the build installed",
            code="wrong-build",
        )
    if gpu and (result.device or "cpu").startswith("cpu"):
        if build == "cpu":
            raise SmokeError(
                f"{framework} smoke test ran on the CPU, but --gpu was asked: this environment holds a CPU build",
                f"install a GPU build with `fwsetup install {framework.lower()} --gpu --replace`",
                code="cpu-build",
            )
        if not gpu_visible():
            raise SmokeError(
                f"{framework} smoke test ran on the CPU, but --gpu was asked: this machine has no GPU fwsetup can see",
                "run `fwsetup doctor` to see what it found (driver, devices), or drop --gpu",
                code="no-gpu",
            )
        raise SmokeError(
            f"{framework} smoke test ran on the CPU, but --gpu was asked: the GPU build cannot use this GPU",
            "run `fwsetup doctor` to see why (driver, architecture), or install with --cpu",
        )


def gpu_visible() -> bool:
    """Any GPU device node or Apple GPU: cheap, no probe run."""
    if sys.platform == "darwin":
        return True
    return bool(glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/kfd") or os.path.exists("/dev/dxg"))


def run_with_python(recipe: Any, python: Path, *, gpu: bool, timeout: float) -> SmokeResult:
    """The recipe's smoke script in any interpreter (a project's venv, a conda env)."""
    exe = Path(os.path.abspath(os.path.expanduser(str(python))))
    if exe.is_dir():
        exe = envs.env_python(exe)
    if not exe.is_file() or not os.access(exe, os.X_OK):  # /etc/passwd was exit 5, "smoke test failed"
        raise UsageError(
            f"{exe} is not a Python interpreter", "pass --python PATH/TO/bin/python (or a venv directory)"
        )
    # The recipe's script, or the one script its variants name (Deeplearning4j's jvm variant).
    names = {recipe.smoke} if recipe.smoke else {v.smoke for v in recipe.variants if v.smoke}
    script = recipes_dir() / "smoke" / str(next(iter(names), ""))
    if len(names) != 1 or not script.is_file():
        raise SmokeError(f"{recipe.display_name} has no smoke test", None)
    # no plan here: --gpu expects a GPU build of this machine's vendor; without it, report what is found
    return run(exe, script, gpu=gpu, timeout=timeout, planned=builds.for_machine() if gpu else None)


def run_in_env(recipe: Any, env: Optional[Path], *, gpu: bool, timeout: float) -> tuple[SmokeResult, Path]:
    """Find the environment (the given path, or the framework's only default one) and smoke it."""
    if env is None:
        candidates = sorted(p for p in paths.env_root().glob(f"{recipe.name}-*") if p.is_symlink())
        if not candidates:  # an --env path, or an env the framework was added to
            with contextlib.suppress(UsageError):
                candidates = [registry.resolve(recipe.name)]
        if not candidates:
            raise SmokeError(
                f"no {recipe.display_name} environment found under {paths.env_root()}",
                f"install one with `fwsetup install {recipe.name}`, or pass --env PATH",
            )
        if len(candidates) > 1:
            raise UsageError(
                f"several {recipe.display_name} environments exist: {', '.join(map(str, candidates))}",
                "pass the one to test with --env PATH",
            )
        env = candidates[0]
    env_dir = Path(os.path.abspath(env))
    if not (env_dir / envs.METADATA).is_file() and envs.env_python(env_dir).is_file():
        return run_with_python(recipe, envs.env_python(env_dir), gpu=gpu, timeout=timeout), env_dir
    meta = envs.read_metadata(env_dir)
    held = {str(f.framework): f for f in meta.held()}
    if recipe.name not in held:
        raise UsageError(
            f"{env_dir} holds {', '.join(held)}, not {recipe.name}",
            f"run `fwsetup smoke {next(iter(held))} --env {env_dir}`",
        )
    script = env_dir / str(held[recipe.name].smoke or meta.smoke or "fwsetup-smoke.py")
    if not script.is_file():
        raise SmokeError(f"{recipe.display_name} has no smoke test in {env_dir}", None)
    planned = builds.of_metadata(meta, recipe.name)
    result = run(envs.env_python(env_dir), script, gpu=gpu, env=meta.env, timeout=timeout, planned=planned)
    return result, env_dir

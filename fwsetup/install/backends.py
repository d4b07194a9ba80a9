"""uv (the fast path) and pip (the fallback) behind one interface.

Both honour the user's pip configuration: pip reads it itself; for uv, which ignores
pip.conf, the same settings are translated into uv options and environment variables.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional, Protocol

from fwsetup import runner
from fwsetup.errors import InstallError
from fwsetup.install.sources import InstallerArgs, Sources, for_pip, for_uv, locked_args

INSTALL_TIMEOUT = 3600.0
INSTALL_FIX = (
    "see the log; a version pin that cannot be satisfied or a missing system library is the usual cause"
)

__all__ = [
    "INSTALL_TIMEOUT",
    "Backend",
    "PipBackend",
    "Runner",
    "Sources",
    "UvBackend",
    "choose",
    "summarise",
]

summarise = runner.summarise


class Runner(Protocol):
    def __call__(self, argv: Sequence[str], *, what: str, env: Optional[Mapping[str, str]] = None) -> str: ...


def run_logged(log: Path, timeout: float = INSTALL_TIMEOUT) -> Runner:
    """Install steps through the one runner: the installer environment, the step's limit, the
    command and its output appended to `log`; a failure or timeout is InstallError (exit 4)."""

    def run(argv: Sequence[str], *, what: str, env: Optional[Mapping[str, str]] = None) -> str:
        result = runner.step(
            argv,
            what=what,
            timeout=timeout,
            env=runner.installer_env(env),
            log=log,
            fix=INSTALL_FIX,
            merge_stderr=True,
        )
        return result.stdout

    return run


def seed_packages(python: tuple[int, int]) -> list[str]:
    """What `uv venv --seed` (and `python -m venv`) put in an environment for its user."""
    return ["pip"] if python >= (3, 12) else ["pip", "setuptools", "wheel"]


def find_uv() -> Optional[str]:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except Exception:  # not installed as a dependency, or its binary missing
        return shutil.which("uv")


def python_version_of(interpreter: str, timeout: float = 30.0) -> tuple[int, int]:
    out = runner.step(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        what=f"asking {interpreter} for its version",
        timeout=timeout,
        env=runner.installer_env(),
        fix="pass a working interpreter with --python, or repair this one",
    )
    try:
        major, minor = out.stdout.strip().split(".")
        return int(major), int(minor)
    except ValueError:
        raise InstallError(
            f"cannot run the interpreter {interpreter}: it printed {out.stdout.strip()[:200]!r}", None
        ) from None


class Backend(Protocol):
    name: str

    def create(
        self, interpreter: str, path: Path, run: Runner, offline: bool = False, seed: bool = True
    ) -> None: ...

    def install(self, env_python: Path, packages: Sequence[str], sources: Sources, run: Runner) -> None: ...


class UvBackend:
    name = "uv"

    def __init__(self, uv: str) -> None:
        self.uv = uv

    def create(
        self, interpreter: str, path: Path, run: Runner, offline: bool = False, seed: bool = True
    ) -> None:
        # --seed puts pip (and setuptools, wheel before 3.12) in the env for the user; it needs an
        # index, so an offline environment goes without. `seed=False` when the caller installs
        # SEED_PACKAGES with the framework instead: one resolution, no second round of downloads.
        flags = ["--seed"] if seed and not offline else []
        args = [self.uv, "venv", "--quiet", *flags, "--allow-existing", "--python", interpreter, str(path)]
        run(args, what="creating the environment (uv venv)", env=for_uv(Sources(offline=offline)).env)

    def install(self, env_python: Path, packages: Sequence[str], sources: Sources, run: Runner) -> None:
        translated = for_uv(sources)
        args = [self.uv, "pip", "install", "--python", str(env_python), *translated.args]
        run(
            [*args, *locked_args(sources), *packages],
            what="installing the packages (uv pip install)",
            env=translated.env,
        )


class PipBackend:
    """pip inside the new environment; reads the user's pip configuration itself."""

    name = "pip"

    def create(
        self, interpreter: str, path: Path, run: Runner, offline: bool = False, seed: bool = True
    ) -> None:
        major, _minor = python_version_of(interpreter)
        if major == 2:
            self._create_py2(interpreter, path, run)
        else:
            run([interpreter, "-m", "venv", str(path)], what="creating the environment (python -m venv)")

    def _create_py2(self, interpreter: str, path: Path, run: Runner) -> None:
        """Python 2.7 has no venv module: virtualenv < 20.22 (the last able to make 2.7
        environments), installed for that interpreter into a directory inside the new env."""
        tools = path / ".fwsetup-tools"
        run(
            [interpreter, "-m", "pip", "install", "--quiet", "--target", str(tools), "virtualenv<20.22"],
            what="fetching virtualenv for Python 2.7",
        )
        run(
            [interpreter, "-m", "virtualenv", "--quiet", str(path)],
            what="creating the environment (virtualenv)",
            env={"PYTHONPATH": str(tools)},
        )
        shutil.rmtree(tools, ignore_errors=True)

    def install(self, env_python: Path, packages: Sequence[str], sources: Sources, run: Runner) -> None:
        translated: InstallerArgs = for_pip(sources)
        args = [
            str(env_python),
            "-m",
            "pip",
            "install",
            "--no-input",
            *translated.args,
            *locked_args(sources),
        ]
        run([*args, *packages], what="installing the packages (pip install)", env=translated.env)


def choose(interpreter_version: tuple[int, int], prefer: str = "auto") -> Backend:
    """uv where it can serve the target Python (3.6+), pip otherwise or when asked."""
    uv = find_uv()
    if prefer == "pip" or uv is None or interpreter_version < (3, 6):
        if prefer == "uv" and uv is None:
            raise InstallError(
                "--installer uv asked but uv is not available", "pip install uv, or use --installer pip"
            )
        return PipBackend()
    return UvBackend(uv)

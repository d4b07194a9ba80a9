"""uv (the fast path) and pip (the fallback) behind one interface.

Both honour the user's pip configuration: pip reads it itself; for uv, which ignores
pip.conf, the same settings are translated into uv options and environment variables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Protocol

from fwsetup.errors import InstallError
from fwsetup.install import pipconfig
from fwsetup.redact import redact

INSTALL_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Sources:
    """Where packages come from: the plan's needs on top of the user's configuration."""

    index_url: Optional[str] = None  # --index-url override
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    build_constraints: tuple[str, ...] = ()
    offline: bool = False
    env_dir: Optional[Path] = None
    requirements_file: Optional[Path] = None  # a lock's hash-pinned, complete requirements
    settings: pipconfig.PipSettings = field(default_factory=pipconfig.PipSettings)


def write_build_constraints(env_dir: Path, sources: Sources) -> Path:
    """Build constraints as a file inside the environment: both installers take a file."""
    cfile = env_dir / ".fwsetup-build-constraints.txt"
    cfile.write_text("\n".join(sources.build_constraints) + "\n", encoding="utf-8")
    return cfile


def locked_args(sources: Sources) -> list[str]:
    """Install exactly a lock's files: every hash checked, nothing resolved beyond the list."""
    if sources.requirements_file is None:
        return []
    return ["--require-hashes", "--no-deps", "-r", str(sources.requirements_file)]


def env_dir_of(sources: Sources) -> Path:
    if sources.env_dir is None:
        raise InstallError("internal: build constraints need the environment directory", None)
    return sources.env_dir


class Runner(Protocol):
    def __call__(
        self, argv: Sequence[str], *, env: Optional[Mapping[str, str]] = None, timeout: float = ...
    ) -> str: ...


def run_logged(log: Path) -> Runner:
    """A runner that appends the command and its output to `log` and raises InstallError
    with the most relevant lines when the command fails."""

    def run(
        argv: Sequence[str], *, env: Optional[Mapping[str, str]] = None, timeout: float = INSTALL_TIMEOUT
    ) -> str:
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        if "PYTHONPATH" not in (env or {}):
            full_env.pop("PYTHONPATH", None)  # the user's PYTHONPATH must not leak into the new env
        with log.open("a", encoding="utf-8") as fh:
            fh.write("$ " + redact(" ".join(argv)) + "\n")
            fh.flush()
            try:
                proc = subprocess.run(
                    list(argv),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=full_env,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                fh.write(f"!! timed out after {timeout:.0f} s\n")
                raise InstallError(
                    f"`{redact(argv[0])}` did not finish within {timeout:.0f} s (log: {log})",
                    "check the network, or raise the limit with --timeout",
                ) from None
            except OSError as exc:
                raise InstallError(f"cannot run {argv[0]}: {exc.strerror}", None) from None
            out = proc.stdout.decode("utf-8", errors="replace")
            fh.write(redact(out))
            fh.write(f"-> exit {proc.returncode}\n")
        if proc.returncode != 0:
            raise InstallError(
                f"`{redact(' '.join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv[:4])))} …` "
                f"failed (exit {proc.returncode}):\n{summarise(out)}\n(full log: {log})",
                "see the log; a version pin that cannot be satisfied or a missing system library is the usual cause",
            )
        return out

    return run


def summarise(output: str, limit: int = 10) -> str:
    """The ≤limit lines of installer output most likely to say what went wrong."""
    lines = [ln.rstrip() for ln in redact(output).splitlines() if ln.strip()]
    keys = (
        "error",
        "no matching distribution",
        "could not find",
        "conflict",
        "because",
        "requires",
        "failed",
        "not found",
        "unsatisfiable",
        "no solution",
    )
    picked = [ln for ln in lines if any(k in ln.lower() for k in keys)]
    chosen = (picked or lines)[-limit:]
    return "\n".join("  " + ln[:300] for ln in chosen)


def find_uv() -> Optional[str]:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except Exception:  # not installed as a dependency, or its binary missing
        return shutil.which("uv")


def python_version_of(interpreter: str) -> tuple[int, int]:
    out = subprocess.run(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    try:
        major, minor = out.stdout.strip().split(".")
        return int(major), int(minor)
    except ValueError:
        raise InstallError(
            f"cannot run the interpreter {interpreter}: {out.stderr.strip()[:200]}", None
        ) from None


class Backend(Protocol):
    name: str

    def create(self, interpreter: str, path: Path, run: Runner, offline: bool = False) -> None: ...

    def install(self, env_python: Path, packages: Sequence[str], sources: Sources, run: Runner) -> None: ...


class UvBackend:
    name = "uv"

    def __init__(self, uv: str) -> None:
        self.uv = uv

    def create(self, interpreter: str, path: Path, run: Runner, offline: bool = False) -> None:
        # --seed puts pip/setuptools in the env for the user's convenience; it needs an index,
        # so an offline environment goes without (uv pip installs into it all the same).
        seed = [] if offline else ["--seed"]
        args = [self.uv, "venv", "--quiet", *seed, "--allow-existing", "--python", interpreter, str(path)]
        run(args, env=self._env(Sources()))

    def install(self, env_python: Path, packages: Sequence[str], sources: Sources, run: Runner) -> None:
        args = [
            self.uv,
            "pip",
            "install",
            "--python",
            str(env_python),
            "--index-strategy",
            "unsafe-best-match",
        ]
        args += self.source_args(sources)
        run([*args, *locked_args(sources), *packages], env=self._env(sources))

    def source_args(self, sources: Sources) -> list[str]:
        s = sources.settings
        args: list[str] = []
        index = sources.index_url or s.index_url
        if s.no_index and not sources.index_url:
            args.append("--no-index")
        elif index:
            args += ["--index-url", index]
        for url in (*sources.extra_index_urls, *s.extra_index_urls):
            args += ["--extra-index-url", url]
        for fl in (*sources.find_links, *s.find_links):
            args += ["--find-links", fl]
        if sources.requirements_file is None:  # a lock was resolved under them already
            for c in (*s.constraints, *sources.constraints):
                args += ["--constraint", c]
        if sources.build_constraints:
            args += ["--build-constraint", str(write_build_constraints(env_dir_of(sources), sources))]
        for host in s.trusted_hosts:
            args += ["--allow-insecure-host", host]
        if sources.offline:
            args.append("--offline")
        return args

    def _env(self, sources: Sources) -> dict[str, str]:
        env: dict[str, str] = {}
        s = sources.settings
        if s.cert:
            env["SSL_CERT_FILE"] = s.cert
        if s.client_cert:
            env["SSL_CLIENT_CERT"] = s.client_cert
        if s.proxy:
            env.setdefault("HTTPS_PROXY", s.proxy)
            env.setdefault("HTTP_PROXY", s.proxy)
        if s.timeout:
            env["UV_HTTP_TIMEOUT"] = s.timeout
        return env


class PipBackend:
    """pip inside the new environment; reads the user's pip configuration itself."""

    name = "pip"

    def create(self, interpreter: str, path: Path, run: Runner, offline: bool = False) -> None:
        major, _minor = python_version_of(interpreter)
        if major == 2:
            self._create_py2(interpreter, path, run)
        else:
            run([interpreter, "-m", "venv", str(path)])

    def _create_py2(self, interpreter: str, path: Path, run: Runner) -> None:
        """Python 2.7 has no venv module: virtualenv < 20.22 (the last able to make 2.7
        environments), installed for that interpreter into a directory inside the new env."""
        tools = path / ".fwsetup-tools"
        run([interpreter, "-m", "pip", "install", "--quiet", "--target", str(tools), "virtualenv<20.22"])
        run([interpreter, "-m", "virtualenv", "--quiet", str(path)], env={"PYTHONPATH": str(tools)})
        shutil.rmtree(tools, ignore_errors=True)

    def install(self, env_python: Path, packages: Sequence[str], sources: Sources, run: Runner) -> None:
        args = [str(env_python), "-m", "pip", "install", "--no-input"]
        if sources.index_url:
            args += ["--index-url", sources.index_url]
        for url in sources.extra_index_urls:
            args += ["--extra-index-url", url]
        for fl in sources.find_links:
            args += ["--find-links", fl]
        for c in sources.constraints:
            args += ["--constraint", c]
        if sources.offline:
            args.append("--no-index")
        args += locked_args(sources)
        env: dict[str, str] = {}
        if sources.build_constraints:
            # pip applies PIP_CONSTRAINT inside isolated build environments too.
            cfile = env_python.parent.parent / ".fwsetup-build-constraints.txt"
            cfile.write_text("\n".join(sources.build_constraints) + "\n")
            existing = os.environ.get("PIP_CONSTRAINT", "")
            env["PIP_CONSTRAINT"] = " ".join(
                x for x in (existing, *sources.settings.constraints, str(cfile)) if x
            )
        run([*args, *packages], env=env)


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

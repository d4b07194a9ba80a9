"""The conventions users of a typer/click CLI expect, kept by the hand-written grammar
(cli/spec.py): did-you-mean, short-flag clusters, `--no-X`, one name per meaning with the old
spelling accepted, fixed choices, and shell completion generated from the declarations
(cli/completion.py). Through the real parser (`app.run`), plus the real entry point."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY_RECIPES, cli, fwsetup, json_out, tiny_env

from fwsetup.cli import app, completion
from fwsetup.cli.spec import Command, Option, ParseError, command_help, parse
from fwsetup.install import execute

# --- did you mean ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message", "suggestion"),
    [
        (["instal", "pytorch"], "No such command: instal", "'install'"),
        (["doctr"], "No such command: doctr", "'doctor'"),
        (["--verison"], "No such option: --verison", "'--version'"),
        (["install", "jax", "--dry-rn"], "No such option: --dry-rn", "'--dry-run'"),
        (["install", "jax", "--Installer", "uv"], "No such option: --Installer", "'--installer'"),
        (["export", "--wheelhous", "x"], "No such option: --wheelhous", "'--bundle'"),  # by its current name
        (["export", "--format", "dockerfil"], "--format 'dockerfil' is not one of", "'dockerfile'"),
        (
            ["install", "jax", "--installer", "pipp"],
            "--installer 'pipp' is not one of auto, uv, pip",
            "'pip'",
        ),
        (["fleet", "reprot", "a.json"], "ACTION 'reprot' is not one of report", "'report'"),
        (["completion", "bsh"], "SHELL 'bsh' is not one of bash, zsh, fish", "'bash'"),
    ],
)
def test_a_typo_is_exit_2_with_the_close_name_in_text_and_json(
    argv: list[str], message: str, suggestion: str
) -> None:
    text = cli(*argv)
    assert text.returncode == 2 and not text.stdout and "Traceback" not in text.stderr
    assert message in text.stderr and f"Did you mean {suggestion}?" in text.stderr, text.stderr
    for env in (
        ({}, {"FWSETUP_JSON": "1"}) if app.COMMANDS.get(argv[0], app.COMMANDS["list"]).json_output else ()
    ):
        out = cli(*argv, *(["--json"] if not env else []), env=env)
        error = json_out(out)["error"]
        assert out.returncode == 2 and error["code"] == "usage" and message in error["message"]
        assert error["fix"].startswith(f"did you mean {suggestion}? see `fwsetup"), error


def test_nothing_close_gets_no_guess() -> None:
    for argv in (["zzzzzz"], ["install", "jax", "--qqqqqq"]):
        out = cli(*argv)
        assert out.returncode == 2 and "Did you mean" not in out.stderr
        assert json_out(cli(*argv, "--json"))["error"]["fix"].startswith("see `fwsetup")


def test_an_unknown_short_flag_is_named_alone() -> None:
    with pytest.raises(ParseError) as info:
        parse(app.COMMANDS["install"], ["-qz"], {})
    assert info.value.message == "No such option: -z"


# --- short-flag clusters -----------------------------------------------------------------------


def test_a_cluster_is_its_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`install -qy` reaches the installer as --quiet --yes, through the real command line."""
    seen: list[tuple[bool, bool]] = []

    def capture(plan: object, recipe: object, options: execute.InstallOptions, *progress: object) -> None:
        seen.append((options.quiet, options.assume_yes))
        raise KeyboardInterrupt  # stop before anything is built

    monkeypatch.setattr(execute, "execute", capture)
    env = tiny_env(tmp_path / "home")
    for cluster in ("-qy", "-yq"):
        out = cli("install", "tiny", "--cpu", "--env", str(tmp_path / "env"), cluster, env=env)
        assert out.returncode == 130, out.stderr
    assert seen == [(True, True), (True, True)]
    assert parse(app.COMMANDS["envs"], ["-y"], {})["yes"] is True


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        (["-qo", "f.lock"], {"quiet": True, "output": Path("f.lock")}),
        (["-qof.lock"], {"quiet": True, "output": Path("f.lock")}),
        (["-oq"], {"quiet": False, "output": Path("q")}),  # after a value option, the rest is its value
        (["-q", "-o", "f"], {"quiet": True, "output": Path("f")}),
    ],
)
def test_a_cluster_may_end_in_an_option_that_takes_a_value(argv: list[str], want: dict[str, object]) -> None:
    # No command has a short flag and a short value option together yet; the grammar is the same.
    cmd = Command(
        "c",
        "h",
        (Option(("--quiet", "-q"), "quiet", "h"), Option(("--output", "-o"), "output", "h", kind="path")),
        lambda quiet, output: None,
    )
    assert parse(cmd, argv, {}) == want


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["-q=1"], "'-q' does not take a value"),
        (["-qo"], "'-o' requires"),
        (["-qh"], "'-h' goes alone"),
        (["-q-q"], "No such option: -q-q ('-' inside a cluster)"),  # was "No such option: --q"
    ],
)
def test_a_bad_cluster_is_a_usage_error(argv: list[str], needle: str) -> None:
    cmd = Command(
        "c", "h", (Option(("-q",), "q", "h"), Option(("-o",), "o", "h", kind="path")), lambda q, o: None
    )
    with pytest.raises(ParseError) as info:
        parse(cmd, argv, {})
    assert needle in info.value.message


# --- --no-X -------------------------------------------------------------------------------------


def test_every_boolean_with_a_variable_has_a_no_form_in_help() -> None:
    flags = [(c, o) for c in app.COMMANDS.values() for o in c.options() if o.kind == "flag"]
    with_env = [(c, o) for c, o in flags if o.envvar]
    assert {o.flags[0] for _, o in with_env} >= {
        "--json",
        "--strict",
        "--dry-run",
        "--offline",
        "--yes",
        "--quiet",
    }
    for cmd, opt in with_env:
        negation = f"--no-{opt.flags[0][2:]}"
        assert opt.negation == negation
        assert f"{', '.join(opt.flags)} / {negation}" in cli(cmd.name, "--help").stdout
        given = [a.choices[0] if a.choices else "x" for a in cmd.arguments() if a.required]
        given += [word for o in cmd.options() if o.required for word in (o.flags[0], "x")]
        assert parse(cmd, [*given, negation], {opt.envvar or "": "1"})[opt.dest] is False
        assert parse(cmd, given, {opt.envvar or "": "1"})[opt.dest] is True
    for cmd, opt in flags:  # no variable: nothing to turn off, and no --no-X to read
        if not opt.envvar:
            assert opt.negation is None and f"--no-{opt.flags[0][2:]}" not in cli(cmd.name, "--help").stdout


def test_the_last_of_a_flag_and_its_no_form_wins() -> None:
    install = app.COMMANDS["install"]
    assert parse(install, ["--dry-run", "--no-dry-run"], {})["dry_run"] is False
    assert parse(install, ["--no-dry-run", "--dry-run"], {})["dry_run"] is True
    assert parse(install, ["-y", "--no-yes"], {"FWSETUP_YES": "1"})["yes"] is False
    with pytest.raises(ParseError, match="does not take a value"):
        parse(install, ["--no-quiet=1"], {})


def test_no_json_turns_off_fwsetup_json_for_results_and_errors(tmp_path: Path) -> None:
    env = {**tiny_env(tmp_path / "home"), "FWSETUP_JSON": "1"}
    assert json_out(cli("install", "tiny", "--cpu", "--dry-run", env=env))["framework"] == "tiny"
    text = cli("install", "tiny", "--cpu", "--dry-run", "--no-json", env=env)
    assert text.returncode == 0 and text.stdout.lstrip()[:1] != "{" and "tiny" in text.stdout
    # a usage error in text, not JSON, though the variable asks for JSON
    bad = cli("install", "tiny", "--no-json", "--dry-rn", env=env)
    assert bad.returncode == 2 and not bad.stdout and "Did you mean '--dry-run'?" in bad.stderr
    assert json_out(cli("instal", "--no-json", "--json"))["error"]["code"] == "usage"


def test_no_dry_run_lets_fwsetup_lock_apply_again(tmp_path: Path) -> None:
    """FWSETUP_LOCK yields to --dry-run; a --no-dry-run that wins over FWSETUP_DRY_RUN does not."""
    env = {"FWSETUP_LOCK": "x.lock", "FWSETUP_DRY_RUN": "1"}
    install = app.COMMANDS["install"]
    assert parse(install, [], env)["lock"] is None
    assert parse(install, ["--no-dry-run"], env)["lock"] == Path("x.lock")


# --- one meaning per option name -----------------------------------------------------------------


def test_export_names_the_bundle_bundle_and_still_takes_wheelhouse() -> None:
    export = app.COMMANDS["export"]
    for flag in ("--bundle", "--wheelhouse"):
        assert parse(export, [flag, "https://h/wh/"], {})["wheelhouse"] == "https://h/wh/"
    assert parse(export, ["--bundle=b"], {})["wheelhouse"] == "b"
    text = " ".join(command_help("fwsetup", export).split())
    assert "--bundle TEXT The bundle" in text and "also accepted: --wheelhouse" in text
    assert "--wheelhouse TEXT" not in text


def test_export_bundle_through_the_command_line() -> None:
    for flag in ("--bundle", "--wheelhouse"):  # checked before any lock is read
        out = cli("export", "--format", "kubernetes", flag, "/srv/wh", "--json")
        error = json_out(out)["error"]
        assert out.returncode == 2 and "URL" in error["message"] and "--bundle http" in error["fix"]


# A name whose kind of value differs between commands, known and left as it is: `install/lock
# --python X.Y` is a version for the new environment, `doctor/smoke --python PATH` an interpreter.
TWO_MEANINGS = {"--python"}


def test_an_option_name_takes_one_kind_of_value_everywhere() -> None:
    """A new option reusing a name with another kind of value fails here (as export's --wheelhouse,
    a URL or path of the bundle beside install's wheels to install from, did before --bundle)."""
    family = {"paths": "path", "locations": "path"}
    kinds: dict[str, set[str]] = {}
    for cmd in app.COMMANDS.values():
        for opt in cmd.options():
            for flag in opt.flags:
                kinds.setdefault(flag, set()).add(family.get(opt.kind, opt.kind))
    assert {flag for flag, seen in kinds.items() if len(seen) > 1} == TWO_MEANINGS


def test_export_formats_are_the_fleet_formats() -> None:
    from fwsetup.fleet.formats import ALL_FORMATS

    assert app.EXPORT_FORMATS == ALL_FORMATS


# --- completion scripts ----------------------------------------------------------------------


def _script(shell: str, tmp_path: Path) -> Path:
    out = cli("completion", shell, env={"FWSETUP_RECIPES_DIR": str(TINY_RECIPES)})
    assert out.returncode == 0 and not out.stderr
    path = tmp_path / f"fwsetup.{shell}"
    path.write_text(out.stdout, encoding="utf-8")
    return path


def test_completion_json_is_the_script_in_one_document() -> None:
    out = json_out(cli("completion", "fish", "--json", env={"FWSETUP_RECIPES_DIR": str(TINY_RECIPES)}))
    assert set(out) == {"shell", "script"} and out["shell"] == "fish"
    assert out["script"] == cli("completion", "fish", env={"FWSETUP_RECIPES_DIR": str(TINY_RECIPES)}).stdout


def test_the_shells_declared_are_the_shells_written() -> None:
    assert app.COMMANDS["completion"].arguments()[0].choices == completion.SHELLS


def test_every_argument_has_a_completion_kind() -> None:
    for cmd in app.COMMANDS.values():
        for arg in cmd.arguments():
            assert arg.choices or arg.dest in completion.ARGUMENT_KINDS, (cmd.name, arg.dest)


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_each_script_names_every_command_and_option(shell: str, tmp_path: Path) -> None:
    text = _script(shell, tmp_path).read_text(encoding="utf-8")
    for cmd in app.COMMANDS.values():
        assert re.search(rf"\b{cmd.name}\b", text), cmd.name
        for opt in cmd.options():
            for flag in completion.spellings(opt):
                name = flag.lstrip("-")
                assert re.search(rf"(?<![\w-])(--?|-[ls] ){re.escape(name)}(?![\w-])", text), (shell, flag)
    assert "--wheelhouse" in text  # install's and lock's; export's old spelling is not offered
    assert "tiny" in text and "tinyb" in text  # the recipes' names, read when the script is written


def _bash_complete(script: Path, *words: str) -> list[str]:
    code = f'source {script}; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fwsetup; printf "%s\\n" "${{COMPREPLY[@]}}"'
    out = subprocess.run(
        ["bash", "-c", code, "bash", *words], capture_output=True, text=True, timeout=30, check=True
    )
    assert not out.stderr, out.stderr
    return [line for line in out.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("words", "want"),
    [
        (["fwsetup", "ins"], ["install"]),
        (["fwsetup", "--ver"], ["--version"]),
        (["fwsetup", "install", "--dry"], ["--dry-run"]),
        (["fwsetup", "install", "--no-q"], ["--no-quiet"]),
        (["fwsetup", "install", "--installer", ""], ["auto", "uv", "pip"]),
        (["fwsetup", "install", "--installer", "=", "u"], ["uv"]),
        (["fwsetup", "install", "ti"], ["tiny", "tinyb"]),
        (["fwsetup", "install", "tiny", ""], []),  # FRAMEWORK is given; nothing else is positional
        (["fwsetup", "install", "--python", "3.11", "ti"], ["tiny", "tinyb"]),  # a value is not an argument
        (["fwsetup", "lock", "-o", "x.lock", "tin"], ["tiny", "tinyb"]),
        (["fwsetup", "export", "--format", "doc"], ["dockerfile"]),
        (["fwsetup", "export", "--bu"], ["--bundle"]),
        (["fwsetup", "export", "--wh"], []),  # the old name works but is not offered
        (["fwsetup", "fleet", "r"], ["report"]),
        (["fwsetup", "completion", ""], ["bash", "zsh", "fish"]),
        (["fwsetup", "nosuch", "--"], []),
    ],
)
def test_bash_completes_from_the_grammar(words: list[str], want: list[str], tmp_path: Path) -> None:
    assert _bash_complete(_script("bash", tmp_path), *words) == want


def test_bash_completes_paths_and_the_command_run_runs(tmp_path: Path) -> None:
    script = _script("bash", tmp_path)
    (tmp_path / "report-a.json").write_text("{}", encoding="utf-8")
    prefix = str(tmp_path / "report-")
    assert _bash_complete(script, "fwsetup", "install", "--system", prefix) == [prefix + "a.json"]
    assert _bash_complete(script, "fwsetup", "fleet", "report", prefix) == [prefix + "a.json"]
    assert "bash" in _bash_complete(script, "fwsetup", "run", "env", "--", "bas")


def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed here (apt-get install {name})")
    return path


ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x08\r]")


def _zsh_complete(zsh: str, script: Path, line: str) -> str:
    """What an interactive zsh shows after typing `line` and <TAB> (through a pseudo-terminal):
    wait for the prompt (compinit done), type, then read until the terminal is quiet."""
    driver = f"""
zmodload zsh/zpty
zpty z {zsh} -f -i
zpty -w z 'autoload -U compinit; compinit -u -D; source {script}; PS1="RE""ADY> "'
zpty -r z ready '*READY> '
zpty -w -n z {json.dumps(line)}$'\\t'
out="" quiet=0
for i in {{1..40}}; do
    sleep 0.25
    if zpty -r -t z chunk; then out+=$chunk; quiet=0; else quiet=$((quiet + 1)); fi
    while zpty -r -t z chunk; do out+=$chunk; done
    (( quiet >= 4 )) && [[ -n $out ]] && break
done
print -r -- "$out"
zpty -d z
"""
    out = subprocess.run([zsh, "-f", "-c", driver], capture_output=True, text=True, timeout=60, check=False)
    return ESCAPES.sub("", out.stdout)


def test_zsh_script_parses_registers_and_completes(tmp_path: Path) -> None:
    zsh = _shell("zsh")
    script = _script("zsh", tmp_path)
    assert (
        subprocess.run([zsh, "-n", str(script)], capture_output=True, timeout=30, check=False).returncode == 0
    )
    registered = subprocess.run(
        [
            zsh,
            "-f",
            "-c",
            f"autoload -U compinit && compinit -u -D; source {script}; print -r -- $_comps[fwsetup]",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert registered.stdout.strip() == "_fwsetup", registered.stderr
    assert "fwsetup install" in _zsh_complete(zsh, script, "fwsetup insta")
    assert "--dry-run" in _zsh_complete(zsh, script, "fwsetup install --dry-")
    assert "dockerfile" in _zsh_complete(zsh, script, "fwsetup export --format dockerf")
    assert "fwsetup install tiny" in _zsh_complete(zsh, script, "fwsetup install ti")  # tiny, tinyb
    assert re.search(r"auto\s+pip\s+uv", _zsh_complete(zsh, script, "fwsetup install --installer "))  # listed


def _fish_complete(fish: str, script: Path, line: str) -> list[str]:
    out = subprocess.run(
        [fish, "--no-config", "-c", f"source {script}; complete -C {json.dumps(line)}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0 and not out.stderr, out.stderr
    return [row.split("\t")[0] for row in out.stdout.splitlines()]


def test_fish_script_parses_and_completes(tmp_path: Path) -> None:
    fish = _shell("fish")
    script = _script("fish", tmp_path)
    assert (
        subprocess.run(
            [fish, "--no-execute", str(script)], capture_output=True, timeout=30, check=False
        ).returncode
        == 0
    )
    assert _fish_complete(fish, script, "fwsetup ins") == ["install"]
    assert _fish_complete(fish, script, "fwsetup install --dry") == ["--dry-run"]
    assert sorted(_fish_complete(fish, script, "fwsetup install --installer ")) == ["auto", "pip", "uv"]
    assert sorted(_fish_complete(fish, script, "fwsetup install ti")) == ["tiny", "tinyb"]
    assert _fish_complete(fish, script, "fwsetup export --format dockerf") == ["dockerfile"]
    assert "--no-json" in _fish_complete(fish, script, "fwsetup doctor --no")


def test_descriptions_are_safe_inside_single_quotes() -> None:
    hostile = "It's `$(rm -rf ~)` [x] \\ and more; second sentence. Another."
    text = completion.plain(hostile)
    assert "'" not in text and "`" not in text and "\\" not in text and "[" not in text and "$" not in text


# --- the real entry point ----------------------------------------------------------------------


def test_the_entry_point_suggests_and_prints_a_working_script(tmp_path: Path) -> None:
    typo = fwsetup("instal", "jax")
    assert (
        typo.returncode == 2
        and "No such command: instal" in typo.stderr
        and "Did you mean 'install'?" in typo.stderr
    )
    text = fwsetup("doctor", "--no-json", env={"FWSETUP_JSON": "1"})
    assert text.returncode == 0 and not text.stdout.startswith("{") and "Traceback" not in text.stderr
    script = fwsetup("completion", "bash", env={"FWSETUP_RECIPES_DIR": str(TINY_RECIPES)})
    assert script.returncode == 0 and script.stdout.startswith("# bash completion for fwsetup")
    path = tmp_path / "fwsetup.bash"
    path.write_text(script.stdout, encoding="utf-8")
    assert _bash_complete(path, "fwsetup", "lock", "ti") == ["tiny", "tinyb"]


def test_the_conventions_load_nothing_on_doctors_path() -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from fwsetup.cli.app import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    run(['doctor', '--json', '--no-strict'])\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FWSETUP_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    loaded = json.loads(out.stdout)
    assert "difflib" not in loaded and "fwsetup.cli.completion" not in loaded


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "infinity"])
@pytest.mark.parametrize(
    "argv", [["doctor"], ["install", "pytorch", "--dry-run"], ["smoke", "pytorch"], ["bundle", "--lock", "x.lock", "-o", "x"]]
)
def test_a_timeout_that_is_not_a_finite_number_is_a_usage_error(argv: list[str], raw: str) -> None:
    """`doctor --timeout nan` ran (nan is neither below the minimum nor above the maximum), and
    `--timeout inf` passed where only a minimum is set."""
    out = cli(*argv, "--timeout", raw, "--json")
    assert out.returncode == 2, out.stdout
    assert "is not a finite number" in json.loads(out.stdout)["error"]["message"]
    if argv[0] != "smoke":  # smoke's --timeout has no variable
        variable = "FWSETUP_PROBE_TIMEOUT" if argv == ["doctor"] else "FWSETUP_TIMEOUT"
        env_out = cli(*argv, "--json", env={variable: raw})
        assert env_out.returncode == 2 and "is not a finite number" in env_out.stdout

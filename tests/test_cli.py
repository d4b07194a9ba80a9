"""The command line's grammar (cli/spec.py) through `fwsetup.cli.app.run`, in-process, plus a few
real child processes for the entry point and what each command imports."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PLAN_KEYS, cli, fwsetup, json_out, tiny_env
from machines import write_all

from fwsetup import __version__, records
from fwsetup.cli import app
from fwsetup.cli.spec import Option, ParseError, parse
from fwsetup.install import execute

TYPES = ("TEXT", "PATH", "FLOAT")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("machines"))


def test_bare_fwsetup_prints_help_and_exits_0() -> None:
    for argv in ([], ["--help"], ["-h"]):
        out = cli(*argv)
        assert out.returncode == 0 and not out.stderr
        assert out.stdout.startswith("Usage: fwsetup [OPTIONS] COMMAND")
        assert all(f"  {name}  " in out.stdout for name in app.COMMANDS)
    version = cli("--version").stdout.splitlines()
    assert version[0] == f"fwsetup {__version__}"
    assert version[1].startswith("data checked on: ") and "pytorch 20" in version[1]


@pytest.mark.parametrize("name", sorted(app.COMMANDS))
def test_command_help_shows_every_option_with_its_value_type_and_variable(name: str) -> None:
    out = cli(name, "--help")
    assert out.returncode == 0 and out.stdout.startswith(f"Usage: fwsetup {name} [OPTIONS]")
    assert "<bool>" not in out.stdout and "<str>" not in out.stdout and "<path>" not in out.stdout
    for opt in app.COMMANDS[name].options():
        head = ", ".join(opt.flags) + (f" {opt.metavar}" if opt.metavar else "")
        assert head in out.stdout, head
        assert (opt.metavar in TYPES) == (opt.kind != "flag")
        if opt.envvar:
            assert f"env var: {opt.envvar}" in " ".join(out.stdout.split())
    # --help wins over anything else on the line, as in every CLI
    assert cli(name, "--no-such", "--help").returncode == 0


def test_every_command_function_takes_exactly_its_declared_parameters() -> None:
    for cmd in app.COMMANDS.values():
        declared = [p.dest for p in cmd.params]
        assert len(declared) == len(set(declared)), cmd.name
        # each command's options record (fwsetup/commands/) holds exactly what the grammar declares:
        # --json stays with the command line, the shared plan options arrive as one `choice`
        module = importlib.import_module(app.MODULES[cmd.name])
        shared = all(o in cmd.params for o in app.PLAN)
        plan = {o.dest for o in app.PLAN} if shared else set()
        expected = set(declared) - {"json_output"} - plan | ({"choice"} if shared else set())
        assert {f.name for f in records.fields(module.Options)} == expected, cmd.name


def test_unknown_command_and_option_are_usage_errors() -> None:
    for argv, needle in ((["nosuch"], "No such command: nosuch"), (["--nosuch"], "No such option: --nosuch")):
        out = cli(*argv)
        assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr


def test_fwsetup_lock_names_install_lock_and_nothing_else(reports: dict[str, Path], tmp_path: Path) -> None:
    users = [(c.name, o.flags[0]) for c in app.COMMANDS.values() for o in c.options() if o.envvar == "FWSETUP_LOCK"]
    assert users == [("install", "--lock")]
    lock = tmp_path / "fleet.lock"
    env = {"FWSETUP_LOCK": str(lock)}
    # the variable is a default: an explicit dry run (or --system) plans as asked, exit 0
    planned = cli("install", "jax", "--cpu", "--dry-run", "--json", env=env)  # this machine
    assert planned.returncode == 0, planned.stdout
    assert set(json_out(planned)) == PLAN_KEYS and not lock.exists()
    assert parse(app.COMMANDS["install"], ["jax", "--system", "r.json"], env)["lock"] is None
    values = parse(app.COMMANDS["install"], ["jax"], env)
    assert values["lock"] == lock  # without a conflicting flag it is install --lock
    assert parse(app.COMMANDS["install"], ["jax", "--dry-run"], env)["lock"] is None
    # --lock on the command line and --dry-run together are still refused
    both = cli("install", "--lock", str(lock), "--dry-run")
    assert both.returncode == 2 and "cannot be combined" in both.stderr
    # lock, bundle and export no longer read it
    assert parse(app.COMMANDS["lock"], ["jax"], env)["output"] == Path("fwsetup.lock")
    assert parse(app.COMMANDS["lock"], ["jax"], {"FWSETUP_LOCK_OUTPUT": "x.lock"})["output"] == Path("x.lock")
    assert parse(app.COMMANDS["export"], [], env)["lock"] == Path("fwsetup.lock")
    missing = cli("bundle", "-o", str(tmp_path / "wh"), env=env)
    assert missing.returncode == 2 and "Missing option '--lock'" in missing.stderr


def test_yes_reaches_the_installer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--yes, -y and FWSETUP_YES arrive as InstallOptions.assume_yes (execute.py answers the prompts)."""
    seen: list[bool] = []

    def capture(plan: object, recipe: object, options: execute.InstallOptions, *progress: object) -> None:
        seen.append(options.assume_yes)
        raise KeyboardInterrupt  # stop before anything is built; the CLI reports exit 130

    monkeypatch.setattr(execute, "execute", capture)
    env = tiny_env(tmp_path / "home")
    target = str(tmp_path / "env")
    for argv, extra in ((["--yes"], {}), (["-y"], {}), ([], {"FWSETUP_YES": "1"}), ([], {})):
        out = cli("install", "tiny", "--cpu", "--env", target, *argv, env={**env, **extra})
        assert out.returncode == 130, out.stderr
    assert seen == [True, True, True, False]


def _parse(argv: list[str], environ: dict[str, str] | None = None) -> dict[str, object]:
    return parse(app.COMMANDS["install"], argv, environ or {})


def test_option_forms_and_precedence() -> None:
    v = _parse(["--python=3.11", "pytorch", "-y", "--timeout", "30", "--wheelhouse", "a", "--find-links=b"])
    assert (v["framework"], v["python"], v["yes"], v["timeout"]) == ("pytorch", "3.11", True, 30.0)
    assert v["wheelhouse"] == [Path("a"), Path("b")]
    assert _parse([])["timeout"] == 3600.0 and _parse([])["installer"] == "auto"
    assert _parse(["--", "--odd-name"])["framework"] == "--odd-name"
    env = {"FWSETUP_PYTHON": "3.10", "FWSETUP_WHEELHOUSE": os.pathsep.join(["x", "y"]), "FWSETUP_QUIET": "off"}
    v = _parse(["--python", "3.12"], env)
    assert v["python"] == "3.12" and v["wheelhouse"] == [Path("x"), Path("y")] and v["quiet"] is False
    assert _parse([], {"FWSETUP_QUIET": ""})["quiet"] is False  # empty is unset
    assert parse(app.COMMANDS["lock"], ["jax", "-ox.lock"], {})["output"] == Path("x.lock")


@pytest.mark.parametrize(
    ("argv", "environ", "needle"),
    [
        (["--python"], {}, "'--python' requires an argument"),
        (["--gpu=yes"], {}, "does not take a value"),
        (["a", "b"], {}, "unexpected extra argument (b)"),
        (["--timeout", "0.5"], {}, "1.0<=x"),
        ([], {"FWSETUP_DRY_RUN": "perhaps"}, "FWSETUP_DRY_RUN"),
    ],
)
def test_parse_errors_name_the_problem(argv: list[str], environ: dict[str, str], needle: str) -> None:
    with pytest.raises(ParseError) as info:
        _parse(argv, environ)
    assert needle in info.value.message


def test_missing_argument_is_a_usage_error() -> None:
    out = cli("lock")
    assert out.returncode == 2 and "Missing argument 'FRAMEWORK'" in out.stderr


def test_option_without_a_variable_ignores_the_environment() -> None:
    opt = Option(("--x",), "x", "h", kind="text", default="d")
    from fwsetup.cli.spec import Command

    cmd = Command("c", "h", (opt,), lambda x: None)
    assert parse(cmd, [], {"X": "1"}) == {"x": "d"}


# --- real child processes: the entry point and what a command imports ---------------------


def test_entry_point_runs_bare_and_with_a_usage_error() -> None:
    bare = fwsetup()
    assert bare.returncode == 0 and "Commands:" in bare.stdout
    script = Path(sys.executable).parent / "fwsetup"
    if script.exists():  # the console script pip wrote
        typo = subprocess.run([str(script), "doctor", "--jsn"], capture_output=True, text=True, timeout=60, check=False)
        assert typo.returncode == 2 and "No such option: --jsn" in typo.stderr


HEAVY = ("typer", "click", "rich", "pydantic")


@pytest.mark.parametrize(
    ("argv", "forbidden"),
    [
        (["--help"], ("fwsetup.probe", "fwsetup.plan", "fwsetup.install", "fwsetup.fleet", "fwsetup.report")),
        (["doctor", "--json"], ("fwsetup.plan", "fwsetup.install", "fwsetup.fleet")),
        (["install", "--help"], ("fwsetup.probe", "fwsetup.plan", "fwsetup.install", "fwsetup.fleet")),
    ],
)
def test_a_command_imports_only_what_it_needs(argv: list[str], forbidden: tuple[str, ...]) -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from fwsetup.cli.app import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    run({argv!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(forbidden)]
    assert not bad, bad

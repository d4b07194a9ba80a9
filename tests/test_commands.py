"""The command layer (fwsetup/commands/): options record in, result record out, nothing printed or
asked; the questions are the command line's (cli/ask.py), asked before a command runs."""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

import pytest
from helpers import cli, json_out, tiny_env
from machines import base_report

from fwsetup import records
from fwsetup.cli import app, ask
from fwsetup.errors import UsageError

PACKAGE = Path(__file__).parent.parent / "fwsetup"


def _calls(path: Path) -> set[str]:
    """Every `name(` and `a.b(` called, and every `a.b` read, in a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found.add(node.func.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("folder", ["commands", "install", "plan", "fleet"])
def test_below_the_command_line_nothing_prints_or_prompts(folder: str) -> None:
    """Output is cli/render.py's, progress the reporter's (fwsetup/progress.py), questions cli/ask.py's."""
    bad = {
        f"{p.relative_to(PACKAGE)}: {name}"
        for p in sorted((PACKAGE / folder).rglob("*.py"))
        for name in _calls(p) & {"print", "input", "sys.stdout", "sys.stderr"}
    }
    assert bad == set()


def test_plan_makes_no_network_call() -> None:
    """The index check (network) is the command's (commands/freshness.py); plan/ stays pure."""
    network = ("urllib", "http", "socket", "ssl")
    bad = []
    for p in sorted((PACKAGE / "plan").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{p.name}: {n}" for n in names if n.split(".")[0] in network or n.endswith("freshness")]
    assert bad == []


def test_every_command_has_its_module_and_every_module_the_same_shape() -> None:
    assert set(app.MODULES) == set(app.COMMANDS)
    for name, path in app.MODULES.items():
        module = __import__(path, fromlist=["execute"])
        assert records.is_dataclass(module.Options), name
        assert callable(module.execute), name


def test_the_command_table_stays_a_table() -> None:
    """cli/app.py holds the grammar's declarations, the lazy command table and the dispatch, no
    use-case bodies (those are fwsetup/commands/'s): 500 lines at the most (issue 18)."""
    lines = (PACKAGE / "cli" / "app.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 500, f"cli/app.py has {len(lines)} lines; declare a repeated option once"


def test_a_command_returns_its_result_and_writes_nothing(tmp_path: Path) -> None:
    """`fwsetup list` as a library call: the same document `--json` prints, and no output at all."""
    from fwsetup.commands import list as listing
    from fwsetup.progress import Progress

    report = tmp_path / "report.json"
    report.write_text(base_report(("ubuntu", "22.04"), python="3.12.3").to_json(), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = listing.execute(listing.Options(system_report=report), Progress(0, stream=err))
    assert out.getvalue() == err.getvalue() == ""
    printed = json_out(cli("list", "--json", "--system", str(report)))
    assert result.to_dict() == printed


def test_without_a_terminal_a_deletion_needs_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fwsetup.commands import remove

    options = remove.Options(env=str(tmp_path / "env"))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert ask.confirm(None, options) is options  # nothing to ask
    assert ask.confirm("delete it", records.replace(options, yes=True)).yes
    with pytest.raises(UsageError, match="delete it needs a yes, and stdin is not a terminal"):
        ask.confirm("delete it", options)
    with pytest.raises(UsageError, match="is not an environment fwsetup made"):
        remove.execute(records.replace(options, yes=True))  # refused before anything is asked or done


def test_in_a_terminal_the_answer_becomes_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    from fwsetup.commands import envs

    answers = iter(["y", "no"])
    monkeypatch.setattr("sys.stdin", Terminal(""))
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert ask.confirm("prune", envs.Options(prune=True)).yes is True
    with pytest.raises(UsageError, match="nothing was done") as info:
        ask.confirm("prune", envs.Options(prune=True))
    assert info.value.code == "declined"


def test_envs_prune_without_yes_is_refused_by_the_command_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library caller that did not ask gets the refusal, not a silent deletion."""
    from fwsetup.commands import envs

    home = tmp_path / "home"
    for key, value in tiny_env(home).items():
        monkeypatch.setenv(key, value)
    orphan = tmp_path / ".gone.fwsetup"  # what `rm -rf ENV` leaves: the store, no link
    (orphan / "gen-1").mkdir(parents=True)
    (orphan / "gen-1" / "fwsetup.json").write_text("{}")  # a store an older fwsetup made: no marker
    from fwsetup.install import registry

    registry.register(tmp_path / "gone")
    assert envs.question(envs.Options(prune=True)) == "remove 1 orphaned or missing environment(s)"
    with pytest.raises(UsageError, match="needs a yes"):
        envs.execute(envs.Options(prune=True))
    assert orphan.exists()
    done = envs.execute(envs.Options(prune=True, yes=True))
    assert not orphan.exists() and done.to_dict()["removed"]


def test_in_a_terminal_the_env_question_is_asked_before_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An env holding another framework: the command line asks (once, before anything is built) and
    the answer is `--replace`; the same install without a terminal is refused (exit 2)."""
    from helpers import fwsetup

    home, env = tmp_path / "home", tmp_path / "mixed"
    assert fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home)).returncode == 0
    refused = cli("install", "tinyb", "--cpu", "--env", str(env), "--json", env=tiny_env(home))
    assert refused.returncode == 2 and json_out(refused)["error"]["code"] == "env-holds-another"
    prompts: list[str] = []
    monkeypatch.setattr(ask, "interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or "r")
    replaced = cli("install", "tinyb", "--cpu", "--env", str(env), "--json", env=tiny_env(home))
    assert replaced.returncode == 0, replaced.stderr
    assert json_out(replaced)["frameworks"] == ["tinyb"]
    assert len(prompts) == 1 and "holds tiny 1.16.0" in prompts[0] and "[a] add to it" in prompts[0]

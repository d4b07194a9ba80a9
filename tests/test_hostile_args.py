"""Hostile arguments and names on disk: a generation number that is not one, a path longer than
the file system takes, terminal escapes in a registered path. One usage error (exit 2) or clean
text each, never an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import cli, json_out, tiny_env


def _store(env: Path, *generations: str) -> Path:
    """The store fwsetup keeps beside an environment (`.NAME.fwsetup/gen-N`), link deleted."""
    store = env.parent / f".{env.name}.fwsetup"
    for gen in generations:
        (store / gen).mkdir(parents=True)
    (store / "fwsetup-store").write_text(f"{env}\n", encoding="utf-8")  # fwsetup made it (its marker)
    return store


@pytest.mark.parametrize("to", ["²", "٣", "9" * 5000, "-1", "1.0", " 1", ""])
def test_rollback_to_takes_only_a_generation_number(to: str, tmp_path: Path) -> None:
    env = tmp_path / "e"
    _store(env, "gen-1", "gen-2")
    out = cli("rollback", str(env), "--to", to, "--json", env=tiny_env(tmp_path / "home"))
    error = json_out(out)["error"]
    assert out.returncode == 2 and error["code"] == "usage", error
    assert "not a generation number" in error["message"] and len(error["message"]) < 200


def test_a_stray_generation_name_in_a_store_is_not_a_generation(tmp_path: Path) -> None:
    env = tmp_path / "e"
    _store(env, "gen-²", "gen-1")
    out = cli("rollback", str(env), "--to", "2", "--json", env=tiny_env(tmp_path / "home"))
    error = json_out(out)["error"]
    assert out.returncode == 2 and error["message"].endswith("has no generation 2"), error
    assert error["fix"] == "generations kept: 1"


LONG = "/tmp/" + "a" * 5000


@pytest.mark.parametrize(
    "argv",
    [
        ["rollback", LONG],
        ["envs", LONG],
        ["remove", LONG, "--yes"],
        ["smoke", "tiny", "--env", LONG],
        ["install", "tiny", "--cpu", "--env", LONG],
        ["install", "tiny", "--cpu", "--into", LONG],
        ["run", LONG, "--", "true"],
    ],
    ids=lambda argv: " ".join(a if len(a) < 20 else "LONG" for a in argv),
)
def test_a_path_too_long_for_the_file_system_is_a_usage_error(argv: list[str], tmp_path: Path) -> None:
    text = cli(*argv, env=tiny_env(tmp_path / "home"))
    assert text.returncode == 2 and "internal error" not in text.stderr, text.stderr[:500]
    assert len(text.stderr) < 500, text.stderr[:500]
    if argv[0] != "run":  # everything after `--` is the command's
        out = cli(*argv, "--json", env=tiny_env(tmp_path / "home"))
        error = json_out(out)["error"]
        assert out.returncode == 2 and error["code"] == "usage", error


def test_envs_text_never_prints_a_registered_paths_terminal_escapes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = tmp_path / "x\x1b]0;pwned\x07\x1b[2Jy"
    _store(env, "gen-1")  # an orphan: its store is left, its link is not
    (home / "envs.json").write_text(json.dumps([str(env)]), encoding="utf-8")
    listed = cli("envs", env=tiny_env(home))
    assert listed.returncode == 0 and "orphaned" in listed.stdout
    assert "\x1b" not in listed.stdout and "\x07" not in listed.stdout
    assert json_out(cli("envs", "--json", env=tiny_env(home)))["envs"][0]["env"] == str(
        env
    )  # JSON: the raw value

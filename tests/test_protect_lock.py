"""An env made by `install --lock` keeps its build like any other: a real `lock` and `install --lock`
of the tiny recipe (six==1.16.0), then real pip in the env against a folder offering six 1.17.0."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from helpers import cli, fwsetup, json_out, tiny_env, wheel
from test_protect import offline

from fwsetup.fleet import lockfile
from fwsetup.install import protect


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("protect-lock")
    links = base / "links"
    links.mkdir()
    wheel(links, "six", "1.17.0")
    home, lock, env = base / "home", base / "tiny.lock", base / "env"
    made = fwsetup("lock", "tiny", "--cpu", "-o", str(lock), "--json", env=tiny_env(home))
    assert made.returncode == 0, made.stderr
    out = fwsetup("install", "--lock", str(lock), "--env", str(env), "--json", env=tiny_env(home))
    assert out.returncode == 0, out.stderr
    return {"env": env, "home": home, "lock": lock, "links": links, "base": base}


def test_the_lock_records_what_its_env_pins(locked: dict[str, Path]) -> None:
    (target,) = lockfile.load(locked["lock"])[1]
    assert target.keeps == ["six"]


def test_pip_in_a_lock_installed_env_refuses_to_replace_the_build(locked: dict[str, Path]) -> None:
    env = locked["env"]
    assert (env / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["six===1.16.0"]
    pip = [str(env / "bin" / "pip"), "install", "--dry-run", "--no-index", "--find-links", str(locked["links"])]
    out = subprocess.run([*pip, "six==1.17.0"], capture_output=True, text=True, env=offline(env), timeout=300)
    assert out.returncode != 0
    assert "The user requested (constraint) six===1.16.0" in out.stdout + out.stderr


def test_envs_shows_a_lock_installed_env_protected(locked: dict[str, Path]) -> None:
    home = {"FWSETUP_HOME": str(locked["home"])}
    (row,) = [r for r in json_out(cli("envs", "--json", env=home))["envs"] if r["env"] == str(locked["env"])]
    assert row["protected"] is True
    assert "build protected" in cli("envs", env=home).stdout


@pytest.mark.parametrize("name", ["Six", "six\nx", "-c/etc/x", "six six"])
def test_a_lock_naming_a_kept_package_oddly_is_refused(locked: dict[str, Path], name: str) -> None:
    text = locked["lock"].read_text()
    bad = locked["base"] / "bad.lock"
    bad.write_text(re.sub(r'keeps = \[[^\]]*\]', 'keeps = [' + json.dumps(name).replace("\\", "\\\\") + "]", text))
    assert "keeps" in bad.read_text()
    out = fwsetup("install", "--lock", str(bad), "--env", str(locked["base"] / "e2"), env=tiny_env(locked["home"]))
    assert out.returncode == 2 and "keeps" in out.stderr


def test_only_checked_lines_at_the_installed_version_are_pinned(tmp_path: Path) -> None:
    """A line pins only at the version installed; a source pip.conf cannot hold is left out, a local
    path with a space becomes its file: URL."""
    from fwsetup.plan.model import Plan

    plan = Plan(framework="tiny", version="1.16.0", variant="cpu", accelerator="cpu", python="3.11", packages=[],
                index_urls=["https://example.org/a b", "https://example.org/simple"], find_links=[str(tmp_path / "w h")])  # fmt: skip
    reqs = ("six==1.16.0 --hash=sha256:" + "a" * 64, "other==2.0 --hash=sha256:" + "b" * 64)
    assert protect.apply_locked(plan, tmp_path, reqs, ("six", "other"), {"six": "1.16.0", "other": "3.0"})
    assert (tmp_path / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["six===1.16.0"]
    conf = (tmp_path / protect.PIP_CONF).read_text()
    assert "example.org/a b" not in conf and "https://example.org/simple" in conf
    assert (tmp_path / "w h").as_uri() in conf
    assert not protect.apply_locked(plan, tmp_path / "x", reqs, ("nothing",), {"six": "1.16.0"})


def test_an_env_path_with_a_space_is_still_protected(locked: dict[str, Path]) -> None:
    """pip splits a pip.conf list at whitespace (macOS's default home is under "Application Support"):
    the constraints file is named by its file: URL there, and pip still applies it."""
    env = locked["base"] / "my env"
    out = fwsetup("install", "--lock", str(locked["lock"]), "--env", str(env), "--json", env=tiny_env(locked["home"]))
    assert out.returncode == 0, out.stderr
    assert "constraint = file:///" in (env / protect.PIP_CONF).read_text()
    pip = [str(env / "bin" / "pip"), "install", "--dry-run", "--no-index", "--find-links", str(locked["links"])]
    run = subprocess.run([*pip, "six==1.17.0"], capture_output=True, text=True, env=offline(env), timeout=300)
    assert run.returncode != 0 and "The user requested (constraint) six===1.16.0" in run.stdout + run.stderr

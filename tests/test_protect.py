"""The env keeps its build: real pip and real uv inside a real env made by fwsetup, offline, against
a local find-links folder that offers a newer version of the pinned package (six stands for torch)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import cli, fwsetup, json_out, tiny_env, wheel

from fwsetup.install import activation, protect


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real env of the tiny recipe (six==1.16.0), and a folder offering six 1.17.0 and a
    package that needs it."""
    base = tmp_path_factory.mktemp("protect")
    links = base / "links"
    links.mkdir()
    wheel(links, "six", "1.17.0")
    wheel(links, "needs_new_six", "1.0", ("six>=1.17",))
    wheel(links, "uses_six", "1.0", ("six",))
    env, home = base / "env", base / "home"
    out = fwsetup("install", "tiny", "--cpu", "--env", str(env), "--json", env=tiny_env(home))
    assert out.returncode == 0, out.stderr
    return {"env": env, "home": home, "links": links}


def offline(env: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    return {**keep, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def pip(made: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(made["env"] / "bin" / "pip"), "install", "--dry-run", "--no-index", "--find-links"]
    return subprocess.run(
        [*argv, str(made["links"]), *args],
        capture_output=True,
        text=True,
        env=offline(made["env"]),
        timeout=300,
    )


def test_the_env_carries_its_pins_and_pip_conf(made: dict[str, Path]) -> None:
    env = made["env"]
    assert (env / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["six===1.16.0"]
    conf = (env / protect.PIP_CONF).read_text().splitlines()
    assert f"constraint = {env.resolve() / protect.CONSTRAINTS}" in conf  # the generation's own pins


def test_pip_in_the_env_refuses_to_replace_the_build_naming_it(made: dict[str, Path]) -> None:
    direct = pip(made, "six==1.17.0")
    assert direct.returncode != 0
    assert "The user requested (constraint) six===1.16.0" in direct.stdout + direct.stderr
    dependent = pip(made, "needs_new_six")
    assert dependent.returncode != 0
    text = dependent.stdout + dependent.stderr
    assert "needs-new-six 1.0 depends on six>=1.17" in text and "(constraint) six===1.16.0" in text


def test_a_package_that_depends_on_the_framework_resolves_around_it(made: dict[str, Path]) -> None:
    """`pip install --upgrade` of something that depends on six, with a newer six offered: six stays."""
    out = pip(made, "--upgrade", "--report", "-", "--quiet", "uses_six")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    names = {item["metadata"]["name"] for item in report["install"]}
    assert names == {"uses_six"}  # six 1.17.0 was on offer and was not taken


def test_a_local_build_of_the_same_release_is_not_taken_either(made: dict[str, Path], tmp_path: Path) -> None:
    """PEP 440's `six==1.16.0` is met by `1.16.0+cpu`, which ranks above it: a CPU torch in the
    user's find-links would replace PyPI's CUDA torch of the same release. The pin is `===`."""
    wheel(tmp_path, "six", "1.16.0+cpu")
    wheel(tmp_path, "uses_six", "1.0", ("six",))
    argv = [
        str(made["env"] / "bin" / "pip"),
        "install",
        "--dry-run",
        "--no-index",
        "--report",
        "-",
        "--quiet",
    ]
    for asked in (["--upgrade", "uses_six"], ["--upgrade", "--force-reinstall", "six"]):
        out = subprocess.run([*argv, "--find-links", str(tmp_path), *asked], capture_output=True, text=True,
                             env=offline(made["env"]), timeout=300)  # fmt: skip
        taken = {
            i["metadata"]["name"]: i["metadata"]["version"]
            for i in json.loads(out.stdout or "{}").get("install", [])
        }
        assert "1.16.0+cpu" not in taken.values(), (asked, out.stdout, out.stderr)


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed here")
    return found


def test_uv_through_fwsetup_run_and_activate_keeps_it_too(made: dict[str, Path]) -> None:
    env, links = made["env"], made["links"]
    args = ["pip", "install", "--dry-run", "--no-index", "--find-links", str(links), "needs_new_six"]
    environ = {**offline(env), "FWSETUP_HOME": str(made["home"])}
    run = subprocess.run(
        [sys.executable, "-m", "fwsetup", "run", str(env), "--", uv(), *args],
        capture_output=True, text=True, env=environ, timeout=300,
    )  # fmt: skip
    assert run.returncode != 0 and "six==1.16.0" in run.stderr, run.stderr
    bare = subprocess.run(
        [uv(), *args, "--python", str(env / "bin" / "python")], capture_output=True, text=True, env=environ
    )
    assert bare.returncode == 0 and "six==1.17.0" in bare.stderr  # without the constraint uv would replace it
    script = f'. "{env}/bin/activate"; echo "$UV_CONSTRAINT"; deactivate; echo "[${{UV_CONSTRAINT-unset}}]"'
    shell = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=environ, check=True)
    inside, after = shell.stdout.splitlines()
    assert inside == f"{env}/{protect.CONSTRAINTS}" and after == "[unset]"


def test_envs_says_it_is_protected_and_lifting_it_is_deleting_two_files(
    made: dict[str, Path], tmp_path: Path
) -> None:
    rows: list[dict[str, Any]] = json_out(cli("envs", "--json", env={"FWSETUP_HOME": str(made["home"])}))[
        "envs"
    ]
    (row,) = [r for r in rows if r["env"] == str(made["env"])]
    assert row["protected"] is True
    assert "build protected" in cli("envs", env={"FWSETUP_HOME": str(made["home"])}).stdout
    (tmp_path / "bin").mkdir()
    assert protect.write(tmp_path, ["six==1.16.0"], ["https://example.org/simple"], [])
    assert protect.constraints_of(tmp_path) == tmp_path / protect.CONSTRAINTS
    protect.lift(tmp_path)
    assert protect.constraints_of(tmp_path) is None and sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


def test_a_pip_conf_of_the_users_is_never_taken_for_fwsetups(tmp_path: Path) -> None:
    (tmp_path / protect.CONSTRAINTS).write_text("six==1\n")
    (tmp_path / protect.PIP_CONF).write_text("[global]\ntimeout = 3\n")
    assert protect.constraints_of(tmp_path) is None
    protect.lift(tmp_path)
    assert (tmp_path / protect.PIP_CONF).read_text() == "[global]\ntimeout = 3\n"


def test_into_a_project_venv_only_when_asked_and_rollback_lifts_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    venv = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    scripts = {p: p.read_bytes() for p in activation.scripts(venv)}
    plain = fwsetup("install", "tiny", "--cpu", "--into", str(venv), "--json", env=tiny_env(home))
    assert plain.returncode == 0, plain.stderr
    assert json_out(plain)["protected"] is False and not (venv / protect.PIP_CONF).exists()  # not forced
    asked = fwsetup(
        "install", "tiny", "--cpu", "--into", str(venv), "--protect", "--json", env=tiny_env(home)
    )
    assert asked.returncode == 0, asked.stderr
    assert json_out(asked)["protected"] is True and protect.constraints_of(venv) is not None
    assert json_out(asked)["warnings"] == []  # every activation script of the venv sets UV_CONSTRAINT
    assert all(activation.BEGIN in p.read_text() for p in scripts)
    (row,) = [r for r in json_out(cli("envs", "--json", env=tiny_env(home)))["envs"] if r["env"] == str(venv)]
    assert row["protected"] is True
    for _ in range(2):
        assert fwsetup("rollback", str(venv), "--json", env=tiny_env(home)).returncode == 0
    assert not (venv / protect.PIP_CONF).exists() and not (venv / protect.CONSTRAINTS).exists()
    assert {p: p.read_bytes() for p in scripts} == scripts  # and its activation scripts as they were


def test_into_a_venv_with_its_own_pip_conf_leaves_it(tmp_path: Path) -> None:
    venv = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / protect.PIP_CONF).write_text("[global]\ntimeout = 30\n")
    out = fwsetup(
        "install", "tiny", "--cpu", "--into", str(venv), "--yes", "--json", env=tiny_env(tmp_path / "h")
    )
    assert out.returncode == 0, out.stderr
    assert (
        json_out(out)["protected"] is False
        and (venv / protect.PIP_CONF).read_text() == "[global]\ntimeout = 30\n"
    )


@pytest.mark.parametrize(("answer", "protected"), [("y", True), ("", False)])
def test_a_terminal_is_asked_before_installing_into_a_venv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer: str, protected: bool
) -> None:
    from fwsetup.cli import ask
    from fwsetup.commands import install as installing
    from fwsetup.progress import Progress

    venv = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    monkeypatch.setenv("FWSETUP_RECIPES_DIR", tiny_env(tmp_path)["FWSETUP_RECIPES_DIR"])
    monkeypatch.setattr(ask, "interactive", lambda: True)
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or answer)
    seen: list[installing.Options] = []
    monkeypatch.setattr(installing, "execute", lambda options, progress, planned: seen.append(options))
    options = installing.Options(framework="tiny", into=venv, choice=installing.plans.Choice(cpu=True))
    ask.install(options, Progress(1, quiet=True))
    assert len(asked) == 1 and "pip and uv there may not replace six==1.16.0" in asked[0]
    assert seen[0].protect is protected


def test_a_protected_venv_takes_another_build_through_fwsetup_and_stays_protected(tmp_path: Path) -> None:
    """Its own pins would make pip refuse the new version: fwsetup lifts them for its install and
    pins the new build after (a failed install puts the old pins back)."""
    home = tmp_path / "home"
    venv = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    first = fwsetup(
        "install", "tiny", "--cpu", "--into", str(venv), "--protect", "--installer", "pip", env=tiny_env(home)
    )
    assert first.returncode == 0, first.stderr
    second = fwsetup("install", "tiny", "--cpu", "--version", "1.17.0", "--into", str(venv), "--installer", "pip",
                     "--json", env=tiny_env(home))  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert json_out(second)["protected"] is True
    assert (venv / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["six===1.17.0"]
    failed = fwsetup("install", "tiny", "--cpu", "--version", "999.0", "--into", str(venv), "--installer", "pip",
                     env=tiny_env(home))  # fmt: skip
    assert failed.returncode != 0
    assert (venv / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["six===1.17.0"]

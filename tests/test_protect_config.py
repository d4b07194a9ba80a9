"""The env keeps its build whatever else configures pip: real pip and real uv in a real env of the
tiny recipe (six==1.16.0), offline against a folder offering six 1.17.0, with a user pip config of
its own (a fake HOME), after `pip config --site set` rewrote the env's pip.conf, with PIP_CONSTRAINT
set, and with a pip.conf that is not UTF-8; and in a project venv (`--into`) through re-protection
and rollbacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import cli, fwsetup, json_out, tiny_env, wheel

from fwsetup.install import activation, protect


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A user whose own pip config ([install], which pip puts over any [global]) names a constraints
    file of theirs (iniconfig==1.0), and an env fwsetup made for them."""
    base = tmp_path_factory.mktemp("protect-config")
    links = base / "links"
    links.mkdir()
    for name, version in (("six", "1.16.0"), ("six", "1.17.0"), ("iniconfig", "2.0.0")):
        wheel(links, name, version)
    (base / "theirs.txt").write_text("iniconfig==1.0\n")
    (base / "xdg" / "pip").mkdir(parents=True)
    (base / "xdg" / "pip" / "pip.conf").write_text(f"[install]\nconstraint = {base / 'theirs.txt'}\n")
    env = base / "env"
    out = fwsetup("install", "tiny", "--cpu", "--env", str(env), "--json", env={**user(base), **tiny_env(base / "home")})
    assert out.returncode == 0, out.stderr
    return {"base": base, "env": env, "links": links, "home": base / "home"}


def user(base: Path) -> dict[str, str]:
    """The user's shell: their HOME and XDG config, none of this machine's PIP_*/UV_* settings."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV", "XDG_"))}
    return {**keep, "HOME": str(base), "XDG_CONFIG_HOME": str(base / "xdg"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture
def env(world: dict[str, Path]) -> Iterator[Path]:
    """The world's env, its pip.conf put back after each test."""
    conf = world["env"] / protect.PIP_CONF
    saved = conf.read_bytes()
    yield world["env"]
    conf.write_bytes(saved)


def pip(world: dict[str, Path], *args: str, command: str = "install", **extra: str) -> subprocess.CompletedProcess[str]:
    argv = [str(world["env"] / "bin" / "pip"), command, "--no-index", "--find-links", str(world["links"])]
    argv += ["--dry-run"] if command == "install" else ["--no-deps", "-d", str(world["base"] / "dl")]
    return subprocess.run([*argv, *args], capture_output=True, text=True, env={**user(world["base"]), **extra}, timeout=300)


def run(world: dict[str, Path], *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    environ = {**user(world["base"]), "FWSETUP_HOME": str(world["home"]), **extra}
    return subprocess.run(
        [sys.executable, "-m", "fwsetup", "run", str(world["env"]), "--", *argv],
        capture_output=True, text=True, env=environ, timeout=300,
    )  # fmt: skip


def envs(world: dict[str, Path], **extra: str) -> dict[str, Any]:
    out: dict[str, Any] = json_out(cli("envs", "--json", env={**user(world["base"]), "FWSETUP_HOME": str(world["home"]), **extra}))
    return out


def row(world: dict[str, Path], **extra: str) -> dict[str, Any]:
    (found,) = [r for r in envs(world, **extra)["envs"] if r["env"] == str(world["env"])]
    return found


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed here")
    return found


REFUSED = "The user requested (constraint) six===1.16.0"


def test_a_users_install_section_does_not_beat_the_envs_pins_and_both_apply(world: dict[str, Path], env: Path) -> None:
    """pip puts a command's section over [global] whatever file it is in: the env's pip.conf names the
    pins in [install] (and each resolving command's section), after the user's own constraint."""
    out = pip(world, "six==1.17.0")
    assert out.returncode != 0 and REFUSED in out.stdout + out.stderr
    theirs = pip(world, "iniconfig")
    assert theirs.returncode != 0 and "(constraint) iniconfig==1.0" in theirs.stdout + theirs.stderr
    download = pip(world, "six==1.17.0", command="download")
    assert download.returncode != 0 and REFUSED in download.stdout + download.stderr
    assert row(world)["protected"] is True and envs(world)["warnings"] == []
    user_conf = world["base"] / "xdg" / "pip" / "pip.conf"
    saved = user_conf.read_text()
    try:  # an [install] constraint configured after the env was made: the env's file still wins
        user_conf.write_text("[install]\nconstraint = /elsewhere.txt\n")
        later = pip(world, "--no-deps", "six!=1.16.0")
        assert later.returncode != 0 and REFUSED in later.stdout + later.stderr
    finally:
        user_conf.write_text(saved)


def test_pip_config_site_set_rewrites_pip_conf_and_the_env_stays_protected(world: dict[str, Path], env: Path) -> None:
    """`pip config --site set` writes the file anew without its comments (fwsetup's mark with them)."""
    subprocess.run([str(env / "bin" / "pip"), "config", "--site", "set", "global.timeout", "77"],
                   env=user(world["base"]), check=True, capture_output=True)  # fmt: skip
    text = (env / protect.PIP_CONF).read_text()
    assert "#" not in text and "timeout = 77" in text
    assert protect.constraints_of(env) is not None
    assert row(world)["protected"] is True
    assert "build protected" in cli("envs", env={"FWSETUP_HOME": str(world["home"])}).stdout
    shown = run(world, "sh", "-c", 'echo "$UV_CONSTRAINT"')
    assert shown.returncode == 0 and shown.stdout.strip() == str(env / protect.CONSTRAINTS), shown.stderr
    held = run(world, uv(), "pip", "install", "--dry-run", "--no-deps", "--no-index", "--find-links", str(world["links"]),
               "six!=1.16.0")  # fmt: skip
    assert held.returncode != 0 and "six==1.16.0" in held.stderr, held.stderr
    out = pip(world, "six==1.17.0")
    assert out.returncode != 0 and REFUSED in out.stdout + out.stderr


def test_pip_constraint_in_the_environment_is_named_and_fwsetup_run_folds_the_pins_in(
    world: dict[str, Path], env: Path
) -> None:
    """PIP_CONSTRAINT overrides every file: pip alone would replace the build, `envs` and `doctor` say
    so, and `fwsetup run` puts the env's pins first in it (pip splits it at whitespace: both apply)."""
    theirs = {"PIP_CONSTRAINT": str(world["base"] / "theirs.txt")}
    bare = pip(world, "six==1.17.0", **theirs)
    assert bare.returncode == 0 and "Would install six-1.17.0" in bare.stdout  # what the variable does
    (warning,) = envs(world, **theirs)["warnings"]
    assert warning.startswith("PIP_CONSTRAINT is set") and f"fwsetup run {env} -- pip" in warning
    report = json_out(cli("doctor", "--json", env=theirs))
    assert "pip-constraint-variable" in {f["code"] for f in report["findings"]}
    argv = [str(env / "bin" / "pip"), "install", "--dry-run", "--no-index", "--find-links", str(world["links"])]
    held = run(world, *argv, "six==1.17.0", **theirs)
    assert held.returncode != 0 and REFUSED in held.stdout + held.stderr
    both = run(world, *argv, "iniconfig", **theirs)
    assert both.returncode != 0 and "(constraint) iniconfig==1.0" in both.stdout + both.stderr
    shown = run(world, "sh", "-c", 'echo "$PIP_CONSTRAINT"', **theirs)
    assert shown.stdout.split() == [str(env / protect.CONSTRAINTS), theirs["PIP_CONSTRAINT"]]
    devnull = envs(world, PIP_CONFIG_FILE=os.devnull)["warnings"]
    assert len(devnull) == 1 and "pip reads no configuration file" in devnull[0]
    unset = json_out(cli("doctor", "--json", env={"PIP_CONSTRAINT": ""}))["findings"]
    assert "pip-constraint-variable" not in {f["code"] for f in unset}


def test_a_pip_conf_that_is_not_utf8_is_no_crash_and_no_damage(world: dict[str, Path], env: Path) -> None:
    conf = env / protect.PIP_CONF
    conf.write_bytes(b"# caf\xe9 (latin-1)\n" + conf.read_bytes())
    out = run(world, "true")
    assert out.returncode == 0, out.stderr
    shown = run(world, "sh", "-c", 'echo "$UV_CONSTRAINT"')
    assert shown.stdout.strip() == str(env / protect.CONSTRAINTS)
    found = row(world)
    assert found["status"] == "ok" and found["protected"] is True
    (warning,) = envs(world)["warnings"]  # pip itself stops on the file: said, not hidden
    assert f"pip cannot read {conf}" in warning
    assert pip(world, "six").returncode != 0  # pip: "Configuration file could not be loaded"


def test_rolling_back_a_generation_takes_its_own_pins_for_pip_and_uv(world: dict[str, Path], tmp_path: Path) -> None:
    """Each generation carries its constraints file and a pip.conf naming it; the env's path is a link
    to the active one, and activate and `fwsetup run` name the file through that path."""
    home, env, links = tmp_path / "home", tmp_path / "env", world["links"]
    for version in ("1.16.0", "1.17.0"):
        out = fwsetup("install", "tiny", "--cpu", "--version", version, "--env", str(env), "--json", env=tiny_env(home))
        assert out.returncode == 0, out.stderr
    assert fwsetup("rollback", str(env), env=tiny_env(home)).returncode == 0
    assert (env / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["six===1.16.0"]
    environ = {**user(tmp_path), "FWSETUP_HOME": str(home)}  # no pip config of the user's
    args = ["install", "--dry-run", "--no-index", "--find-links", str(links), "six==1.17.0"]
    by_pip = subprocess.run([str(env / "bin" / "pip"), *args], capture_output=True, text=True, env=environ)
    assert by_pip.returncode != 0 and REFUSED in by_pip.stdout + by_pip.stderr
    by_run = subprocess.run([sys.executable, "-m", "fwsetup", "run", str(env), "--", uv(), "pip", *args],
                            capture_output=True, text=True, env=environ)  # fmt: skip
    assert by_run.returncode != 0 and "six==1.16.0" in by_run.stderr, by_run.stderr
    script = f'. "{env}/bin/activate" && {uv()} pip {" ".join(args)}'
    by_activate = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=environ)
    assert by_activate.returncode != 0 and "six==1.16.0" in by_activate.stderr, by_activate.stderr


def test_a_project_venv_keeps_the_users_pip_settings_and_its_pins_follow_rollback(
    world: dict[str, Path], tmp_path: Path
) -> None:
    """install 1.16.0 --protect, `pip config --site set`, install 1.17.0 (re-protected, the user's key
    kept), rollback (the 1.16.0 pins with 1.16.0), rollback (before fwsetup: its files out, the user's
    key and activation scripts as they were)."""
    home, venv = tmp_path / "home", tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    scripts = {p: p.read_bytes() for p in activation.scripts(venv)}
    environ = {**user(world["base"]), **tiny_env(home)}
    vpip = str(venv / "bin" / "pip")

    def install(version: str, *extra: str) -> Any:
        out = subprocess.run(
            [sys.executable, "-m", "fwsetup", "install", "tiny", "--cpu", "--version", version, "--into", str(venv),
             "--installer", "pip", "--json", *extra], capture_output=True, text=True, env=environ, timeout=600,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return json_out(out)

    def rollback() -> None:
        out = subprocess.run([sys.executable, "-m", "fwsetup", "rollback", str(venv)], capture_output=True, text=True,
                             env=environ, timeout=600)  # fmt: skip
        assert out.returncode == 0, out.stderr

    def upgrade() -> str:
        argv = [vpip, "install", "--dry-run", "--upgrade", "--no-index", "--find-links", str(world["links"]), "six"]
        return subprocess.run(argv, capture_output=True, text=True, env=environ).stdout

    def pins() -> list[str]:
        return (venv / protect.CONSTRAINTS).read_text().splitlines()[1:]

    assert install("1.16.0", "--protect")["protected"] is True
    subprocess.run([vpip, "config", "--site", "set", "global.timeout", "77"], env=environ, check=True, capture_output=True)
    assert protect.constraints_of(venv) is not None  # its mark is gone: the constraint line is what counts
    assert install("1.17.0", "--yes")["protected"] is True
    assert pins() == ["six===1.17.0"] and "timeout = 77" in (venv / protect.PIP_CONF).read_text()
    rollback()
    assert pins() == ["six===1.16.0"] and "Would install" not in upgrade()  # the pins followed six back
    rollback()
    assert not (venv / protect.CONSTRAINTS).exists()
    assert (venv / protect.PIP_CONF).read_text().split() == ["[global]", "timeout", "=", "77"]
    assert "Would install six-1.17.0" in upgrade()
    assert {p: p.read_bytes() for p in scripts} == scripts


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "record-of-an-older-fwsetup"])
def test_a_partial_rollback_puts_back_the_pins_of_the_state_it_restores(tmp_path: Path, recorded: bool) -> None:
    """install 1.16.0 --protect, install 1.17.0, rollback: six 1.16.0 again, and so are its pins (an
    older record without the pins it had: the pins at the versions restored)."""
    import json

    home, venv = tmp_path / "home", tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    environ = tiny_env(home)
    assert fwsetup("install", "tiny", "--cpu", "--into", str(venv), "--protect", env=environ).returncode == 0
    assert fwsetup("install", "tiny", "--cpu", "--version", "1.17.0", "--into", str(venv), env=environ).returncode == 0
    if not recorded:
        (record,) = (home / "into").glob("*.json")
        record.write_text(json.dumps([{k: v for k, v in e.items() if k != "protection"} for e in json.loads(record.read_text())]))
    assert fwsetup("rollback", str(venv), env=environ).returncode == 0
    assert (venv / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["six===1.16.0"]
    assert protect.constraints_of(venv) is not None


def test_a_protected_venv_rolled_back_to_before_its_protection_loses_it(world: dict[str, Path], tmp_path: Path) -> None:
    """install (not protected), install --protect, rollback: the state restored had no pins."""
    home, venv = tmp_path / "home", tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    scripts = {p: p.read_bytes() for p in activation.scripts(venv)}
    environ = tiny_env(home)
    assert fwsetup("install", "tiny", "--cpu", "--into", str(venv), env=environ).returncode == 0
    out = fwsetup("install", "tiny", "--cpu", "--version", "1.17.0", "--into", str(venv), "--protect", env=environ)
    assert out.returncode == 0 and protect.constraints_of(venv) is not None, out.stderr
    assert fwsetup("rollback", str(venv), env=environ).returncode == 0
    assert not (venv / protect.PIP_CONF).exists() and not (venv / protect.CONSTRAINTS).exists()
    assert {p: p.read_bytes() for p in scripts} == scripts


# ---- the pip config file itself ---------------------------------------------------------------


def spellings(ours: Path) -> list[str]:
    """Every way a pip config names the file: pip opens a path, or a file: URL (utils/urls.py)."""
    url = ours.as_uri()
    return [str(ours), url, url.replace("file://", "file://localhost"), url.replace("file://", "file:"),
            url.replace("/fwsetup-", "/%66wsetup-")]  # fmt: skip


@pytest.mark.parametrize("section", ["global", "install", "lock"])
def test_the_protection_is_recognised_by_what_pip_conf_says_not_by_a_comment(tmp_path: Path, section: str) -> None:
    ours = tmp_path / protect.CONSTRAINTS
    ours.write_text("six==1.16.0\n")
    for spelling in spellings(ours):
        (tmp_path / protect.PIP_CONF).write_text(f"[{section}]\nConstraint = /other.txt {spelling}\n")
        assert protect.constraints_of(tmp_path) == ours, spelling
    for other in ("fwsetup-constraints.txt", str(tmp_path / "x" / protect.CONSTRAINTS), "https://h/fwsetup-constraints.txt"):
        (tmp_path / protect.PIP_CONF).write_text(f"[{section}]\nconstraint = {other}\n")
        assert protect.constraints_of(tmp_path) is None, other  # relative: pip opens it from the working directory
    (tmp_path / protect.PIP_CONF).write_text(f"[freeze]\nconstraint = {ours}\n")
    assert protect.constraints_of(tmp_path) is None  # a section no resolving pip command reads


def test_lift_takes_out_exactly_what_fwsetup_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pip.conf pip rewrote (no comments, a key of the user's added): lifted, the user's key stays;
    re-protected and lifted again, the same."""
    for var in [v for v in os.environ if v.startswith("PIP_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "none.conf"))  # no user or global files of this machine
    (tmp_path / "bin").mkdir()
    conf = tmp_path / protect.PIP_CONF
    for _ in range(2):
        assert protect.write(tmp_path, ["six==1.16.0"], ["https://example.org/simple"], [str(tmp_path / "w h")])
        text = conf.read_text()
        assert "[install]\nconstraint = " in text and (tmp_path / "w h").as_uri() in text
        conf.write_text("\n".join(line for line in text.splitlines() if not line.startswith("#")) + "[wheel]\nno-deps = yes\n")
        protect.lift(tmp_path)
        assert conf.read_text() == "[wheel]\nno-deps = yes\n\n" and not (tmp_path / protect.CONSTRAINTS).exists()


def test_a_windows_venv_gets_pip_ini_the_name_pip_reads_there(tmp_path: Path) -> None:
    """pip reads `sys.prefix/CONFIG_BASENAME`, "pip.ini" on Windows: asked of pip's own module, made
    to believe it runs on Windows (in a child, so this process's pip stays as it is)."""
    probe = (
        "import sys; import pip._internal.utils.compat as c; c.WINDOWS = True\n"
        "import pip._internal.configuration as m\n"
        "print(m.CONFIG_BASENAME, m.get_configuration_files()[m.kinds.SITE] == [sys.prefix + '/' + m.CONFIG_BASENAME])"
    )
    said = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert said == ["pip.ini", "True"]
    (tmp_path / "Scripts").mkdir()
    assert protect.pip_conf(tmp_path) == tmp_path / "pip.ini"
    assert protect.write(tmp_path, ["six==1.16.0"], [], [])
    assert (tmp_path / "pip.ini").is_file() and not (tmp_path / protect.PIP_CONF).exists()
    assert protect.constraints_of(tmp_path) == tmp_path / protect.CONSTRAINTS
    protect.lift(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Scripts"]


# ---- --with never takes a pin of the build away ------------------------------------------------


def test_with_a_package_the_build_pins_keeps_its_pin_in_the_env_and_the_lock(world: dict[str, Path], tmp_path: Path) -> None:
    """tinyb 0.1 pins six==1.15.0 itself: `--with six` asks for it again, and it stays pinned."""
    from fwsetup.fleet import lockfile

    home, env, lock = tmp_path / "home", tmp_path / "env", tmp_path / "tinyb.lock"
    args = ("tinyb", "--cpu", "--version", "0.1", "--with", "six")
    out = fwsetup("install", *args, "--env", str(env), env=tiny_env(home))
    assert out.returncode == 0, out.stderr
    assert (env / protect.CONSTRAINTS).read_text().splitlines()[1:] == ["iniconfig===2.0.0", "six===1.15.0"]
    argv = [str(env / "bin" / "pip"), "install", "--dry-run", "--no-index", "--find-links", str(world["links"]), "six==1.17.0"]
    refused = subprocess.run(argv, capture_output=True, text=True, env=user(tmp_path))
    assert refused.returncode != 0 and "(constraint) six===1.15.0" in refused.stdout + refused.stderr
    assert fwsetup("lock", *args, "-o", str(lock), env=tiny_env(home)).returncode == 0
    (target,) = lockfile.load(lock)[1]
    assert target.keeps == ["iniconfig", "six"]


@pytest.mark.parametrize("extra", [(), ("--with", "torch"), ("--with", "rich"), ("--with", "torch,rich")])
def test_keras_on_torch_keeps_torch_pinned_whatever_with_adds(tmp_path: Path, extra: tuple[str, ...]) -> None:
    from machines import write_all

    from fwsetup.plan.model import Plan

    report = write_all(tmp_path)["cpu-only-debian12"]
    out = cli("install", "keras", "--backend", "torch", "--cpu", "--dry-run", "--json", "--system", str(report), *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    data = json_out(out)
    fields = ("framework", "version", "variant", "accelerator", "python", "packages", "companions")
    assert protect.kept_names(Plan(**{k: data[k] for k in fields})) == ["keras", "torch"]


def test_a_state_kept_for_rollback_comes_back_beside_the_users_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`state` then `restore_state` (what rollback does), for fwsetup's file and for one an older
    fwsetup wrote (the mark, no record: its pins are written anew)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    (tmp_path / "bin").mkdir()
    conf, ours = tmp_path / protect.PIP_CONF, tmp_path / protect.CONSTRAINTS
    assert protect.write(tmp_path, ["six==1.16.0"], ["https://example.org/simple"], [])
    older = f"{protect._MARK}\nsix==1.16.0\n"
    for kept in (protect.state(tmp_path), older):
        assert kept is not None
        conf.write_text(conf.read_text() + "[wheel]\nno-deps = yes\n")
        assert protect.restore_state(tmp_path, None) and protect.constraints_of(tmp_path) is None
        assert conf.read_text() == "[wheel]\nno-deps = yes\n\n"
        assert protect.restore_state(tmp_path, kept) and protect.constraints_of(tmp_path) == ours
        assert ours.read_text().splitlines()[1:] == ["six==1.16.0"] and "no-deps = yes" in conf.read_text()
        protect.lift(tmp_path)
        assert conf.read_text() == "[wheel]\nno-deps = yes\n\n"
        conf.unlink()
        assert protect.restore_state(tmp_path, kept)

"""fwsetup's own state on disk, damaged or not its own: stores it did not make are never deleted,
bookkeeping that fails after the switch cannot undo it, and a damaged file is never an internal
error (issue 20, points 3-5).

Real venvs of the tiny recipe, real files, real permission errors (chattr +i as root), a real full
disk (a small tmpfs); the commands run in this process (`cli`), so the pid in a temporary name is
known."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from helpers import cli, json_out, tiny_env

from fwsetup.install import envs

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _can(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def install(home: Path, env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("install", *args, "--cpu", "--env", str(env), "--json", env=tiny_env(home))


def six_in(env: Path) -> str:
    out = subprocess.run(
        [str(env / "bin" / "python"), "-c", "import six; print(six.__version__)"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """chattr +i: not even root may change it (EPERM), undone afterwards so tmp_path can go."""
    if not ROOT or not _can(["chattr", "+i", str(path)]):
        pytest.skip("chattr +i needs root and a filesystem that supports it")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


# --- point 3: stores are fwsetup's only when fwsetup made them -----------------------------------


def test_a_directory_named_like_a_store_is_never_deleted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    backup = tmp_path / ".backup.fwsetup"  # a user's directory that only looks like a store
    (backup / "gen-1").mkdir(parents=True)
    (backup / "gen-1" / "fwsetup.json").write_text("{}")  # even with fwsetup's file names inside
    (backup / "thesis.tex").write_text("precious")
    assert install(home, tmp_path / "real", "tiny").returncode == 0  # makes tmp_path a scanned dir

    listed = json_out(cli("envs", "--json", env=tiny_env(home)))
    assert [r["env"] for r in listed["envs"]] == [str(tmp_path / "real")]  # not listed as orphaned
    pruned = cli("envs", "--prune", "--yes", "--json", env=tiny_env(home))
    assert pruned.returncode == 0 and json_out(pruned)["removed"] == []
    removed = cli("remove", str(tmp_path / "backup"), "--yes", "--json", env=tiny_env(home))
    assert removed.returncode == 2, removed.stdout
    assert "will not use or delete it" in json_out(removed)["error"]["message"]
    refused = install(home, tmp_path / "backup", "tiny")  # nor builds a generation inside it
    assert refused.returncode == 2 and "not a directory fwsetup made" in json_out(refused)["error"]["message"]
    assert (backup / "thesis.tex").read_text() == "precious" and sorted(p.name for p in backup.iterdir()) == [
        "gen-1",
        "thesis.tex",
    ]
    assert not (tmp_path / ".backup.fwsetup.lock").exists()


def test_a_store_that_is_a_symlink_is_never_followed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = tmp_path / "e"
    assert install(home, env, "tiny").returncode == 0
    elsewhere = tmp_path / "elsewhere"
    shutil.move(str(envs.EnvLayout(env).store), elsewhere)  # the user moved it, or someone swapped it
    envs.EnvLayout(env).store.symlink_to(elsewhere)

    row = json_out(cli("envs", "--json", env=tiny_env(home)))["envs"][0]
    assert row["status"] == "foreign" and "is a symlink" in row["fix"]
    for argv in (["remove", str(env), "--yes"], ["rollback", str(env)], ["envs", str(env)]):
        out = cli(*argv, "--json", env=tiny_env(home))
        assert out.returncode == 2 and "is a symlink" in json_out(out)["error"]["message"], argv
    pruned = json_out(cli("envs", "--prune", "--yes", "--json", env=tiny_env(home)))
    assert pruned["removed"] == [] and pruned["skipped"][0]["env"] == str(env)
    assert install(home, env, "tiny", "--force").returncode == 2
    assert (elsewhere / "gen-1" / "fwsetup.json").is_file() and six_in(env) == "1.16.0"


def test_a_store_made_before_the_marker_is_still_fwsetups(tmp_path: Path) -> None:
    """What a store made by fwsetup before this change holds: generations with fwsetup.json,
    history.json, last-smoke.json, no marker. It is listed, installed into (and marked), pruned."""
    home = tmp_path / "home"
    old, orphan = tmp_path / "old", tmp_path / "orphan"
    for env in (old, orphan):
        assert install(home, env, "tiny").returncode == 0
        (envs.EnvLayout(env).store / envs.STORE_MARKER).unlink()
        assert sorted(p.name for p in envs.EnvLayout(env).store.iterdir()) == [
            "gen-1",
            "history.json",
            "last-smoke.json",
        ]
    assert install(home, old, "tiny", "--version", "1.17.0").returncode == 0
    assert (envs.EnvLayout(old).store / envs.STORE_MARKER).is_file() and six_in(old) == "1.17.0"
    orphan.unlink()  # `rm ENV`: the store stays
    listed = {r["env"]: r["status"] for r in json_out(cli("envs", "--json", env=tiny_env(home)))["envs"]}
    assert listed == {str(old): "ok", str(orphan): "orphaned"}
    pruned = json_out(cli("envs", "--prune", "--yes", "--json", env=tiny_env(home)))
    assert pruned["removed"] == [str(envs.EnvLayout(orphan).store)] and pruned["skipped"] == []


def test_prune_skips_what_it_will_not_touch_and_frees_the_orphans_after_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    user_home = tmp_path / "user"  # a registry entry that is $HOME, or /
    (user_home / "notes").mkdir(parents=True)
    orphan = tmp_path / "zz-orphan"  # sorted after both
    assert install(home, orphan, "tiny").returncode == 0
    orphan.unlink()
    registry_file = home / envs.REGISTRY
    registry_file.write_text(json.dumps(["/", str(user_home), str(orphan)]))

    out = cli("envs", "--prune", "--yes", "--json", env=tiny_env(home))
    assert out.returncode == 0, out.stdout + out.stderr
    data = json_out(out)
    assert data["removed"] == [str(envs.EnvLayout(orphan).store)]
    skipped = {s["env"]: s for s in data["skipped"]}
    assert set(skipped) == {"/", str(user_home)}
    assert all("is not an fwsetup environment" in s["reason"] and s["fix"] for s in skipped.values())
    assert (user_home / "notes").is_dir() and not os.path.lexists("/..fwsetup.lock")
    text = cli("envs", "--prune", "--yes", env=tiny_env(home))
    assert text.returncode == 0 and f"not removed {user_home}: " in text.stdout and "fix: " in text.stdout


def test_remove_of_root_leaves_no_lock_files(tmp_path: Path) -> None:
    for stray in ("/..fwsetup.lock", "/..fwsetup.lock.pid"):
        assert not os.path.lexists(stray), f"{stray} was left by an earlier run: delete it"
    home = tmp_path / "home"
    home.mkdir()
    (home / envs.REGISTRY).write_text('["/"]')
    for argv in (["remove", "/", "--yes"], ["remove", "/"], ["rollback", "/"], ["envs", "--prune", "--yes"]):
        out = cli(*argv, env=tiny_env(home))
        assert out.returncode in (0, 2) and "internal error" not in out.stderr, argv
        assert not os.path.lexists("/..fwsetup.lock") and not os.path.lexists("/..fwsetup.lock.pid"), argv


def test_prune_takes_the_env_lock_of_an_install_in_progress(tmp_path: Path) -> None:
    """An install building a new env's first generation looks orphaned (a store, no link yet):
    prune waits for nobody, skips it with the holder's pid, and the install completes."""
    home = tmp_path / "home"
    env = tmp_path / "building"
    marker = tmp_path / "smoking"
    assert install(home, tmp_path / "other", "tiny").returncode == 0  # prune looks beside it
    child = subprocess.Popen(
        [sys.executable, "-m", "fwsetup", "install", "tiny", "--cpu", "--env", str(env), "--json"],
        env={**os.environ, **tiny_env(home, TINY_SMOKE_SLEEP="4", TINY_SMOKE_MARKER=str(marker))},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while not marker.exists() and child.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert marker.exists(), child.communicate()
        assert not env.exists() and envs.EnvLayout(env).store.is_dir()  # what prune sees: an orphan
        out = cli("envs", "--prune", "--yes", "--json", env=tiny_env(home))
        assert out.returncode == 0, out.stdout + out.stderr
        data = json_out(out)
        assert data["removed"] == [] and data["skipped"][0]["env"] == str(env)
        assert f"pid {child.pid}" in data["skipped"][0]["reason"]
        _, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.wait()
    assert child.returncode == 0, stderr
    assert six_in(env) == "1.16.0"


# --- point 4: bookkeeping after the switch cannot undo the switch --------------------------------


def _in_the_way(
    path: Callable[[Path, Path], Path],
) -> Callable[[Path, Path], contextlib.AbstractContextManager[Any]]:
    @contextlib.contextmanager
    def arrange(home: Path, env: Path) -> Iterator[None]:
        target = path(home, env)
        if target.exists():
            target.unlink()
        target.mkdir()
        (target / "x").write_text("in the way")
        yield

    return arrange


def _immutable(
    path: Callable[[Path, Path], Path],
) -> Callable[[Path, Path], contextlib.AbstractContextManager[Any]]:
    @contextlib.contextmanager
    def arrange(home: Path, env: Path) -> Iterator[None]:
        with immutable(path(home, env)):
            yield

    return arrange


def _store(home: Path, env: Path) -> Path:
    return envs.EnvLayout(env).store


# Each step of an install that writes, a real failure there, and whether the env is switched.
FAILURES: dict[str, tuple[Callable[[Path, Path], contextlib.AbstractContextManager[Any]], bool]] = {
    "logs dir: a file in the way": (lambda h, e: _file_in_the_way(h / "logs"), False),
    "store: immutable (EPERM)": (_immutable(_store), False),
    "new link: a directory in the way": (
        _in_the_way(lambda h, e: e.parent / f".{e.name}.fwsetup.link-{os.getpid()}"),
        False,
    ),
    "history.json: a directory in the way": (_in_the_way(lambda h, e: _store(h, e) / envs.HISTORY), True),
    "history.json: immutable (EPERM)": (_immutable(lambda h, e: _store(h, e) / envs.HISTORY), True),
    "envs.json: a directory in the way": (_in_the_way(lambda h, e: h / envs.REGISTRY), True),
    "FWSETUP_HOME: immutable (EPERM)": (_immutable(lambda h, e: h), True),
    "last-smoke.json: a directory in the way": (
        _in_the_way(lambda h, e: _store(h, e) / envs.LAST_SMOKE),
        True,
    ),
}


@contextlib.contextmanager
def _file_in_the_way(path: Path) -> Iterator[None]:
    shutil.rmtree(path, ignore_errors=True)
    path.write_text("in the way")
    yield


def assert_truthful(out: subprocess.CompletedProcess[str], env: Path, switched: bool) -> None:
    """The link points at a complete generation, and the exit code says which one."""
    gen = Path(os.readlink(env))
    assert gen.is_dir() and not (gen / envs.INCOMPLETE_MARKER).exists()
    assert envs.read_metadata(gen).version == six_in(env)
    assert not [p for p in env.parent.iterdir() if ".link-" in p.name and p.is_symlink()]  # no half-made link
    if switched:
        assert out.returncode == 0, out.stdout + out.stderr
        assert six_in(env) == "1.17.0" and json_out(out)["warnings"], out.stdout
    else:
        assert out.returncode == 4, out.stdout + out.stderr
        error = json_out(out)["error"]
        assert six_in(env) == "1.16.0" and error["fix"]
        assert "untouched" not in error["fix"] or f"untouched: {gen}" in error["fix"]
        assert [g.name for g in envs.EnvLayout(env).store.glob("gen-*")] == ["gen-1"]  # no half-built one


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failure_at_each_step_of_an_install_leaves_a_complete_env_and_a_true_exit_code(
    tmp_path: Path, failure: str
) -> None:
    home, env = tmp_path / "home", tmp_path / "e"
    assert install(home, env, "tiny", "--version", "1.16.0").returncode == 0
    arrange, switched = FAILURES[failure]
    with arrange(home, env):
        out = install(home, env, "tiny", "--version", "1.17.0")
    assert_truthful(out, env, switched)
    if switched:  # and the env works on: rollback returns to the one before
        assert cli("rollback", str(env), "--json", env=tiny_env(home)).returncode == 0
        assert six_in(env) == "1.16.0"


@pytest.mark.skipif(not ROOT or not _can(["unshare", "-m", "true"]), reason="mounting a tmpfs needs root")
def test_a_full_disk_under_fwsetup_home_after_the_switch_is_a_warning(tmp_path: Path) -> None:
    """ENOSPC for envs.json (the registry) after the env was switched: exit 0, a warning, the fix."""
    home, env = tmp_path / "home", tmp_path / "e"
    assert install(home, env, "tiny", "--version", "1.16.0").returncode == 0
    full = tmp_path / "full"
    full.mkdir()
    script = (
        f"mount -t tmpfs -o size=64k tmpfs {full} && mkdir {full}/logs && touch {full}/{envs.REGISTRY}.lock && "
        f"(dd if=/dev/zero of={full}/fill bs=4k 2>/dev/null; true) && "
        f"FWSETUP_HOME={full} FWSETUP_RECIPES_DIR={tiny_env(home)['FWSETUP_RECIPES_DIR']} {sys.executable} -m fwsetup "
        f"install tiny --cpu --version 1.17.0 --env {env} --log-file {tmp_path}/log --json; echo rc=$?"
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=180, check=False
    )
    body, rc = done.stdout.rsplit("rc=", 1)
    assert rc.strip() == "0", done.stdout + done.stderr
    warnings = json.loads(body)["warnings"]
    assert any("No space left on device" in w and "fwsetup envs" in w for w in warnings), warnings
    assert six_in(env) == "1.17.0" and not (Path(os.readlink(env)) / envs.INCOMPLETE_MARKER).exists()


def test_bookkeeping_warnings_are_shown_in_text_too(tmp_path: Path) -> None:
    home, env = tmp_path / "home", tmp_path / "e"
    assert install(home, env, "tiny", "--version", "1.16.0").returncode == 0
    history = envs.EnvLayout(env).store / envs.HISTORY
    history.unlink()
    history.mkdir()  # a directory in the way: the history cannot be written
    out = cli("install", "tiny", "--cpu", "--version", "1.17.0", "--env", str(env), env=tiny_env(home))
    assert out.returncode == 0 and "warning:" in out.stdout and "history could not be written" in out.stdout
    back = cli("rollback", str(env), env=tiny_env(home))
    assert back.returncode == 0 and "warning:" in back.stdout and "--to N" in back.stdout, back.stdout
    assert six_in(env) == "1.16.0"
    listed = json_out(cli("rollback", str(env), "--to", "2", "--json", env=tiny_env(home)))
    assert set(listed) == {"env", "generation", "warnings"} and listed["warnings"]


def test_an_empty_store_left_before_its_marker_is_taken(tmp_path: Path) -> None:
    """A run stopped between creating a store and marking it leaves an empty directory: nothing to
    lose, so the next install uses it (and marks it) instead of refusing forever."""
    home, env = tmp_path / "home", tmp_path / "e"
    envs.EnvLayout(env).store.mkdir()
    assert install(home, env, "tiny").returncode == 0
    assert (envs.EnvLayout(env).store / envs.STORE_MARKER).read_text().strip() == str(env)

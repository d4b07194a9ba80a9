"""The install machinery for real (venvs, uv/pip, smoke, swap), on a tiny recipe: seconds each."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import INSTALL_KEYS, fwsetup, interrupted_at_smoke, json_out, tiny_env

from fwsetup.install import envs


def env_python(env: Path) -> str:
    return str(env / "bin" / "python")


def six_version(env: Path) -> str:
    return subprocess.run(
        [env_python(env), "-c", "import six; print(six.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_install_json_contract_and_rollback(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "envs" / "tiny"
    first = fwsetup("install", "tiny", "--cpu", "--env", str(env), "--json", env=tiny_env(home))
    assert first.returncode == 0, first.stderr
    data = json_out(first)
    assert set(data) == INSTALL_KEYS
    assert data["framework"] == "tiny" and data["env"] == str(env)
    assert data["packages"]["six"] == "1.16.0"
    assert data["smoke"]["ok"] is True and data["smoke"]["device"] == "cpu"
    assert data["smoke"]["framework_version"] == "1.16.0"
    assert six_version(env) == "1.16.0"
    # env fixes are substituted with the generation path and exported by activate
    assert "tiny-home" in (env / "bin" / "activate").read_text()

    second = fwsetup(
        "install", "tiny", "--cpu", "--version", "1.17.0", "--env", str(env), "--json", env=tiny_env(home)
    )
    assert second.returncode == 0, second.stderr
    assert six_version(env) == "1.17.0"

    back = fwsetup("rollback", str(env), "--json")
    assert back.returncode == 0, back.stderr
    assert six_version(env) == "1.16.0"


def test_unsatisfiable_pin_keeps_the_previous_environment(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home)).returncode == 0
    before = os.readlink(env)
    bad = fwsetup("install", "tiny", "--cpu", "--version", "999.0", "--env", str(env), env=tiny_env(home))
    assert bad.returncode == 4, bad.stderr
    assert "six==999" in bad.stderr and "previous environment is untouched" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert os.readlink(env) == before and six_version(env) == "1.16.0"
    leftovers = [p for p in envs.EnvLayout(env).store.iterdir() if (p / envs.INCOMPLETE_MARKER).exists()]
    assert leftovers == []


def test_failing_smoke_keeps_the_previous_environment(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home)).returncode == 0
    bad = fwsetup(
        "install",
        "tiny",
        "--cpu",
        "--version",
        "1.17.0",
        "--env",
        str(env),
        env=tiny_env(home, TINY_SMOKE_FAIL="1"),
    )
    assert bad.returncode == 5, bad.stderr
    assert six_version(env) == "1.16.0"


def test_sigkill_mid_install_leaves_previous_environment_working(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home)).returncode == 0
    marker = tmp_path / "smoke-started"
    full = dict(os.environ, **tiny_env(home, TINY_SMOKE_SLEEP="60", TINY_SMOKE_MARKER=str(marker)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fwsetup",
            "install",
            "tiny",
            "--cpu",
            "--version",
            "1.17.0",
            "--env",
            str(env),
            "--quiet",
        ],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert marker.exists(), "the install never reached its smoke test"
    os.killpg(proc.pid, signal.SIGKILL)  # fwsetup and its smoke child, mid-flight
    proc.wait(30)
    assert six_version(env) == "1.16.0"  # the symlink still points at the old generation
    # the next run takes over the dead holder's lock and clears the half-built generation
    again = fwsetup("install", "tiny", "--cpu", "--version", "1.17.0", "--env", str(env), env=tiny_env(home))
    assert again.returncode == 0, again.stderr
    assert six_version(env) == "1.17.0"
    store = envs.EnvLayout(env).store
    assert [p for p in store.iterdir() if (p / envs.INCOMPLETE_MARKER).exists()] == []


def test_interrupt_exits_130_and_cleans_up(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    proc = interrupted_at_smoke(home, tmp_path / "smoke-started", "install", "tiny", "--cpu", "--env", str(env), "--quiet")
    assert proc.returncode == 130, proc.stderr
    assert not env.exists() and not env.is_symlink()
    assert not any((p / envs.INCOMPLETE_MARKER).exists() for p in envs.EnvLayout(env).store.glob("gen-*"))


def test_lock_held_by_another_process_exits_6(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    layout = envs.EnvLayout(env)
    with envs.locked(layout):
        busy = fwsetup("install", "tiny", "--cpu", "--env", str(env), "--json", env=tiny_env(home))
    assert busy.returncode == 6
    err = json_out(busy)["error"]
    assert err["code"] == "locked" and str(os.getpid()) in err["message"]


def test_refuses_to_overwrite_a_directory_it_does_not_manage(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "mine"
    env.mkdir()
    (env / "precious.txt").write_text("keep me")
    out = fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home))
    assert out.returncode == 2 and "will not overwrite" in out.stderr
    assert (env / "precious.txt").read_text() == "keep me"


def test_unwritable_parent_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/fwsetup-cannot-write-here/tiny")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "sub" / "tiny"
    out = fwsetup("install", "tiny", "--cpu", "--env", str(target), env=tiny_env(home))
    assert out.returncode == 4, out.stderr
    assert "cannot create" in out.stderr or "not writable" in out.stderr
    assert "Traceback" not in out.stderr


def test_pip_backend_works_too(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny-pip"
    out = fwsetup(
        "install", "tiny", "--cpu", "--env", str(env), "--installer", "pip", "--json", env=tiny_env(home)
    )
    assert out.returncode == 0, out.stderr
    assert json_out(out)["backend"] == "pip"
    assert six_version(env) == "1.16.0"


def test_smoke_command(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home)).returncode == 0
    ok = fwsetup("smoke", "tiny", "--env", str(env), "--json", env=tiny_env(home))
    assert ok.returncode == 0, ok.stderr
    data = json_out(ok)
    assert data["ok"] and data["device"] == "cpu" and data["details"]["tiny_home"].endswith("tiny-home")
    gpu = fwsetup("smoke", "tiny", "--env", str(env), "--gpu", env=tiny_env(home))
    assert gpu.returncode == 5 and "ran on the CPU" in gpu.stderr


needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"),
    reason="needs root and unshare -n for a real no-network process",
)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wh = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "six==1.16.0", "-d", str(wh)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return wh


def _offline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, **env)
    return subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "fwsetup", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=full,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@needs_netns
def test_offline_install_from_a_wheelhouse_with_no_network(
    home: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    env = tmp_path / "tiny"
    out = _offline(
        "install",
        "tiny",
        "--cpu",
        "--offline",
        "--wheelhouse",
        str(wheelhouse),
        "--env",
        str(env),
        "--json",
        env=tiny_env(home, UV_CACHE_DIR=str(tmp_path / "empty-uv-cache")),
    )
    assert out.returncode == 0, out.stderr
    assert json_out(out)["packages"]["six"] == "1.16.0"
    assert six_version(env) == "1.16.0"


@needs_netns
def test_offline_install_missing_a_wheel_fails_clearly_and_keeps_nothing(home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-wheelhouse"
    empty.mkdir()
    env = tmp_path / "tiny"
    out = _offline(
        "install",
        "tiny",
        "--cpu",
        "--offline",
        "--wheelhouse",
        str(empty),
        "--env",
        str(env),
        env=tiny_env(home, UV_CACHE_DIR=str(tmp_path / "empty-uv-cache")),
    )
    assert out.returncode == 4, out.stderr
    assert "six" in out.stderr and "Traceback" not in out.stderr
    assert not env.exists() and not env.is_symlink()


def test_log_file_option(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "ci.log"
    out = fwsetup(
        "install",
        "tiny",
        "--cpu",
        "--env",
        str(tmp_path / "t"),
        "--log-file",
        str(log),
        "--quiet",
        env=tiny_env(home),
    )
    assert out.returncode == 0, out.stderr
    assert "six==1.16.0" in log.read_text() and out.stderr == ""


def test_a_lock_left_by_a_killed_fwsetup_is_taken_over(tmp_path: Path) -> None:
    from fwsetup.errors import LockedError

    layout = envs.EnvLayout(tmp_path / "tiny")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from fwsetup.install import envs\n"
            "with envs.locked(envs.EnvLayout(Path(sys.argv[1]))):\n"
            "    print('held', flush=True); time.sleep(120)",
            str(layout.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"pid {holder.pid}"), envs.locked(layout):
            pass
    finally:
        holder.kill()
        holder.wait(30)
    with envs.locked(layout):  # the OS dropped the dead holder's lock: taken over at once
        pid_file = layout.lock_file.with_name(layout.lock_file.name + ".pid")
        assert pid_file.read_text() == str(os.getpid())


def _recording_tool(bindir: Path, name: str, record: Path, rc: int) -> None:
    bindir.mkdir(parents=True, exist_ok=True)
    tool = bindir / name
    tool.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        f"open({str(record)!r}, 'a').write(' '.join([os.path.basename(sys.argv[0]), *sys.argv[1:]])"
        " + ' DEBIAN_FRONTEND=' + os.environ.get('DEBIAN_FRONTEND', '') + '\\n')\n"
        f"sys.exit({rc})\n"
    )
    tool.chmod(0o755)


@pytest.mark.parametrize("assume_yes", [True, False])
def test_yes_answers_the_system_package_prompt_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, assume_yes: bool
) -> None:
    import io

    from fwsetup.install import execute
    from fwsetup.plan.model import Plan
    from fwsetup.progress import Progress

    bindir, record = tmp_path / "bin", tmp_path / "calls"
    _recording_tool(bindir, "apt-get", record, 0)
    _recording_tool(bindir, "dpkg-query", record, 1)  # not installed
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: nobody to ask
    plan = Plan("tiny", "1", "cpu", "cpu", "3.11", ["six"], system_packages=["libfoo1"])
    stream, skipped = io.StringIO(), []
    execute.system_package_step(
        plan, execute.InstallOptions(assume_yes=assume_yes), Progress(1, stream=stream), skipped
    )
    calls = record.read_text().splitlines()
    assert calls[0].startswith("dpkg-query -W")
    assert "fwsetup would run:" in stream.getvalue()  # announced first, either way
    if not assume_yes:
        assert len(calls) == 1 and "--system-packages (or --yes)" in skipped[0]
    elif os.geteuid() == 0:
        assert calls[1] == "apt-get install -y --no-install-recommends libfoo1 DEBIAN_FRONTEND=noninteractive"
        assert skipped == [] and stream.getvalue().index("would run") < stream.getvalue().index("installing")
    else:
        assert len(calls) == 1 and "not root" in skipped[0]  # apt still needs root


def test_system_packages_on_a_system_without_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from fwsetup.install import execute
    from fwsetup.plan.model import Plan
    from fwsetup.progress import Progress

    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get, no dpkg-query
    skipped: list[str] = []
    plan = Plan("tiny", "1", "cpu", "cpu", "3.11", ["six"], system_packages=["libfoo1"])
    execute.system_package_step(
        plan, execute.InstallOptions(assume_yes=True), Progress(1, stream=io.StringIO()), skipped
    )
    assert "not a Debian-family system" in skipped[0]

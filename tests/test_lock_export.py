"""Fleet provisioning: lock → bundle → offline reinstall, lock matching, exports that validate."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import fwsetup, json_out, tiny_env
from machines import base_report

from fwsetup.fleet import lockfile

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A lock for this machine and a macOS arm64 machine (from its report), and its wheelhouse."""
    base = tmp_path_factory.mktemp("fleet")
    from fwsetup import records
    from fwsetup.report import OSInfo

    mac = records.replace(
        base_report(system="Darwin", arch="arm64"),
        os=OSInfo(system="Darwin", distro_id="macos", arch="arm64"),
    )
    (base / "mac.json").write_text(mac.to_json())
    (base / "linux.json").write_text(fwsetup("doctor", "--json").stdout)
    env = tiny_env(base / "home")
    out = fwsetup(
        "lock",
        "tiny",
        "--cpu",
        "--system",
        str(base / "linux.json"),
        "--system",
        str(base / "mac.json"),
        "-o",
        str(base / "tiny.lock"),
        "--json",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    wh = base / "wheelhouse"
    bundled = fwsetup(
        "bundle", "--lock", str(base / "tiny.lock"), "-o", str(wh), "--target", "linux", "--json", env=env
    )
    assert bundled.returncode == 0, bundled.stderr
    return {"dir": base, "lock": base / "tiny.lock", "wheelhouse": wh}


def test_lock_is_diffable_and_hash_pinned(fleet: dict[str, Path]) -> None:
    framework, targets = lockfile.load(fleet["lock"])
    assert framework == "tiny" and [t.name for t in targets] == ["linux", "mac"]
    assert {t.platform for t in targets} == {"linux-x86_64", "macos-arm64"}
    for t in targets:
        assert t.requirements and all(
            re.match(r"^[a-z0-9._-]+==\S+ --hash=sha256:[0-9a-f]{64}", r) for r in t.requirements
        )
    text = fleet["lock"].read_text()
    assert text.count("\n") > 10 and "[[target]]" in text  # one fact per line


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare -n")
def test_locked_reinstall_from_the_wheelhouse_with_networking_disabled(
    fleet: dict[str, Path], tmp_path: Path
) -> None:
    env_path = tmp_path / "env"
    full = dict(os.environ, **tiny_env(tmp_path / "home", UV_CACHE_DIR=str(tmp_path / "empty-cache")))
    out = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-m",
            "fwsetup",
            "install",
            "--lock",
            str(fleet["lock"]),
            "--wheelhouse",
            str(fleet["wheelhouse"]),
            "--offline",
            "--env",
            str(env_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=full,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    data = json_out(out)
    _, targets = lockfile.load(fleet["lock"])
    locked = {r.split("==")[0]: r.split("==")[1].split()[0] for r in targets[0].requirements}
    assert {k: v for k, v in data["packages"].items() if k in locked} == locked
    assert data["smoke"]["ok"]


def test_tampered_lock_hash_is_refused(fleet: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "tampered.lock"
    bad.write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, fleet["lock"].read_text()))
    out = fwsetup(
        "install",
        "--lock",
        str(bad),
        "--wheelhouse",
        str(fleet["wheelhouse"]),
        "--offline",
        "--env",
        str(tmp_path / "e"),
        env=tiny_env(tmp_path / "h"),
    )
    assert out.returncode == 4 and "hash" in out.stderr.lower()
    assert not (tmp_path / "e").exists()


def test_lock_without_a_target_for_this_machine_is_refused(fleet: dict[str, Path], tmp_path: Path) -> None:
    mac_only = tmp_path / "mac.lock"
    _, targets = lockfile.load(fleet["lock"])
    mac_only.write_text(lockfile.dumps("tiny", [t for t in targets if t.name == "mac"]))
    out = fwsetup("install", "--lock", str(mac_only), "--json", env=tiny_env(tmp_path / "h"))
    assert out.returncode == 3
    err = json_out(out)["error"]
    assert err["code"] == "lock-mismatch" and "macos-arm64" in err["message"] and "--system" in err["fix"]


@pytest.mark.parametrize(
    "content", ["", "lock_version = 9\n", "lock_version = 1\n[[target]]\nname = 3\n", "\xff\xfe"]
)
def test_bad_lock_files_are_usage_errors(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.lock"
    bad.write_bytes(content.encode("latin-1"))
    out = fwsetup("install", "--lock", str(bad))
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_exports_validate(fleet: dict[str, Path]) -> None:
    for fmt in ("dockerfile", "cloud-init", "github-actions", "shell"):
        out = fwsetup(
            "export", "--lock", str(fleet["lock"]), "--format", fmt, "--fwsetup-spec", "fwsetup==0.1.0"
        )
        assert out.returncode == 0, out.stderr
        text = out.stdout
        if fmt == "dockerfile":
            instructions = [
                ln.split()[0] for ln in text.splitlines() if ln.strip() and not ln.startswith("#")
            ]
            assert instructions[0] == "FROM"
            assert set(instructions) <= {"FROM", "ENV", "WORKDIR", "RUN", "CMD", "COPY"}
            assert any("fwsetup install --lock" in ln for ln in text.splitlines())
        elif fmt == "cloud-init":
            assert text.startswith("#cloud-config")
            doc = yaml.safe_load(text)
            lock_file = doc["write_files"][0]
            embedded = fleet["dir"] / "embedded.lock"  # the embedded lock parses as the same lock:
            embedded.write_text(lock_file["content"], encoding="utf-8")
            assert lockfile.load(embedded) == lockfile.load(fleet["lock"])
            assert "[[target]]" in lock_file["content"] and doc["runcmd"]
        elif fmt == "github-actions":
            doc = yaml.safe_load(text)
            steps = doc["jobs"]["provision"]["steps"]
            assert any("fwsetup install --lock" in str(s.get("run", "")) for s in steps)
        else:
            assert subprocess.run(["sh", "-n"], input=text, text=True, check=False).returncode == 0


def test_bad_export_format(fleet: dict[str, Path]) -> None:
    out = fwsetup("export", "--lock", str(fleet["lock"]), "--format", "puppet")
    assert out.returncode == 2 and "--format" in out.stderr


@pytest.mark.e2e
def test_shell_export_runs_for_real(fleet: dict[str, Path], tmp_path: Path) -> None:
    script = tmp_path / "provision.sh"
    out = fwsetup(
        "export",
        "--lock",
        str(fleet["lock"]),
        "--format",
        "shell",
        "--wheelhouse",
        str(fleet["wheelhouse"]),  # fwsetup itself comes from the bundle too
        "-o",
        str(script),
    )
    assert out.returncode == 0, out.stderr
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, FWSETUP_PREFIX=str(tmp_path / "prefix"), **tiny_env(tmp_path / "home"))
    run = subprocess.run(
        ["sh", str(script)], cwd=work, capture_output=True, text=True, timeout=900, env=env, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = (work / "fwsetup-result.json").read_text()
    assert '"ok": true' in result


def test_a_lock_for_a_unicode_named_machine_round_trips_through_install(tmp_path: Path) -> None:
    report = tmp_path / "rack-🚀.json"
    report.write_text(fwsetup("doctor", "--json").stdout, encoding="utf-8")
    env = tiny_env(tmp_path / "home")
    lock = tmp_path / "rack.lock"
    made = fwsetup("lock", "tiny", "--cpu", "--system", str(report), "-o", str(lock), "--json", env=env)
    assert made.returncode == 0, made.stderr
    assert [t.name for t in lockfile.load(lock)[1]] == ["rack-🚀"]
    out = fwsetup("install", "--lock", str(lock), "--env", str(tmp_path / "e"), "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert json_out(out)["packages"]["six"] == "1.16.0"


def _pip_conf(tmp_path: Path, text: str) -> dict[str, str]:
    """Only this pip configuration (PIP_CONFIG_FILE hides the user files) and an empty uv cache,
    so the resolver must ask the network."""
    conf = tmp_path / "pip.conf"
    conf.write_text(text, encoding="utf-8")
    return tiny_env(
        tmp_path / "home",
        PIP_CONFIG_FILE=str(conf),
        PIP_FIND_LINKS="",
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
    )


def test_lock_goes_through_the_proxy_pip_configuration_names(tmp_path: Path) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there: a dead proxy
    env = _pip_conf(tmp_path, f"[global]\nproxy = http://127.0.0.1:{port}\n")
    out = fwsetup("lock", "tiny", "--cpu", "-o", str(tmp_path / "x.lock"), "--json", env=env)
    assert out.returncode == 4, out.stdout + out.stderr
    err = json_out(out)["error"]
    assert "proxy" in err["fix"].lower() and "resolving six==1.16.0" in err["message"]
    assert not (tmp_path / "x.lock").exists()


@pytest.fixture
def silent_index() -> Iterator[str]:
    """A package index on loopback that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    finally:
        server.close()


@pytest.mark.parametrize("command", ["lock", "install"])
def test_a_hung_step_is_exit_4_naming_the_step_and_the_limit(
    tmp_path: Path, silent_index: str, command: str
) -> None:
    env = _pip_conf(tmp_path, f"[global]\nindex-url = {silent_index}\ntimeout = 300\n")
    args = (
        ["lock", "tiny", "--cpu", "-o", str(tmp_path / "x.lock")]
        if command == "lock"
        else ["install", "tiny", "--cpu", "--env", str(tmp_path / "e")]
    )
    started = time.monotonic()
    out = fwsetup(*args, "--timeout", "3", "--json", env=env)
    assert time.monotonic() - started < 60
    assert out.returncode == 4, out.stdout + out.stderr
    err = json_out(out)["error"]
    assert err["code"] == "step-timeout" and "did not finish within 3 s" in err["message"]
    assert ("resolving" if command == "lock" else "installing the packages") in err["message"]
    assert "--timeout" in err["fix"] and "Traceback" not in out.stderr
    assert not (tmp_path / "e").exists()


@pytest.mark.e2e
def test_lock_passes_the_recipes_build_constraints(tmp_path: Path) -> None:
    """chainer 7.8.1 is sdist-only; its setup.py needs pkg_resources (setuptools<70 at build)."""
    out = fwsetup("lock", "chainer", "--cpu", "-o", str(tmp_path / "c.lock"), "--json", timeout=1200)
    assert out.returncode == 0, out.stdout + out.stderr
    [target] = lockfile.load(tmp_path / "c.lock")[1]
    assert target.build_constraints == ["setuptools<70"]
    assert any(r.startswith("chainer==7.8.1 ") for r in target.requirements)

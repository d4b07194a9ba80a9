"""Reliability: hostile inputs and faults. Each asserts one clear error, the documented exit
code, and that nothing the user had is lost."""

from __future__ import annotations

import hashlib
import http.server
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import fwsetup, json_out, tiny_env

from fwsetup.install import envs

ROOT = os.geteuid() == 0


def six_version(env: Path) -> str:
    return subprocess.run(
        [str(env / "bin" / "python"), "-c", "import six; print(six.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def no_half_built(env: Path) -> bool:
    store = envs.EnvLayout(env).store
    return not store.exists() or not any((p / envs.INCOMPLETE_MARKER).exists() for p in store.glob("gen-*"))


def isolated_sources(home: Path, **extra: str) -> dict[str, str]:
    """The tiny recipe with no pip configuration: only the index a test names is used."""
    return tiny_env(home, PIP_CONFIG_FILE=os.devnull, PIP_FIND_LINKS="", PIP_CONSTRAINT="", **extra)


def test_credentials_never_reach_output_or_logs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = "s3cr3t-t0ken"
    out = fwsetup(
        "install",
        "tiny",
        "--cpu",
        "--env",
        str(tmp_path / "e"),
        "--index-url",
        f"http://builder:{secret}@127.0.0.1:9/simple",
        "--offline",
        env=isolated_sources(home),
    )
    assert out.returncode == 4
    assert secret not in out.stdout + out.stderr
    logs = [log.read_text() for log in (home / "logs").glob("*.log")]
    assert logs and all(secret not in text for text in logs)
    assert any("builder:****@127.0.0.1" in text for text in logs)  # the command is logged, redacted


@pytest.mark.parametrize(
    "name", ["six; rm -rf /", "--index-url=http://evil", "../../etc/passwd", "torch\n--pre"]
)
def test_hostile_framework_names_are_usage_errors(name: str) -> None:
    out = fwsetup("install", name, "--dry-run", "--json")
    assert out.returncode == 2, out.stdout
    assert json_out(out)["error"]["code"] in ("unknown-framework", "usage")


@pytest.mark.skipif(not ROOT, reason="mounting a small tmpfs needs root")
def test_disk_full_fails_cleanly(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], check=False).returncode
        != 0
    ):
        pytest.skip("cannot mount tmpfs here")
    try:
        env = small / "tiny"
        out = fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(tmp_path / "home"))
        assert out.returncode == 4, out.stderr
        assert "Traceback" not in out.stderr and (
            "No space" in out.stderr or "space" in out.stderr.lower() or "failed" in out.stderr
        )
        assert not env.exists() and not env.is_symlink()
        assert no_half_built(env)
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_sigkill_at_random_points_never_loses_the_environment(tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    home = tmp_path / "home"
    assert fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home)).returncode == 0
    rng = random.Random(20261125)
    for _ in range(5):
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
            env=dict(os.environ, **tiny_env(home)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.2, 4.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert six_version(env) in ("1.16.0", "1.17.0")  # the old one, or the new one fully swapped in
    final = fwsetup("install", "tiny", "--cpu", "--version", "1.16.0", "--env", str(env), env=tiny_env(home))
    assert final.returncode == 0, final.stderr
    assert six_version(env) == "1.16.0" and no_half_built(env)


def test_concurrent_installs_to_one_environment(tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    home = tmp_path / "home"
    marker = tmp_path / "first-in-smoke"
    first = subprocess.Popen(
        [sys.executable, "-m", "fwsetup", "install", "tiny", "--cpu", "--env", str(env), "--quiet"],
        env=dict(os.environ, **tiny_env(home, TINY_SMOKE_SLEEP="5", TINY_SMOKE_MARKER=str(marker))),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.1)
    second = fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home))
    assert second.returncode == 6 and f"pid {first.pid}" in second.stderr
    assert first.wait(120) == 0
    assert six_version(env) == "1.16.0"


class _TruncatingIndex(http.server.BaseHTTPRequestHandler):
    """A PEP 503 index whose wheel download breaks off halfway: the network dying mid-download."""

    wheel: bytes = b""
    name = "six-1.16.0-py2.py3-none-any.whl"

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/simple/six":
            digest = hashlib.sha256(self.wheel).hexdigest()
            body = f'<html><body><a href="/files/{self.name}#sha256={digest}">{self.name}</a></body></html>'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/files/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(self.wheel)))
            self.end_headers()
            self.wfile.write(self.wheel[: len(self.wheel) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def truncating_index(tmp_path: Path) -> Iterator[str]:
    wh = tmp_path / "dl"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "six==1.16.0", "-d", str(wh)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    _TruncatingIndex.wheel = next(wh.glob("six-*.whl")).read_bytes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TruncatingIndex)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()


def test_network_dying_mid_download_keeps_the_previous_environment(
    tmp_path: Path, truncating_index: str
) -> None:
    env = tmp_path / "tiny"
    home = tmp_path / "home"
    assert fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home)).returncode == 0
    before = os.readlink(env)
    out = fwsetup(
        "install",
        "tiny",
        "--cpu",
        "--env",
        str(env),
        "--index-url",
        truncating_index,
        env=isolated_sources(home, UV_CACHE_DIR=str(tmp_path / "cold-cache"), UV_HTTP_RETRIES="1"),
        timeout=600,
    )
    assert out.returncode == 4, out.stderr
    assert "Traceback" not in out.stderr and "previous environment is untouched" in out.stderr
    assert os.readlink(env) == before and six_version(env) == "1.16.0" and no_half_built(env)


def test_unreadable_recipe_dir_and_missing_smoke_script(tmp_path: Path) -> None:
    (tmp_path / "nosmoke.toml").write_text(
        'name = "nosmoke"\ndisplay_name = "N"\nera = "modern"\nstatus = "supported"\nsummary = "s"\nsource = "s"\n'
        'smoke = "missing.py"\n[[variant]]\nname = "cpu"\naccelerator = "cpu"\n'
    )
    out = fwsetup("list", env={"FWSETUP_RECIPES_DIR": str(tmp_path)})
    assert out.returncode == 1 and "missing.py" in out.stderr and "Traceback" not in out.stderr


def test_truncated_report_midway(tmp_path: Path) -> None:
    full = fwsetup("doctor", "--json").stdout
    for cut in (1, len(full) // 3, len(full) - 2):
        p = tmp_path / f"cut{cut}.json"
        p.write_text(full[:cut])
        out = fwsetup("install", "pytorch", "--dry-run", "--system", str(p))
        assert out.returncode == 2 and "Traceback" not in out.stderr

"""The install step while the installer downloads: bytes, rate and time left on a terminal (a real
install driven through a pseudo-terminal, its wheel served slowly on loopback), plain periodic lines
in a log."""

from __future__ import annotations

import http.server
import io
import os
import pty
import re
import select
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import serving, tiny_env, wheel

from fwsetup.install import downloads
from fwsetup.progress import Progress


def test_received_sums_every_interface(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.write_text(
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes\n"
        "    lo:  1000      10    0    0    0     0          0         0  1000\n"
        "  eth0: 234567    300    0    0    0     0          0         0  5000\n"
    )
    assert downloads.received(str(dev)) == 235567
    assert downloads.received(str(tmp_path / "missing")) is None


def test_the_meter_says_bytes_rate_and_time_left() -> None:
    counts = iter([1_000_000, 1_000_000, 21_000_000])
    meter = downloads.Meter(100_000_000, read=lambda: next(counts))
    assert meter() == ""  # nothing received yet
    time.sleep(0.05)
    text = meter()
    assert re.fullmatch(r"20\.0 MB of 100\.0 MB, [\d,.]+ MB/s, \d+ s left", text), text


def test_a_log_gets_plain_lines_while_a_measured_step_runs() -> None:
    out = io.StringIO()
    progress = Progress(1, stream=out)
    progress.interval = 0.05
    progress.step("installing x", meter=lambda: "3.0 MB, 1.0 MB/s")
    time.sleep(0.3)
    progress.done()
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/1] installing x …" and "\r" not in out.getvalue()
    assert any(re.fullmatch(r"    3\.0 MB, 1\.0 MB/s \(\d+ s\)", line) for line in lines[1:-1]), lines


@pytest.fixture
def slow_links(tmp_path: Path) -> Iterator[str]:
    """A find-links page on loopback whose one wheel (4 MB that do not compress) comes at ~1.5 MB/s."""
    folder = tmp_path / "links"
    folder.mkdir()
    big = wheel(folder, "fwsetup_big", "1.0")
    with zipfile.ZipFile(big, "a", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("fwsetup_big/blob.bin", os.urandom(4_000_000))
    big = _fix_record(big)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/links"):
                body = f'<a href="{big.name}">{big.name}</a>'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = big.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "HEAD":
                return
            for at in range(0, len(data), 64_000):
                self.wfile.write(data[at : at + 64_000])
                time.sleep(0.04)

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url + "/links/"


def _fix_record(path: Path) -> Path:
    """Rewrite the wheel with a RECORD that lists the added file (installers check it)."""
    import base64
    import hashlib

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if not n.endswith("RECORD")}
        record_name = next(n for n in zf.namelist() if n.endswith("RECORD"))
    lines = []
    for name, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{name},sha256={digest},{len(data)}")
    members[record_name] = ("\n".join([*lines, f"{record_name},,"]) + "\n").encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_terminal_sees_bytes_and_rate_while_the_installer_downloads(
    slow_links: str, tmp_path: Path
) -> None:
    if downloads.received() is None:
        pytest.skip("no /proc/net/dev here")
    environ = {**os.environ, **tiny_env(tmp_path / "home"), "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
               "TERM": "xterm", "COLUMNS": "200"}  # fmt: skip
    argv = [sys.executable, "-m", "fwsetup", "install", "tiny", "--cpu", "--env", str(tmp_path / "env"),
            "--with", "fwsetup-big", "--wheelhouse", slow_links, "--installer", "uv"]  # fmt: skip
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        argv, stdin=follower, stdout=follower, stderr=follower, env=environ, close_fds=True
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    assert proc.wait(timeout=60) == 0, seen.decode(errors="replace")[-3000:]
    text = seen.decode(errors="replace")
    assert re.search(r"installing [^\r\n]*\(\d+ s, [\d,.]+ MB[^\r\n]*, [\d,.]+ MB/s", text), text[-3000:]

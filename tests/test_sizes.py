"""download_bytes: resolved by the real uv against a real PEP 691 index served on loopback (sizes as
the index states them) and a find-links folder (on disk: counts as none)."""

from __future__ import annotations

import http.server
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import serving, wheel
from machines import base_report

from fwsetup.commands import sizes
from fwsetup.plan.model import Plan


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    files = tmp_path / "files"
    files.mkdir()
    served = {
        "fwsetup-sized-a": wheel(files, "fwsetup_sized_a", "1.0", ("fwsetup-sized-b",)),
        "fwsetup-sized-b": wheel(files, "fwsetup_sized_b", "2.0"),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = [p for p in self.path.split("/") if p]
            if len(parts) == 2 and parts[0] == "simple" and parts[1] in served:
                whl = served[parts[1]]
                body = json.dumps({
                    "meta": {"api-version": "1.1"}, "name": parts[1],
                    "files": [{"filename": whl.name, "url": f"/files/{whl.name}", "hashes": {},
                               "size": whl.stat().st_size}],
                }).encode()  # fmt: skip
                kind = "application/vnd.pypi.simple.v1+json"
            elif len(parts) == 2 and parts[0] == "files" and (files / parts[1]).is_file():
                body, kind = (files / parts[1]).read_bytes(), "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url + "/simple"


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("FWSETUP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


def test_sizes_come_from_the_index_and_files_on_disk_count_none(index: str, tmp_path: Path) -> None:
    a = next((tmp_path / "files").glob("fwsetup_sized_a-*.whl")).stat().st_size
    b = next((tmp_path / "files").glob("fwsetup_sized_b-*.whl")).stat().st_size
    plan = Plan("x", "1.0", "cpu", "cpu", "3.11", ["fwsetup-sized-a==1.0"], index_urls=[index])
    report = base_report()
    assert sizes.download_bytes(plan, report) == a + b  # the dependency counts too
    local = tmp_path / "local"
    local.mkdir()
    wheel(local, "fwsetup_sized_b", "2.0")
    on_disk = Plan("x", "1.0", "cpu", "cpu", "3.11", ["fwsetup-sized-a==1.0"], index_urls=[index],
                   find_links=[str(local)])  # fmt: skip
    found = sizes.download_bytes(on_disk, report)
    assert found == a, (found, a, b)  # b is on disk
    assert sizes.download_bytes(Plan("x", "1", "cpu", "cpu", "3.11", [], route="apt"), report) is None


def test_a_resolution_that_fails_leaves_the_size_unknown(index: str) -> None:
    plan = Plan("x", "1.0", "cpu", "cpu", "3.11", ["fwsetup-sized-a==9.9"], index_urls=[index])
    assert sizes.download_bytes(plan, base_report(), timeout=60) is None

"""Living data at plan time and on the tables: the index is asked for newer releases (recorded pages,
a loopback index), the answer is cached, failures are silent, and old tables are an info finding."""

from __future__ import annotations

import datetime
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import json_out
from machines import base_report

from fwsetup import records
from fwsetup.commands import freshness, plans
from fwsetup.facts import dates, pytorch, schema
from fwsetup.plan.model import Plan, Request
from fwsetup.probe.diagnose import stale_data

REGISTRY = Path(__file__).parent / "fixtures" / "registry"
REPO = Path(__file__).parent.parent


def test_versions_from_a_recorded_pep691_json_page() -> None:
    body = (REGISTRY / "simple-torch.json").read_bytes()
    found = freshness.versions_from_page(body, "application/vnd.pypi.simple.v1+json", "torch")
    assert found[0] == "2.15.0" and "2.14.1" in found and "1.13.1" in found
    assert found == sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")), reverse=True)
    assert len(found) == len(json.loads(body)["versions"])  # torch has no pre-releases on PyPI


def test_versions_from_a_recorded_html_page_skip_yanked_releases() -> None:
    body = (REGISTRY / "simple-jax.html").read_bytes()
    found = freshness.versions_from_page(body, "text/html", "jax")
    assert found[0] == "0.12.0.1"
    assert "0.12.0" in found and "0.4.31" in found
    assert "0.4.32" not in found and "0.2.23" not in found  # every file of those is data-yanked


def test_a_release_newer_than_the_data_is_named_prereleases_are_not() -> None:
    known = freshness.known_versions("pytorch")
    assert known == [r.version for r in pytorch.table().release]
    on_pypi = freshness.versions_from_page(
        (REGISTRY / "simple-torch.json").read_bytes(), "application/vnd.pypi.simple.v1+json", "torch"
    )
    assert freshness.newer_than_data(on_pypi, known) is None  # the data knows PyPI's newest
    assert freshness.newer_than_data(["2.16.0", *on_pypi], known) == "2.16.0"
    assert freshness.newer_than_data(freshness._finals(["2.16.0rc1", "2.16.0.dev1", *on_pypi]), known) is None
    assert freshness.newer_than_data(["2.15.0+cu132"], known) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_index(root: Path, project: str, versions: list[str]) -> None:
    page = root / "simple" / project
    page.mkdir(parents=True)
    links = "\n".join(
        f'<a href="../../files/{project}-{v}-cp312-cp312-manylinux_2_28_x86_64.whl">'
        f"{project}-{v}-cp312-cp312-manylinux_2_28_x86_64.whl</a><br/>"
        for v in versions
    )
    (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}\n</body></html>\n")


@pytest.fixture
def loopback_index(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTML simple index on 127.0.0.1 offering torch 2.16.0; yields its URL and the requested paths."""
    _write_index(tmp_path / "www", "torch", ["2.15.0", "2.16.0"])
    asked: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path / "www"), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            asked.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", asked
    finally:
        server.shutdown()
        server.server_close()


def test_check_warns_from_a_loopback_index_and_caches_the_answer_for_a_day(
    tmp_path: Path, loopback_index: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, asked = loopback_index
    monkeypatch.setenv("FWSETUP_HOME", str(tmp_path / "home"))
    env = {"FWSETUP_HOME": str(tmp_path / "home"), "PIP_CONFIG_FILE": os.devnull}
    text = freshness.check("pytorch", "2.15.0", url, env)
    assert (
        text is not None
        and "torch 2.16.0" in text
        and "update fwsetup" in text
        and "--version 2.15.0" in text
    )
    assert asked == ["/simple/torch/"]
    assert freshness.check("pytorch", "2.15.0", url, env) == text and len(asked) == 1  # cached
    later = time.time() + freshness.CACHE_S + 60
    assert freshness.cached_versions(url, "torch", now=later) == ["2.16.0", "2.15.0"] and len(asked) == 2
    assert freshness.check("pytorch", "2.15.0", url, {**env, "FWSETUP_INDEX_CHECK": "0"}) is None
    assert freshness.check("keras", "3.0", url, env) is None  # no facts table, nothing to compare


def test_make_plan_adds_the_warning_unless_offline_or_the_version_is_pinned(
    tmp_path: Path, loopback_index: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = loopback_index
    monkeypatch.setenv("FWSETUP_HOME", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("FWSETUP_INDEX_CHECK")
    report = base_report(("ubuntu", "22.04"), python="3.12.3", interpreters=["3.12.3"])
    request = Request("pytorch", accelerator="cpu")

    def warned(plan: object) -> list[str]:
        assert isinstance(plan, Plan)
        return [w for w in plan.warnings if "torch 2.16.0" in w]

    assert warned(plans.make_plan("pytorch", report, request, check_index=True, index_url=url))
    assert not warned(plans.make_plan("pytorch", report, request, check_index=False, index_url=url))
    pinned = records.replace(request, version="2.15")
    assert not warned(plans.make_plan("pytorch", report, pinned, check_index=True, index_url=url))


def test_check_is_off_when_disabled_and_silent_when_the_index_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FWSETUP_HOME", str(tmp_path))
    dead = f"http://127.0.0.1:{_free_port()}/simple"
    env = {"PIP_CONFIG_FILE": os.devnull}
    started = time.monotonic()
    assert freshness.check("pytorch", "2.15.0", dead, env) is None
    assert time.monotonic() - started < freshness.TIMEOUT_S + 0.5
    assert freshness.index_versions("file:///opt/pypi/simple", "torch") is None  # only http(s) is asked
    asked: list[str] = []
    monkeypatch.setattr(freshness, "index_versions", lambda index, project, *a: asked.append(project))
    assert freshness.check("pytorch", "2.15.0", dead, {**env, "FWSETUP_INDEX_CHECK": "0"}) is None
    assert freshness.check("pytorch", "2.15.0", dead, env) is None
    assert asked == []  # disabled; then no answer is remembered for an hour
    later = time.time() + freshness.NO_ANSWER_CACHE_S + 60
    assert freshness.cached_versions(dead, "torch", now=later) is None
    assert asked == ["torch"]  # an hour on, the index is asked again


def test_the_configured_index_is_pips(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://mirror.example/simple\n")
    assert freshness.configured_index(None, {"PIP_CONFIG_FILE": str(conf), "HOME": str(tmp_path)}) == (
        "https://mirror.example/simple"
    )
    assert (
        freshness.configured_index("http://cli/simple", {"PIP_CONFIG_FILE": str(conf)}) == "http://cli/simple"
    )
    assert freshness.configured_index(None, {"PIP_CONFIG_FILE": os.devnull, "HOME": str(tmp_path)}) == (
        freshness.PYPI_SIMPLE
    )
    assert freshness.configured_index(None, {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull}) is None


def _unshare_works() -> bool:
    if shutil.which("unshare") is None or sys.platform != "linux":
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (a network namespace)")
def test_dry_run_warns_about_a_newer_release_served_on_loopback_in_a_network_namespace(
    tmp_path: Path,
) -> None:
    """`python -m http.server` inside `unshare -n` (loopback only, no other network) offers torch
    2.16.0; the real fwsetup's dry run warns in text and JSON, and --offline does not ask."""
    _write_index(tmp_path / "www", "torch", ["2.14.1", "2.15.0", "2.16.0"])
    port = _free_port()
    fw = f"{sys.executable} -m fwsetup install pytorch --cpu --dry-run --index-url http://127.0.0.1:{port}/simple"
    script = f"""
set -e
ip link set lo up 2>/dev/null || true
{sys.executable} -m http.server {port} --bind 127.0.0.1 --directory {tmp_path / "www"} >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
for i in $(seq 50); do {sys.executable} -c "import socket; socket.create_connection(('127.0.0.1', {port}), 1)" 2>/dev/null && break; sleep 0.1; done
{fw} > {tmp_path / "text.out"}
FWSETUP_HOME={tmp_path / "home2"} {fw} --json > {tmp_path / "json.out"}
FWSETUP_HOME={tmp_path / "home3"} {fw} --offline --json > {tmp_path / "offline.out"}
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FWSETUP_", "PIP_"))}
    env.update(FWSETUP_HOME=str(tmp_path / "home"), PIP_CONFIG_FILE=os.devnull, PYTHONPATH=str(REPO))
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "text.out").read_text()
    assert "warning:" in text and "torch 2.16.0" in text and "update fwsetup" in text
    plan = json_out(subprocess.CompletedProcess([], 0, (tmp_path / "json.out").read_text(), ""))
    assert plan["version"] == "2.15.0"  # never chosen silently: the data does not know 2.16.0
    assert [w for w in plan["warnings"] if "torch 2.16.0" in w and "--version 2.15.0" in w]
    offline = json_out(subprocess.CompletedProcess([], 0, (tmp_path / "offline.out").read_text(), ""))
    assert not [w for w in offline["warnings"] if "2.16.0" in w]
    assert (tmp_path / "home" / "cache" / "index").is_dir() and not (tmp_path / "home3").exists()


# --- dates on the data ---------------------------------------------------------------------


def test_every_table_has_a_validated_checked_date() -> None:
    every = dates.all_checked()
    assert {"pytorch", "jax", "tensorflow", "cuda_drivers", "gpus", "clouds"} <= set(every)
    assert all(isinstance(day, datetime.date) for day in every.values())
    assert every["pytorch"] == pytorch.table().checked  # the cheap read agrees with the loader
    text = (schema.DATA_DIR / "clouds.toml").read_text()
    from fwsetup.facts import clouds

    with pytest.raises(schema.FactsError, match="checked"):
        schema.parse(clouds.CloudsTable, text.replace("checked = 2026-11-25", 'checked = "2026-11-25"'), "x")
    with pytest.raises(schema.FactsError, match=r"checked.*required"):
        schema.parse(clouds.CloudsTable, text.replace("checked = 2026-11-25", ""), "x")


def test_a_table_older_than_120_days_is_an_info_finding() -> None:
    day = datetime.date(2026, 11, 25)
    checked = {"pytorch": day, "jax": day + datetime.timedelta(days=30), "new": None}
    assert stale_data(checked, day + datetime.timedelta(days=120)) == []
    (finding,) = stale_data(checked, day + datetime.timedelta(days=121))
    assert finding.level == "info" and finding.code == "data-stale"
    assert "pytorch (checked 2026-11-25, 121 days ago)" in finding.message and "jax" not in finding.message
    assert finding.fix and "update fwsetup" in finding.fix


def test_day_numbers_agree_with_datetime_and_refuse_impossible_dates() -> None:
    """doctor ages its tables with dates.day_number (no datetime import): it must agree with datetime."""
    epoch = datetime.date(1970, 1, 1)
    day = datetime.date(1899, 12, 25)
    while day < datetime.date(2101, 3, 2):
        assert dates.day_number(day.isoformat()) == (day - epoch).days
        day += datetime.timedelta(days=37)
    for leap in ("2000-02-29", "2024-02-29"):
        assert dates.day_number(leap) is not None
    for bad in ("1900-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-4-1", "yesterday"):
        assert dates.day_number(bad) is None
    assert dates.today() == datetime.date.today().isoformat()
    assert stale_data({"pytorch": "2026-11-25"}, "2027-03-25") == []  # 120 days
    assert stale_data({"pytorch": "2026-11-25"}, "2027-03-26")[0].code == "data-stale"  # 121

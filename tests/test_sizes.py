"""download_bytes: resolved by the real uv against a real PEP 691 index served on loopback (sizes as
the index states them) and a find-links folder (on disk: counts as none); cached_bytes: what the
real uv's cache holds (install/uvcache.py), with this loopback index and, in e2e, with PyPI.

The loopback index serves no metadata files and answers no range requests, so uv reads a wheel's
metadata by fetching the whole wheel, which it then keeps: after resolving, its wheels are cached
(the install will not fetch them again). PyPI serves metadata files: resolving fetches only them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import serving, simple_index, wheel
from machines import base_report

from fwsetup import runner
from fwsetup.commands import sizes
from fwsetup.plan.model import Plan


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    files = tmp_path / "files"
    files.mkdir()
    wheel(files, "fwsetup_sized_a", "1.0", ("fwsetup-sized-b",))
    wheel(files, "fwsetup_sized_b", "2.0")
    with serving(simple_index(files)) as url:
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
    assert sizes.download(plan, report, uv_cache=False) == (a + b, 0)  # the dependency counts too
    local = tmp_path / "local"
    local.mkdir()
    wheel(local, "fwsetup_sized_b", "2.0")
    on_disk = Plan("x", "1.0", "cpu", "cpu", "3.11", ["fwsetup-sized-a==1.0"], index_urls=[index],
                   find_links=[str(local)])  # fmt: skip
    found = sizes.download(on_disk, report, uv_cache=False)
    assert found == (a, 0), (found, a, b)  # b is on disk
    assert sizes.download_bytes(Plan("x", "1", "cpu", "cpu", "3.11", [], route="apt"), report) is None


def test_what_uvs_cache_holds_counts_as_none_and_is_looked_up_each_time(
    index: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolving against the loopback index left both wheels in uv's cache (its index/<digest>
    bucket): the install downloads nothing. The next call is answered from the day's caches without
    a process, and still sees the cache as it is now: a wheel `uv cache clean` took counts again."""
    a = next((tmp_path / "files").glob("fwsetup_sized_a-*.whl")).stat().st_size
    b = next((tmp_path / "files").glob("fwsetup_sized_b-*.whl")).stat().st_size
    plan = Plan("x", "1.0", "cpu", "cpu", "3.11", ["fwsetup-sized-a==1.0"], index_urls=[index])
    report = base_report()
    assert sizes.download(plan, report) == (0, a + b)
    assert list((tmp_path / "uv-cache" / "wheels-v8" / "index").glob("*/fwsetup-sized-a/1.0-py3-none-any.http"))

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process was started")

    monkeypatch.setattr(runner, "step", no_process)
    assert sizes.download(plan, report) == (0, a + b)
    assert sizes.download(plan, report, uv_cache=False) == (a + b, 0)  # a plan for another machine
    assert sizes._uv_serves("3.6") and not sizes._uv_serves("2.7")  # pip installs for 2.7: not uv's cache
    for unpacked in (tmp_path / "uv-cache" / "archive-v0").iterdir():
        if (unpacked / "fwsetup_sized_b").is_dir():
            shutil.rmtree(unpacked)
    assert sizes.download(plan, report) == (b, a)
    monkeypatch.setenv("UV_NO_CACHE", "1")
    assert sizes.download(plan, report) == (a + b, 0)


def test_a_resolution_that_fails_leaves_the_size_unknown(index: str) -> None:
    plan = Plan("x", "1.0", "cpu", "cpu", "3.11", ["fwsetup-sized-a==9.9"], index_urls=[index])
    assert sizes.download_bytes(plan, base_report(), timeout=60) is None


@pytest.mark.e2e
def test_a_wheel_installed_from_pypi_counts_as_none_the_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny plan sized with a fresh uv cache (resolving fetches PyPI's metadata files, not the
    wheel), installed by fwsetup's uv backend with that cache, sized again from the day's caches:
    the installed wheel now counts as none, and no process was started to see it."""
    import sys

    from fwsetup import pipconfig
    from fwsetup.install import sources
    from fwsetup.install.backends import UvBackend, find_uv, run_logged

    for var in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(var, raising=False)  # this machine's wheels would be files on disk
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    plan = Plan("x", "1.0", "cpu", "cpu", python, ["iniconfig==2.0.0"])
    report = base_report()
    first = sizes.download(plan, report, timeout=120)
    assert first == (5892, 0), first  # iniconfig-2.0.0-py3-none-any.whl, as PyPI states its size
    wheels = tmp_path / "uv-cache" / "wheels-v8" / "pypi" / "iniconfig"
    assert [p.name for p in wheels.iterdir()] == ["2.0.0-py3-none-any.msgpack"]  # metadata only

    uv = find_uv()
    assert uv is not None
    backend, run = UvBackend(uv), run_logged(tmp_path / "install.log", timeout=300)
    backend.create(sys.executable, tmp_path / "env", run, seed=False)
    given = sources.of(plan, tmp_path, settings=pipconfig.read())
    backend.install(tmp_path / "env" / "bin" / "python", plan.packages, given, run)

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process was started")

    monkeypatch.setattr(runner, "step", no_process)
    assert sizes.download(plan, report) == (0, first[0])

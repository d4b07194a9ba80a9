"""A lock (and a download-size estimate) for a Mac made elsewhere: uv assumes macOS 13.0 for
`--python-platform aarch64-apple-darwin`, so a wheel tagged macosx_14_0 (torchaudio 2.11.1) had
"no matching platform tag" for a Mac on 14.5. fwsetup tells uv the report's macOS version
(MACOSX_DEPLOYMENT_TARGET), for Mac reports only; resolved here by the real uv, offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers import wheel
from machines import base_report, machines

from fwsetup import pipconfig, records, runner
from fwsetup.commands import sizes
from fwsetup.errors import FwsetupError
from fwsetup.fleet import lockfile
from fwsetup.plan.model import Plan
from fwsetup.report import SystemReport


def _mac(version: str | None) -> SystemReport:
    mac = machines()["macos-m2"]
    return records.replace(mac, os=records.replace(mac.os, distro_version=version))


def test_the_macos_version_goes_to_uv_for_mac_reports_only() -> None:
    assert lockfile.uv_platform_env(_mac("14.5")) == {"MACOSX_DEPLOYMENT_TARGET": "14.5"}
    assert lockfile.uv_platform_env(_mac("15")) == {"MACOSX_DEPLOYMENT_TARGET": "15.0"}
    assert lockfile.uv_platform_env(_mac("14.5.1")) == {"MACOSX_DEPLOYMENT_TARGET": "14.5"}
    assert lockfile.uv_platform_env(_mac(None)) == {}
    assert lockfile.uv_platform_env(_mac("sonoma")) == {}
    assert lockfile.uv_platform_env(base_report()) == {}  # Linux: uv's manylinux platform says it all


@pytest.fixture
def links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A find-links folder whose one package has only a macOS 14 arm64 wheel."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    folder = tmp_path / "links"
    folder.mkdir()
    made = wheel(folder, "fwsetup_mac_only", "1.0")
    made.rename(folder / "fwsetup_mac_only-1.0-py3-none-macosx_14_0_arm64.whl")
    return folder


def _plan(links: Path) -> Plan:
    return Plan("x", "1.0", "mps", "mps", "3.11", ["fwsetup-mac-only==1.0"], find_links=[str(links)])


def test_a_lock_for_a_mac_on_14_takes_a_macos_14_wheel(links: Path) -> None:
    settings = pipconfig.PipSettings(no_index=True)
    target = lockfile.resolve(_plan(links), _mac("14.5"), "mac", timeout=120, settings=settings)
    assert [r.split()[0] for r in target.requirements] == ["fwsetup-mac-only==1.0"]
    with pytest.raises(FwsetupError, match="matching platform tag"):  # the Mac really is too old for it
        lockfile.resolve(_plan(links), _mac("13.6"), "old-mac", timeout=120, settings=settings)


def test_the_size_estimate_for_a_mac_tells_uv_its_macos_version(
    links: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    real = runner.step

    def step(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("env") or {})
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "step", step)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(_no_index(links.parent)))
    found = sizes._resolve(_plan(links), _mac("14.5"), (), 120)
    assert found is not None and [f[0] for f in found["files"]] == ["fwsetup-mac-only"]
    assert seen[-1]["MACOSX_DEPLOYMENT_TARGET"] == "14.5"
    sizes._resolve(_plan(links), base_report(), (), 120)
    assert "MACOSX_DEPLOYMENT_TARGET" not in seen[-1]


def _no_index(where: Path) -> Path:
    conf = where / "pip.conf"
    conf.write_text("[global]\nno-index = true\n")
    return conf

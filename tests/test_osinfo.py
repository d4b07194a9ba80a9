from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fakes import FIXTURES

from fwsetup.probe import osinfo
from fwsetup.probe.base import Probed, ProbeEnv

OS_RELEASES = {
    "amazon-linux-2023.os-release": ("amzn", "2023", None),
    "debian-12-bookworm.os-release": ("debian", "12", "bookworm"),
    "rhel-9.6.os-release": ("rhel", "9.6", "plow"),
    "rocky-9.3.os-release": ("rocky", "9.3", "blue onyx"),
    "ubuntu-20.04.6.os-release": ("ubuntu", "20.04", "focal"),
    "ubuntu-22.04.3.os-release": ("ubuntu", "22.04", "jammy"),
    "ubuntu-24.04.3.os-release": ("ubuntu", "24.04", "noble"),
}


def fake_root(tmp_path: Path, os_release: str) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir(parents=True)
    shutil.copy(FIXTURES / "os" / os_release, etc / "os-release")
    return tmp_path


@pytest.mark.parametrize("fixture", sorted(OS_RELEASES))
def test_os_release_fixtures(tmp_path: Path, fixture: str) -> None:
    env = ProbeEnv(root=fake_root(tmp_path, fixture), environ={})
    out = Probed()
    fields = osinfo.read_os_release(env, out)
    distro_id, version, codename = OS_RELEASES[fixture]
    assert fields["distro_id"] == distro_id
    assert fields["distro_version"] == version
    if codename:
        assert fields["distro_codename"] == codename
    assert out.problems == []


def test_missing_os_release_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    out = Probed()
    fields = osinfo.read_os_release(ProbeEnv(root=tmp_path, environ={}), out)
    assert fields["distro_id"] is None
    assert [p.code for p in out.problems] == ["os-release-missing"]


def test_usr_lib_os_release_and_one_without_id(tmp_path: Path) -> None:
    lib = tmp_path / "usr" / "lib"
    lib.mkdir(parents=True)
    (lib / "os-release").write_text('NAME="Arch Linux"\nID=arch\nID_LIKE="archlinux"\n# comment\n')
    out = Probed()
    fields = osinfo.read_os_release(ProbeEnv(root=tmp_path, environ={}), out)
    assert (fields["distro_id"], fields["distro_like"], out.problems) == ("arch", ["archlinux"], [])
    (lib / "os-release").write_text('NAME="Something"\n')
    out = Probed()
    assert osinfo.read_os_release(ProbeEnv(root=tmp_path, environ={}), out)["distro_id"] is None
    assert [p.code for p in out.problems] == ["os-release-missing"]
    assert "no ID=" in out.problems[0].message


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("wsl1-proc-version-4.4.0-18985-Microsoft.txt", 1),
        ("wsl2-proc-version-4.19.128-microsoft-standard.txt", 2),
        ("wsl2-proc-version-5.4.72-microsoft-standard-WSL2.txt", 2),
    ],
)
def test_wsl_detection(fixture: str, expected: int) -> None:
    assert osinfo.detect_wsl((FIXTURES / "os" / fixture).read_text()) == expected


def test_plain_linux_is_not_wsl() -> None:
    text = "Linux version 6.1.0-47-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14))"
    assert osinfo.detect_wsl(text) is None
    assert osinfo.detect_wsl(None) is None


def test_container_detection(tmp_path: Path) -> None:
    assert osinfo.detect_container(ProbeEnv(root=tmp_path, environ={})) is None
    (tmp_path / ".dockerenv").write_text("")
    assert osinfo.detect_container(ProbeEnv(root=tmp_path, environ={})) == "docker"
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".containerenv").write_text("")
    assert osinfo.detect_container(ProbeEnv(root=tmp_path, environ={})) == "podman"
    env = ProbeEnv(root=tmp_path, environ={"KUBERNETES_SERVICE_HOST": "10.0.0.1"})
    assert osinfo.detect_container(env) == "kubernetes"


def test_cgroup_container_detection(tmp_path: Path) -> None:
    (tmp_path / "proc" / "1").mkdir(parents=True)
    (tmp_path / "proc" / "1" / "cgroup").write_text("12:pids:/kubepods/besteffort/pod1\n")
    assert osinfo.detect_container(ProbeEnv(root=tmp_path, environ={})) == "kubernetes"


@pytest.mark.parametrize(
    ("vendor", "product", "expected"),
    [
        ("Amazon EC2", "m5.large", "aws"),
        ("Google", "Google Compute Engine", "gcp"),
        ("Dell Inc.", "PowerEdge R750", None),
    ],
)
def test_cloud_from_dmi(tmp_path: Path, vendor: str, product: str, expected: str) -> None:
    dmi = tmp_path / "sys" / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text(vendor + "\n")
    (dmi / "product_name").write_text(product + "\n")
    assert osinfo.detect_cloud(ProbeEnv(root=tmp_path, environ={})) == expected


def test_real_machine_probe() -> None:
    out = osinfo.probe(ProbeEnv())
    info = out.fields["os"]
    assert info.system
    if info.system == "Linux":
        assert info.libc is not None


def test_windows_version_without_a_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from fwsetup.probe import host

    info = SimpleNamespace(major=10, minor=0, build=9200, platform_version=(10, 0, 22631))
    monkeypatch.setattr(host.sys, "getwindowsversion", lambda: info, raising=False)
    assert host.windows_version() == "10.0.22631"  # the real version, not the compatibility shim's
    monkeypatch.setattr(host.sys, "platform", "win32")
    assert host.release() == "10.0.22631"
    monkeypatch.delattr(host.sys, "getwindowsversion")
    assert host.windows_version() == ""

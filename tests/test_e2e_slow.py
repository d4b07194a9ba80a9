"""The slower historic installs and Caffe in a real Debian 11 root. Run by `nox -s e2e`
(FWSETUP_E2E_SLOW=1); .ci/run keeps to the faster ones in test_e2e_frameworks.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import fwsetup, json_out

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("FWSETUP_E2E_SLOW"), reason="slow e2e: set FWSETUP_E2E_SLOW=1 (nox -s e2e)"
    ),
]
REPO = Path(__file__).parent.parent


@pytest.mark.parametrize(
    ("framework", "extra", "python"),
    [
        ("lasagne", [], "3.6"),
        ("keras2", ["--backend", "theano"], "3.7"),
        ("keras2", ["--backend", "tensorflow1"], "3.7"),
        ("cntk", ["--system-packages"], "3.6"),
        ("chainer", [], None),
        ("kaldi", ["--variant", "pieces"], None),
    ],
)
def test_historic_install_and_smoke(tmp_path: Path, framework: str, extra: list[str], python: str) -> None:
    env = tmp_path / "env"
    out = fwsetup(
        "install",
        framework,
        "--cpu",
        "--env",
        str(env),
        "--json",
        *extra,
        env={"FWSETUP_HOME": str(tmp_path / "h")},
        timeout=3600,
    )
    assert out.returncode == 0, out.stderr
    data = json_out(out)
    assert data["smoke"]["ok"] and data["smoke"]["device"] == "cpu"
    if python:
        assert data["python"] == python


HOST_CA = "/etc/ssl/certs/fwsetup-host-ca.crt"  # inside the root


def _chroot(root: Path, *argv: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "DEBIAN_FRONTEND": "noninteractive",
        "LANG": "C.UTF-8",
    }
    if (root / HOST_CA.lstrip("/")).exists():  # this host's CA bundle (e.g. a TLS-inspecting proxy's)
        env.update(PIP_CERT=HOST_CA, SSL_CERT_FILE=HOST_CA)
    return subprocess.run(
        ["chroot", str(root), *argv], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("debootstrap"), reason="needs root and debootstrap")
def test_caffe_apt_route_in_a_debian11_root(tmp_path: Path) -> None:
    root = Path(os.environ.get("FWSETUP_BULLSEYE_ROOT", tmp_path / "bullseye"))
    if not (root / "usr" / "bin" / "python3").exists():
        subprocess.run(
            ["debootstrap", "--variant=minbase", "bullseye", str(root), "http://deb.debian.org/debian"],
            check=True,
            capture_output=True,
            timeout=1800,
        )
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    host_ca = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
    if host_ca.is_file():
        (root / "etc" / "ssl" / "certs").mkdir(parents=True, exist_ok=True)
        shutil.copy(host_ca, root / HOST_CA.lstrip("/"))
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=False)
    try:
        assert _chroot(root, "apt-get", "update").returncode == 0
        prep = _chroot(
            root,
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            "python3-venv",
            "python3-pip",
            "ca-certificates",
        )
        assert prep.returncode == 0, prep.stderr
        src = root / "opt" / "fwsetup-test-src"
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(
            REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", ".nox", "*.egg-info")
        )
        made = _chroot(root, "python3", "-m", "venv", "/opt/fwsetup-test-venv")
        assert made.returncode == 0, made.stderr
        pip = _chroot(root, "/opt/fwsetup-test-venv/bin/pip", "install", "-q", "/opt/fwsetup-test-src")
        assert pip.returncode == 0, pip.stderr
        plan = _chroot(root, "/opt/fwsetup-test-venv/bin/fwsetup", "install", "caffe", "--dry-run", "--json")
        assert json.loads(plan.stdout)["system_packages"] == ["caffe", "python3-caffe"]
        out = _chroot(
            root,
            "/opt/fwsetup-test-venv/bin/fwsetup",
            "install",
            "caffe",
            "--system-packages",
            "--json",
            "--env",
            "/opt/fwsetup-test-caffe",
        )
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert data["smoke"]["ok"] and data["smoke"]["framework_version"].startswith("1.0")
    finally:
        subprocess.run(["umount", str(root / "proc")], check=False)

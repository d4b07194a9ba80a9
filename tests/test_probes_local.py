"""Probes of the running interpreter and machine: real, since this machine can answer them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from fakes import make_tool, path_env

from fwsetup.probe import dists, frameworks, interpreters, pci, python, resources
from fwsetup.probe.base import ProbeEnv


def test_python_probe_describes_this_interpreter() -> None:
    info = python.probe(ProbeEnv()).fields["python"]
    assert info.executable == sys.executable
    assert info.version.startswith(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert info.in_venv == (sys.prefix != sys.base_prefix)


def test_uv_version_read_from_fake_uv(tmp_path: Path) -> None:
    make_tool(tmp_path / "bin", "uv", "uv 0.13.9 (abc123 2026-11-01)\n")
    out = python.probe(ProbeEnv(environ=path_env(tmp_path / "bin")))
    assert out.fields["python"].uv_version == "0.13.9"


def test_uv_garbage_is_a_problem(tmp_path: Path) -> None:
    make_tool(tmp_path / "bin", "uv", b"\xff\xfe garbage")
    out = python.probe(ProbeEnv(environ=path_env(tmp_path / "bin")))
    assert out.fields["python"].uv_version is None
    assert [p.code for p in out.problems] == ["uv-unreadable"]


def _fake_python(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_interpreters_found_without_running_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fake_python(home / ".pyenv" / "versions" / "3.7.16" / "bin" / "python3.7")
    _fake_python(home / ".pyenv" / "versions" / "2.7.18" / "bin" / "python2.7")
    (home / ".pyenv" / "versions" / "myvenv").mkdir()  # pyenv-virtualenv: not an interpreter
    _fake_python(
        home / ".local" / "share" / "uv" / "python" / "cpython-3.12.4-linux-x86_64-gnu" / "bin" / "python3"
    )
    sysdir = tmp_path / "usr" / "bin"
    _fake_python(sysdir / "python3.10")
    inc = tmp_path / "usr" / "include" / "python3.10"
    inc.mkdir(parents=True)
    (inc / "patchlevel.h").write_text('#define PY_VERSION              "3.10.12"\n')
    env = ProbeEnv(environ={"HOME": str(home), "PATH": str(sysdir)})
    found = {(i.version, i.source) for i in interpreters.probe(env).fields["interpreters"]}
    assert {("3.7.16", "pyenv"), ("2.7.18", "pyenv"), ("3.12.4", "uv"), ("3.10.12", "system")} <= found
    assert not any("myvenv" in v for v, _ in found)


def test_interpreters_sorted_newest_first() -> None:
    found = interpreters.probe(ProbeEnv()).fields["interpreters"]
    assert any(i.source == "current" for i in found)
    versions = [tuple(int(x) for x in i.version.split(".")[:2]) for i in found]
    assert versions == sorted(versions, reverse=True)


def test_cpuinfo_parse() -> None:
    text = (
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU E5-2690 v4\nflags\t\t: fpu sse4_2 avx avx2 fma\n"
    )
    assert resources.parse_cpuinfo(text) == (
        "Intel(R) Xeon(R) CPU E5-2690 v4",
        ["sse4_2", "avx", "avx2", "fma"],
    )


def test_cpuinfo_without_avx() -> None:
    _model, flags = resources.parse_cpuinfo(
        "model name : Intel(R) Pentium(R) CPU G4560\nflags : fpu sse4_2\n"
    )
    assert "avx" not in flags


def test_resources_probe_real(tmp_path: Path) -> None:
    res = resources.probe(ProbeEnv(disk_path=str(tmp_path / "not" / "yet"))).fields["resources"]
    assert res.cpu_cores_logical and res.cpu_cores_logical >= 1
    assert res.memory_total_mib and res.memory_total_mib > 0
    assert res.disk_path == str(tmp_path)
    assert res.disk_free_mib is not None


def _dist(site: Path, name: str, version: str) -> None:
    (site / f"{name}-{version}.dist-info").mkdir(parents=True)


def test_frameworks_from_metadata_names(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _dist(site, "torch", "2.9.1+cu128")
    _dist(site, "jax_cuda12_plugin", "0.7.2")
    _dist(site, "cupy_cuda12x", "13.6.0")
    _dist(site, "mxnet_cu112", "1.9.1")
    _dist(site, "tensorflow", "2.20.0")
    _dist(site, "nvidia_cuda_runtime_cu12", "12.5.82")
    _dist(site, "requests", "2.32.0")
    installed = dists.scan([str(site)])
    runtime = frameworks.cuda_runtime_wheel_version(installed)
    found = {f.name: f for f in (frameworks.classify(d, runtime) for d in installed.values()) if f}
    assert found["torch"].cuda == "12.8" and found["torch"].variant == "cu128"
    assert found["jax-cuda12-plugin"].cuda == "12"
    assert found["cupy-cuda12x"].variant == "cuda12"
    assert found["mxnet-cu112"].cuda == "11.2"
    assert found["tensorflow"].cuda == "12.5"  # PyPI wheel + nvidia runtime wheel beside it
    assert "requests" not in found


def test_cpu_torch_has_cpu_variant(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _dist(site, "torch", "2.13.0+cpu")
    (fw,) = [f for f in (frameworks.classify(d, None) for d in dists.scan([str(site)]).values()) if f]
    assert fw.variant == "cpu" and fw.cuda is None


def test_pci_display_devices(tmp_path: Path) -> None:
    devs = tmp_path / "sys" / "bus" / "pci" / "devices"
    for bus, cls, vendor in (("0000:01:00.0", "0x030000", "0x10de"), ("0000:00:1f.3", "0x040300", "0x8086")):
        (devs / bus).mkdir(parents=True)
        (devs / bus / "class").write_text(cls + "\n")
        (devs / bus / "vendor").write_text(vendor + "\n")
        (devs / bus / "device").write_text("0x2684\n")
    found = pci.probe(ProbeEnv(root=tmp_path, environ={})).fields["pci_display_devices"]
    assert [(d.vendor, d.bus_id) for d in found] == [("nvidia", "0000:01:00.0")]


def test_pci_absent_sysfs_is_silent(tmp_path: Path) -> None:
    out = pci.probe(ProbeEnv(root=tmp_path, environ={}))
    assert out.fields == {} and out.problems == []


def test_env_has_no_effect_on_real_environ(tmp_path: Path) -> None:
    before = dict(os.environ)
    python.probe(ProbeEnv(environ=path_env(tmp_path)))
    assert dict(os.environ) == before


def test_resources_without_proc_on_linux_never_asks_psutil(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fwsetup.probe import host

    monkeypatch.setattr(host, "system", lambda: "Linux")
    monkeypatch.setitem(sys.modules, "psutil", None)  # importing it would now fail loudly
    out = resources.probe(ProbeEnv(root=tmp_path, environ={}, disk_path=str(tmp_path)))
    res = out.fields["resources"]
    assert out.problems == []
    assert (res.memory_total_mib, res.memory_available_mib, res.cpu_cores_physical) == (None, None, None)


@pytest.mark.parametrize(
    ("system", "model"),
    [("Linux", None), ("Windows", "Intel64 Family 6 Model 85"), ("Darwin", "Apple M2 Pro")],
)
def test_cpu_model_without_proc_runs_no_hidden_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: str, model: str
) -> None:
    import subprocess

    from fwsetup.probe import host

    def hidden(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"a tool run outside the runner: {args}")

    monkeypatch.setattr(subprocess, "check_output", hidden)  # what platform.processor() uses
    monkeypatch.setattr(host, "system", lambda: system)
    bindir = tmp_path / "bin"
    make_tool(bindir, "sysctl", "Apple M2 Pro\n")  # the only tool it may ask, through ProbeEnv.run
    make_tool(bindir, "uname", "must not be run\n", rc=1)
    environ = path_env(bindir, PROCESSOR_IDENTIFIER="Intel64 Family 6 Model 85")
    assert resources.cpu_model_and_flags(ProbeEnv(root=tmp_path, environ=environ), None) == (model, [])


def test_a_pyenv_shim_on_path_is_read_as_the_version_pyenv_would_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No bash start for the shim (100 ms): PYENV_VERSION, else .python-version, else the global file."""
    from fwsetup.probe import frameworks

    root = tmp_path / "pyenv"
    (root / "shims").mkdir(parents=True)
    shim = root / "shims" / "python3"
    shim.write_text("#!/usr/bin/env bash\nexit 99\n")
    shim.chmod(0o755)
    for version in ("3.11.7", "3.12.1"):
        bindir = root / "versions" / version / "bin"
        bindir.mkdir(parents=True)
        exe = bindir / "python3"
        exe.write_text("")
        exe.chmod(0o755)
    (root / "version").write_text("# global\n3.11.7\n")
    work = tmp_path / "project" / "src"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    env = {"PYENV_ROOT": str(root)}
    assert frameworks.pyenv_shim_target(str(shim), env) == str(root / "versions/3.11.7/bin/python3")
    (tmp_path / "project" / ".python-version").write_text("3.12.1\n")
    assert frameworks.pyenv_shim_target(str(shim), env) == str(root / "versions/3.12.1/bin/python3")
    assert frameworks.pyenv_shim_target(str(shim), {**env, "PYENV_VERSION": "3.11.7"}).endswith("3.11.7/bin/python3")
    assert frameworks.pyenv_shim_target(str(shim), {**env, "PYENV_VERSION": "system"}) is None
    assert frameworks.pyenv_shim_target(str(tmp_path / "bin" / "python3"), env) is None  # not a shim


def test_a_plain_install_is_read_from_disk_without_running_it(tmp_path: Path) -> None:
    from fwsetup.probe import frameworks

    prefix = tmp_path / "versions" / "3.12.1"
    (prefix / "bin").mkdir(parents=True)
    real = prefix / "bin" / "python3.12"
    real.write_text("#!/bin/sh\nexit 99\n")  # running it would fail the read
    real.chmod(0o755)
    (prefix / "bin" / "python3").symlink_to("python3.12")
    site = prefix / "lib" / "python3.12" / "site-packages"
    (site / "torch-2.9.1+cu128.dist-info").mkdir(parents=True)
    version, paths = frameworks.read_layout(str(prefix / "bin" / "python3")) or (None, [])
    assert version == "3.12" and str(site) in paths

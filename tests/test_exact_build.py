"""The planned build is the one resolved. PEP 440's `torch==2.13.0` is satisfied by `2.13.0+cpu`,
and a local label ranks higher, so a CPU wheel in the user's pip find-links would win over PyPI's
CUDA build (the default build of torch on Linux) in a GPU plan's lock, install and size estimate.
Here with real uv and pip, a loopback PEP 691 index standing in for PyPI, and a find-links folder
holding `+cpu` wheels of the same versions, as this machine's pip configuration does."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import cli, json_out, serving, simple_index, wheel
from machines import machines

from fwsetup import pipconfig, records
from fwsetup.fleet import lockfile
from fwsetup.install import backends, sources
from fwsetup.plan import planning
from fwsetup.plan.model import Plan, Request


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """PyPI (torch 2.13.0, its torchvision 0.28.0, numpy) and the user's find-links (the `+cpu`
    builds of the same releases), the find-links named by pip's configuration (PIP_FIND_LINKS)."""
    pypi, local = tmp_path / "pypi", tmp_path / "find-links"
    pypi.mkdir()
    local.mkdir()
    served = {
        "torch": wheel(pypi, "torch", "2.13.0", files={"torch/__init__.py": "__version__ = '2.13.0'\n"}),
        "torchvision": wheel(pypi, "torchvision", "0.28.0", ("torch==2.13.0",)),
        "numpy": wheel(pypi, "numpy", "2.0.0"),
    }
    wheel(local, "torch", "2.13.0+cpu", files={"torch/__init__.py": "__version__ = '2.13.0+cpu'\n"})
    wheel(local, "torchvision", "0.28.0+cpu", ("torch==2.13.0+cpu",))
    report = machines()["rtx4090-580"]
    (tmp_path / "R.json").write_text(report.to_json())
    for var in [v for v in os.environ if v.startswith(("PIP_", "UV_"))]:
        monkeypatch.delenv(var)
    with serving(simple_index(pypi)) as url:
        monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
        monkeypatch.setenv("PIP_INDEX_URL", f"{url}/simple")
        monkeypatch.setenv("PIP_FIND_LINKS", str(local))
        monkeypatch.setenv("FWSETUP_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
        yield {"tmp": tmp_path, "report": report, "served": served, "local": local}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _gpu_plan(world: dict[str, Any]) -> Plan:
    request = Request(framework="pytorch", accelerator="gpu", version="2.13", with_packages=("torchvision",))
    plan = planning.make_plan("pytorch", world["report"], request)
    assert isinstance(plan, Plan) and plan.variant == "cu130" and plan.index_urls == []  # PyPI's build
    return plan


def test_a_gpu_lock_takes_pypis_build_not_the_cpu_wheel_in_find_links(world: dict[str, Any]) -> None:
    lock = world["tmp"] / "fwsetup.lock"
    out = cli("lock", "pytorch", "--gpu", "--version", "2.13", "--with", "torchvision",
              "--system", str(world["tmp"] / "R.json"), "-o", str(lock), "--json")  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    (target,) = lockfile.load(lock)[1]
    lines = {line.split("==")[0]: line for line in target.requirements}
    for name in ("torch", "torchvision"):
        version = world["served"][name].name.split("-")[1]
        assert lines[name].startswith(f"{name}=={version} "), lines[name]  # not +cpu
        assert lines[name].endswith(f"--hash=sha256:{_sha256(world['served'][name])}")


def _install(world: dict[str, Any], installer: str, packages: list[str], where: sources.Sources) -> Path:
    """A new venv, the packages installed into it by fwsetup's uv or pip backend: its python."""
    venv = world["tmp"] / "venv"
    subprocess.run([sys.executable, "-m", "venv", *(["--without-pip"] if installer == "uv" else []), str(venv)],
                   check=True)  # fmt: skip
    python = venv / "bin" / "python"
    uv = backends.find_uv()
    assert uv is not None
    backend = backends.UvBackend(uv) if installer == "uv" else backends.PipBackend()
    backend.install(python, packages, where, backends.run_logged(world["tmp"] / "install.log"))
    return python


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_an_install_of_a_gpu_plan_takes_pypis_build_with_either_installer(
    world: dict[str, Any], installer: str
) -> None:
    """The route of a new env and of --into: the plan's packages, the user's sources."""
    plan = _gpu_plan(world)
    python = _install(world, installer, plan.packages, sources.of(plan, world["tmp"], settings=pipconfig.read()))
    got = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('torch'), m.version('torchvision'))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert got == ["2.13.0", "0.28.0"]


def test_the_size_estimate_counts_the_gpu_build_it_will_download(world: dict[str, Any]) -> None:
    from fwsetup.commands import sizes

    plan = _gpu_plan(world)
    every = sum(w.stat().st_size for w in world["served"].values())
    found = sizes.download(plan, world["report"])  # (to download, already in uv's cache)
    assert found is not None and sum(found) == every  # none of it is the +cpu on disk


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_locked_line_without_a_local_label_installs_the_locked_file(
    world: dict[str, Any], installer: str
) -> None:
    """`install --lock`: `torch==2.13.0 --hash=…` beside a `+cpu` in find-links; uv and pip would
    take the `+cpu` and fail its hash. The locked file is installed."""
    torch = world["served"]["torch"]
    reqs = world["tmp"] / sources.LOCK_REQUIREMENTS_FILE
    reqs.write_text(f"torch==2.13.0 --hash=sha256:{_sha256(torch)}\n")
    locked = sources.Sources(requirements_file=reqs, env_dir=world["tmp"], settings=pipconfig.read())
    python = _install(world, installer, [], locked)
    got = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert got == "2.13.0"
    assert reqs.read_text() == f"torch==2.13.0 --hash=sha256:{_sha256(torch)}\n"  # the record is the lock's


def test_a_bundle_downloads_the_locked_file_not_the_local_label(world: dict[str, Any]) -> None:
    from fwsetup.fleet import bundle

    torch = world["served"]["torch"]
    target = lockfile.LockTarget(
        name="R", framework="pytorch", version="2.13.0", variant="cu130", accelerator="cuda",
        python="3.11", platform="linux-x86_64", requirements=[f"torch==2.13.0 --hash=sha256:{_sha256(torch)}"],
    )  # fmt: skip
    assert bundle.download(target, world["tmp"] / "bundle") == [torch.name]


def test_a_lock_refuses_a_resolved_build_other_than_the_planned_one(world: dict[str, Any]) -> None:
    """Where a plan's pin is PEP 440's `==` (another recipe, an older plan), the lock still checks
    what was resolved: a local label the plan did not name is refused, naming where it came from."""
    plan = _gpu_plan(world)
    loose = records.replace(plan, packages=["torch==2.13.0"], companions=[])
    with pytest.raises(Exception) as refused:
        lockfile.resolve(loose, world["report"], "R")
    text = f"{refused.value}: {getattr(refused.value, 'fix', '')}"
    assert "torch 2.13.0+cpu" in text and str(world["local"]) in text, text
    assert getattr(refused.value, "exit_code", None) == 3


def test_the_plan_names_why_its_pin_is_exact(world: dict[str, Any]) -> None:
    out = cli("install", "pytorch", "--gpu", "--version", "2.13", "--dry-run", "--json",
              "--system", str(world["tmp"] / "R.json"))  # fmt: skip
    plan = json_out(out)
    from packaging.requirements import Requirement

    for name, version in (("torch", "2.13.0"), ("torchvision", "0.28.0")):
        (req,) = [Requirement(p) for p in plan["packages"] if Requirement(p).name == name]
        assert req.specifier.contains(version) and not req.specifier.contains(f"{version}+cpu")


def test_rollback_of_a_venv_reinstalls_the_version_that_was_there(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rollback VENV` puts back torch 2.13.0 (PyPI's build), never the 2.13.0+cpu of the sources."""
    from fwsetup.install import into

    monkeypatch.setenv("UV_DEFAULT_INDEX", os.environ["PIP_INDEX_URL"])  # uv reads no PIP_INDEX_URL
    venv = world["tmp"] / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    entry = {"packages": {"torch": "2.13.0"}, "find_links": [str(world["local"])]}
    assert into.restore(venv, entry, timeout=300)["reinstalled"] == ["torch===2.13.0"]
    got = subprocess.run([str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert got == "2.13.0"

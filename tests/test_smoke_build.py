"""The smoke test proves the build the plan chose: the planned build is derived from plan data on
every route, the smoke script reports the build it imported, and a GPU plan that finds another build
(the CPU wheel a dependency pulled from the default index) is exit 5 naming both."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SMOKE_KEYS, cli, fwsetup, json_out, tiny_env

from fwsetup import records
from fwsetup.errors import SmokeError
from fwsetup.fleet import fromlock, lockfile
from fwsetup.install import builds, smoke
from fwsetup.install.builds import Build
from fwsetup.plan.model import Plan


@pytest.mark.parametrize(
    ("variant", "accelerator", "expected"),
    [
        ("cu126", "cuda", Build("cuda", "12.6")),
        ("cu118", "cuda", Build("cuda", "11.8")),
        ("cu130", "cuda", Build("cuda", "13.0")),
        ("cuda12", "cuda", Build("cuda", "12")),  # JAX's extras
        ("rocm6.1", "rocm", Build("rocm", "6.1")),
        ("jp50", "cuda", Build("cuda", None)),  # a JetPack build: JetPack's CUDA, not in the name
        ("mps", "mps", Build("mps", None)),
        ("cpu", "cpu", Build("cpu", None)),
        ("source", "none", None),
        (None, None, None),
    ],
)
def test_the_planned_build_comes_from_the_variant_and_accelerator(
    variant: object, accelerator: object, expected: object
) -> None:
    assert builds.planned(variant, accelerator) == expected


def test_a_cpu_build_where_cuda_was_planned_names_both() -> None:
    why = builds.mismatch(Build("cuda", "12.6"), Build("cpu"))
    assert why == "the plan chose the CUDA 12.6 build, but the environment holds the CPU build"
    assert builds.mismatch(Build("rocm", "6.1"), Build("cuda", "12.6")) is not None  # wrong vendor
    assert builds.mismatch(Build("cuda", "12.6"), Build("cuda", "12.8")) is not None  # another CUDA
    assert builds.mismatch(Build("cuda", "12"), Build("cuda", "12.9")) is None  # JAX's cuda12 extra
    assert builds.mismatch(Build("cuda", "13"), Build("cuda", "12")) is not None  # jax-cuda12-plugin found
    assert builds.mismatch(Build("cuda", "12.6"), Build("cuda", "12.6")) is None
    assert builds.mismatch(Build("cuda", None), Build("cuda", "11.4")) is None  # a JetPack build
    assert (
        builds.mismatch(Build("cuda", "11.2"), Build("cuda", "64_112")) is None
    )  # TF on Windows: not a version
    # torch.version.hip as ROCm 3.0 reported it (ROCm/pytorch#513): HIP's own numbering, so only
    # the backend is compared for ROCm
    assert builds.mismatch(Build("rocm", "3.0"), Build("rocm", "3.0.19493-36529b1")) is None
    # a CPU plan accepts any build; an unknown side decides nothing
    assert builds.mismatch(Build("cpu"), Build("cuda", "12.3")) is None
    assert builds.mismatch(None, Build("cpu")) is None and builds.mismatch(Build("cuda"), None) is None


def test_verdict_is_exit_5_naming_the_planned_and_the_found_build() -> None:
    result = smoke.SmokeResult(
        True,
        "cpu",
        "2.13.0+cpu",
        0.1,
        {"matmul": True},
        planned_build=Build("cuda", "12.6"),
        found_build=Build("cpu"),
    )
    with pytest.raises(SmokeError) as caught:
        smoke.verdict(result, False, "PyTorch")
    err = caught.value
    assert err.exit_code == 5 and err.code == "wrong-build"
    assert "CUDA 12.6 build" in err.message and "CPU build" in err.message and "default index" in err.message
    smoke.verdict(records.replace(result, found_build=Build("cuda", "12.6")), False, "PyTorch")  # passes


def test_the_smoke_result_keys_are_exact() -> None:
    result = smoke.SmokeResult(True, "cpu", "1", 0.1, planned_build=Build("cpu"))
    data = result.to_dict()
    assert set(data) == SMOKE_KEYS
    assert data["planned_build"] == {"backend": "cpu", "version": None} and data["found_build"] is None


def test_a_script_result_carries_the_build_it_found(tmp_path: Path) -> None:
    """The plumbing: a script printing a result in the smoke scripts' format, with the build a CPU
    torch wheel reports (the real wheel runs in test_e2e_backend.py)."""
    import sys

    script = tmp_path / "report.py"
    script.write_text(
        "import json\n"
        'print(json.dumps({"ok": True, "device": "cpu", "framework_version": "2.13.0+cpu", "checks": {},'
        ' "build": {"backend": "cpu", "version": None}}))\n'
    )
    result = smoke.run(Path(sys.executable), script, planned=Build("cuda", "12.6"))
    assert result.found_build == Build("cpu") and result.planned_build == Build("cuda", "12.6")
    with pytest.raises(SmokeError, match=r"CUDA 12\.6 build, but the environment holds the CPU build"):
        smoke.verdict(result, False, "PyTorch")


def test_a_lock_target_expects_the_build_it_was_locked_with() -> None:
    """A lock can only name the smoke script; the expectation comes from its checked target data."""
    from machines import base_report

    plan = Plan(
        framework="pytorch", version="2.9.1", variant="cu126", accelerator="cuda", python="3.12", packages=[]
    )
    target = lockfile.target_of(plan, base_report(), "a100", ["torch==2.9.1"])
    back = fromlock.plan_of(target, None)
    assert builds.planned(back.variant, back.accelerator) == Build("cuda", "12.6")


def test_smoke_json_carries_the_planned_and_found_build(tmp_path: Path) -> None:
    home, env = tmp_path / "home", tmp_path / "tiny"
    out = fwsetup("install", "tiny", "--cpu", "--env", str(env), "--json", env=tiny_env(home))
    assert out.returncode == 0, out.stderr
    installed = json_out(out)["smoke"]
    assert set(installed) == SMOKE_KEYS and installed["planned_build"] == {"backend": "cpu", "version": None}
    smoked = cli("smoke", "tiny", "--env", str(env), "--json", env=tiny_env(home))
    data = json_out(smoked)
    assert smoked.returncode == 0 and set(data) == SMOKE_KEYS | {"framework", "env"}
    assert data["planned_build"] == {"backend": "cpu", "version": None}
    assert data["found_build"] is None  # the tiny script reports no build: nothing to compare
    python = cli("smoke", "tiny", "--python", str(env / "bin" / "python"), "--json", env=tiny_env(home))
    assert json_out(python)["planned_build"] is None  # no plan and no --gpu: report only


def test_the_smoke_text_shows_the_build_found_beside_the_planned_one() -> None:
    from fwsetup.cli import render

    result = smoke.SmokeResult(
        True, "cpu", "2.13.0+cpu", 0.1, planned_build=Build("cuda", "12.6"), found_build=Build("cpu")
    )
    text = render.smoke_text({"framework": "pytorch", "env": "/e", **result.to_dict()})
    assert "  build: cpu (planned: cuda 12.6)\n" in text
    quiet = render.smoke_text(
        {"framework": "tiny", "env": "/e", **smoke.SmokeResult(True, "cpu", "1", 0.1).to_dict()}
    )
    assert "build:" not in quiet  # a script that reports no build


def test_install_into_a_project_venv_carries_the_planned_build(tmp_path: Path) -> None:
    import subprocess
    import sys

    home, venv = tmp_path / "home", tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    done = fwsetup("install", "tiny", "--cpu", "--into", str(venv), "--json", env=tiny_env(home))
    assert done.returncode == 0, done.stderr
    smoked = json_out(done)["smoke"]
    assert set(smoked) == SMOKE_KEYS and smoked["planned_build"] == {"backend": "cpu", "version": None}


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        (["nvidia0", "nvidiactl"], Build("cuda")),
        (["nvhost-ctrl-gpu"], Build("cuda")),  # a Jetson on JetPack 4/5: nvgpu, no /dev/nvidia0
        (["kfd", "dri"], Build("rocm")),
        (["nvidia0", "kfd"], None),  # both vendors: --python names no single build
        ([], None),
    ],
)
def test_smoke_python_gpu_expects_the_build_of_the_machines_gpu_vendor(
    tmp_path: Path, nodes: list[str], expected: object
) -> None:
    (tmp_path / "dev").mkdir()
    for name in nodes:
        (tmp_path / "dev" / name).touch()
    assert builds.for_machine(str(tmp_path), system="linux") == expected
    assert builds.for_machine(str(tmp_path), system="darwin") == Build("mps")

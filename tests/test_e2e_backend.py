"""The smoke test proves the build, on a real PyTorch: the CPU wheel in this machine's pip find-links
(torch 2.13.0+cpu) installed for real, then judged against the plan its environment records. When the
recorded plan is the CUDA 12.6 build (what a dependency that pulled torch from the default index leaves
behind), `fwsetup smoke` is exit 5 naming both builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SMOKE_KEYS, fwsetup, json_out

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def torch_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from fwsetup import pipconfig
    from fwsetup.plan import wheels

    on_disk = wheels.scan(pipconfig.read().local_find_links_dirs())
    if not any(w.name == "torch" and w.version.endswith("+cpu") for w in on_disk):
        pytest.skip("no CPU torch wheel in this machine's pip find-links")
    root = tmp_path_factory.mktemp("backend")
    home, env = root / "home", root / "torch"
    out = fwsetup("install", "pytorch", "--cpu", "--env", str(env), "--json", env={"FWSETUP_HOME": str(home)})
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    smoke = json_out(out)["smoke"]
    assert set(smoke) == SMOKE_KEYS
    assert smoke["planned_build"] == {"backend": "cpu", "version": None}
    assert smoke["found_build"] == {"backend": "cpu", "version": None}  # torch.version.cuda is None
    return home, env


def test_a_cpu_wheel_where_the_cuda_build_was_planned_is_exit_5_naming_both(
    torch_env: tuple[Path, Path],
) -> None:
    home, env = torch_env
    meta_path = env / "fwsetup.json"
    meta = json.loads(meta_path.read_text())
    for entry in (meta, *meta["frameworks"]):  # the plan this env records: PyTorch's CUDA 12.6 build
        entry.update(variant="cu126", accelerator="cuda")
    meta_path.write_text(json.dumps(meta))
    out = fwsetup("smoke", "pytorch", "--env", str(env), "--json", env={"FWSETUP_HOME": str(home)})
    data = json_out(out)
    assert out.returncode == 5, data
    assert data["error"]["code"] == "wrong-build"
    assert "CUDA 12.6 build" in data["error"]["message"] and "CPU build" in data["error"]["message"]
    assert data["smoke"]["planned_build"] == {"backend": "cuda", "version": "12.6"}
    assert data["smoke"]["found_build"] == {"backend": "cpu", "version": None}
    assert data["smoke"]["checks"] and all(data["smoke"]["checks"].values())  # it computed: still refused
    text = fwsetup("smoke", "pytorch", "--env", str(env), env={"FWSETUP_HOME": str(home)})
    assert text.returncode == 5 and "build: cpu (planned: cuda 12.6)" in text.stdout
    assert "CUDA 12.6 build" in text.stderr and "CPU build" in text.stderr


def test_smoke_python_reports_the_build_found(torch_env: tuple[Path, Path]) -> None:
    home, env = torch_env
    out = fwsetup(
        "smoke", "pytorch", "--python", str(env / "bin" / "python"), "--json", env={"FWSETUP_HOME": str(home)}
    )
    data = json_out(out)
    assert out.returncode == 0, data
    assert data["planned_build"] is None and data["found_build"] == {"backend": "cpu", "version": None}

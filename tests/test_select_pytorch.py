"""PyTorch selection, table-driven over fixture machines, plus property tests."""

from __future__ import annotations

import json
from typing import Optional

import pytest
from helpers import raw_facts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from machines import base_report, machines, with_nvidia

from fwsetup import records
from fwsetup.errors import Refusal
from fwsetup.facts.compat import cc_covered, driver_runs_cuda
from fwsetup.plan import recipes
from fwsetup.plan.model import LocalWheel, Plan, Request
from fwsetup.plan.select import select
from fwsetup.report import GPU
from fwsetup.versions import release as vtuple

MACHINES = machines()
PYTORCH = recipes.find("pytorch")


def plan_for(machine: str, accelerator: str = "auto", **kw: object) -> Plan:
    out = select(PYTORCH, MACHINES[machine], Request("pytorch", accelerator=accelerator, **kw))  # type: ignore[arg-type]
    assert isinstance(out, Plan), f"{machine}: refused: {out.message if isinstance(out, Refusal) else out}"
    return out


def refusal_for(machine: str, accelerator: str = "auto", **kw: object) -> Refusal:
    out = select(PYTORCH, MACHINES[machine], Request("pytorch", accelerator=accelerator, **kw))  # type: ignore[arg-type]
    assert isinstance(out, Refusal), f"{machine}: expected a refusal, got {out}"
    return out


def test_pascal_on_580_gets_cu126_never_cu128_or_cu130() -> None:
    plan = plan_for("gtx1080ti-580", "gpu")
    assert plan.variant == "cu126"
    assert plan.packages == [f"torch=={plan.version}+cu126"]
    assert any("sm_61" in r for r in plan.reasons)


def test_blackwell_on_575_gets_cu128_or_newer() -> None:
    plan = plan_for("rtx5090-575", "gpu")
    assert vtuple(plan.variant[2:]) >= (128,)
    assert plan.variant != "cu130"  # needs driver >= 580


def test_t4_on_470_gets_a_cuda11_build_of_an_older_torch() -> None:
    plan = plan_for("t4-470", "gpu")
    assert plan.variant.startswith("cu11")
    newest = max(vtuple(r["version"]) for r in raw_facts("pytorch")["release"])
    assert vtuple(plan.version) < newest
    assert plan.warnings  # minor-version compatibility is called out


def test_no_gpu_with_gpu_flag_is_refused_with_the_fix() -> None:
    r = refusal_for("cpu-only-debian12", "gpu")
    assert r.code == "no-usable-gpu" and "--cpu" in (r.fix or "")


def test_cpu_never_pulls_cuda_packages() -> None:
    for name in ("rtx4090-580", "h100-mig-590", "cpu-only-debian12"):
        plan = plan_for(name, "cpu")
        assert plan.variant == "cpu" and plan.accelerator == "cpu"
        assert all("cu1" not in p for p in plan.packages)
        assert all("/cu" not in u for u in plan.index_urls)


def test_mixed_box_that_no_build_covers_names_the_gpu() -> None:
    r = refusal_for("mixed-k80-rtx5090-580", "gpu")
    assert "Tesla K80" in r.message and "sm_37" in r.message
    assert "--gpus" in (r.fix or "")


def test_mixed_pascal_ada_box_gets_one_build_for_both() -> None:
    plan = plan_for("mixed-1080ti-4090-580", "gpu")
    assert plan.variant == "cu126"


def test_gpus_option_serves_a_subset() -> None:
    plan = plan_for("mixed-k80-rtx5090-580", "gpu", gpu_indices=(1,))
    assert vtuple(plan.variant[2:]) >= (128,)


def test_volta_on_535() -> None:
    plan = plan_for("v100-535", "gpu")
    spec = next(
        v
        for r in raw_facts("pytorch")["release"]
        if r["version"] == plan.version
        for v in r["variant"]
        if v["name"] == plan.variant
    )
    assert cc_covered("7.0", spec["archs"], spec.get("ptx", []))


def test_kepler_gets_the_last_build_listing_sm37_with_a_warning() -> None:
    out = plan_for("k80-470", "gpu")
    assert out.variant == "cu118" and out.version == "2.7.1"  # the last release with a cu118 build
    assert any("not verified" in w for w in out.warnings)
    assert any("minor-version compatibility" in r for r in out.reasons)  # driver 470 is CUDA 11.4


def test_version_pin_and_refusal() -> None:
    plan = plan_for("rtx4090-580", "gpu", version="2.7")
    assert plan.version.startswith("2.7.")
    bad = refusal_for("rtx4090-580", "gpu", version="0.4")
    assert bad.code == "unknown-version"


def test_python_asked_that_no_release_supports() -> None:
    r = refusal_for("rtx4090-580", "gpu", python="2.7")
    assert r.code == "python-unsupported"


def test_only_python27_on_machine_names_an_interpreter_to_install() -> None:
    plan = plan_for("cpu-only-py27-only", "cpu")
    assert plan.interpreter is None and plan.interpreter_hint and plan.python in plan.interpreter_hint


def test_local_cpu_wheel_is_preferred_and_used_from_disk() -> None:
    wheel = LocalWheel(
        "torch",
        "2.13.0+cpu",
        ("cp311-cp311-manylinux_2_28_x86_64",),
        "/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
    )
    plan = plan_for("cpu-only-debian12", "cpu", local_wheels=(wheel,))
    assert plan.packages == ["torch==2.13.0+cpu"] and plan.find_links == ["/opt/wheels"]
    assert plan.index_urls == []


def test_local_wheel_for_a_python_not_on_the_machine_is_ignored() -> None:
    wheel = LocalWheel("torch", "2.13.0+cpu", ("cp314-cp314-manylinux_2_28_x86_64",), "/w/torch.whl")
    plan = plan_for("cpu-only-debian12", "cpu", local_wheels=(wheel,))
    assert plan.find_links == []


@pytest.mark.parametrize("running", ["3.11.7", "3.13.0", "3.9.18"])
def test_local_wheel_is_used_whichever_python_fwsetup_runs_on(running: str) -> None:
    """The cp311 wheel in find-links wins with Python 3.11 from the machine, also when fwsetup
    itself runs on 3.13 (where the PyTorch index has a newer torch) or on 3.9."""
    wheel = LocalWheel(
        "torch",
        "2.13.0+cpu",
        ("cp311-cp311-manylinux_2_28_x86_64",),
        "/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
    )
    report = base_report(("debian", "12"), python=running, interpreters=["3.13.0", "3.11.7", "3.9.18"])
    out = select(PYTORCH, report, Request("pytorch", accelerator="cpu", local_wheels=(wheel,)))
    assert isinstance(out, Plan)
    assert out.packages == ["torch==2.13.0+cpu"] and out.find_links == ["/opt/wheels"]
    assert out.python == "3.11" and out.interpreter is not None and "3.11" in out.interpreter


def test_macos_gets_mps() -> None:
    plan = plan_for("macos-m2")
    assert plan.accelerator == "mps" and plan.variant == "mps"
    assert plan.packages == [f"torch==={plan.version}"] and plan.index_urls == []  # exact: never a +cpu


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_every_fixture_machine_gets_a_plan_or_a_reasoned_refusal(machine: str) -> None:
    for accel in ("auto", "gpu", "cpu"):
        out = select(PYTORCH, MACHINES[machine], Request("pytorch", accelerator=accel))
        if isinstance(out, Refusal):
            assert out.message and out.fix and out.code
        else:
            assert out.reasons and out.packages and out.python


# ---------------------------------------------------------------- properties

ALL_CCS = sorted(
    {cc for r in raw_facts("pytorch")["release"] for v in r.get("variant", []) for cc in v.get("archs", [])}
    | {"3.7", "5.2", "6.1", "8.6", "8.9", "12.0", "10.0", "3.0"},
    key=vtuple,
)
DRIVERS = [
    "418.116.00",
    "450.80.02",
    "470.82.01",
    "510.47.03",
    "525.60.13",
    "535.104.05",
    "550.54.14",
    "560.35.05",
    "570.124.06",
    "575.57.08",
    "580.95.05",
    "590.48.01",
    "610.57.04",
]


def driver_cuda(driver: str) -> Optional[str]:
    from fwsetup.probe.nvidia.tables import max_cuda_for_driver

    return max_cuda_for_driver(driver)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ccs=st.lists(st.sampled_from(ALL_CCS), min_size=1, max_size=3),
    driver=st.sampled_from(DRIVERS),
)
def test_select_never_returns_a_build_that_misses_a_gpu_or_the_driver(ccs: list[str], driver: str) -> None:
    report = with_nvidia(
        base_report(), driver, driver_cuda(driver), [(f"GPU{i}", cc) for i, cc in enumerate(ccs)]
    )
    out = select(PYTORCH, report, Request("pytorch", accelerator="gpu"))
    if isinstance(out, Refusal):
        return
    release = next(
        r for r in raw_facts("pytorch")["release"] if vtuple(r["version"])[:2] == vtuple(out.version)[:2]
    )
    variant = next(
        v for v in release["variant"] if v["name"] == out.variant and "linux-x86_64" in v["platforms"]
    )
    for cc in ccs:
        assert cc_covered(cc, variant["archs"], variant.get("ptx", [])), (cc, out.version, out.variant)
    runs, _ = driver_runs_cuda(driver, driver_cuda(driver), variant["cuda"])
    assert runs, (driver, out.variant)


@settings(max_examples=60, deadline=None)
@given(cc=st.sampled_from(ALL_CCS), driver=st.sampled_from(DRIVERS))
def test_single_gpu_refusals_are_justified(cc: str, driver: str) -> None:
    """When select refuses one GPU, no known build covers it on that driver."""
    report = with_nvidia(base_report(), driver, driver_cuda(driver), [("G", cc)])
    out = select(PYTORCH, report, Request("pytorch", accelerator="gpu"))
    if isinstance(out, Plan):
        return
    for release in raw_facts("pytorch")["release"]:
        for v in release.get("variant", []):
            if not v["name"].startswith("cu") or "linux-x86_64" not in v.get("platforms", []):
                continue
            fits = (
                cc_covered(cc, v["archs"], v.get("ptx", []))
                and driver_runs_cuda(driver, driver_cuda(driver), v["cuda"])[0]
            )
            py_ok = any(
                release_python_ok(release, p)
                for p in ("3.13", "3.12", "3.11", "3.10", "3.9", "3.8", "3.7", "3.6")
            )
            assert not (fits and py_ok), (cc, driver, release["version"], v["name"], out.message)


def release_python_ok(release: dict[str, object], minor: str) -> bool:
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(str(release.get("python", ""))).contains(minor + ".0")


def test_reports_round_trip_through_json_and_plan_the_same() -> None:
    from fwsetup.report import SystemReport

    def outcome(report: SystemReport) -> object:
        out = select(PYTORCH, report, Request("pytorch"))
        return out.to_dict()

    for name, report in MACHINES.items():
        again = SystemReport.from_dict(json.loads(report.to_json()))
        assert outcome(again) == outcome(report), name


def test_unknown_cc_is_allowed_with_a_warning() -> None:
    report = records.replace(
        base_report(),
        nvidia=MACHINES["rtx4090-580"].nvidia,
        gpus=[GPU("nvidia", 0, "NVIDIA GeForce ...", None, None)],
    )
    out = select(PYTORCH, report, Request("pytorch", accelerator="gpu"))
    assert isinstance(out, Plan) and any("unknown" in w for w in out.warnings)


def test_aarch64_gets_the_pypi_cuda_wheel_without_an_extra_index() -> None:
    """On Linux aarch64 PyPI's plain torch is a CUDA build from 2.11 (pytorch.toml pypi_default_aarch64):
    that variant comes from PyPI, any other from the PyTorch index."""
    gh200 = [("NVIDIA GH200 480GB", "9.0")]
    new = select(
        PYTORCH, with_nvidia(base_report(arch="aarch64"), "610.57.04", "13.2", gh200), Request("pytorch")
    )
    assert isinstance(new, Plan) and new.variant == "cu132"  # 2.15's pypi_default_aarch64
    assert new.packages == [f"torch==={new.version}"] and new.index_urls == []
    old_driver = plan_for("aarch64-gh200-580", "gpu")  # driver 580 = CUDA 13.0: cu132 does not run
    assert old_driver.variant == "cu130" and old_driver.packages == [f"torch=={old_driver.version}+cu130"]
    assert old_driver.index_urls == ["https://download.pytorch.org/whl/cu130"]


def test_a_release_candidate_pin_is_not_the_release() -> None:
    from fwsetup.plan.select.common import version_matches

    assert version_matches("2.0.0", "2.0") and version_matches("2.0.1", "2.0")
    assert not version_matches("2.0.0", "2.0.0rc1") and version_matches("2.0.0rc1", "2.0.0rc1")
    assert not version_matches("2.0.0rc1", "2.0")  # a prefix never picks a pre-release

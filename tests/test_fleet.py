"""Fleet pieces directly: lock targets matched with select's checks, bundle tags, the lock format,
every export format carrying a lock that reads back, and the one sources translation."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
import yaml
from machines import base_report, with_nvidia

from fwsetup import pipconfig, records
from fwsetup.errors import Refusal
from fwsetup.fleet import bundle, export, formats, fromlock, lockfile
from fwsetup.install.sources import Sources, for_pip, for_uv
from fwsetup.plan import planning
from fwsetup.plan.model import Plan, Request
from fwsetup.report import Libc, SystemReport

REQS = ["six==1.16.0 --hash=sha256:" + "a" * 64]


def gpu_machine(driver: str, cuda: str, cc: str, name: str = "GPU") -> SystemReport:
    return with_nvidia(base_report(), driver, cuda, [(name, cc)])


def locked_for(framework: str, machine: SystemReport, name: str = "fleet") -> lockfile.LockTarget:
    plan = planning.make_plan(framework, machine, Request(framework, accelerator="gpu"))
    assert isinstance(plan, Plan), plan
    return lockfile.target_of(plan, machine, name, REQS)


def minors(report: SystemReport) -> list[str]:
    from fwsetup.plan.select import local_pythons

    return [m for m, _ in local_pythons(report)]


# ------------------------------------------------------------------ matching


def test_jax_cuda12_target_is_refused_on_an_r470_machine() -> None:
    target = locked_for("jax", gpu_machine("550.54.14", "12.4", "8.9", "RTX 4090"))
    assert (target.variant, target.cuda, target.min_driver) == ("cuda12", "12.1", "525.60.13")
    r470 = gpu_machine("470.82.01", "11.4", "8.6", "RTX 3090")
    with pytest.raises(Refusal) as refused:
        fromlock.match([target], r470, minors(r470))
    assert refused.value.exit_code == 3 and refused.value.code == "lock-mismatch"
    assert "cuda12 needs a driver for CUDA 12.1; driver 470.82.01 supports CUDA 11.4" in refused.value.message
    # The same target on a machine whose driver runs it: chosen.
    r550 = gpu_machine("550.54.14", "12.4", "8.6", "RTX 3090")
    assert fromlock.match([target], r550, minors(r550)) is target


def test_jax_driver_floor_beyond_the_cuda_check() -> None:
    target = records.replace(
        locked_for("jax", gpu_machine("550.54.14", "12.4", "8.9")), min_driver="999.1"
    )
    reason = fromlock.why_not(target, gpu_machine("550.54.14", "12.4", "8.9"), ["3.11", "3.12", "3.13"])
    assert reason is not None and "needs driver >= 999.1" in reason


def test_pytorch_target_matches_gpus_by_kernel_coverage_not_by_equality() -> None:
    target = locked_for("pytorch", gpu_machine("550.54.14", "12.4", "8.9", "RTX 4090"))
    assert target.variant == "cu126" and "8.6" in target.archs and target.gpus == ["8.9"]
    ampere = gpu_machine("550.54.14", "12.4", "8.6", "RTX 3090")  # sm_86 kernels: same as locked's
    assert fromlock.why_not(target, ampere, minors(ampere)) is None
    kepler = gpu_machine("550.54.14", "12.4", "3.7", "Tesla K80")
    assert "no kernels for compute capability 3.7" in str(fromlock.why_not(target, kepler, minors(kepler)))
    cpu_only = base_report()
    assert "no usable NVIDIA GPU" in str(fromlock.why_not(target, cpu_only, minors(cpu_only)))


def test_platform_python_and_glibc_are_checked() -> None:
    linux = base_report()
    target = lockfile.target_of(_cpu_plan(), linux, "cpu", REQS)
    assert fromlock.why_not(target, linux, ["3.11"]) is None
    assert "needs Python 3.11" in str(fromlock.why_not(target, linux, ["3.9"]))
    mac = records.replace(
        base_report(system="Darwin", arch="arm64"),
        os=records.replace(linux.os, system="Darwin", arch="arm64", libc=None),
    )
    assert "for linux-x86_64, this is macos-arm64" in str(fromlock.why_not(target, mac, ["3.11"]))
    old = records.replace(linux, os=records.replace(linux.os, libc=Libc("glibc", "2.17")))
    assert "glibc >= 2.28" in str(fromlock.why_not(target, old, ["3.11"]))
    alpine = records.replace(linux, os=records.replace(linux.os, libc=Libc("musl", "1.2.4")))
    assert "wheels for glibc, this machine's C library is musl" in str(
        fromlock.why_not(target, alpine, ["3.11"])
    )
    musl_target = lockfile.target_of(_cpu_plan(), alpine, "alpine", REQS)
    assert (musl_target.musl, musl_target.glibc) == ("1.2.4", None)
    assert fromlock.why_not(musl_target, alpine, ["3.11"]) is None
    assert bundle.platform_tags(musl_target)[0] == "musllinux_1_2_x86_64"
    assert (lockfile.uv_platform(alpine), lockfile.uv_platform(linux)) == (
        "x86_64-unknown-linux-musl",
        "x86_64-manylinux_2_28",
    )


def test_an_old_cuda_target_without_recorded_needs_is_not_guessed_from_its_name() -> None:
    machine = gpu_machine("470.82.01", "11.4", "8.6")
    target = records.replace(locked_for("pytorch", gpu_machine("550.54.14", "12.4", "8.6")), cuda=None)
    assert "does not record the CUDA version" in str(fromlock.why_not(target, machine, minors(machine)))


def test_a_lock_target_becomes_a_plan_for_the_normal_execute_path() -> None:
    target = records.replace(
        lockfile.target_of(_cpu_plan(), base_report(), "cpu", REQS), build_constraints=["setuptools<70"]
    )
    plan = fromlock.plan_of(target, "/usr/bin/python3.11")
    assert (plan.framework, plan.version, plan.python, plan.interpreter) == (
        "tiny",
        "1.16.0",
        "3.11",
        "/usr/bin/python3.11",
    )
    assert plan.build_constraints == ["setuptools<70"] and plan.env == {"TINY_HOME": "{env}"}


def _cpu_plan() -> Plan:
    return Plan(
        framework="tiny",
        version="1.16.0",
        variant="cpu",
        accelerator="cpu",
        python="3.11",
        packages=["six==1.16.0"],
        env={"TINY_HOME": "{env}"},
        smoke="tiny.py",
    )


# ------------------------------------------------------------------ the lock format


def test_lock_round_trips_any_unicode_and_toml_special_text(tmp_path: Path) -> None:
    target = records.replace(
        lockfile.target_of(_cpu_plan(), base_report(), 'rack-🚀 "quoted" \\ back', REQS),
        env={"NOTE": "tab\there\nnewline", "Ä": "ü"},
    )
    path = tmp_path / "l.lock"
    path.write_text(lockfile.dumps("tiny", [target]), encoding="utf-8")
    framework, [back] = lockfile.load(path)
    assert framework == "tiny" and back == target
    assert path.read_text(encoding="utf-8").count("\n") > 15  # one fact per line, diffable


def test_lock_keys_are_checked(tmp_path: Path) -> None:
    good = lockfile.dumps("tiny", [lockfile.target_of(_cpu_plan(), base_report(), "t", REQS)])
    path = tmp_path / "l.lock"
    path.write_text(good.replace('name = "t"', 'name = "t"\ncolour = "red"'), encoding="utf-8")
    with pytest.raises(Exception, match="unknown keys"):
        lockfile.load(path)


# ------------------------------------------------------------------ bundle tags


def _target(
    platform: str, glibc: str | None = "2.28", musl: str | None = None, python: str = "3.11"
) -> lockfile.LockTarget:
    return lockfile.LockTarget(
        name="t",
        framework="tiny",
        version="1",
        variant="cpu",
        accelerator="cpu",
        python=python,
        platform=platform,
        requirements=REQS,
        glibc=glibc,
        musl=musl,
    )


def test_manylinux_tags_with_legacy_aliases_down_to_the_floor() -> None:
    tags = bundle.platform_tags(_target("linux-x86_64", "2.17"))
    assert tags[:2] == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    assert "manylinux2010_x86_64" in tags and "manylinux1_x86_64" in tags and tags[-1] == "linux_x86_64"
    assert not any(t.startswith("manylinux_2_28") for t in tags)
    arm = bundle.platform_tags(_target("linux-aarch64", "2.35"))
    assert arm[0] == "manylinux_2_35_aarch64" and "manylinux2014_aarch64" in arm
    assert not any("manylinux2010" in t or "manylinux_2_16" in t for t in arm)  # no aarch64 wheels that old


def test_musllinux_tags() -> None:
    tags = bundle.platform_tags(_target("linux-x86_64", None, musl="1.2"))
    assert tags == ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64", "linux_x86_64"]


def test_macos_tags_include_10_x_and_universal2() -> None:
    intel = bundle.platform_tags(_target("macos-x86_64", None))
    assert "macosx_10_15_x86_64" in intel and "macosx_10_9_x86_64" in intel and "macosx_14_0_x86_64" in intel
    arm = bundle.platform_tags(_target("macos-arm64", None))
    assert "macosx_11_0_arm64" in arm and "macosx_10_9_universal2" in arm
    assert not any(t.endswith("_arm64") and t.startswith("macosx_10_") for t in arm)


def test_abis_include_abi3_and_none() -> None:
    abis = bundle.abis(_target("linux-x86_64", python="3.11"))
    assert abis[0] == "cp311" and "abi3" in abis and "none" in abis
    assert bundle.platform_tags(_target("windows-amd64", None)) == ["win_amd64"]


# ------------------------------------------------------------------ exports


def _embedded_lock(fmt: str, text: str) -> str:
    """The lock as the exported script writes it: base64 (shell, Dockerfile, workflow), YAML text (cloud-init)."""
    import base64

    if fmt == "cloud-init":
        return str(yaml.safe_load(text)["write_files"][0]["content"])
    if fmt == "github-actions":
        steps = yaml.safe_load(text)["jobs"]["provision"]["steps"]
        text = next(s["run"] for s in steps if s.get("name") == "Write the lock")
    if fmt == "dockerfile":
        b64 = "".join(re.findall(r"^RUN printf '%s' '([A-Za-z0-9+/=]+)' >> fwsetup.lock.b64$", text, re.M))
    else:
        b64 = text.split(f"<<'{export.LOCK_TERMINATOR}'\n", 1)[1].split(export.LOCK_TERMINATOR, 1)[0]
    return base64.b64decode(b64).decode("utf-8")


# The fleet-engine formats carry the lock beside them (tests/test_fleet_engines.py).
@pytest.mark.parametrize("fmt", [f for f in formats.PROVISIONING if f not in ("ansible", "kubernetes", "slurm")])
def test_every_export_embeds_a_lock_that_reads_back(fmt: str, tmp_path: Path) -> None:
    target = lockfile.target_of(_cpu_plan(), base_report(), "rack-🚀", REQS)
    lock_text = lockfile.dumps("tiny", [target])
    text = formats.render(fmt, lock_text, "fwsetup==0.1.0")
    copy = tmp_path / "copy.lock"
    copy.write_text(_embedded_lock(fmt, text), encoding="utf-8")
    assert lockfile.load(copy) == ("tiny", [target])
    assert "fwsetup install --lock fwsetup.lock" in text and "fwsetup==0.1.0" in text


# ------------------------------------------------------------------ sources


def test_one_translation_for_uv_and_pip(tmp_path: Path) -> None:
    settings = pipconfig.PipSettings(
        no_index=True,
        find_links=("/opt/wheels",),
        trusted_hosts=("h.example",),
        client_cert="/me.pem",
        proxy="http://proxy:3128",
        timeout="7.5",
        retries="2",
        constraints=("/user-c.txt",),
    )
    src = Sources(
        extra_index_urls=("https://download.pytorch.org/whl/cpu",),
        build_constraints=("setuptools<70",),
        env_dir=tmp_path,
        settings=settings,
    )
    uv = for_uv(src)
    assert "--no-index" in uv.args and "--index-url" not in uv.args
    cfile = uv.args[uv.args.index("--build-constraint") + 1]
    assert Path(cfile).read_text() == "setuptools<70\n"
    assert uv.args[uv.args.index("--allow-insecure-host") + 1] == "h.example"
    assert uv.args[-2:] == ["--index-strategy", "unsafe-best-match"]
    assert uv.env["SSL_CLIENT_CERT"] == "/me.pem" and uv.env["https_proxy"] == "http://proxy:3128"
    assert uv.env["UV_HTTP_TIMEOUT"] == "8" and uv.env["UV_HTTP_RETRIES"] == "2"
    pip = for_pip(records.replace(src, offline=True))
    assert pip.args == ["--extra-index-url", "https://download.pytorch.org/whl/cpu", "--no-index"]
    assert pip.env["PIP_CONSTRAINT"] == f"/user-c.txt {cfile}" and pip.env["PIP_BUILD_CONSTRAINT"] == cfile
    assert re.search(r"--offline", " ".join(for_uv(records.replace(src, offline=True)).args))


def test_a_hung_bundle_download_is_exit_4_naming_the_limit(tmp_path: Path) -> None:
    from fwsetup.errors import InstallError

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    try:
        target = records.replace(
            _target("linux-x86_64"), index_urls=[f"http://127.0.0.1:{silent.getsockname()[1]}/simple"]
        )
        started = time.monotonic()
        with pytest.raises(InstallError) as failed:
            bundle.download(target, tmp_path / "wh", timeout=3)
        assert time.monotonic() - started < 60
    finally:
        silent.close()
    assert failed.value.exit_code == 4 and failed.value.code == "step-timeout"
    assert "downloading the files of t (pip download) did not finish within 3 s" in failed.value.message

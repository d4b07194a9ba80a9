"""Companions (torchvision made for the planned torch, from the same build), torch's import need
(NumPy), and --with/--without: planned through the real command line over fixture machines."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import ADDITION_KEYS, PLAN_KEYS, cli, json_out
from machines import base_report, machines, write_all

from fwsetup import records
from fwsetup.facts import companions as facts
from fwsetup.plan import companions, recipes
from fwsetup.plan.model import LocalWheel, Plan, Request
from fwsetup.plan.select import select
from fwsetup.report import GPU, RocmInfo

REPO = Path(__file__).resolve().parent.parent
PYTORCH = recipes.find("pytorch")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("machines")
    found = write_all(folder)
    amd = records.replace(
        base_report(),
        rocm=RocmInfo("6.4.1", "opt-rocm-version", ["gfx1100"]),
        gpus=[GPU("amd", 0, "AMD Radeon RX 7900 XTX", 24560, "gfx1100", "reported")],
    )
    (folder / "rx7900-rocm.json").write_text(amd.to_json())
    found["rx7900-rocm"] = folder / "rx7900-rocm.json"
    return found


def dry(report: Path, *args: str) -> Any:
    out = cli("install", "pytorch", "--dry-run", "--json", "--system", str(report), *args)
    assert out.returncode == 0, out.stdout + out.stderr
    return json_out(out)


def added(plan: Any, name: str) -> Any:
    (entry,) = [a for a in plan["companions"] if a["name"] == name]
    assert set(entry) == ADDITION_KEYS
    return entry


@pytest.mark.parametrize(
    ("machine", "args", "label"),
    [
        ("gtx1080ti-580", ("--gpu",), "cu126"),  # CUDA, from the PyTorch index
        ("t4-470", ("--gpu",), "cu118"),
        ("rx7900-rocm", ("--gpu",), "rocm"),  # ROCm
        ("cpu-only-debian12", ("--cpu", "--version", "2.13"), "cpu"),  # CPU, from the CPU index
    ],
)
def test_with_torchvision_pins_the_release_made_for_the_planned_torch_from_the_same_build(
    reports: dict[str, Path], machine: str, args: tuple[str, ...], label: str
) -> None:
    plan = dry(reports[machine], *args, "--with", "torchvision")
    assert set(plan) == PLAN_KEYS
    torch = next(p for p in plan["packages"] if p.startswith("torch=="))
    base, _, build = torch.partition("==")[2].partition("+")
    assert build.startswith(label)
    want = facts.of("pytorch")[0].for_framework(base)
    assert want is not None
    vision = added(plan, "torchvision")
    assert vision["requirement"] == f"torchvision=={want.version}+{build}" in plan["packages"]
    assert vision["asked"] is True and want.requires in vision["why"] and "METADATA" in vision["why"]
    # torchvision 0.(x+15) for torch 2.x, as its METADATA says
    assert want.version.split(".")[1] == str(int(base.split(".")[1]) + 15)
    assert len(plan["index_urls"]) == 1 and build in plan["index_urls"][0]  # one index: torch's


@pytest.mark.parametrize("machine", ["aarch64-gh200-580", "macos-m2"])
def test_pypi_torch_gets_pypis_torchvision(reports: dict[str, Path], machine: str) -> None:
    plan = dry(reports[machine], "--gpu", "--version", "2.14")
    assert "torch===2.14.1" in plan["packages"] and plan["index_urls"] == []
    assert added(plan, "torchvision")["requirement"] == "torchvision===0.29.2"


def test_torchvision_is_a_default_named_in_the_plan_and_skippable(reports: dict[str, Path]) -> None:
    report = reports["gtx1080ti-580"]
    plan = dry(report, "--gpu")
    vision = added(plan, "torchvision")
    assert vision["asked"] is False and vision["requirement"] in plan["packages"]
    assert added(plan, "numpy")["requirement"] == "numpy"  # the import need
    for flags, why in (
        (("--without", "torchvision"), "--without torchvision"),
        (("--with", "none"), "--with none"),
    ):
        skipped = dry(report, "--gpu", *flags)
        entry = added(skipped, "torchvision")
        assert entry["requirement"] is None and why in entry["why"]
        assert not any(p.startswith("torchvision") for p in skipped["packages"])
    text = cli(
        "install", "pytorch", "--gpu", "--dry-run", "--system", str(report), "--without", "torchvision"
    )
    assert "torchvision: not installed (--without torchvision)" in text.stdout


def test_any_package_with_the_build_and_specifiers_keep_their_commas(reports: dict[str, Path]) -> None:
    plan = dry(reports["gtx1080ti-580"], "--gpu", "--with", "transformers>=4.40,<6,accelerate")
    assert plan["packages"][-2:] == ["transformers>=4.40,<6", "accelerate"]
    assert added(plan, "transformers")["asked"] is True


def test_no_companion_for_a_torch_no_torchvision_names(reports: dict[str, Path]) -> None:
    """torch 2.15.0: no torchvision in the table requires it. The default is left out, saying so;
    asked for, it is refused (exit 3) rather than pairing a torchvision made for another torch."""
    plan = dry(reports["aarch64-gh200-580"], "--gpu", "--version", "2.15")
    assert "no torchvision release names torch 2.15.0" in added(plan, "torchvision")["why"]
    out = cli("install", "pytorch", "--gpu", "--version", "2.15", "--with", "torchvision", "--dry-run",
              "--system", str(reports["aarch64-gh200-580"]))  # fmt: skip
    assert out.returncode == 3 and "no torchvision release names torch 2.15.0" in out.stderr


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--with", "torch"), "the framework itself"),
        (("--with", "torchvision==0.20.0"), "follows the framework's build"),
        (("--with", "pkg @ https://example.com/pkg.whl"), "only a name, extras and a version"),
        (("--with", "pkg; python_version<'3'"), "only a name, extras and a version"),
        (("--with", "none,transformers"), "--with none cannot be combined"),
        (("--with", "not a name!"), "not a package requirement"),
        (("--with", ","), "--with is empty"),
        (("--without", "torchaudio"), "not a default companion"),
        (("--without", "a b"), "not a list of package names"),
    ],
)
def test_bad_with_and_without_are_usage_errors(
    reports: dict[str, Path], flags: tuple[str, ...], says: str
) -> None:
    out = cli("install", "pytorch", "--gpu", "--dry-run", "--system", str(reports["gtx1080ti-580"]), *flags)
    assert out.returncode == 2 and says in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_with_on_a_framework_installed_by_apt_is_refused(reports: dict[str, Path]) -> None:
    out = cli(
        "install",
        "caffe",
        "--cpu",
        "--dry-run",
        "--with",
        "six",
        "--system",
        str(reports["cpu-only-debian12"]),
    )
    assert out.returncode in (3,) and "--with needs a pip install" in out.stderr


def _extend(plan: Plan, **kw: Any) -> Plan:
    return companions.extend(plan, PYTORCH, Request("pytorch", **kw))


def test_a_torch_wheel_on_disk_takes_a_torchvision_beside_it_or_names_the_index() -> None:
    torch = LocalWheel(
        "torch", "2.13.0+cpu", ("cp311-cp311-manylinux_2_28_x86_64",), "/w/torch-2.13.0+cpu.whl"
    )
    vision = LocalWheel("torchvision", "0.28.0+cpu", ("cp311-cp311-manylinux_2_28_x86_64",), "/v/tv.whl")
    plan = select(
        PYTORCH, machines()["cpu-only-debian12"], Request("pytorch", accelerator="cpu", local_wheels=(torch,))
    )
    assert isinstance(plan, Plan) and plan.find_links == ["/w"] and plan.index_urls == []
    alone = _extend(plan, local_wheels=(torch,))
    (entry,) = [a for a in alone.companions if a.name == "torchvision"]
    assert (
        entry.requirement is None and "https://download.pytorch.org/whl/cpu" in entry.why
    )  # no download by default
    asked = _extend(plan, local_wheels=(torch,), with_packages=("torchvision",))
    assert "torchvision==0.28.0+cpu" in asked.packages and asked.index_urls == [
        "https://download.pytorch.org/whl/cpu"
    ]
    beside = _extend(plan, local_wheels=(torch, vision))
    assert "torchvision==0.28.0+cpu" in beside.packages and beside.find_links == ["/w", "/v"]


def test_numpy_for_old_torch_is_numpy_1() -> None:
    plan = Plan(
        "pytorch",
        "2.2.2",
        "cpu",
        "cpu",
        "3.11",
        ["torch==2.2.2+cpu"],
        ["https://download.pytorch.org/whl/cpu"],
    )
    assert "numpy<2" in _extend(plan).packages
    new = records.replace(plan, version="2.13.0", packages=["torch==2.13.0+cpu"])
    assert "numpy" in _extend(new).packages and "numpy<2" not in _extend(new).packages


def test_the_companion_rule_reads_series_from_metadata() -> None:
    vision = facts.of("pytorch")[0]
    assert vision.name == "torchvision" and vision.default
    found = {v: vision.for_framework(v) for v in ("2.14.1", "2.14.0", "2.13.0", "2.9.1", "1.13.1", "2.15.0")}
    assert {v: (r.version if r else None) for v, r in found.items()} == {
        "2.14.1": "0.29.2", "2.14.0": "0.29.2", "2.13.0": "0.28.0", "2.9.1": "0.24.1", "1.13.1": "0.14.1",
        "2.15.0": None,
    }  # fmt: skip
    assert facts.table().checked <= datetime.date.today()


def test_the_updater_writes_what_metadata_says(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(REPO / "bin"))
    import companions as generator
    import registry

    releases = {
        "torchvision": {"0.29.1": "torch>=2.14.0", "0.28.0": "torch==2.13.0", "0.30.0rc1": "torch==2.15.0"},
        "torchaudio": {"2.11.1": "torch>=2.11"},
    }

    def fake_releases(fetcher: object, project: str) -> dict[str, list[registry.File]]:
        return {
            v: [
                registry.File(
                    f"{project}-{v}-cp311-cp311-linux_x86_64.whl",
                    f"https://x/{project}/{v}",
                    1,
                    None,
                    False,
                    True,
                )
            ]
            for v in releases[project]
        }

    def fake_metadata(fetcher: object, wheel: registry.File) -> Any:
        import email.message

        project, version = wheel.url.rsplit("/", 2)[1:]
        meta = email.message.Message()
        meta["Requires-Dist"] = "numpy"
        meta["Requires-Dist"] = releases[project][version]
        return meta

    monkeypatch.setattr(registry, "releases", fake_releases)
    monkeypatch.setattr(registry, "wheel_metadata", fake_metadata)
    text = generator.generate(object(), datetime.date(2026, 12, 1))
    table = facts.schema.parse(facts.CompanionTable, text, "companions.toml")
    vision = table.companion[0]
    assert [(r.version, r.requires) for r in vision.release] == [
        ("0.29.1", "torch>=2.14.0"),
        ("0.28.0", "torch==2.13.0"),
    ]
    assert vision.for_framework("2.14.1") is not None and table.checked == datetime.date(2026, 12, 1)


def test_with_packages_are_locked_with_hashes_per_target_and_exported(tmp_path: Path) -> None:
    """`lock --with`: each target resolves the extra package with the framework (hashes for its own
    platform), and the requirements and pylock exports carry it."""
    from helpers import fwsetup, tiny_env

    linux = records.replace(base_report(), os=records.replace(base_report().os, distro_id="debian"))
    mac = base_report(system="Darwin", arch="arm64")
    (tmp_path / "linux.json").write_text(linux.to_json())
    (tmp_path / "mac.json").write_text(mac.to_json())
    env = tiny_env(tmp_path / "home")
    lock = tmp_path / "tiny.lock"
    out = fwsetup("lock", "tiny", "--cpu", "--with", "iniconfig", "--system", str(tmp_path / "linux.json"),
                  "--system", str(tmp_path / "mac.json"), "-o", str(lock), "--json", env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    from fwsetup.fleet import lockfile

    _, targets = lockfile.load(lock)
    assert len(targets) == 2
    for target in targets:
        (line,) = [r for r in target.requirements if r.startswith("iniconfig==")]
        assert "--hash=sha256:" in line
    for fmt, want in (("requirements", "iniconfig=="), ("pylock", 'name = "iniconfig"')):
        exported = fwsetup(
            "export", "--lock", str(lock), "--format", fmt, "--target", targets[0].name, env=env
        )
        assert exported.returncode == 0 and want in exported.stdout, exported.stderr


@pytest.mark.parametrize(
    ("need", "says"),
    [
        ({"requirement": "numpy @ https://x/n.whl", "why": "w"}, "a URL requirement is not allowed"),
        ({"requirement": "not a req!", "why": "w"}, "is not a requirement"),
        ({"requirement": "numpy", "why": "w", "framework": "2.x"}, "is not a version specifier"),
        ({"requirement": "numpy"}, "why"),
    ],
)
def test_a_bad_import_need_is_a_recipe_error_naming_the_key(need: dict[str, str], says: str) -> None:
    from fwsetup.errors import RecipeError

    data = {"name": "t", "display_name": "T", "era": "modern", "status": "supported", "summary": "s",
            "source": "tests", "selector": "pytorch", "import_needs": [need]}  # fmt: skip
    with pytest.raises(RecipeError) as err:
        recipes.parse_recipe(data, "t.toml")
    assert "import_needs[0]" in err.value.message and says in err.value.message


def test_a_companion_the_facts_do_not_know_is_a_recipe_error() -> None:
    from fwsetup.errors import RecipeError

    odd = records.replace(PYTORCH, companions=("torchvision", "torchtext"))
    plan = Plan(
        "pytorch",
        "2.13.0",
        "cpu",
        "cpu",
        "3.11",
        ["torch==2.13.0+cpu"],
        ["https://download.pytorch.org/whl/cpu"],
    )
    with pytest.raises(RecipeError) as err:
        companions.extend(plan, odd, Request("pytorch"))
    assert "torchtext" in err.value.message

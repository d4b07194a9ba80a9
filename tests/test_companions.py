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

from fwsetup import records, versions
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


def test_an_explicit_with_steps_back_to_the_newest_release_it_was_made_for(
    monkeypatch: pytest.MonkeyPatch, reports: dict[str, Path]
) -> None:
    """The weeks between a torch release and its torchvision: `--with torchvision` gets the newest
    torch that has one (pip would pair the new torch with the old torchvision), saying what it
    skipped; a --version, or the default companion, never steps back. The table is cut at the
    planned release so this holds whatever the registry says the day the data is refreshed."""
    from fwsetup.plan import planning

    report = machines()["rtx4090-580"]
    request = Request(framework="pytorch", accelerator="gpu")
    newest = planning.make_plan("pytorch", report, request)
    assert isinstance(newest, Plan)
    top = newest.version.split("+")[0]
    series = ".".join(top.split(".")[:2])
    cut = [
        records.replace(
            c, release=tuple(r for r in c.release if not (r.floor(c.package) or "").startswith(series + "."))
        )
        for c in facts.table().companion
    ]
    monkeypatch.setattr(facts, "table", lambda: facts.CompanionTable(tuple(cut), datetime.date.today()))
    asked = records.replace(request, with_packages=("torchvision",))
    plan = planning.make_plan("pytorch", report, asked)
    assert isinstance(plan, Plan), plan
    older = plan.version.split("+")[0]
    assert not older.startswith(series + ".") and versions.key(older) < versions.key(top)
    vision = next(p for p in plan.packages if p.startswith("torchvision"))
    release = next(c for c in facts.of("pytorch") if c.name == "torchvision").for_framework(older)
    assert release is not None and release.version in vision
    (why,) = [r for r in plan.reasons if r.startswith(f"PyTorch {plan.version}: ")]
    assert "newest release that --with torchvision fits" in why and f"(skipped {newest.version}: no torchvision" in why
    pinned = planning.make_plan("pytorch", report, records.replace(asked, version=series))
    assert not isinstance(pinned, Plan) and "no torchvision release names" in pinned.message
    default = planning.make_plan("pytorch", report, request)
    assert isinstance(default, Plan) and default.version == newest.version
    assert any(a.name == "torchvision" and a.requirement is None for a in default.companions)


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
    """Each release's framework line as its METADATA says it (markers read as on Linux x86_64, so
    tensorflow-text 2.15.0's `tensorflow-macos` line for macOS arm64 is not the one written), and
    for a companion built once on PyPI the tags of its wheels, sorted, yanked ones left out."""
    sys.path.insert(0, str(REPO / "bin"))
    import companions as generator
    import registry

    mac = '; platform_machine == "arm64" and platform_system == "Darwin"'
    not_mac = '; platform_machine != "arm64" or platform_system != "Darwin"'
    releases: dict[str, dict[str, list[str]]] = {
        "torchvision": {
            "0.29.1": ["torch>=2.14.0"],
            "0.28.0": ["torch==2.13.0"],
            "0.30.0rc1": ["torch==2.15.0"],
        },
        "torchaudio": {"2.11.1": ["torch>=2.11"]},
        "tensorflow-text": {
            "2.18.1": ["tensorflow<2.19,>=2.18.0", 'tensorflow-cpu<2.19,>=2.18.0; extra == "tensorflow-cpu"'],
            "2.15.0": [f"tensorflow-macos (<2.16,>=2.15.0) {mac}", f"tensorflow (<2.16,>=2.15.0) {not_mac}"],
        },
        "tf-keras": {"2.18.0": ["tensorflow <2.19,>=2.18"], "2.14.1": []},  # 2.14.1 names no tensorflow
        "tensorflow-decision-forests": {"1.10.1": ["tensorflow==2.17.1", "tf_keras~=2.17"]},
    }
    tags = {
        "tensorflow-text": ["cp311-cp311-manylinux_2_17_x86_64", "cp310-cp310-macosx_11_0_arm64"],
        "tf-keras": ["py3-none-any"],
        "tensorflow-decision-forests": ["cp311-cp311-manylinux_2_17_x86_64"],
    }

    def fake_releases(fetcher: object, project: str) -> dict[str, list[registry.File]]:
        files = {}
        for v in releases[project]:
            wheels = [f"{project}-{v}-{t}.whl" for t in tags.get(project, ["cp311-cp311-linux_x86_64"])]
            files[v] = [
                registry.File(w, f"https://x/{project}/{v}/{w}", 1, None, False, True) for w in wheels
            ]
            files[v].append(
                registry.File(f"{project}-{v}-cp39-cp39-win_amd64.whl", "https://x/y", 1, None, True, True)
            )
        return files

    def fake_metadata(fetcher: object, wheel: registry.File) -> Any:
        import email.message

        project, version = wheel.url.split("/")[3:5]
        meta = email.message.Message()
        meta["Requires-Dist"] = "numpy"
        for line in releases[project][version]:
            meta["Requires-Dist"] = line
        return meta

    monkeypatch.setattr(registry, "releases", fake_releases)
    monkeypatch.setattr(registry, "wheel_metadata", fake_metadata)
    text = generator.generate(object(), datetime.date(2026, 12, 1))
    table = facts.schema.parse(facts.CompanionTable, text, "companions.toml")
    vision = table.companion[0]
    assert [(r.version, r.requires, r.wheels) for r in vision.release] == [
        ("0.29.1", "torch>=2.14.0", ()),
        ("0.28.0", "torch==2.13.0", ()),
    ]
    assert vision.for_framework("2.14.1") is not None and table.checked == datetime.date(2026, 12, 1)
    by_name = {c.name: c for c in table.companion}
    text_ = by_name["tensorflow-text"]
    assert not text_.per_variant and text_.instead_of == ("tensorflow-cpu",)
    assert [(r.version, r.requires, r.wheels) for r in text_.release] == [
        (
            "2.18.1",
            "tensorflow<2.19,>=2.18.0",
            ("cp310-cp310-macosx_11_0_arm64", "cp311-cp311-manylinux_2_17_x86_64"),
        ),
        (
            "2.15.0",
            "tensorflow<2.16,>=2.15.0",
            ("cp310-cp310-macosx_11_0_arm64", "cp311-cp311-manylinux_2_17_x86_64"),
        ),
    ]
    keras = by_name["tf-keras"]
    assert [(r.version, r.requires, r.pure) for r in keras.release] == [
        ("2.18.0", "tensorflow<2.19,>=2.18", True)
    ]
    (forests,) = by_name["tensorflow-decision-forests"].release
    assert forests.requires == "tensorflow==2.17.1" and not forests.pure
    assert generator.generate(object(), datetime.date(2026, 12, 1)) == text  # deterministic


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


# ------------------------------------------------------------------ TensorFlow's companions

TENSORFLOW = recipes.find("tensorflow")


def tf_dry(report: Path, *args: str) -> Any:
    out = cli("install", "tensorflow", "--dry-run", "--json", "--system", str(report), *args)
    assert out.returncode == 0, out.stdout + out.stderr
    return json_out(out)


def tf_refused(report: Path, *args: str) -> Any:
    out = cli("install", "tensorflow", "--dry-run", "--json", "--system", str(report), *args)
    assert out.returncode == 3, out.stdout + out.stderr
    return json_out(out)["error"]


def _companion(name: str) -> facts.Companion:
    (found,) = [c for c in facts.of("tensorflow") if c.name == name]
    return found


@pytest.mark.parametrize(
    ("version", "text", "keras"),
    [("2.16", "2.16.1", "2.16.0"), ("2.18", "2.18.1", "2.18.0"), (None, "2.21.1", "2.21.0")],
)
def test_tensorflow_text_and_tf_keras_follow_the_planned_tensorflow(
    reports: dict[str, Path], version: str, text: str, keras: str
) -> None:
    """The release each METADATA names for the planned minor, installed beside `tensorflow` itself:
    both require the distribution named tensorflow, so tensorflow-cpu (the CPU plan's package)
    beside them would be a second TensorFlow."""
    pinned = ("--version", version) if version else ()
    alone = tf_dry(reports["cpu-only-debian12"], "--cpu", *pinned)
    planned = alone["version"]
    assert alone["packages"][0] == f"tensorflow-cpu=={planned}" and alone["companions"] == []
    plan = tf_dry(reports["cpu-only-debian12"], "--cpu", *pinned, "--with", "tensorflow-text,tf-keras")
    assert set(plan) == PLAN_KEYS and plan["version"] == planned
    assert plan["packages"][0] == f"tensorflow=={planned}"
    assert not any(p.startswith("tensorflow-cpu") for p in plan["packages"])
    for name, want in (("tensorflow-text", text), ("tf-keras", keras)):
        release = _companion(name).for_framework(planned)
        assert release is not None and release.version == want
        entry = added(plan, name)
        assert entry["requirement"] == f"{name}=={want}" in plan["packages"] and entry["asked"] is True
        assert release.requires in entry["why"] and "METADATA" in entry["why"]
    assert any(
        r.startswith(f"tensorflow=={planned} in place of tensorflow-cpu=={planned}: tensorflow-text requires")
        for r in plan["reasons"]
    )
    assert not any(r.startswith("tensorflow-cpu: ") for r in plan["reasons"])
    assert plan["index_urls"] == []


@pytest.mark.parametrize(
    ("machine", "args", "framework"),
    [
        (
            "rtx4090-580",
            ("--gpu",),
            "tensorflow[and-cuda]==2.21.0",
        ),  # already the distribution named tensorflow
        ("macos-m2", ("--gpu",), "tensorflow==2.21.0"),
        ("aarch64-gh200-580", ("--cpu",), "tensorflow==2.21.0"),
    ],
)
def test_a_plan_that_installs_tensorflow_keeps_its_build(
    reports: dict[str, Path], machine: str, args: tuple[str, ...], framework: str
) -> None:
    alone = tf_dry(reports[machine], *args)
    plan = tf_dry(reports[machine], *args, "--with", "tensorflow-text")
    assert plan["packages"] == [*alone["packages"], "tensorflow-text==2.21.1"]
    assert plan["packages"][0] == framework and plan["variant"] == alone["variant"]
    assert not any(" in place of " in r for r in plan["reasons"])


def test_tf_keras_is_the_release_tensorflow_toml_names() -> None:
    """companions.toml (generated from tf-keras's METADATA) and tensorflow.toml's hand-verified
    tf_keras column agree for every TensorFlow that has one."""
    from fwsetup.facts import tensorflow

    keras = _companion("tf-keras")
    named = [(r.version, r.tf_keras) for r in tensorflow.table().release if r.tf_keras]
    assert len(named) >= 7
    for version, tf_keras in named:
        found = keras.for_framework(version)
        assert found is not None and found.version == tf_keras, version


def test_the_rule_reads_the_lower_bound_of_a_range() -> None:
    text = _companion("tensorflow-text")
    found = {v: (r.version if r else None) for v in ("2.13.1", "2.16.2", "2.18.1", "2.20.0", "2.21.0", "2.22.0")
             for r in [text.for_framework(v)]}  # fmt: skip
    assert found == {"2.13.1": "2.13.0", "2.16.2": "2.16.1", "2.18.1": "2.18.1", "2.20.0": "2.20.1",
                     "2.21.0": "2.21.1", "2.22.0": None}  # fmt: skip
    forests = _companion("tensorflow-decision-forests")
    assert [r.version for r in forests.series("2.18.1")] == ["1.11.0"]  # names 2.18.0 exactly: not 2.18.1
    assert forests.for_framework("2.18.1") is None and forests.for_framework("2.17.1").version == "1.10.1"  # type: ignore[union-attr]
    assert _companion("tf-keras").release[0].pure and not text.release[0].pure


@pytest.mark.parametrize(
    ("args", "message", "fix"),
    [
        (
            ("--version", "2.14", "--with", "tf-keras"),
            "no tf-keras release names tensorflow 2.14.1",
            "--version",
        ),
        (
            ("--version", "2.18", "--with", "tensorflow-decision-forests"),
            "its release for the 2.18 series, 1.11.0, requires tensorflow==2.18.0",
            "without --with tensorflow-decision-forests",
        ),
        (
            ("--version", "2.16", "--python", "3.12", "--with", "tensorflow-text"),
            "tensorflow-text 2.16.1 (made for tensorflow 2.16.2) has no wheel for Python 3.12",
            "pass --python 3.11",
        ),
    ],
)
def test_no_matching_tensorflow_companion_is_refused(
    reports: dict[str, Path], args: tuple[str, ...], message: str, fix: str
) -> None:
    """As for torch: a companion asked for that no release fits is exit 3, never one made for
    another TensorFlow."""
    error = tf_refused(reports["cpu-only-debian12"], "--cpu", *args)
    assert message in error["message"] and fix in error["fix"], error


def test_a_machine_no_tensorflow_text_wheel_serves_is_refused_naming_what_would(tmp_path: Path) -> None:
    from fwsetup.report import Libc

    old = records.replace(base_report(), os=records.replace(base_report().os, libc=Libc("glibc", "2.26")))
    (tmp_path / "al2.json").write_text(old.to_json())
    error = tf_refused(tmp_path / "al2.json", "--cpu", "--version", "2.21", "--with", "tensorflow-text")
    assert "no wheel for Python 3.11 on linux-x86_64 (glibc 2.26)" in error["message"]
    assert "manylinux_2_27_x86_64" in error["message"]
    assert "pick --version 2.20 (2.20.0 with tensorflow-text==2.20.1)" in error["fix"]
    assert "tf-keras==2.21.0" in tf_dry(tmp_path / "al2.json", "--cpu", "--with", "tf-keras")["packages"]
    stepped = tf_dry(tmp_path / "al2.json", "--cpu", "--with", "tensorflow-text")  # no --version: 2.20
    assert stepped["version"] == "2.20.0" and "tensorflow-text==2.20.1" in stepped["packages"]
    assert any("(skipped 2.21.0: tensorflow-text 2.21.1 has no wheel here)" in r for r in stepped["reasons"]), stepped["reasons"]
    windows = base_report(system="Windows", arch="AMD64")
    (tmp_path / "win.json").write_text(windows.to_json())
    error = tf_refused(tmp_path / "win.json", "--cpu", "--with", "tensorflow-text")
    assert "windows-amd64" in error["message"] and "pick --version 2.10 (2.10.1 with tensorflow-text==2.10.0)" in error["fix"]


def test_no_tensorflow_companion_is_a_default() -> None:
    assert not any(c.default for c in facts.of("tensorflow"))
    assert set(TENSORFLOW.companions) == {c.name for c in facts.of("tensorflow")}
    assert facts.of("jax") == ()


def test_tensorflow_smoke_runs_each_installed_companion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The smoke script's companion checks, wherever the module is installed: one that runs, one
    whose compiled ops do not load (the import error of a tensorflow-text built for another
    TensorFlow), and one that is not there (no check)."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location(
        "fwsetup_tf_smoke", REPO / "recipes" / "smoke" / "tensorflow.py"
    )
    assert spec is not None and spec.loader is not None
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    (tmp_path / "tensorflow_text").mkdir()
    (tmp_path / "tensorflow_text" / "__init__.py").write_text(
        "raise ImportError('_regex_split_ops.so: undefined symbol: _ZN10tensorflow12OpDefBuilder10SetShapeFn')\n"
    )
    (tmp_path / "tf_keras").mkdir()
    (tmp_path / "tf_keras" / "__init__.py").write_text(
        "class _Out:\n    def __init__(self, v): self.v = v\n    def numpy(self): return self\n"
        "    def tolist(self): return self.v\n"
        "class _Dense:\n    def __init__(self, units, **kw): self.kw = kw\n"
        "    def __call__(self, x): return _Out([[2.0]] if self.kw['kernel_initializer'] == 'ones' else x)\n"
        "class layers:\n    Dense = _Dense\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    tf = types.SimpleNamespace(ones=lambda shape: [[1.0] * shape[1]])
    checks = smoke._companions(tf)
    assert checks == {"tensorflow_text_tokenize": False, "tf_keras_dense": True}


def _series(version: str) -> tuple[int, ...]:
    return versions.release(version.split("+")[0], 2)


@pytest.mark.parametrize("machine", ["rtx4090-580", "l40s-595"])
def test_a_step_back_names_every_release_it_skipped_and_a_changed_build(
    reports: dict[str, Path], machine: str
) -> None:
    """--with torchvision,torchaudio: torchaudio has no release for some series torchvision has;
    the one reason names each series between the newest and the plan, and a build (cu132 → cu130
    on l40s-595) or Python unlike the newest plan's."""
    newest = dry(reports[machine], "--gpu")
    plan = dry(reports[machine], "--gpu", "--with", "torchvision,torchaudio")
    if plan["version"] == newest["version"]:
        pytest.skip("the newest torch has both companions in this table")
    (why,) = [r for r in plan["reasons"] if r.startswith(f"PyTorch {plan['version']}: newest release that")]
    low, high = _series(plan["version"]), _series(newest["version"])
    assert f"skipped {newest['version']}: " in why, why
    between = {
        versions.release(r.floor("torch") or "", 2)
        for c in facts.of("pytorch")
        for r in c.release
    }
    for series in sorted(s for s in between if low < s < high and len(s) == 2):
        assert ".".join(map(str, series)) in why, (series, why)
    if plan["variant"] != newest["variant"]:
        assert f"the {plan['variant']} build, not the {newest['variant']} build {newest['version']}" in why
    else:
        assert " build, not the " not in why
    if plan["python"] != newest["python"]:
        assert f"Python {plan['python']}, not the {newest['python']}" in why


def test_a_step_back_the_selection_refuses_says_so(reports: dict[str, Path]) -> None:
    """--python 3.15 --with torchvision: the torch that has one cannot run on 3.15; the fix says
    that rather than sending the user to a --version that fails too."""
    out = cli("install", "pytorch", "--gpu", "--dry-run", "--json", "--system", str(reports["rtx4090-580"]),
              "--python", "3.15", "--with", "torchvision")  # fmt: skip
    if out.returncode == 0:
        pytest.skip("a torch with torchvision runs on Python 3.15 in this table")
    error = json_out(out)["error"]
    assert out.returncode == 3 and "the newest series with torchvision, cannot run here:" in error["fix"]
    assert "Python 3.15" in error["fix"] and "pick a --version" not in error["fix"], error


def test_a_companion_pin_fix_does_not_name_a_torch_with_none(reports: dict[str, Path]) -> None:
    out = cli("install", "pytorch", "--gpu", "--dry-run", "--system", str(reports["rtx4090-580"]),
              "--with", "torchvision==0.22.1")  # fmt: skip
    assert out.returncode == 2 and "the release made for the planned PyTorch" in out.stderr, out.stderr
    assert "pytorch 2." not in out.stderr


@pytest.mark.parametrize("machine", ["macos-m2", "cpu-only-debian12", "rtx4090-580"])
@pytest.mark.parametrize("version", [None, "2.19", "2.21", "2.18", "2.17"])
def test_a_suggested_version_is_one_that_plans(reports: dict[str, Path], machine: str, version: str) -> None:
    """Every --version or --python a companion refusal suggests plans with the companion when the
    user follows it (TF Decision Forests 1.12.0 names tensorflow==2.19.0, a patch fwsetup does not
    plan: `--version 2.19` is never the way out)."""
    import re

    args = ("--with", "tensorflow-decision-forests", *(("--version", version) if version else ()))
    out = cli("install", "tensorflow", "--dry-run", "--json", "--system", str(reports[machine]), *args)
    if out.returncode == 0:
        assert any(p.startswith("tensorflow-decision-forests==") for p in json_out(out)["packages"])
        return
    assert out.returncode == 3, out.stdout + out.stderr
    fix = json_out(out)["error"]["fix"]
    assert "--version 2.19 " not in fix, fix
    for flag, value in re.findall(r"(--version|--python) (\S+) \(", fix):
        base = [a for a in args if a not in ("--version", version)] if flag == "--version" else list(args)
        planned = tf_dry(reports[machine], *base, flag, value)
        assert any(p.startswith("tensorflow-decision-forests==") for p in planned["packages"]), fix

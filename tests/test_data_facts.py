"""Pinned, sourced facts in fwsetup/facts/{pytorch,tensorflow,jax}.toml.

Each assertion here restates something a data file cites (PyPI wheel metadata, the compiled
arch list of a wheel, RELEASE.md, vendor docs). If one fails after a data edit, the edit
contradicts its source: fix the data, not the test, unless a newer source says otherwise.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest
from helpers import raw_facts
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from fwsetup import records
from fwsetup.facts import schema, tensorflow

PLATFORMS = {"linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64", "macos-x86_64"}


def vt(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


# ------------------------------------------------------------------ helpers


def torch_releases() -> list[dict[str, Any]]:
    return list(raw_facts("pytorch")["release"])


def torch_release(minor: str) -> dict[str, Any]:
    for r in torch_releases():
        if r["version"] == minor or r["version"].startswith(minor + "."):
            return r
    raise AssertionError(f"torch {minor} missing from pytorch.toml")


def torch_variant(minor: str, name: str, platform: str = "linux-x86_64") -> Optional[dict[str, Any]]:
    for v in torch_release(minor).get("variant", []):
        if v["name"] == name and platform in v.get("platforms", []):
            found: dict[str, Any] = v
            return found
    return None


def tf_release(minor: str) -> dict[str, Any]:
    for r in raw_facts("tensorflow")["release"]:
        if r["version"] == minor or r["version"].startswith(minor + "."):
            release: dict[str, Any] = r
            return release
    raise AssertionError(f"tensorflow {minor} missing from tensorflow.toml")


def jax_extra(name: str) -> dict[str, Any]:
    for e in raw_facts("jax")["cuda_extra"]:
        if e["name"] == name:
            extra: dict[str, Any] = e
            return extra
    raise AssertionError(f"jax extra {name} missing")


# ------------------------------------------------------------------ shape of every file


@pytest.mark.parametrize("name", ["pytorch", "tensorflow", "jax"])
def test_versions_and_python_specifiers_parse(name: str) -> None:
    releases = raw_facts(name)["release"]
    assert releases
    seen = set()
    for r in releases:
        Version(r["version"])
        assert r["version"] not in seen, f"{name} {r['version']} listed twice"
        seen.add(r["version"])
        spec = SpecifierSet(r["python"])
        assert list(spec), f"{name} {r['version']}: empty python specifier"


@pytest.mark.parametrize("name", ["pytorch", "tensorflow", "jax"])
def test_every_entry_has_a_source(name: str) -> None:
    table = raw_facts(name)
    entries: list[dict[str, Any]] = list(table["release"])
    for r in table["release"]:
        entries.extend(r.get("variant", []))
    entries.extend(table.get("cuda_extra", []))
    for e in entries:
        assert isinstance(e.get("source"), str) and e["source"].strip(), (
            f"{name}: no source on {e.get('version') or e.get('name')}"
        )
        if "verified" in e:
            assert isinstance(e["verified"], bool)
        if e.get("verified") is False:
            assert e.get("note") or "THIRDPARTY" in e["source"] or "assumed" in e["source"], (
                f"{name}: unverified entry {e.get('version') or e.get('name')} should say why in a note"
            )


@pytest.mark.parametrize("name", ["pytorch", "tensorflow", "jax"])
def test_platforms_are_known(name: str) -> None:
    table = raw_facts(name)
    entries: list[dict[str, Any]] = list(table["release"])
    for r in table["release"]:
        entries.extend(r.get("variant", []))
    entries.extend(table.get("cuda_extra", []))
    for e in entries:
        for key in ("platforms", "gpu_platforms", "cuda_platforms"):
            assert set(e.get(key, [])) <= PLATFORMS, (
                f"{name} {e.get('version') or e.get('name')}: {e.get(key)}"
            )


# ------------------------------------------------------------------ PyTorch


def test_torch_covers_1_13_through_2_15() -> None:
    minors = {".".join(r["version"].split(".")[:2]) for r in torch_releases()}
    expected = {"1.13"} | {f"2.{n}" for n in range(0, 16)}
    assert expected <= minors


def test_every_torch_release_has_a_cpu_variant_everywhere() -> None:
    for r in torch_releases():
        cpu = [v for v in r["variant"] if v["name"] == "cpu"]
        assert len(cpu) == 1, r["version"]
        assert {"linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64"} <= set(cpu[0]["platforms"])
        assert "cuda" not in cpu[0] and not cpu[0]["archs"]


def test_variant_names_agree_with_cuda_and_rocm_versions() -> None:
    for r in torch_releases():
        for v in r["variant"]:
            name = v["name"]
            if name.startswith("cu"):
                assert name == "cu" + v["cuda"].replace(".", ""), (r["version"], name, v["cuda"])
                assert "rocm" not in v
            elif name.startswith("rocm"):
                assert name == "rocm" + v["rocm"], (r["version"], name)
                assert "cuda" not in v and v["platforms"] == ["linux-x86_64"]
            elif name == "xpu":  # Intel GPU builds, 2.5+ (facts/xpu.toml)
                assert v["xpu"] is True and "cuda" not in v and "rocm" not in v, r["version"]
                assert tuple(int(x) for x in r["version"].split(".")[:2]) >= (2, 5)
            else:
                assert name == "cpu", (r["version"], name)
            if "index_url" in v:
                assert v["index_url"] == f"https://download.pytorch.org/whl/{name}"


def test_arch_lists_are_well_formed() -> None:
    for r in torch_releases():
        for v in r["variant"]:
            archs = v.get("archs", [])
            assert archs == sorted(archs, key=vt), (r["version"], v["name"], archs)
            assert set(v.get("ptx", [])) <= set(archs), (r["version"], v["name"])
            for a in archs:
                assert vt(a) >= (3, 5), a
            if v["name"].startswith("cu"):
                assert archs, (r["version"], v["name"])


def test_pypi_default_is_a_cuda_variant_of_that_release() -> None:
    for r in torch_releases():
        assert torch_variant(r["version"], r["pypi_default"]) is not None, r["version"]
        if "pypi_default_aarch64" in r:
            assert torch_variant(r["version"], r["pypi_default_aarch64"], "linux-aarch64") is not None


@pytest.mark.parametrize(
    "minor, default",
    [
        ("1.13", "cu117"),
        ("2.0", "cu117"),
        ("2.1", "cu121"),
        ("2.4", "cu121"),
        ("2.5", "cu124"),
        ("2.6", "cu124"),
        ("2.7", "cu126"),
        ("2.8", "cu128"),
        ("2.10", "cu128"),
        ("2.11", "cu130"),
        ("2.14", "cu130"),
        ("2.15", "cu132"),
    ],
)
def test_pypi_default_variant(minor: str, default: str) -> None:
    # From the Requires-Dist pins / torch/version.py of the PyPI Linux x86_64 wheels.
    assert torch_release(minor)["pypi_default"] == default


def test_torch_2_8_cu128_has_volta_but_not_pascal() -> None:
    v = torch_variant("2.8", "cu128")
    assert v is not None
    assert "7.0" in v["archs"]
    assert "6.1" not in v["archs"] and "6.0" not in v["archs"]
    assert "12.0" in v["archs"] and "10.0" in v["archs"]


def test_torch_2_7_cu128_lacks_volta() -> None:
    v = torch_variant("2.7", "cu128")
    assert v is not None
    assert "7.0" not in v["archs"]
    assert v["archs"][0] == "7.5"
    assert v["ptx"] == ["12.0"]


def test_torch_2_11_cu128_dropped_volta_again() -> None:
    v = torch_variant("2.11", "cu128")
    assert v is not None and "7.0" not in v["archs"]
    assert "7.0" in torch_variant("2.10", "cu128")["archs"]  # type: ignore[index]


def test_cu126_keeps_maxwell_and_pascal() -> None:
    found = 0
    for r in torch_releases():
        v = torch_variant(r["version"], "cu126")
        if v is None:
            continue
        found += 1
        assert "5.0" in v["archs"] and "6.0" in v["archs"] and "7.0" in v["archs"], r["version"]
        assert "10.0" not in v["archs"] and "12.0" not in v["archs"], r["version"]
    assert found >= 8


def test_cu118_last_ships_in_2_7_and_has_kepler_and_hopper() -> None:
    with_cu118 = [r["version"] for r in torch_releases() if torch_variant(r["version"], "cu118")]
    assert max(with_cu118, key=vt).startswith("2.7.")
    v = torch_variant("2.7", "cu118")
    assert v is not None and "3.7" in v["archs"] and "9.0" in v["archs"]


def test_cuda13_variants_never_target_pre_turing() -> None:
    for r in torch_releases():
        for v in r["variant"]:
            if v.get("cuda", "").startswith("13."):
                assert vt(v["archs"][0]) >= (7, 5), (r["version"], v["name"])


def test_cu126_gone_in_2_15() -> None:
    assert torch_variant("2.15", "cu126") is None
    assert torch_variant("2.14", "cu126") is not None


def test_blackwell_needs_cu128_or_newer() -> None:
    for r in torch_releases():
        for v in r["variant"]:
            if "12.0" in v.get("archs", []):
                assert vt(v["cuda"]) >= (12, 8), (r["version"], v["name"])


def test_aarch64_cuda_builds_are_separate_and_smaller() -> None:
    v = torch_variant("2.11", "cu130", "linux-aarch64")
    assert v is not None
    assert v["archs"] == ["8.0", "9.0", "10.0", "11.0", "12.0"]
    assert "linux-aarch64" not in torch_variant("2.11", "cu130")["platforms"]  # type: ignore[index]


def test_torch_python_ranges() -> None:
    assert "3.9" not in SpecifierSet(torch_release("2.9")["python"])
    assert "3.14" in SpecifierSet(torch_release("2.9")["python"])
    assert "3.13" in SpecifierSet(torch_release("2.5")["python"])
    assert "3.8" in SpecifierSet(torch_release("2.4")["python"])
    assert "3.10" not in SpecifierSet(torch_release("2.15")["python"])


def test_rocm_variants_list_gfx_or_are_flagged() -> None:
    for r in torch_releases():
        for v in r["variant"]:
            if v["name"].startswith("rocm"):
                assert v.get("gfx") or v.get("verified") is False, (r["version"], v["name"])
                for g in v.get("gfx", []):
                    assert g.startswith("gfx")


# ------------------------------------------------------------------ TensorFlow


def test_tf_covers_1_15_and_2_0_through_2_20() -> None:
    minors = {".".join(r["version"].split(".")[:2]) for r in raw_facts("tensorflow")["release"]}
    assert {"1.15"} | {f"2.{n}" for n in range(0, 21)} <= minors


def test_tf_keras_major() -> None:
    for r in raw_facts("tensorflow")["release"]:
        expected = "3" if vt(r["version"])[:2] >= (2, 16) else "2"
        assert r["keras"] == expected, r["version"]
        if vt(r["version"])[:2] >= (2, 16):
            assert r["tf_keras"].startswith(".".join(r["version"].split(".")[:2]))


def test_tf_gpu_packages() -> None:
    assert tf_release("1.15")["gpu_package"] == "tensorflow-gpu"
    assert tf_release("2.0")["gpu_package"] == "tensorflow-gpu"
    assert tf_release("2.1")["gpu_package"] == "tensorflow"
    assert tf_release("2.13")["gpu_package"] == "tensorflow"
    for minor in ("2.15", "2.16", "2.20"):
        assert tf_release(minor)["gpu_package"] == "tensorflow[and-cuda]"


def test_tf_cuda_and_cudnn() -> None:
    assert (tf_release("2.14")["cuda"], tf_release("2.14")["cudnn"]) == ("11.8", "8.7")
    assert (tf_release("2.15")["cuda"], tf_release("2.15")["cudnn"]) == ("12.2", "8.9")
    assert (tf_release("2.20")["cuda"], tf_release("2.20")["cudnn"]) == ("12.5", "9.3")
    assert (tf_release("2.10")["cuda"], tf_release("2.10")["cudnn"]) == ("11.2", "8.1")


def test_tf_numpy_2_only_from_2_18() -> None:
    for r in raw_facts("tensorflow")["release"]:
        spec = r.get("numpy")
        if vt(r["version"])[:2] <= (2, 17):
            assert spec, r["version"]
            assert "2.0.0" not in SpecifierSet(spec), r["version"]
        elif spec:
            assert "2.0.0" in SpecifierSet(spec), r["version"]


def test_tf_windows_gpu_ended_with_2_10() -> None:
    for r in raw_facts("tensorflow")["release"]:
        windows_gpu = "windows-amd64" in r.get("gpu_platforms", [])
        assert windows_gpu == (vt(r["version"])[:2] <= (2, 10)), r["version"]


def test_tf_min_compute_capability_rises() -> None:
    by_minor = {".".join(r.version.split(".")[:2]): r for r in tensorflow.table().release}
    assert by_minor["2.13"].min_compute_capability == "3.5"
    assert by_minor["2.15"].min_compute_capability == "5.0"
    assert by_minor["2.20"].min_compute_capability == "6.0"
    prev: tuple[int, ...] = (0,)
    for r in sorted(tensorflow.table().release, key=lambda r: vt(r.version)):
        cc = vt(r.min_compute_capability or "0")
        assert cc >= prev, r.version
        prev = cc


def test_tf_python_ranges() -> None:
    assert "3.13" in SpecifierSet(tf_release("2.20")["python"])
    assert "3.13" not in SpecifierSet(tf_release("2.19")["python"])
    assert "3.12" not in SpecifierSet(tf_release("2.15")["python"])


# ------------------------------------------------------------------ JAX


def test_jax_cuda13_needs_driver_580_and_turing() -> None:
    e = jax_extra("cuda13")
    assert vt(e["min_driver_linux"]) >= (580,)
    assert e["min_compute_capability"] == "7.5"


def test_jax_cuda12_floor() -> None:
    e = jax_extra("cuda12")
    assert e["min_driver_linux"] == "525.60.13"
    assert e["min_compute_capability"] == "5.2"
    assert set(e["platforms"]) == {"linux-x86_64", "linux-aarch64"}


def test_jax_extras_referenced_exist() -> None:
    names = {e["name"] for e in raw_facts("jax")["cuda_extra"]}
    for r in raw_facts("jax")["release"]:
        for x in r.get("cuda_extras", []) + r.get("legacy_cuda_extras", []):
            assert x in names, (r["version"], x)


def test_jax_cuda13_only_from_0_7_2() -> None:
    for r in raw_facts("jax")["release"]:
        has13 = "cuda13" in r.get("cuda_extras", [])
        assert has13 == (Version(r["version"]) >= Version("0.7.2")), r["version"]


def test_jax_no_cuda11_from_0_4_26_and_plugins_from_0_4_22() -> None:
    for r in raw_facts("jax")["release"]:
        v = Version(r["version"])
        legacy = r.get("legacy_cuda_extras", [])
        if v >= Version("0.4.26"):
            assert "cuda11_pip" not in legacy
        if v >= Version("0.4.30"):
            assert not legacy
        assert ("cuda12" in r.get("cuda_extras", [])) == (v >= Version("0.4.22")), r["version"]


def test_jax_python_floor_rises() -> None:
    by_version = {r["version"]: SpecifierSet(r["python"]) for r in raw_facts("jax")["release"]}
    assert "3.9" in by_version["0.4.30"] and "3.9" not in by_version["0.4.31"]
    assert "3.10" not in by_version["0.7.0"]
    newest = max(by_version, key=Version)
    assert Version(newest) >= Version("0.12.0.1")


# ------------------------------------------------------------------ typed loaders reject bad keys

TABLES = {
    # table (fwsetup/facts/NAME.toml, read by fwsetup/facts/NAME.py): (a key to misspell, a required key to drop)
    "pytorch": ("archs = [", "index_url = "),
    "tensorflow": ("cudnn = ", "gpu_package = "),
    "jax": ("cuda_extras = ", "jaxlib = "),
    "gpus": ("compute_capability = ", "match = "),
    "cuda_drivers": ("linux_driver = ", "source = "),
    "clouds": ("match = ", "name = "),
    "companions": ("requires = ", "package = "),
}


def _schema(name: str) -> type:
    import importlib

    module = importlib.import_module(f"fwsetup.facts.{name}")
    table = module.table()
    assert records.is_dataclass(table)
    return type(table)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_loads_typed(name: str) -> None:
    import importlib

    table = importlib.import_module(f"fwsetup.facts.{name}").table()
    assert records.is_dataclass(table) and all(getattr(table, f.name) for f in records.fields(table))


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_misspelt_key_fails_naming_file_and_key(name: str) -> None:
    text = (schema.DATA_DIR / f"{name}.toml").read_text(encoding="utf-8")
    key = TABLES[name][0]
    assert key in text
    typo = key[:2] + key[2] * 2 + key[3:]  # "archs = [" -> "arrchs = ["
    with pytest.raises(schema.FactsError) as err:
        schema.parse(_schema(name), text.replace(key, typo, 1), f"fwsetup/facts/{name}.toml")
    assert err.value.file == f"fwsetup/facts/{name}.toml"
    assert err.value.key.endswith(typo.split(" ")[0]) and "unknown key" in err.value.problem


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_missing_required_key_fails(name: str) -> None:
    text = (schema.DATA_DIR / f"{name}.toml").read_text(encoding="utf-8")
    key = TABLES[name][1]
    lines = text.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.strip().startswith(key))
    broken = "".join(lines[:first] + lines[first + 1 :])
    with pytest.raises(schema.FactsError, match="required key missing") as err:
        schema.parse(_schema(name), broken, f"{name}.toml")
    assert err.value.key.endswith(key.split(" ")[0])


def test_a_wrong_type_fails() -> None:
    from fwsetup.facts.tensorflow import TensorflowTable

    text = (schema.DATA_DIR / "tensorflow.toml").read_text(encoding="utf-8")
    with pytest.raises(schema.FactsError, match="expected bool, got str") as err:
        schema.parse(TensorflowTable, text.replace("needs_avx = true", 'needs_avx = "yes"', 1), "tf.toml")
    assert err.value.key == "release[0].needs_avx"




@pytest.mark.parametrize("name", ["clouds", "cuda_drivers", "gpus", "jax", "jetson", "pytorch", "tensorflow"])
def test_the_quick_checked_date_is_the_one_the_toml_holds(name: str) -> None:
    """doctor reads `checked` with a regex (no TOML parser at start-up): it must agree with TOML."""
    from fwsetup.facts import dates

    assert dates.checked(name) == raw_facts(name)["checked"]

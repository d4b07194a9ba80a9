"""`--with`/`--without` say one thing each: a package named twice is one entry (or exit 2 when the two
differ), a package both added and left out is exit 2, a user's pin of an import need replaces the
default (or is exit 2 where it excludes the version the build needs), a companion's extras are
kept, and a usage error shows a long value shortened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import cli, json_out
from machines import write_all


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("machines"))


def dry(report: Path, *args: str, framework: str = "pytorch") -> Any:
    out = cli("install", framework, "--gpu", "--dry-run", "--json", "--system", str(report), *args)
    assert out.returncode == 0, out.stdout + out.stderr
    return json_out(out)


def usage(report: Path, *args: str, framework: str = "pytorch") -> dict[str, str]:
    out = cli("install", framework, "--gpu", "--dry-run", "--json", "--system", str(report), *args)
    assert out.returncode == 2, out.stdout + out.stderr
    error: dict[str, str] = json_out(out)["error"]
    return error


def named(plan: Any, name: str) -> tuple[list[str], list[Any]]:
    from packaging.requirements import Requirement

    packages = [p for p in plan["packages"] if Requirement(p).name.lower() == name]
    return packages, [a for a in plan["companions"] if a["name"] == name]


@pytest.mark.parametrize("flags", [("--with", "torchvision", "--without", "torchvision"),
                                   ("--with", "TorchVision[x]", "--without", "torchvision")])  # fmt: skip
def test_with_and_without_the_same_package_contradict(reports: dict[str, Path], flags: tuple[str, ...]) -> None:
    error = usage(reports["gtx1080ti-580"], *flags)
    assert "torchvision" in error["message"] and "--with" in error["message"] and "--without" in error["message"]


@pytest.mark.parametrize("spelled", ["transformers,transformers", "transformers,Transformers", "ruamel_yaml,ruamel.yaml"])
def test_a_package_named_twice_is_one_entry(reports: dict[str, Path], spelled: str) -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    plan = dry(reports["gtx1080ti-580"], "--with", spelled)
    names = [canonicalize_name(Requirement(p).name) for p in plan["packages"]]
    assert len(names) == len(set(names)) and spelled.split(",")[0] in plan["packages"], plan["packages"]
    assert len(plan["companions"]) == len({a["name"] for a in plan["companions"]})


def test_a_package_named_twice_differently_is_a_usage_error(reports: dict[str, Path]) -> None:
    error = usage(reports["gtx1080ti-580"], "--with", "transformers>=4,transformers<5")
    assert "transformers" in error["message"] and "twice" in error["message"]
    assert "transformers>=4,<5" in error["fix"]


def test_a_pin_of_an_import_need_replaces_the_default(reports: dict[str, Path]) -> None:
    plan = dry(reports["gtx1080ti-580"], "--with", "numpy==1.0")
    packages, additions = named(plan, "numpy")
    assert packages == ["numpy==1.0"] and len(additions) == 1
    assert additions[0]["requirement"] == "numpy==1.0" and additions[0]["asked"] is True
    assert "Failed to initialize NumPy" in additions[0]["why"]  # the default's reason stays


def test_a_pin_against_the_numpy_an_old_torch_needs_is_refused_or_joined(reports: dict[str, Path]) -> None:
    """torch before 2.3 needs numpy<2 (built against NumPy 1.x): a pin inside it joins it, one outside
    it is exit 2 naming the need."""
    report = reports["cpu-only-debian12"]
    out = cli("install", "pytorch", "--cpu", "--version", "2.2", "--dry-run", "--json", "--system", str(report),
              "--with", "numpy==2.0.0")  # fmt: skip
    assert out.returncode == 2, out.stdout
    error = json_out(out)["error"]
    assert "numpy<2" in error["message"] and "2.2" in error["message"]
    out = cli("install", "pytorch", "--cpu", "--version", "2.2", "--dry-run", "--json", "--system", str(report),
              "--with", "numpy==1.26.4")  # fmt: skip
    packages, _ = named(json_out(out), "numpy")
    from packaging.specifiers import SpecifierSet

    (numpy,) = packages
    assert SpecifierSet(numpy[len("numpy") :]) == SpecifierSet("==1.26.4,<2")


@pytest.mark.parametrize(("machine", "label"), [("gtx1080ti-580", "+cu126"), ("aarch64-gh200-580", "")])
def test_a_companions_extras_are_kept(reports: dict[str, Path], machine: str, label: str) -> None:
    plan = dry(reports[machine], "--version", "2.14", "--with", "torchvision[scipy]")
    packages, additions = named(plan, "torchvision")
    assert len(packages) == 1 and packages[0].startswith("torchvision[scipy]=") and packages[0].endswith(label)
    assert additions[0]["requirement"] == packages[0] and additions[0]["name"] == "torchvision"


def test_a_package_of_the_build_keeps_the_builds_pin(reports: dict[str, Path]) -> None:
    """Keras on torch: torch is part of the build. Asked for again, it is one entry, the build's
    pin; asked for at another version, exit 2 naming the pin."""
    report = reports["gtx1080ti-580"]
    plan = dry(report, "--backend", "torch", "--with", "torch", framework="keras")
    packages, additions = named(plan, "torch")
    assert len(packages) == 1 and packages[0].endswith("+cu126") and additions[0]["requirement"] == packages[0]
    error = usage(report, "--backend", "torch", "--with", "torch==2.0.0", framework="keras")
    assert packages[0] in error["message"] and "build" in error["message"]


LONG = "a" * 120_000


@pytest.mark.parametrize(
    "flags",
    [
        ("--with", LONG + "!"),  # not a requirement
        ("--with", f"torch[{LONG}]"),  # the framework itself
        ("--with", f"pkg[{LONG}] @ https://x/p.whl"),  # a URL
        ("--with", f"torchvision[{LONG}]==1"),  # a companion's version
        ("--without", LONG + "!"),  # not a name
        ("--without", LONG),  # not a default companion
        ("--with", f"{LONG}x", "--without", f"{LONG}x"),  # the contradiction
        ("--with", f"{LONG},{LONG}>1"),  # named twice
    ],
)
def test_a_usage_error_shows_a_long_value_shortened(reports: dict[str, Path], flags: tuple[str, ...]) -> None:
    error = usage(reports["gtx1080ti-580"], *flags)
    assert len(error["message"]) + len(error["fix"] or "") < 600, error["message"][:300]
    assert "characters)" in error["message"]  # how long the value was

"""The two NVIDIA data tables: schema, sources, and pinned facts."""

from __future__ import annotations

import re
from typing import Optional

import pytest
from helpers import raw_facts

from fwsetup import versions
from fwsetup.probe.nvidia.tables import compute_capability_for_name, max_cuda_for_driver

VERSION = re.compile(r"^\d+(\.\d+)*$")


# ---------------------------------------------------------------------------------------------
# gpus.toml


def test_gpus_table_schema() -> None:
    rows = raw_facts("gpus")["gpu"]
    assert len(rows) > 100
    seen = set()
    for row in rows:
        assert set(row) == {"match", "compute_capability"}, row
        assert row["match"].strip() == row["match"] and row["match"], row
        assert re.match(r"^\d+\.\d$", row["compute_capability"]), row
        key = row["match"].lower()
        assert key not in seen, f"duplicate match {row['match']!r}"
        seen.add(key)


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        # pinned facts (NVIDIA cuda-gpus / cuda-legacy-gpus pages)
        ("NVIDIA GeForce GTX 1080 Ti", "6.1"),
        ("NVIDIA GeForce RTX 4090", "8.9"),
        ("NVIDIA GeForce RTX 5090", "12.0"),
        ("NVIDIA H100 80GB HBM3", "9.0"),
        ("Tesla T4", "7.5"),
        ("Quadro RTX 6000", "7.5"),
        ("NVIDIA RTX 6000 Ada Generation", "8.9"),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "12.0"),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "12.0"),
        ("NVIDIA RTX A6000", "8.6"),
        # longest match wins
        ("GeForce GTX 1080", "6.1"),
        ("GeForce GTX TITAN X", "5.2"),
        ("GeForce GTX TITAN", "3.5"),
        ("TITAN X (Pascal)", "6.1"),
        ("NVIDIA TITAN Xp", "6.1"),
        ("NVIDIA TITAN V", "7.0"),
        ("NVIDIA TITAN RTX", "7.5"),
        ("GeForce GTX 960M", "5.0"),
        ("NVIDIA GeForce GTX 960", "5.2"),
        ("Quadro RTX 4000", "7.5"),
        ("NVIDIA RTX 4000 Ada Generation", "8.9"),
        ("NVIDIA RTX 4000 SFF Ada Generation", "8.9"),
        # whole words only
        ("NVIDIA A100-SXM4-80GB", "8.0"),
        ("NVIDIA A100 80GB PCIe", "8.0"),
        ("NVIDIA A10", "8.6"),
        ("NVIDIA A10G", "8.6"),
        ("NVIDIA A30", "8.0"),
        ("NVIDIA A40", "8.6"),
        ("NVIDIA L4", "8.9"),
        ("NVIDIA L40", "8.9"),
        ("NVIDIA L40S", "8.9"),
        ("NVIDIA H200", "9.0"),
        ("NVIDIA H100 NVL", "9.0"),
        ("NVIDIA GH200 480GB", "9.0"),
        ("NVIDIA B200", "10.0"),
        ("NVIDIA GB200", "10.0"),
        ("NVIDIA B300 SXM6 AC", "10.3"),
        ("NVIDIA GB10", "12.1"),
        ("Tesla V100-SXM2-16GB", "7.0"),
        ("Tesla V100S-PCIE-32GB", "7.0"),
        ("Tesla P100-PCIE-16GB", "6.0"),
        ("Tesla P40", "6.1"),
        ("Tesla P4", "6.1"),
        ("Quadro P4000", "6.1"),
        ("Tesla M40 24GB", "5.2"),
        ("Tesla K80", "3.7"),
        ("Tesla K40m", "3.5"),
        ("NVIDIA GeForce RTX 3080 Laptop GPU", "8.6"),
        ("NVIDIA GeForce RTX 4080 SUPER", "8.9"),
        ("NVIDIA GeForce GTX 1650 Ti with Max-Q Design", "7.5"),
        ("Orin (nvgpu)", "8.7"),
        # unknown: None, never a guess
        ("NVIDIA GeForce RTX 2050", None),
        ("NVIDIA Graphics Device", None),
        ("NVIDIA A1000X", None),
        ("", None),
        (None, None),
    ],
)
def test_compute_capability_for_name(name: Optional[str], cc: Optional[str]) -> None:
    assert compute_capability_for_name(name) == cc


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("GeForce RTX 208...", "7.5"),  # RTX 2080 / 2080 Ti / 2080 SUPER: all 7.5
        ("NVIDIA GeForce RTX 2080 ...", "7.5"),
        ("NVIDIA GeForce RTX 4080 ...", "8.9"),
        ("NVIDIA GeForce ...", None),  # could be any GeForce
        ("NVIDIA A10...", None),  # A10 (8.6) or A100 (8.0)
        ("NVIDIA TITAN ...", None),
        ("NVIDIA RTX A...", None),
        ("NVIDIA RTX PRO 6...", "12.0"),
        ("Quadro RTX 6...", None),  # the cut leaves "RTX 6…" open: 6000 (7.5) or 6000 Ada (8.9)
        ("...", None),
    ],
)
def test_truncated_names_never_get_a_wrong_capability(name: str, cc: Optional[str]) -> None:
    assert compute_capability_for_name(name) == cc


# ---------------------------------------------------------------------------------------------
# cuda_drivers.toml


def test_cuda_drivers_schema() -> None:
    table = raw_facts("cuda_drivers")
    rows = table["cuda"]
    listed = [r["version"] for r in rows]
    assert listed == sorted(listed, key=versions.release), "keep rows ascending"
    for needed in ["8.0", "9.0", "9.1", "9.2", "10.0", "10.1", "10.2"]:
        assert needed in listed
    for minor in range(9):
        assert f"11.{minor}" in listed
    for minor in [0, 1, 2, 3, 4, 5, 6, 8, 9]:  # there is no CUDA 12.7
        assert f"12.{minor}" in listed
    for needed in ["13.0", "13.1", "13.2"]:
        assert needed in listed
    previous: tuple[int, ...] = ()
    for row in rows:
        assert set(row) <= {"version", "linux_driver", "windows_driver", "source"}, row
        assert isinstance(row["source"], str) and row["source"], row
        assert VERSION.match(row["linux_driver"]), row
        assert versions.release(row["linux_driver"]) >= previous, f"driver floors must rise: {row}"
        previous = versions.release(row["linux_driver"])
        if "windows_driver" in row:
            assert VERSION.match(row["windows_driver"]), row
        else:  # Table 3 lists "N/A" for Windows from 13.0 on
            assert versions.release(row["version"]) >= (13,), row
    families = {f["major"]: f for f in table["family"]}
    assert set(families) == {11, 12, 13}
    assert (families[11]["linux_min_driver"], families[11]["windows_min_driver"]) == (
        "450.80.02",
        "452.39",
    )
    assert (families[12]["linux_min_driver"], families[12]["windows_min_driver"]) == (
        "525.60.13",
        "528.33",
    )
    assert families[13]["linux_min_driver"] == "580"


@pytest.mark.parametrize(
    ("version", "row"),
    [
        ("8.0", ("367.48", "369.30")),
        ("10.1", ("418.39", "418.96")),
        ("11.8", ("520.61.05", "520.06")),
        ("12.0", ("525.60.13", "527.41")),
        ("12.8", ("570.26", "570.65")),
        ("12.9", ("575.51.03", "576.02")),
        ("13.0", ("580.65.06", None)),
    ],
)
def test_cuda_drivers_pinned_rows(version: str, row: tuple[str, Optional[str]]) -> None:
    (found,) = [r for r in raw_facts("cuda_drivers")["cuda"] if r["version"] == version]
    assert (found["linux_driver"], found.get("windows_driver")) == row


@pytest.mark.parametrize(
    ("driver", "system", "cuda"),
    [
        ("470.63.01", "linux", "11.4"),
        ("580.65.06", "linux", "13.0"),
        ("418.116.00", "linux", "10.1"),
        ("570.26", "linux", "12.8"),
        ("570.25", "linux", "12.6"),  # numeric, not string, comparison
        ("570.124.06", "linux", "12.8"),
        ("595.71.05", "linux", "13.2"),
        ("610.57.04", "linux", "13.3"),
        ("525.60.13", "linux", "12.0"),
        ("525.60.11", "linux", "11.8"),
        ("384.98", "linux", "9.0"),
        ("340.108", "linux", None),  # older than every row
        ("35.3.1", "linux", None),  # Jetson L4T release, not a driver branch
        ("garbage", "linux", None),
        ("", "linux", None),
        ("531.68", "windows", "12.1"),
        ("576.57", "windows", "12.9"),
        ("591.86", "windows", "12.9"),  # Table 3 names no Windows driver for 13.x
    ],
)
def test_max_cuda_for_driver(driver: str, system: str, cuda: Optional[str]) -> None:
    assert max_cuda_for_driver(driver, system=system) == cuda


def test_driver_versions_compare_by_release() -> None:
    """The tables compare driver versions as numeric releases (fwsetup.versions)."""
    assert versions.release("470.63.01") == (470, 63, 1)
    assert versions.release("570.26") < versions.release("570.124.06")
    assert versions.release("580") <= versions.release("580.65.06")
    assert versions.release("12.0+cu") == (12, 0)
    assert versions.release("n/a") == ()

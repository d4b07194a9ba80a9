"""Hostile sizes: values of megabytes go through redaction, planning and error messages in linear
time, and a name too long to be anything is one clear usage error.

Times are compared as ratios measured side by side in this process (the same amount of text in
one value and in many short ones; ten times the size against the size), never against seconds,
so a loaded machine slows both sides alike. A quadratic step fails at the smallest size."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import cli, json_out
from machines import base_report, with_nvidia

from fwsetup.redact import redact

# Text shapes that made the old URL pattern backtrack, and the shapes of every other pattern.
SHAPES: dict[str, Callable[[int], str]] = {
    "letters": lambda n: "a" * n,
    "after a scheme": lambda n: "https://" + "a" * n,
    "schemes": lambda n: "a:/" * (n // 3 - 1) + "a@",
    "at signs": lambda n: "https://u:" + "@" * n,
    "urls with passwords": lambda n: ("x" * 50 + "://u:p@h ") * (n // 60),
    "netrc": lambda n: "password" + " " * n,
    "token parameters": lambda n: "?token=" * (n // 7),
    "authorization": lambda n: "Authorization: Bearer" + " " * n,
}
PIECE = 1024


def _best(work: Callable[[], object], runs: int = 3) -> float:
    """The least time of a few runs: a busy machine only ever adds time."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.parametrize("shape", SHAPES)
def test_redaction_of_megabytes_costs_what_the_same_text_in_short_strings_costs(shape: str) -> None:
    make = SHAPES[shape]
    piece = make(PIECE)
    for size in (64 * 1024, 1024 * 1024):  # a quadratic redaction fails at the first, in seconds
        whole = make(size)
        one = _best(lambda: redact(whole))  # noqa: B023 (run at once, in this iteration)
        many = _best(lambda: [redact(piece) for _ in range(len(whole) // len(piece))])  # noqa: B023
        assert one < 8 * many, f"{shape}, {size} characters: {one:.4f} s in one value, {many:.4f} s in pieces"


def test_redaction_of_megabytes_still_hides_every_secret() -> None:
    text = SHAPES["urls with passwords"](1024 * 1024)
    hidden = redact(text)
    assert ":p@" not in hidden and hidden.count("://u:****@h ") == text.count("://u:p@h ")
    assert redact("https://u:" + "@" * 100 + "host/x") == "https://u:****@host/x"


def _report(tmp_path: Path, name_length: int) -> Path:
    name = "NVIDIA GeForce RTX 4090 " + "a" * name_length
    path = tmp_path / f"gpu-{name_length}.json"
    path.write_text(with_nvidia(base_report(), "580.65.06", "13.0", [(name, "8.9")]).to_json())
    return path


def test_a_report_with_a_5_mb_gpu_name_plans_in_linear_time(tmp_path: Path) -> None:
    """`install --dry-run --system` (text and JSON): ten times the name, at most about ten times
    the time, up to a 5 MB name (the limit for a report is 10 MiB)."""

    def plan(path: Path) -> None:
        for flags in ((), ("--json",)):
            out = cli("install", "pytorch", "--gpu", "--dry-run", "--system", str(path), *flags)
            assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        assert json_out(out)["variant"].startswith("cu")

    sizes = [5_000, 50_000, 500_000, 5_000_000]
    times = [_best(lambda: plan(_report(tmp_path, n)), runs=2) for n in sizes[:2]]  # noqa: B023
    assert times[1] < 20 * times[0], times  # a quadratic step fails here, in seconds
    for n in sizes[2:]:
        times.append(_best(lambda: plan(_report(tmp_path, n)), runs=2))  # noqa: B023
        assert times[-1] < 20 * times[-2], dict(zip(sizes, times))


@pytest.mark.parametrize("command", [["install", "--dry-run"], ["smoke"], ["lock"]])
def test_a_long_unknown_framework_name_is_one_short_usage_error(command: list[str]) -> None:
    def ask(name: str) -> float:
        started = time.perf_counter()
        out = cli(command[0], name, *command[1:], "--json")
        assert out.returncode == 2, out.stdout[:2000] + out.stderr[:2000]
        error = json_out(out)["error"]
        assert error["code"] == "unknown-framework" and len(error["message"]) < 200, error["message"][:300]
        return time.perf_counter() - started

    ask("nosuchframework")  # the recipes are read once per process
    ask("x" * 50_000)  # a quadratic step (or a file name too long for the disk) fails here, at once
    short = min(ask("nosuchframework") for _ in range(3))
    long = min(ask("x" * 1_000_000) for _ in range(2))
    assert long < 20 * short + 0.05, (short, long)


@pytest.mark.parametrize("field", ["python", "interpreter"])
@pytest.mark.parametrize("version", ["9" * 5000, "3." + "9" * 5000, "x.y"])
def test_a_python_version_that_is_not_one_is_no_internal_error(tmp_path: Path, field: str, version: str) -> None:
    """A report's python.version (or an interpreter's) of 5,000 digits was exit 1 in list, install
    --dry-run and fleet report: packaging's Version() raised ValueError from int()."""
    import json

    data = json.loads(with_nvidia(base_report(), "470.82.01", "11.4", [("Tesla T4", "7.5")]).to_json())
    if field == "python":
        data["python"]["version"] = version
    else:
        data["interpreters"] = [{"version": version, "executable": "/usr/bin/python9", "source": "path"}]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    for argv in (
        ["list", "--json", "--system", str(path)],
        ["install", "pytorch", "--dry-run", "--json", "--system", str(path)],
        ["fleet", "report", str(path), "--json"],
    ):
        out = cli(*argv)
        assert out.returncode in (0, 3), out.stdout[-1000:]
        json_out(out)

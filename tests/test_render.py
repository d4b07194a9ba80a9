"""render.py (the human-readable text of every command) and install/progress.py, called directly
on real reports, plans and results rather than through a whole command."""

from __future__ import annotations

import io
import json
import time

import pytest
from machines import machines

from fwsetup import records
from fwsetup.cli import render
from fwsetup.install.execute import InstallResult
from fwsetup.install.smoke import SmokeResult
from fwsetup.plan import planning
from fwsetup.plan.model import Plan, Request, Step
from fwsetup.probe.diagnose import diagnose
from fwsetup.progress import Progress
from fwsetup.report import CudaToolkit, Problem, RocmInfo

ESC = "\033["
MACHINES = machines()


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_report_text_shows_each_fact_of_every_fixture_machine(name: str) -> None:
    report = MACHINES[name]
    report = records.replace(report, findings=diagnose(report))
    text = render.report_text(report)
    assert ESC not in text
    assert text.splitlines()[0].startswith("System")
    assert report.python.version in text
    for gpu in report.gpus:
        assert f"#{gpu.index} {gpu.vendor} {gpu.name}" in text
    if report.nvidia is not None:
        assert f"driver {report.nvidia.driver_version}" in text
    else:
        assert "no driver found" in text
    for finding in report.findings:
        assert f"{finding.message} [{finding.code}]" in text
    assert ("Findings:" in text) == bool(report.findings)
    assert ("No problems found." in text) == (not report.findings)


def test_report_text_optional_sections_and_color() -> None:
    base = MACHINES["rtx4090-580"]
    report = records.replace(
        base,
        cuda_toolkits=[CudaToolkit("12.8", "/usr/local/cuda-12.8", "cuda-home", cudnn_version="9.1.0")],
        rocm=RocmInfo("6.4.1", "rocminfo", ["gfx1100"]),
        problems=[Problem("tool-timeout", "nvidia-smi took over 5 s", "nvidia")],
        probe_seconds=0.25,
    )
    text = render.report_text(report)
    assert "12.8 at /usr/local/cuda-12.8 (cuda-home), cuDNN 9.1.0" in text
    assert "6.4.1 (rocminfo) gfx1100" in text
    assert "nvidia: nvidia-smi took over 5 s [tool-timeout]" in text
    assert "(probed in 0.25 s)" in text
    colored = render.report_text(report, color=True)
    assert f"{ESC}1mProbe problems" in colored
    assert render.report_text(report) == _strip(colored)


def _strip(text: str) -> str:
    import re

    return re.sub(r"\033\[[0-9;]*m", "", text)


def test_use_color_only_on_a_terminal_that_wants_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert render.use_color(Tty()) and not render.use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "")
    assert not render.use_color(Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not render.use_color(Tty())


def test_error_text_and_dump_json() -> None:
    assert render.error_text("no build", "use --cpu") == "error: no build\nfix: use --cpu\n"
    assert render.error_text("no build", None) == "error: no build\n"
    assert render.error_text("x", "y", color=True).startswith(f"{ESC}31merror:{ESC}0m x")
    out = io.StringIO()
    render.dump_json({"a": [1, "é"]}, out)
    assert json.loads(out.getvalue()) == {"a": [1, "é"]} and out.getvalue().endswith("\n")


def test_framework_table_rows() -> None:
    rows = planning.machine_summary(MACHINES["rtx4090-580"])
    text = render.framework_table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["framework", "status", "on", "this", "machine"]
    for row in rows:
        line = next(line for line in lines if line.startswith(f"{row['name']:<16}"))
        here = row["this_machine"]
        if here["ok"]:
            assert f"{here['variant']} {here['version']}" in line
        else:
            assert "no: " in line and len(line) < 16 + 12 + 4 + 91
    assert text.endswith("`fwsetup install NAME --dry-run` shows the full plan and why.\n")


def test_plan_text_of_a_real_plan_and_of_every_optional_line() -> None:
    plan = planning.make_plan("pytorch", MACHINES["rtx4090-580"], Request("pytorch", accelerator="gpu"))
    assert isinstance(plan, Plan)
    text = render.plan_text(plan)
    assert text.startswith(f"Plan: pytorch {plan.version} ({plan.variant} build for CUDA)")
    cpu = planning.make_plan("jax", MACHINES["rtx4090-580"], Request("jax", accelerator="cpu"))
    assert isinstance(cpu, Plan) and render.plan_text(cpu).startswith(f"Plan: jax {cpu.version} (CPU build)")
    assert all(f"    - {r}" in text for r in plan.reasons)
    assert f"  packages      {' '.join(plan.packages)}" in text
    full = records.replace(
        plan,
        interpreter=None,
        interpreter_hint="uv python install 3.11",
        status="partial",
        route="apt",
        find_links=["/wh"],
        build_constraints=["setuptools<70"],
        system_packages=["libgomp1"],
        env={"A": "1"},
        steps=[Step("apt", "install caffe", ["apt-get", "install", "caffe-cuda"], False, "needs root")],
        warnings=["old driver"],
        successor="pytorch",
    )
    text = render.plan_text(full)
    for needle in (
        "(not on this machine: uv python install 3.11)",
        "route         apt  [partial]",
        "find-links    /wh",
        "build with    setuptools<70",
        "system pkgs   libgomp1",
        "environment   A=1",
        "[apt] install caffe — not here: needs root",
        "$ apt-get install caffe-cuda",
        "warning: old driver",
        "successor     pytorch",
    ):
        assert needle in text, needle


def test_install_and_smoke_text() -> None:
    smoke = SmokeResult(True, "cuda:0", "2.7.1", 1.5, {"matmul": True, "grad": True, "skipped": False})
    result = InstallResult("pytorch", "/e/pt", "3.11", "gen-2", "uv", {"torch": "2.7.1"}, smoke, 12.34, ["apt: not root"])
    text = render.install_text(result)
    assert text.splitlines() == [
        "Installed pytorch into /e/pt",
        "  python     3.11 (uv, 12.3 s)",
        "  smoke      ok: 2.7.1 on cuda:0 (1.50 s; matmul, grad)",
        "  skipped: apt: not root",
        "  activate   source /e/pt/bin/activate",
    ]
    quoted = render.install_text(records.replace(result, env="/e/it's my env"))
    assert quoted.splitlines()[-1] == """  activate   source '/e/it'"'"'s my env/bin/activate'"""
    payload = {"framework": "pytorch", "env": "/e/pt", **records.replace(smoke, ok=False, error="boom").to_dict()}
    text = render.smoke_text(payload)
    assert text.startswith("smoke test FAILED: pytorch 2.7.1 on cuda:0 (1.5 s)")
    assert "  ✓ matmul" in text and "  ✗ skipped" in text and "  error: boom" in text and "  env: /e/pt" in text


def test_progress_in_a_log_is_plain_lines_with_redaction() -> None:
    out = io.StringIO()
    p = Progress(2, stream=out)
    assert not p.live
    p.step("download from https://user:secret@example.org/simple")
    p.done("3 packages")
    p.info("note")
    p.step("smoke test")
    p.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/2] download from https://user:****@example.org/simple …"
    assert lines[1].startswith("    done in ") and lines[1].endswith(" s: 3 packages")
    assert lines[2:] == ["note", "[2/2] smoke test …"]
    assert "secret" not in out.getvalue()


def test_progress_quiet_writes_nothing_and_live_ends_its_line() -> None:
    quiet = io.StringIO()
    q = Progress(1, stream=quiet, quiet=True)
    q.step("x")
    q.done()
    q.info("y")
    assert quiet.getvalue() == ""
    tty = Tty()
    live = Progress(1, stream=tty)
    assert live.live
    live.step("build")
    live.done("ok")
    live.close()
    text = tty.getvalue()
    assert "\r\033[K" in text and "✓ [1/1] build (" in text and text.endswith(": ok\n")
    assert live._ticker is None  # the ticker thread was stopped and joined


def test_live_line_fits_one_row_so_each_redraw_overwrites_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrapped line scrolls: \\r\\033[K clears only its last row (seen in an 80-column tmux pane)."""
    from fwsetup.progress import fit

    head, tail = "⠹ [2/5] ", " (0 s, 12.8 MB, 42.5 MB/s, 3 s left)"
    label = "installing torch==2.13.0+cpu numpy transformers accelerate datasets"
    assert fit(head, label, tail, 200) == head + label + tail
    cut = fit(head, label, tail, 80)
    assert len(cut) == 79 and cut.startswith(head + "installing torch") and cut.endswith("…" + tail)
    assert len(fit(head, label, tail, 20)) == 19  # too narrow for the meter: the line's start
    monkeypatch.setenv("COLUMNS", "50")
    tty = Tty()
    live = Progress(1, stream=tty)
    live.step(label, meter=lambda: "12.8 MB, 42.5 MB/s")
    time.sleep(0.35)
    live.done()
    redraws = [r for r in tty.getvalue().split("\r\033[K") if r and r[0] in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"]
    assert redraws and all(len(r) <= 49 for r in redraws)
    assert all(r.endswith("12.8 MB, 42.5 MB/s)") for r in redraws)


def test_doctor_says_whose_frameworks_it_read_with_the_path_cleaned() -> None:
    from fwsetup.report import FrameworksSource

    report = next(iter(machines().values()))
    shown = records.replace(
        report, frameworks_from=FrameworksSource(python="/venv\x1b[2J/bin/python", source="VIRTUAL_ENV", python_version="3.12")
    )
    text = render.report_text(shown)
    line = next(ln for ln in text.splitlines() if "read from" in ln)
    assert line.strip() == "read from /venv[2J/bin/python (Python 3.12, the active virtual environment)"
    assert text.index("Frameworks") < text.index("read from")

"""`fwsetup fleet report REPORT.json…`: one table for a fleet, from `doctor --json` reports
collected across machines (the Ansible export collects them): machine, OS, GPUs, driver,
problems, and what each framework would get there — planned exactly as `fwsetup list --system`
plans. A machine no build serves stands out: no framework gets a build there, or it has a GPU
and every build it gets is a CPU one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from fwsetup import records
from fwsetup.ansi import paint
from fwsetup.fleet.names import machine_names
from fwsetup.plan import planning
from fwsetup.probe import intel_gpus as intel
from fwsetup.probe.diagnose import diagnose
from fwsetup.report import SystemReport

DEFAULT_FRAMEWORKS = ("pytorch", "tensorflow", "jax")


def machine_row(name: str, report: SystemReport, frameworks: tuple[str, ...]) -> dict[str, Any]:
    summary = {row["name"]: row["this_machine"] for row in planning.machine_summary(report)}
    gets: dict[str, dict[str, Any]] = {}
    for fw in frameworks:
        here = summary.get(fw)
        if here is None:
            gets[fw] = {"ok": False, "code": "unknown-framework", "message": f"fwsetup has no recipe {fw}"}
        elif here["ok"]:
            gets[fw] = {k: here[k] for k in ("ok", "version", "variant", "python")}
        else:
            gets[fw] = {"ok": False, "code": here.get("code"), "message": here.get("message")}
    gpus = [g.name or g.vendor for g in report.gpus]
    served = [g for g in gets.values() if g["ok"]]
    why: Optional[str] = None
    if not served:
        why = "no framework gets a build here"
    elif _servable(report) and all(str(g["variant"]).startswith("cpu") for g in served):
        why = "it has a GPU, and every framework gets only a CPU build"
    os_name = " ".join(x for x in (report.os.distro_id or report.os.system, report.os.distro_version) if x)
    return {
        "machine": name,
        "os": os_name,
        "arch": report.os.arch,
        "gpus": gpus,
        "driver": report.nvidia.driver_version if report.nvidia else None,
        "cuda_driver": report.nvidia.cuda_driver_version if report.nvidia else None,
        "problems": [
            {"level": f.level, "code": f.code, "message": f.message, "fix": f.fix}
            for f in report.findings
            if f.level in ("error", "warning")
        ],
        "frameworks": gets,
        "served": why is None,
        "unserved_because": why,
    }


def build(paths: list[Path], frameworks: tuple[str, ...] = DEFAULT_FRAMEWORKS) -> dict[str, Any]:
    """The fleet table as data (what `--json` prints)."""
    named = zip(machine_names(paths), paths)
    rows = [machine_row(name, _diagnosed(SystemReport.from_file(p)), frameworks) for name, p in named]
    return {
        "frameworks": list(frameworks),
        "machines": rows,
        "unserved": [r["machine"] for r in rows if not r["served"]],
    }


def _diagnosed(report: SystemReport) -> SystemReport:
    """A report as doctor writes it carries its findings; one assembled elsewhere gets them here."""
    if report.findings:
        return report

    return records.replace(report, findings=diagnose(report))


def _cell(got: dict[str, Any]) -> str:
    if got["ok"]:
        return f"{got['version']} {got['variant']}"
    return f"— ({got.get('code') or 'refused'})"


def text(table: dict[str, Any], color: bool = False) -> str:
    """The table for people: one line per machine, unserved ones marked `!!` (red on a terminal)."""
    head = ["", "machine", "OS", "GPUs", "driver", "problems", *table["frameworks"]]
    lines: list[list[str]] = []
    for r in table["machines"]:
        gpus = r["gpus"]
        gpu_text = f"{len(gpus)}× {gpus[0]}" if gpus and len(set(gpus)) == 1 else ", ".join(gpus) or "none"
        problems = r["problems"]
        errors = sum(1 for p in problems if p["level"] == "error")
        problem_text = f"{errors} errors, {len(problems) - errors} warnings" if problems else "none"
        lines.append(
            [
                "" if r["served"] else "!!",
                r["machine"],
                r["os"],
                gpu_text,
                r["driver"] or "—",
                problem_text,
                *[_cell(r["frameworks"][fw]) for fw in table["frameworks"]],
            ]
        )
    widths = [max(len(_flat(row[i])) for row in [head, *lines]) for i in range(len(head))]
    out = ["  ".join(_flat(c).ljust(w) for c, w in zip(head, widths)).rstrip()]
    for row, r in zip(lines, table["machines"]):
        line = "  ".join(_flat(c).ljust(w) for c, w in zip(row, widths)).rstrip()
        out.append(line if r["served"] else paint(line, "error", color))
    for r in table["machines"]:
        if not r["served"]:
            out.append(f"!! {_flat(r['machine'])}: no build serves it: {r['unserved_because']}")
        for p in r["problems"]:
            if p["level"] == "error":
                fix = f" — fix: {_flat(p['fix'])}" if p["fix"] else ""
                out.append(f"   {_flat(r['machine'])}: {_flat(p['message'])}{fix}")
    return "\n".join(out) + "\n"


def _flat(value: str) -> str:
    """One line of printable text: a report is another machine's data, not terminal control."""
    return "".join(c if c.isprintable() else "?" for c in str(value))


def _servable(report: SystemReport) -> bool:
    """Whether the machine has a GPU some build could use: an Intel iGPU that PyTorch's XPU build
    does not serve (UHD 770) is listed, but a CPU-only plan there is no surprise."""
    unserved = {g.gpu.bus_id for g in intel.intel_gpus(report) if not g.runs_xpu}
    return any(g.vendor != "intel" or g.bus_id not in unserved for g in report.gpus)

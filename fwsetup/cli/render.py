"""Human-readable text for reports, plans and errors. JSON output is `json.dumps` of data.

Everything here leaves fwsetup, so everything here is made safe first: strings from outside
(GPU names, driver strings, package output, report fields, paths) lose their control
characters before they reach a terminal (`clean`: an ESC could retitle or clear it), and
credentials are redacted in text and JSON alike. JSON keeps every other character, escaped.
"""

from __future__ import annotations

import json
import os
import re
import sys

from fwsetup import records
from fwsetup.ansi import COLORS, paint

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Optional, TextIO

    from fwsetup.report import SystemReport

_LEVEL_LABEL = {"error": "ERROR", "warning": "WARN ", "info": "INFO "}


def use_color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def dump_json(data: Any, stream: Optional[TextIO] = None) -> None:
    from fwsetup.redact import redact_data

    out = stream or sys.stdout
    out.write(json.dumps(redact_data(data), indent=2) + "\n")  # ensure_ascii: raw values, escaped
    out.flush()


# C0 (but newline and tab), DEL, C1, and the bidirectional overrides that reorder what is shown.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal(text: str) -> str:
    """`text` fit for a terminal: control characters removed, credentials redacted."""
    from fwsetup.redact import redact

    return redact(_UNSAFE.sub("", text))


def clean(value: Any) -> Any:
    """`terminal` on every string inside `value` (dataclasses, dicts, lists), as a copy."""
    if isinstance(value, str):
        return terminal(value)
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean(v) for v in value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if records.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: clean(getattr(value, f.name)) for f in records.fields(value)}
        return records.replace(value, **changes)
    return value


def _or_dash(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


def _download(plan: Any) -> str:
    """The plan's `download` line: `812.4 MB (files on disk count as none; 141.0 MB already in uv's cache)`."""
    if plan.download_bytes is None:
        return ""
    cached = f"; {plan.cached_bytes / 1e6:,.1f} MB already in uv's cache" if plan.cached_bytes else ""
    return f"{plan.download_bytes / 1e6:,.1f} MB (files on disk count as none{cached})"


def _given(*parts: tuple[str, object]) -> list[str]:
    """`label` + value for each of `parts` whose value is set: a row's optional pieces, in order."""
    return [f"{label}{value}" for label, value in parts if value]


# Why doctor read the frameworks of the interpreter it read (SystemReport.frameworks_from.source).
FRAMEWORKS_FROM = {
    "--python": "--python",
    "VIRTUAL_ENV": "the active virtual environment",
    "CONDA_PREFIX": "the active conda environment",
    "PATH": "the python on PATH",
    "fwsetup": "the interpreter running fwsetup",
}


def report_text(report: SystemReport, color: bool = False) -> str:
    report = clean(report)
    o = report.os
    lines: list[str] = []

    def row(label: str, text: str) -> None:
        lines.append(f"{paint(f'{label:<14}', 'bold', color)}{text}")

    distro = " ".join(x for x in (o.distro_id, o.distro_version) if x) or o.system
    if o.distro_codename:
        distro += f" ({o.distro_codename})"
    libc = f"{o.libc.name} {_or_dash(o.libc.version)}" if o.libc else None
    extras = _given(("", libc), ("WSL", o.wsl), ("container: ", o.container), ("cloud: ", o.cloud))
    row("System", ", ".join([distro, o.arch or "?", f"kernel {_or_dash(o.kernel)}", *extras]))

    p = report.python
    flags = [
        x
        for x, on in (
            ("venv", p.in_venv),
            ("conda", bool(p.conda)),
            ("externally managed", p.externally_managed),
        )
        if on
    ]
    row(
        "Python",
        f"{p.version} {p.implementation} {p.executable}"
        + (f" ({', '.join(flags)})" if flags else "")
        + f", pip {_or_dash(p.pip_version)}, uv {_or_dash(p.uv_version)}",
    )
    if report.interpreters:
        row("Interpreters", "  ".join(f"{i.version} ({i.source})" for i in report.interpreters))

    nv = report.nvidia
    if nv is None:
        row("NVIDIA", "no driver found")
    else:
        how = "reported" if nv.cuda_driver_version_source != "table" else "from driver table"
        row(
            "NVIDIA",
            f"driver {_or_dash(nv.driver_version)}, supports CUDA {_or_dash(nv.cuda_driver_version)} "
            f"({how}; via {nv.source})",
        )
    if report.gpus:
        for g in report.gpus:
            cc = g.compute_capability or "?"
            if g.vendor == "nvidia" and g.compute_capability:
                cc = f"sm_{cc.replace('.', '')}" + (
                    " (table)" if g.compute_capability_source == "table" else ""
                )
            mem = f"{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "memory ?"
            mig = f", MIG {g.mig_mode}" if g.mig_mode and g.mig_mode not in ("N/A",) else ""
            row(
                "GPU" if g is report.gpus[0] else "",
                f"#{g.index} {g.vendor} {_or_dash(g.name)}, {mem}, {cc}{mig}",
            )
    else:
        pci = [d for d in report.pci_display_devices if d.vendor in ("nvidia", "amd")]
        row("GPU", "none" if not pci else f"{len(pci)} on the PCI bus, none usable")
    if report.cuda_toolkits:
        for tk in report.cuda_toolkits:
            more = "".join(
                f", {name} {v}" for name, v in (("cuDNN", tk.cudnn_version), ("NCCL", tk.nccl_version)) if v
            )
            row(
                "CUDA toolkit" if tk is report.cuda_toolkits[0] else "",
                f"{_or_dash(tk.version)} at {tk.path} ({tk.source}){more}",
            )
    else:
        row("CUDA toolkit", "none")
    if report.rocm is not None:
        r = report.rocm
        row("ROCm", f"{_or_dash(r.version)} ({r.source}) {' '.join(r.gfx_targets)}".rstrip())
        driver = f"amdgpu {r.driver_version} ({r.driver_source})" if r.driver_version else r.driver_source
        if driver or r.wsl:
            where = f"{driver or 'WSL (/dev/dxg)'}" + (", WSL (/dev/dxg)" if r.wsl and driver else "")
            row("", f"driver: {where}")
    if report.intel is not None:
        i = report.intel
        drivers = ", ".join(f"{bus} {drv or 'no driver'}" for bus, drv in i.kernel_drivers.items())
        row(
            "Intel GPU stack",
            f"{drivers or 'no device'}; Level Zero {'yes' if i.level_zero else 'missing'}, "
            f"compute runtime {'yes' if i.compute_runtime else 'missing'}",
        )
    res = report.resources
    mem = f"{res.memory_total_mib / 1024:.1f} GiB" if res.memory_total_mib else "?"
    disk = (
        f"{res.disk_free_mib / 1024:.1f} GiB free at {res.disk_path}"
        if res.disk_free_mib is not None
        else "disk ?"
    )
    row(
        "Resources",
        f"{_or_dash(res.cpu_model)}, {_or_dash(res.cpu_cores_logical)} threads "
        f"({' '.join(res.cpu_flags) or 'no SIMD flags read'}), RAM {mem}, {disk}",
    )
    if report.frameworks:
        row(
            "Frameworks",
            ", ".join(
                f"{f.name} {f.version}"
                + (f" (CUDA {f.cuda})" if f.cuda else "")
                + (f" via {f.origin}" if f.origin in ("PYTHONPATH", ".pth") else "")
                for f in report.frameworks
            ),
        )
    else:
        row("Frameworks", "none in this interpreter")
    src = report.frameworks_from
    if src is not None:  # whose frameworks those are (cleaned like every other value here)
        version = f"Python {src.python_version}, " if src.python_version else ""
        lines.append(f"{'':14}read from {src.python} ({version}{FRAMEWORKS_FROM.get(src.source, src.source)})")
    if report.problems:
        lines.append("")
        lines.append(paint("Probe problems (facts that could not be read):", "bold", color))
        for pr in report.problems:
            lines.append(f"  {pr.source}: {pr.message} [{pr.code}]")
    lines.append("")
    if report.findings:
        lines.append(paint("Findings:", "bold", color))
        for f in report.findings:
            label = paint(
                _LEVEL_LABEL.get(f.level, f.level.upper()), f.level if f.level in COLORS else "bold", color
            )
            lines.append(f"  {label} {f.message} [{f.code}]")
            if f.fix:
                lines.append(f"        fix: {f.fix}")
    else:
        lines.append(paint("No problems found.", "ok", color))
    if report.probe_seconds is not None:
        lines.append(paint(f"(probed in {report.probe_seconds:.2f} s)", "dim", color))
    return "\n".join(lines) + "\n"


def error_text(message: str, fix: Optional[str], color: bool = False) -> str:
    message, fix = terminal(message), terminal(fix) if fix else fix
    text = f"{paint('error:', 'error', color)} {message}\n"
    if fix:
        text += f"{paint('fix:', 'bold', color)} {fix}\n"
    return text


def framework_table(rows: list[dict[str, Any]], color: bool = False) -> str:
    rows = clean(rows)
    lines = [paint(f"{'framework':<16}{'status':<12}{'on this machine'}", "bold", color)]
    for row in rows:
        here = row["this_machine"]
        if here["ok"]:
            py = f", Python {here['python']}" if here.get("python") else ""
            where = f"{here['variant']} {here['version']}{py}"
            if here.get("route") and here["route"] != "pip":
                where += f" via {here['route']} ({here['status']})"
            text = paint(where, "ok", color)
        else:
            first = here["message"].split(". ")[0]
            text = paint(f"no: {first if len(first) <= 90 else first[:87] + '...'}", "warning", color)
        lines.append(f"{row['name']:<16}{row['status']:<12}{text}")
    lines.append("")
    lines.append("`fwsetup install NAME --dry-run` shows the full plan and why.")
    return "\n".join(lines) + "\n"


def _build_words(plan: Any) -> str:
    """`cu126 build for CUDA`, `CPU build`: the variant, and the accelerator only when it adds something."""
    accel = {"cuda": "CUDA", "rocm": "ROCm", "mps": "Apple Metal", "xpu": "Intel XPU", "cpu": "CPU"}.get(plan.accelerator, plan.accelerator)
    if plan.variant in ("", "cpu") or plan.variant.lower() == str(plan.accelerator).lower():
        return f"{accel} build"
    return f"{plan.variant} build for {accel}"


def plan_text(plan: Any, color: bool = False) -> str:
    plan = clean(plan)
    lines = [
        paint(f"Plan: {plan.framework} {plan.version} ({_build_words(plan)})", "bold", color),
        f"  python        {plan.python or 'system'}"
        + (
            f"  ({plan.interpreter})"
            if plan.interpreter
            else f"  (not on this machine: {plan.interpreter_hint})"
            if plan.interpreter_hint
            else ""
        ),
        f"  route         {plan.route}" + (f"  [{plan.status}]" if plan.status != "supported" else ""),
    ]
    lines += _given(
        ("  packages      ", " ".join(plan.packages)),
        ("  download      ", _download(plan)),
        ("  indexes       ", " ".join(plan.index_urls)),
        ("  find-links    ", " ".join(plan.find_links)),
        ("  build with    ", " ".join(plan.build_constraints)),
        ("  system pkgs   ", " ".join(plan.system_packages)),
        ("  environment   ", " ".join(f"{k}={v}" for k, v in plan.env.items())),
    )
    for step in plan.steps:
        mark = (
            paint("can run here", "ok", color)
            if step.can_run_here
            else paint(f"not here: {step.why_not}", "warning", color)
        )
        lines.append(f"  step          [{step.kind}] {step.description} — {mark}")
        if step.command:
            lines.append(f"                  $ {' '.join(step.command)}")
    lines.append("  why:")
    lines.extend(f"    - {r}" for r in plan.reasons)
    for w in plan.warnings:
        lines.append(f"  {paint('warning:', 'warning', color)} {w}")
    if plan.successor:
        lines.append(f"  successor     {plan.successor}")
    return "\n".join(lines) + "\n"


def install_text(result: Any, color: bool = False) -> str:
    result = clean(result)
    lines = [paint(f"Installed {result.framework} into {result.env}", "ok", color)]
    lines.append(f"  python     {result.python} ({result.backend}, {result.seconds:.1f} s)")
    if result.rebuilt_because:
        lines.append(f"  rebuilt    {result.rebuilt_because}")
    if result.smoke is not None:
        s = result.smoke
        lines.append(
            f"  smoke      ok: {s.framework_version} on {s.device} ({s.seconds:.2f} s; {', '.join(k for k, v in s.checks.items() if v)})"
        )
    for note in result.skipped:
        lines.append(f"  {paint('skipped:', 'warning', color)} {note}")
    lines += _warnings(result.warnings, color)
    import shlex  # the line is for copying into a shell: a path with a space or ' must survive it

    lines.append(f"  activate   source {shlex.quote(f'{result.env}/bin/activate')}")
    return "\n".join(lines) + "\n"


def smoke_text(payload: dict[str, Any], color: bool = False) -> str:
    payload = clean(payload)
    ok = payload.get("ok")
    head = paint("smoke test passed" if ok else "smoke test FAILED", "ok" if ok else "error", color)
    lines = [
        f"{head}: {payload['framework']} {payload.get('framework_version') or '?'} on {payload.get('device') or '?'} ({payload.get('seconds')} s)"
    ]
    for name, passed in (payload.get("checks") or {}).items():
        lines.append(f"  {'✓' if passed else '✗'} {name}")
    if payload.get("error"):
        lines.append(f"  error: {payload['error']}")
    found, planned = payload.get("found_build"), payload.get("planned_build")
    if isinstance(found, dict):  # the build the script imported, beside the one planned
        words = " ".join(str(v) for v in (found.get("backend"), found.get("version")) if v)
        if isinstance(planned, dict):
            words += " (planned: " + " ".join(str(v) for v in (planned.get("backend"), planned.get("version")) if v) + ")"
        lines.append(f"  build: {words}")
    lines.append(f"  env: {payload['env']}")
    return "\n".join(lines) + "\n"


# --- one command's result: `--json` is its `to_dict()`, text is written here --------------------


def show(result: Any, json_output: bool) -> None:
    """A command's result (fwsetup/commands/) on stdout: one JSON document, or its text."""
    if json_output:
        dump_json(result.to_dict())
    else:
        sys.stdout.write(TEXT[type(result).__name__](result, use_color(sys.stdout)))


def _doctor_text(result: Any, color: bool) -> str:
    return report_text(result.report, color) + f"data checked on: {result.checked}\n"


def _planned_text(result: Any, color: bool) -> str:
    return plan_text(result.plan, color) + f"  env path      {result.env_path}\n"


def _into_text(result: Any, color: bool) -> str:
    plan, done = result.plan, result.done
    smoked = done["smoke"]
    return (
        f"installed {plan.framework} {plan.version} ({plan.variant}) into {done['env']}"
        + (f"; smoke test passed on {smoked['device']}" if smoked else "")
        + f"\nundo with: {done['rollback']}\n"
        + "".join(w + "\n" for w in _warnings(done.get("warnings", []), color))
    )


def _installed_text(result: Any, color: bool) -> str:
    plan, done = result.plan, result.result
    if not done.up_to_date:
        return install_text(done, color)
    return (
        f"{done.env} already holds {plan.framework} {plan.version} ({plan.variant}) from the same "
        f"sources: up to date, nothing rebuilt (--force rebuilds it)\n"
    )


def _lock_text(result: Any, color: bool) -> str:
    lines = [f"{t.describe()} — {len(t.requirements)} packages\n" for t in result.targets]
    return terminal("".join(lines) + f"wrote {result.lock}\n")


def _bundle_text(result: Any, color: bool) -> str:
    total = sum(len(v) for v in result.downloaded.values()) + len(result.fwsetup)
    return terminal(
        f"{total} files in {result.wheelhouse}; install with: fwsetup install --lock {result.lock} "
        f"--wheelhouse {result.wheelhouse} --offline\n"
    )


def _export_text(result: Any, color: bool) -> str:
    if result.output is not None:  # -o, every format: each file written named on stderr, stdout stays empty
        sys.stderr.write(terminal("".join(f"wrote {path}\n" for path in result.output)))
    return str(result.script or "")


def _fleet_text(result: Any, color: bool) -> str:
    from fwsetup.fleet import report

    return report.text(result.table, color)


def _kept(row: dict[str, Any]) -> str:
    """Whether pip/uv in the env keep its build (its constraints file), as `fwsetup envs` says it."""
    return ", build protected" if row.get("protected") else ""


def _frameworks(row: dict[str, Any]) -> str:
    return ", ".join(f"{f['framework']} {f['version']} ({f['variant']})" for f in row["frameworks"])


def _envs_text(result: Any, color: bool) -> str:
    if result.env is not None:
        lines = []
        for r in result.generations:
            mark = "*" if r["active"] else ("<" if r["rollback_target"] else " ")
            lines.append(f"{mark} {r['generation']:>3}  {r['created'] or '?':25}  Python {r['python']}  {_frameworks(r)}\n")
        lines.append("* active, < where `fwsetup rollback` returns; `fwsetup rollback ENV --to N` picks one\n")
        return terminal("".join(lines))
    lines = [] if result.envs else ["no environments; make one with `fwsetup install FRAMEWORK`\n"]
    for r in result.envs:
        held = _frameworks(r) or "-"
        size = f"{(r['size_bytes'] or 0) / 1e6:.0f} MB"
        smoke = r["last_smoke"]
        smoked = f"smoke {'ok' if smoke.get('ok') else 'FAILED'} {smoke.get('at')}" if smoke else "never smoke-tested"
        if r["status"] == "project-venv":
            lines.append(f"{r['env']}\n    your venv: fwsetup installed {held} into it, {size}{_kept(r)}\n")
            lines.append(f"    undo: {r['fix']}\n")
            continue
        lines.append(f"{r['env']}\n    {r['status']}: {held}, Python {r['python'] or '?'}, ")
        lines.append(f"generation {r['generation']} of {r['generations']}, {size}, {smoked}{_kept(r)}\n")
        if r["fix"]:
            lines.append(f"    fix: {r['fix']}\n")
    lines += [f"removed {p}\n" for p in result.removed]
    lines += [f"not removed {s['env']}: {s['reason']}\n    fix: {s['fix']}\n" for s in result.skipped]
    # registered paths are whatever a user (or envs.json) named
    return terminal("".join(lines)) + "".join(w + "\n" for w in _warnings(result.warnings, color))


def _warnings(warnings: list[str], color: bool) -> list[str]:
    return [f"  {paint('warning:', 'warning', color)} {terminal(w)}" for w in warnings]


def _rollback_text(result: Any, color: bool) -> str:
    undone = result.undone
    if undone is None:
        return terminal(f"{result.env} now points to {result.generation}\n") + "".join(
            w + "\n" for w in _warnings(result.warnings, color)
        )
    return terminal(
        f"{result.env}: restored the packages of {undone['restored']} "
        f"(removed {len(undone['removed'])}, reinstalled {len(undone['reinstalled'])})\n"
    )


# The text of each result record, by its class name (render imports no command module).
TEXT: dict[str, Callable[[Any, bool], str]] = {
    "DoctorResult": _doctor_text,
    "ListResult": lambda result, color: framework_table(result.frameworks, color),
    "Planned": _planned_text,
    "IntoResult": _into_text,
    "Unchanged": lambda result, color: terminal(f"{result.env} already holds {result.lock}: unchanged, smoke test passed\n"),
    "Installed": _installed_text,
    "LockResult": _lock_text,
    "BundleResult": _bundle_text,
    "ExportResult": _export_text,
    "FleetResult": _fleet_text,
    "SmokeTestResult": lambda result, color: smoke_text(result.payload, color),
    "RollbackResult": _rollback_text,
    "EnvsResult": _envs_text,
    "RemoveResult": lambda result, color: terminal(f"removed {result.env}\n"),
    "CompletionScript": lambda result, color: result.script,
}

"""Run every probe, bounded in time, and assemble a SystemReport.

A probe that raises, hangs or returns garbage becomes a Problem in the report; the rest of the
report is still made. The probes that talk to GPU drivers and device files (a wedged driver hangs
NVML, nvidia-smi and sysfs reads) each get their own thread; the others, which read ordinary
files, run one after another in one more thread: twelve threads contending for the GIL cost
doctor more CPU than all the probes' work (measured: 26 ms against 11 ms). Threads are daemons,
so a probe stuck in a system call can never keep doctor from exiting.
"""

from __future__ import annotations

import sys
import threading
import time

from fwsetup import __version__
from fwsetup.probe import host
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.probe.evidence import GATES
from fwsetup.report import OSInfo, Problem, PythonInfo, SystemReport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    ProbeFn = Callable[[ProbeEnv], Probed]

# Module names under fwsetup.probe; each has `probe(env) -> Probed`.
PROBES: tuple[str, ...] = (
    "osinfo",
    "python",
    "interpreters",
    "nvidia",
    "jetson",
    "pci",
    "cuda",
    "rocm",
    "apple",
    "intel",
    "resources",
    "frameworks",
    "tools",
)
# Probes that touch drivers, device files or GPU tools: each runs in a thread of its own.
ISOLATED = frozenset({"nvidia", "jetson", "pci", "cuda", "rocm", "apple"})



def load_probe(name: str) -> ProbeFn:
    __import__(f"fwsetup.probe.{name}")  # importlib.import_module would load importlib and warnings
    module = sys.modules[f"fwsetup.probe.{name}"]
    fn: ProbeFn = module.probe
    return fn


def collect(
    env: Optional[ProbeEnv] = None,
    probes: Optional[dict[str, ProbeFn]] = None,
) -> SystemReport:
    env = env or ProbeEnv()
    started = time.perf_counter()
    selected: dict[str, Optional[ProbeFn]] = dict(probes) if probes is not None else dict.fromkeys(PROBES)
    results: dict[str, Probed] = {}
    lock = threading.Lock()

    def runner(name: str, fn: Optional[ProbeFn]) -> None:
        try:
            gate = GATES.get(name) if fn is None else None
            out = Probed() if gate is not None and not gate(env) else (fn or load_probe(name))(env)
        except Exception as exc:  # a probe bug must not take the report down
            out = Probed()
            out.problem("probe-crashed", f"{type(exc).__name__}: {exc}", name)
        with lock:
            results[name] = out

    def in_turn(names: list[str]) -> None:
        for name in names:
            runner(name, selected[name])

    threads = [
        threading.Thread(target=runner, args=(name, fn), name=f"probe-{name}", daemon=True)
        for name, fn in selected.items()
        if name in ISOLATED
    ]
    ordinary = [name for name in selected if name not in ISOLATED]
    if ordinary:
        threads.append(threading.Thread(target=in_turn, args=(ordinary,), name="probe-files", daemon=True))
    for t in threads:
        t.start()

    # Each tool call inside a probe has env.timeout; a probe may chain a fallback or two.
    deadline = started + env.timeout * 2 + 1.0
    for t in threads:
        t.join(max(0.0, deadline - time.perf_counter()))

    with lock:
        finished = dict(results)
    fields: dict[str, Any] = {}
    gpus = []
    problems: list[Problem] = []
    for name in selected:
        out = finished.get(name)
        if out is None:
            problems.append(Problem("probe-timeout", f"the {name} probe did not finish in time", name))
            continue
        fields.update(out.fields)
        gpus.extend(out.gpus)
        problems.extend(out.problems)

    fields.setdefault("os", OSInfo(system=host.system()))
    fields.setdefault(
        "python",
        PythonInfo(
            version=host.python_version(),
            implementation=host.python_implementation(),
            executable=sys.executable,
        ),
    )
    return SystemReport(
        gpus=gpus,
        problems=problems,
        fwsetup_version=__version__,
        probe_seconds=round(time.perf_counter() - started, 3),
        **fields,
    )

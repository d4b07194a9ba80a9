"""Run every probe concurrently, each bounded in time, and assemble a SystemReport.

A probe that raises, hangs or returns garbage becomes a Problem in the report;
the rest of the report is still made. Threads are daemons so a probe stuck in a
system call can never keep doctor from exiting.
"""

from __future__ import annotations

import importlib
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
    "resources",
    "frameworks",
    "tools",
)



def load_probe(name: str) -> ProbeFn:
    module = importlib.import_module(f"fwsetup.probe.{name}")
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

    threads = []
    for name, fn in selected.items():
        t = threading.Thread(target=runner, args=(name, fn), name=f"probe-{name}", daemon=True)
        t.start()
        threads.append((name, t))

    # Each tool call inside a probe has env.timeout; a probe may chain a fallback or two.
    deadline = started + env.timeout * 2 + 1.0
    for _, t in threads:
        t.join(max(0.0, deadline - time.perf_counter()))

    with lock:
        finished = dict(results)
    fields: dict[str, Any] = {}
    gpus = []
    problems: list[Problem] = []
    for name, _ in threads:
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

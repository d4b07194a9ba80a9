"""Apple Silicon: the GPU that PyTorch reaches through MPS.

Only on macOS. On an arm64 Mac the report gets one GPU with vendor "apple": its
presence is how the report says MPS can be used (SystemReport has no MPS field).
Its memory is the unified memory the GPU shares with the CPU. An Intel Mac has no
apple GPU; a Python running under Rosetta 2 on Apple Silicon gets a problem instead,
because an x86_64 interpreter cannot use MPS.
"""

from __future__ import annotations

from typing import Optional

from fwsetup.probe import host
from fwsetup.probe.base import Probed, ProbeEnv, run_problem
from fwsetup.report import GPU

SOURCE = "apple"


def probe(env: ProbeEnv) -> Probed:
    if host.system() != "Darwin":
        return Probed()
    try:
        return probe_darwin(env, host.machine())
    except Exception as exc:  # a bug here must not cost the rest of the report
        out = Probed()
        out.problem("apple-probe-error", f"{type(exc).__name__}: {exc}", SOURCE)
        return out


def probe_darwin(env: ProbeEnv, machine: str) -> Probed:
    """The macOS work, for the interpreter's `machine` ("arm64" or "x86_64")."""
    out = Probed()
    if machine.lower() not in ("arm64", "aarch64"):
        if under_rosetta(env):
            out.problem(
                "rosetta-python",
                "this Python is x86_64 running under Rosetta 2 on Apple Silicon: it cannot "
                "use the GPU (MPS); use an arm64 Python",
                SOURCE,
            )
        return out
    result = env.run(["sysctl", "-n", "machdep.cpu.brand_string", "hw.memsize"])
    if result.returncode is None or not result.stdout.strip():
        out.problems.append(run_problem(result, SOURCE))
        name, memory = None, None
    else:
        name, memory = parse_sysctl(result.stdout)
    out.gpus.append(GPU(vendor="apple", index=0, name=name, memory_total_mib=memory))
    return out


def parse_sysctl(text: str) -> tuple[Optional[str], Optional[int]]:
    """`sysctl -n machdep.cpu.brand_string hw.memsize` → ("Apple M2 Pro", MiB).

    Each value is a line; a key sysctl does not know prints nothing on stdout, so the
    lines are told apart by shape (memory is all digits) rather than by position.
    """
    name: Optional[str] = None
    memory: Optional[int] = None
    for line in text.splitlines():
        value = line.strip()
        if not value:
            continue
        if value.isdigit():
            if memory is None and int(value) > 0:
                memory = int(value) // 2**20
        elif name is None and value.isprintable() and len(value) <= 200:
            name = value
    return name, memory


def under_rosetta(env: ProbeEnv) -> bool:
    """An x86_64 interpreter on Apple Silicon: the process is translated, or (where the sysctl
    command does not answer `sysctl.proc_translated`, as early Big Sur releases did not) the
    hardware says it is arm64 (`hw.optional.arm64`, unknown on Intel Macs)."""
    result = env.run(["sysctl", "-n", "sysctl.proc_translated"])
    if result.ok and result.stdout.strip() == "1":
        return True
    arm64 = env.run(["sysctl", "-n", "hw.optional.arm64"])
    return arm64.ok and arm64.stdout.strip() == "1"

"""AMD ROCm: the installed ROCm version, and AMD GPUs with their gfx targets.

Costs nothing on a machine without ROCm: a couple of existence checks and a PATH
lookup, no process. With ROCm, the version is a file read (`/opt/rocm/.info/version`),
GPUs come from `rocminfo` (gfx target, marketing name, VRAM), and `rocm-smi` is asked
only when rocminfo gives no GPU, to at least count the devices.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Callable, Optional, TypeVar

from fwsetup.probe import amdgpu
from fwsetup.probe.base import Probed, ProbeEnv, run_problem
from fwsetup.probe.cuda import resolve_under_root
from fwsetup.records import dataclass
from fwsetup.report import GPU, RocmInfo

SOURCE = "rocm"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_AGENT = re.compile(r"^\s*Agent\s+(\d+)\s*$")
_KEY_VALUE = re.compile(r"^(\s*)([^:]+?):\s*(.*?)\s*$")
_SIZE_KB = re.compile(r"^(\d+)(?:\([^)]*\))?\s*KB$", re.IGNORECASE)
_GFX = re.compile(r"^gfx[0-9a-f]+$", re.IGNORECASE)
_VERSION = re.compile(r"^(\d+\.\d+(?:\.\d+)*)")

T = TypeVar("T")


@dataclass(frozen=True)
class RocmAgent:
    """One GPU agent from `rocminfo`."""

    name: str  # the gfx target, "gfx1100"
    marketing_name: Optional[str]
    uuid: Optional[str]
    node: Optional[int]
    vram_mib: Optional[int]


# ---------------------------------------------------------------- pure parsers


def parse_rocm_version_file(text: str) -> Optional[str]:
    """`/opt/rocm/.info/version`: "6.4.1-120" → "6.4.1" (the build number dropped)."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    m = _VERSION.match(first)
    return m.group(1) if m else None


def parse_rocm_version_header(text: str) -> Optional[str]:
    """rocm_version.h: ROCM_VERSION_MAJOR / _MINOR / _PATCH."""
    found: dict[str, str] = {}
    for m in re.finditer(r"^\s*#\s*define\s+ROCM_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)", text, re.M):
        found.setdefault(m.group(1), m.group(2))
    if "MAJOR" not in found or "MINOR" not in found:
        return None
    parts = [found["MAJOR"], found["MINOR"]] + ([found["PATCH"]] if "PATCH" in found else [])
    return ".".join(parts)


def parse_rocminfo(text: str) -> Optional[list[RocmAgent]]:
    """GPU agents in `rocminfo` output, in order; None when the text is not rocminfo output.

    Each agent is a block after an `Agent N` header. Top-level keys are read once (the
    ISA section repeats `Name:`); VRAM is the first GLOBAL COARSE GRAINED pool of a GPU.
    """
    text = _ANSI.sub("", text)
    lines = text.splitlines()
    if not any(_AGENT.match(ln) for ln in lines) and "HSA System Attributes" not in text:
        return None
    agents: list[RocmAgent] = []
    block: Optional[list[str]] = None
    blocks: list[list[str]] = []
    for line in lines:
        if _AGENT.match(line):
            block = []
            blocks.append(block)
        elif block is not None:
            block.append(line)
    for block in blocks:
        agent = _parse_agent(block)
        if agent is not None:
            agents.append(agent)
    return agents


def _parse_agent(lines: list[str]) -> Optional[RocmAgent]:
    top: dict[str, str] = {}
    top_indent: Optional[int] = None
    vram_kb: Optional[int] = None
    segment: Optional[str] = None
    for line in lines:
        m = _KEY_VALUE.match(line)
        if not m:
            continue
        indent, key, value = len(m.group(1)), m.group(2).strip(), m.group(3)
        if top_indent is None:
            top_indent = indent
        if indent == top_indent:
            top.setdefault(key.lower(), value)
            continue
        if key.lower() == "segment":
            segment = value.upper()
        elif key.lower() == "size" and segment is not None and vram_kb is None:
            size = _SIZE_KB.match(value.replace(" ", "")) if "GLOBAL" in segment else None
            if size and "COARSE" in segment:
                vram_kb = int(size.group(1))
    name = top.get("name", "").strip()
    kind = top.get("device type", "").strip().upper()
    # A pasted block cut before "Device Type" is still a GPU when named by a gfx target (CPU agents
    # are named by the CPU's model).
    if not name or not (kind == "GPU" or (not kind and _GFX.match(name))):
        return None
    node = top.get("node", "").strip()
    marketing = top.get("marketing name", "").strip()
    return RocmAgent(
        name=name,
        marketing_name=marketing or None,
        uuid=top.get("uuid", "").strip() or None,
        node=int(node) if node.isdigit() else None,
        vram_mib=vram_kb // 1024 if vram_kb else None,
    )


def parse_agent_block(text: str) -> Optional[RocmAgent]:
    """One agent's block of `rocminfo` output (the lines under an `Agent N` heading), or None when it
    is not a GPU agent."""
    lines = [ln for ln in _ANSI.sub("", text).splitlines() if not _AGENT.match(ln) and ln.strip("* \t")]
    return _parse_agent(lines)


def parse_rocm_smi(text: str) -> Optional[list[int]]:
    """Device numbers in the default `rocm-smi` table (every era: the ROCm 1.x python
    script, 2.x–5.x `GPU Temp …`, 6.x/7.x `Device Node IDs …`); None if no table is found.

    The numbers are as printed: old tools print the DRM card number, which need not
    start at 0.
    """
    header = False
    devices: list[int] = []
    for raw in _ANSI.sub("", text).splitlines():
        line = raw.strip()
        if "End of ROCm SMI Log" in line:
            break
        tokens = line.split()
        if not tokens:
            continue
        if not header:
            header = tokens[0] in ("GPU", "Device") and len(tokens) > 2 and ":" not in line
            continue
        if tokens[0].isdigit() and len(tokens) > 2:
            devices.append(int(tokens[0]))
    return devices if header else None


# ---------------------------------------------------------------- the probe


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    try:
        _probe(env, out)
    except Exception as exc:  # a bug here must not cost the rest of the report
        out.problem("rocm-probe-error", f"{type(exc).__name__}: {exc}", SOURCE)
    return out


def rocm_dir(env: ProbeEnv) -> Optional[str]:
    """ROCM_PATH, /opt/rocm, or the newest /opt/rocm-X.Y.Z: resolved, or None."""
    candidates = [env.environ.get("ROCM_PATH", "").strip(), "/opt/rocm"]
    for c in candidates:
        if c:
            real = resolve_under_root(env, c)
            if env.exists(real):
                return real
    try:
        names = [n for n in os.listdir(env.path("/opt")) if re.match(r"^rocm-\d", n)]
    except OSError:
        return None
    if not names:
        return None
    newest = max(names, key=lambda n: [int(x) for x in re.findall(r"\d+", n)])
    return "/opt/" + newest


def _tool(env: ProbeEnv, name: str, base: Optional[str]) -> Optional[str]:
    if env.which(name) is not None:
        return name
    if base is not None:
        p = f"{base.rstrip('/')}/bin/{name}"
        try:
            if os.path.isfile(env.path(p)):
                return env.path(p)
        except OSError:
            return None
    return None


def _version(env: ProbeEnv, base: str) -> tuple[Optional[str], Optional[str]]:
    text = env.read_text(f"{base}/.info/version", limit=4096)
    if text is not None:
        v = parse_rocm_version_file(text)
        if v is not None:
            return v, "rocm-info-version"
    for header in ("include/rocm-core/rocm_version.h", "include/rocm_version.h"):
        text = env.read_text(f"{base}/{header}", limit=1 << 16)
        if text is not None:
            v = parse_rocm_version_header(text)
            if v is not None:
                return v, "rocm_version.h"
    m = re.search(r"rocm-(\d+\.\d+(?:\.\d+)*)$", base)
    if m:
        return m.group(1), "directory-name"
    return None, None


def _run_parsed(
    env: ProbeEnv, out: Probed, tool: str, parse: Callable[[str], Optional[T]], missing: str
) -> tuple[Optional[T], bool]:
    """Run a ROCm tool and parse its output; a failure or unparseable output becomes a problem.
    Returns (parsed or None, whether the tool timed out)."""
    result = env.run([tool])
    if not result.ok:
        out.problems.append(run_problem(result, SOURCE))
        return None, result.error == "timeout"
    parsed = parse(result.output)
    if parsed is None:
        name = tool.rsplit("/", 1)[-1]
        out.problem(f"{name}-unparseable", f"{name} printed {missing}: {result.output[:120]!r}", SOURCE)
    return parsed, False


def _probe(env: ProbeEnv, out: Probed) -> None:
    base = rocm_dir(env)
    rocminfo = _tool(env, "rocminfo", base)
    smi = _tool(env, "rocm-smi", base)
    kernel = amdgpu.read(env)
    if base is None and rocminfo is None and smi is None and not kernel.nodes:
        out.fields["rocm"] = None
        return

    version: Optional[str] = None
    source: Optional[str] = None
    if base is not None:
        version, source = _version(env, base)
        if version is None:
            out.problem("rocm-version-unknown", f"no ROCm version found under {base}", SOURCE)

    agents: list[RocmAgent] = []
    timed_out = False
    rock: Optional[str] = None
    rock_source = "rocminfo"
    if rocminfo is not None:
        parsed, timed_out = _run_parsed(env, out, rocminfo, _parse_with_rock, "no HSA agents")
        if parsed is not None:
            agents, rock = parsed
            source = source or "rocminfo"

    # amd-smi (a Python program: slow) only for what neither the files nor rocminfo said: no ROCm
    # version, or no driver version where /sys/module is not visible (a container). For the kernel's
    # own amdgpu it has no module version to tell either.
    amd_smi = _tool(env, "amd-smi", base)
    driver_unknown = not (kernel.driver_version or rock or kernel.driver_source)
    if amd_smi is not None and not timed_out and (version is None or driver_unknown):
        result = env.run([amd_smi, "version"])
        smi_rocm, smi_driver = amdgpu.parse_amd_smi_version(result.output) if result.ok else (None, None)
        if smi_rocm and version is None:
            version, source = smi_rocm, "amd-smi"
        if smi_driver and driver_unknown:
            rock, rock_source = smi_driver, "amd-smi"  # the module version rocminfo's first line names
    gpus = describe(agents, kernel.nodes)
    # rocm-smi only to count devices neither rocminfo nor KFD could show; not after a hang, which
    # would most likely hang again on the same wedged driver.
    if not gpus and smi is not None and not timed_out:
        devices, _ = _run_parsed(env, out, smi, parse_rocm_smi, "no device table")
        if devices is not None:
            gpus = [GPU(vendor="amd", index=i, name=None) for i, _ in enumerate(devices)]
            source = source or "rocm-smi"
    out.gpus.extend(gpus)
    out.fields["rocm"] = assemble(
        version,
        source or ("opt-rocm" if base else "path" if rocminfo or smi else "kfd"),
        gpus,
        kernel,
        rock,
        rock_source,
    )


def _parse_with_rock(text: str) -> Optional[tuple[list[RocmAgent], Optional[str]]]:
    agents = parse_rocminfo(text)
    return None if agents is None else (agents, amdgpu.parse_rock_line(text))


def describe(agents: Sequence[RocmAgent], nodes: Sequence[amdgpu.KfdNode]) -> list[GPU]:
    """The AMD GPUs: rocminfo's agents (names, VRAM) where it ran, else KFD's nodes; the gfx target
    from KFD's node where rocminfo gave none."""
    by_node = {n.node: n for n in nodes}
    gpus: list[GPU] = []
    for i, agent in enumerate(agents):
        kfd = by_node.get(agent.node) if agent.node is not None else None
        gfx = agent.name if _GFX.match(agent.name) else (kfd.gfx if kfd else None)
        gpus.append(
            GPU(
                vendor="amd",
                index=i,
                name=agent.marketing_name or agent.name,
                memory_total_mib=agent.vram_mib,
                compute_capability=gfx,
                compute_capability_source="reported" if gfx else None,
                uuid=agent.uuid,
            )
        )
    if not agents:
        for i, n in enumerate(nodes):
            gpus.append(
                GPU(
                    vendor="amd",
                    index=i,
                    name=None,
                    compute_capability=n.gfx,
                    compute_capability_source="reported",
                )
            )
    return gpus


def assemble(
    version: Optional[str],
    source: str,
    gpus: Sequence[GPU],
    kernel: amdgpu.Kernel,
    rock: Optional[str] = None,
    rock_source: str = "rocminfo",
) -> RocmInfo:
    """The report's rocm section from what the probe (or a saved machine's recorded files) found."""
    targets: list[str] = []
    for g in gpus:
        if g.compute_capability and g.compute_capability not in targets:
            targets.append(g.compute_capability)
    driver, driver_source = kernel.driver_version, kernel.driver_source
    if driver is None and rock is not None:
        driver, driver_source = rock, rock_source
    return RocmInfo(
        version=version,
        source=source,
        gfx_targets=targets,
        driver_version=driver,
        driver_source=driver_source,
        wsl=kernel.dxg,
        integrated=_integrated(gpus),
    )


def _integrated(gpus: Sequence[GPU]) -> list[int]:
    """GPUs that are APUs, by gfx target (facts/rocm.toml `apu`, from LLVM's processor table).
    KFD's local_mem_size does not tell: recorded dGPUs (an RX 7900 XTX) report 0 as well."""
    if not gpus:
        return []
    from fwsetup.facts.rocm import is_apu  # only on a machine with AMD GPUs

    return [g.index for g in gpus if is_apu(g.compute_capability)]

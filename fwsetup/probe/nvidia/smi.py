"""What nvidia-smi says: parsers for `--query-gpu` CSV and the default table of every era,
recognition of its driver-level failures, and `Smi`, which asks it (through ProbeEnv.run) at
most a few times and turns every failure into one problem.

Used when NVML cannot be loaded. The parsers are pure functions over text, tested on recorded
real outputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Optional

from fwsetup.probe.base import Probed, ProbeEnv, run_problem
from fwsetup.probe.nvidia.problems import (
    DRIVER_LIBRARY_MISMATCH,
    DRIVER_UNREACHABLE,
    NO_DEVICES,
    SOURCE,
    UNPARSEABLE,
    driver_problem,
)
from fwsetup.records import dataclass, field
from fwsetup.report import GPU

if TYPE_CHECKING:
    from fwsetup.runner import ProcResult

QUERY_FIELDS: tuple[str, ...] = (
    "index",
    "name",
    "uuid",
    "pci.bus_id",
    "memory.total",
    "compute_cap",
    "driver_version",
    "mig.mode.current",
)
# Fields old drivers do not know (compute_cap arrived in R510, mig.mode.* with R450): when
# nvidia-smi rejects one of these, the query is retried without it.
OPTIONAL_QUERY_FIELDS = frozenset({"compute_cap", "mig.mode.current"})


class NvidiaParseError(ValueError):
    """Text that should be nvidia-smi output but is not in any shape we know."""


class InvalidQueryField(NvidiaParseError):
    """nvidia-smi said `Field "<name>" is not a valid field to query.` (an older driver)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"nvidia-smi does not know the query field {name!r}")
        self.field = name


_NA_VALUES = frozenset({"", "n/a", "na", "none", "not supported", "unknown"})
_VERSION_RE = re.compile(r"^\d+\.\d+(?:\.\d+)*$")
_CC_RE = re.compile(r"^\d+\.\d+$")
_INVALID_FIELD_RE = re.compile(r'Field "([^"]+)" is not a valid field to query', re.IGNORECASE)


def version_or_none(value: Optional[str]) -> Optional[str]:
    """A dotted version as printed ("550.144.03"), or None for anything else ("N/A")."""
    if value is None:
        return None
    v = value.strip()
    return v if _VERSION_RE.match(v) else None


def _na(value: str) -> Optional[str]:
    """nvidia-smi's ways of saying "no value": N/A, [N/A], [Not Supported], blank, [...]."""
    v = value.strip()
    if v.lower() in _NA_VALUES or (v.startswith("[") and v.endswith("]")):
        return None
    return v


def _int_prefix(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    m = re.match(r"\s*(\d+)", value)
    return int(m.group(1)) if m else None


def parse_query_csv(text: str, fields: Sequence[str]) -> list[dict[str, Optional[str]]]:
    """Rows of `nvidia-smi --query-gpu=<fields> --format=csv[,noheader][,nounits]` output.

    Values nvidia-smi marks as absent ("[N/A]", "[Not Supported]", "N/A", blank) become None.
    A header row (with or without units) is skipped. Raises InvalidQueryField when the driver
    rejects a field, NvidiaParseError when a row does not have one value per field (nvidia-smi
    does not quote, so a comma inside a value also lands here: garbage, never a guess).
    """
    names = tuple(fields)
    rows: list[dict[str, Optional[str]]] = []
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("WARNING:")]
    for i, line in enumerate(lines):
        invalid = _INVALID_FIELD_RE.search(line)
        if invalid:
            raise InvalidQueryField(invalid.group(1))
        cells = [c.strip() for c in line.split(",")]
        if i == 0 and names and re.sub(r"\s*\[.*\]$", "", cells[0]) == names[0]:
            continue  # header row
        if len(cells) != len(names):
            raise NvidiaParseError(
                f"expected {len(names)} comma-separated values, got {len(cells)}: {line[:120]!r}"
            )
        rows.append({name: _na(cell) for name, cell in zip(names, cells)})
    return rows


def gpus_from_query(rows: Iterable[dict[str, Optional[str]]]) -> list[GPU]:
    """GPU records from parse_query_csv rows (QUERY_FIELDS, some possibly absent)."""
    gpus: list[GPU] = []
    for row in rows:
        index = row.get("index")
        if index is None or not index.isdigit():
            raise NvidiaParseError(f"GPU index {index!r} is not a number")
        cc = row.get("compute_cap")
        reported = cc if cc and _CC_RE.match(cc) else None
        mig = row.get("mig.mode.current")
        gpus.append(
            GPU(
                vendor="nvidia",
                index=int(index),
                name=row.get("name"),
                memory_total_mib=_int_prefix(row.get("memory.total")),
                compute_capability=reported,
                compute_capability_source="reported" if reported else None,
                uuid=row.get("uuid"),
                bus_id=row.get("pci.bus_id"),
                mig_mode=mig if mig in ("Enabled", "Disabled") else None,
            )
        )
    return gpus


@dataclass(frozen=True)
class SmiTable:
    """What the default `nvidia-smi` table says."""

    smi_version: Optional[str]
    driver_version: Optional[str]  # "Driver Version:" (R610+: "KMD Version:"); WSL2: Windows'
    cuda_version: Optional[str]  # "CUDA Version:" (R610+: "CUDA UMD Version:"); None for N/A
    gpus: list[GPU] = field(default_factory=list)


_SMI_RE = re.compile(r"NVIDIA-SMI\s+([^\s|]+)")
_DRIVER_RE = re.compile(r"(?:Driver|KMD)\s+Version:\s*([^\s|]+)")
_CUDA_RE = re.compile(r"CUDA(?:\s+UMD)?\s+Version:\s*([^\s|]+)")
# The Bus-Id cell is N/A for a Jetson's integrated GPU ("|   0  Orin (nvgpu)   N/A  | N/A   N/A |").
_GPU_ROW_RE = re.compile(
    r"^\|\s*(\d+)\s+(.*?)\s+(\S+)\s*\|\s*"
    r"([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]|N/A)(?=\s|\|)"
)
_MEMORY_RE = re.compile(r"(\d+)\s*MiB\s*/\s*(\d+)\s*MiB")


def parse_smi_table(text: str) -> SmiTable:
    """Parse the default `nvidia-smi` output of any era (pre-R450 to R610+, Windows, WSL2, MIG).

    GPU names are kept as shown, including nvidia-smi's truncation ("GeForce RTX 208...").
    Raises NvidiaParseError when there is neither a header nor a GPU row.
    """
    smi = _SMI_RE.search(text)
    driver = _DRIVER_RE.search(text)
    cuda = _CUDA_RE.search(text)
    lines = text.splitlines()
    gpus: list[GPU] = []
    for i, line in enumerate(lines):
        m = _GPU_ROW_RE.match(line.strip())
        if m is None:
            continue
        memory: Optional[int] = None
        mig: Optional[str] = None
        block = []
        for follow in lines[i + 1 : i + 4]:
            if not follow.strip().startswith("|") or _GPU_ROW_RE.match(follow.strip()):
                break
            block.append(follow)
        if block:
            mem = _MEMORY_RE.search(block[0])
            memory = int(mem.group(2)) if mem else None
        if len(block) >= 2:
            last_cell = [c.strip() for c in block[1].strip().strip("|").split("|")][-1]
            mig = last_cell if last_cell in ("Enabled", "Disabled") else None
        gpus.append(
            GPU(
                vendor="nvidia",
                index=int(m.group(1)),
                name=m.group(2).strip() or None,
                memory_total_mib=memory,
                bus_id=None if m.group(4) == "N/A" else m.group(4),
                mig_mode=mig,
            )
        )
    if smi is None and driver is None and not gpus:
        raise NvidiaParseError("no NVIDIA-SMI header and no GPU row")
    return SmiTable(
        smi_version=version_or_none(smi.group(1)) if smi else None,
        driver_version=version_or_none(driver.group(1)) if driver else None,
        cuda_version=version_or_none(cuda.group(1)) if cuda else None,
        gpus=gpus,
    )


_MISMATCH_RE = re.compile(r"Driver/library version mismatch", re.IGNORECASE)
_NVML_VERSION_RE = re.compile(r"NVML library version:\s*([0-9][0-9.]*[0-9])", re.IGNORECASE)
_UNREACHABLE_RE = re.compile(
    r"couldn't communicate with the NVIDIA driver|Failed to initialize NVML: Driver Not Loaded",
    re.IGNORECASE,
)
_NO_DEVICES_RE = re.compile(r"^\s*No devices were found", re.IGNORECASE | re.MULTILINE)


def recognize_smi_error(text: str) -> Optional[tuple[str, Optional[str]]]:
    """(problem code, NVML library version if stated) for nvidia-smi's driver-level failures."""
    if _MISMATCH_RE.search(text):
        m = _NVML_VERSION_RE.search(text)
        return DRIVER_LIBRARY_MISMATCH, m.group(1) if m else None
    if _UNREACHABLE_RE.search(text):
        return DRIVER_UNREACHABLE, None
    if _NO_DEVICES_RE.search(text):
        return NO_DEVICES, None
    return None


class Smi:
    """Runs nvidia-smi at most a few times and turns every failure into one problem."""

    def __init__(self, env: ProbeEnv, exe: str, out: Probed, kmod: Optional[str]) -> None:
        self.env, self.exe, self.out, self.kmod = env, exe, out, kmod
        self.dead = False  # timed out or the driver is unreachable: don't ask again

    def _failed(self, result: ProcResult) -> bool:
        """Record a failed run; True when it failed."""
        if result.error is not None:
            self.out.problems.append(run_problem(result, SOURCE))
            self.dead = True
            return True
        known = recognize_smi_error(result.output)
        if known is not None:
            code, nvml = known
            self.out.problems.append(driver_problem(code, "nvidia-smi", nvml, self.kmod))
            self.dead = True
            return True
        return False

    def query(self) -> Optional[tuple[list[GPU], Optional[str]]]:
        """GPUs and driver version from `--query-gpu`, retrying without fields old drivers lack."""
        fields = list(QUERY_FIELDS)
        for _ in range(len(OPTIONAL_QUERY_FIELDS) + 1):
            argv = [self.exe, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"]
            result = self.env.run(argv)
            if self._failed(result):
                return None
            try:
                invalid = _INVALID_FIELD_RE.search(result.output)
                if invalid:  # said on stdout or stderr, depending on the driver
                    raise InvalidQueryField(invalid.group(1))
                rows = parse_query_csv(result.stdout, fields)
            except InvalidQueryField as exc:
                if exc.field in OPTIONAL_QUERY_FIELDS and exc.field in fields:
                    fields.remove(exc.field)
                    continue
                self._unparseable("nvidia-smi --query-gpu", str(exc))
                return None
            except NvidiaParseError as exc:
                self._not_ok_or_unparseable(result, "nvidia-smi --query-gpu", str(exc))
                return None
            if not result.ok:
                self.out.problems.append(run_problem(result, SOURCE))
                return None
            try:
                if not rows:
                    raise NvidiaParseError("it printed no GPU")
                gpus = gpus_from_query(rows)
            except NvidiaParseError as exc:
                self._unparseable("nvidia-smi --query-gpu", str(exc))
                return None
            versions = (version_or_none(row.get("driver_version")) for row in rows)
            return gpus, next((v for v in versions if v), None)
        return None

    def table(self) -> Optional[SmiTable]:
        """The default table: the only place old drivers state their CUDA version."""
        result = self.env.run([self.exe])
        if self._failed(result):
            return None
        try:
            table = parse_smi_table(result.stdout)
        except NvidiaParseError as exc:
            self._not_ok_or_unparseable(result, "nvidia-smi", str(exc))
            return None
        if not result.ok:  # partial output (e.g. one GPU lost): use it, but say so
            self.out.problems.append(run_problem(result, SOURCE))
        return table

    def _not_ok_or_unparseable(self, result: ProcResult, what: str, why: str) -> None:
        if result.ok:
            self._unparseable(what, why)
        else:
            self.out.problems.append(run_problem(result, SOURCE))

    def _unparseable(self, what: str, why: str) -> None:
        message = f"{what} printed something fwsetup cannot read: {why}"
        self.out.problem(UNPARSEABLE, message, SOURCE)

"""What every probe gets (ProbeEnv) and gives back (Probed).

Probes read files through `ProbeEnv.read_text` and run tools through `ProbeEnv.run`,
so tests can point them at a fixture root and a PATH of fake tools: the same code
reads a real /proc here and a recorded one in tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from fwsetup import runner
from fwsetup.records import dataclass, field
from fwsetup.report import GPU, Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Union

DEFAULT_PROBE_TIMEOUT = 5.0


@dataclass
class ProbeEnv:
    """Where a probe looks (root, PATH via environ) and how long a tool may take."""

    timeout: float = DEFAULT_PROBE_TIMEOUT
    root: Union[str, os.PathLike[str]] = "/"  # a string path: pathlib costs doctor's start-up too much
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    disk_path: Optional[str] = None  # where environments go: the disk whose free space matters
    python: Optional[str] = None  # `doctor --python`: the interpreter whose frameworks to read

    @property
    def is_real_root(self) -> bool:
        return os.fspath(self.root) == "/"

    def path(self, p: str) -> str:
        """`p` (absolute, as on the machine) under root, as a host path."""
        return os.path.join(os.fspath(self.root), p.lstrip("/"))

    def read_text(self, p: str, limit: int = 1 << 20) -> Optional[str]:
        """Contents of a file under root, or None if absent or unreadable; never raises."""
        try:
            with open(self.path(p), "rb") as fh:
                return fh.read(limit).decode("utf-8", errors="replace")
        except OSError:
            return None

    def exists(self, p: str) -> bool:
        try:
            return os.path.exists(self.path(p))
        except OSError:
            return False

    def which(self, name: str) -> Optional[str]:
        return runner.which(name, self.environ)

    def run(self, argv: Sequence[str], timeout: Optional[float] = None) -> runner.ProcResult:
        return runner.probe(argv, timeout=timeout or self.timeout, environ=self.environ)


@dataclass
class Probed:
    """A probe's contribution: report fields it sets, GPUs it found, problems it hit."""

    fields: dict[str, Any] = field(default_factory=dict)
    gpus: list[GPU] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, code: str, message: str, source: str) -> None:
        self.problems.append(Problem(code=code, message=message, source=source))


def run_problem(result: runner.ProcResult, source: str) -> Problem:
    """Turn a failed tool run into one readable problem line."""
    tool = result.argv[0]
    if result.error == "missing":
        return Problem("tool-missing", f"{tool} not found on PATH", source)
    if result.error == "timeout":
        return Problem("tool-timeout", f"{tool} did not answer in time and was stopped", source)
    if result.error:
        return Problem("tool-failed", f"{tool} could not run: {result.error}", source)
    first = next((ln.strip() for ln in result.output.splitlines() if ln.strip()), "no output")
    return Problem("tool-failed", f"{tool} exited {result.returncode}: {first[:200]}", source)

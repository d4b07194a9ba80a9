"""Why each candidate build was turned down: collected by the release walk (select/common.py) and
read by the refusals, the ROCm one (select/rocm.py) included; a module of its own so that both
can import it without importing each other."""

from __future__ import annotations

from fwsetup.plan.pythons import PythonNeed
from fwsetup.records import dataclass, field
from fwsetup.report import GPU


@dataclass
class Rejections:
    """Why each candidate build was turned down; the closing refusal is built from these."""

    reasons: list[str] = field(default_factory=list)
    arch_misses: dict[int, GPU] = field(default_factory=dict)
    covered: set[int] = field(default_factory=set)  # GPUs some candidate build has kernels for
    driver_misses: list[str] = field(default_factory=list)
    needs: list[PythonNeed] = field(default_factory=list)  # builds that fitted but found no Python

    def add(self, text: str) -> None:
        if text not in self.reasons:
            self.reasons.append(text)

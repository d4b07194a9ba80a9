"""The TensorFlow release matrix (tensorflow.toml) as typed data."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class TfRelease:
    version: str
    python: str
    cuda: str
    cudnn: str
    gpu_package: str  # tensorflow-gpu | tensorflow | tensorflow[and-cuda]
    gpu_platforms: tuple[str, ...]
    cpu_package: str
    needs_avx: bool
    archs: tuple[str, ...]  # SASS of the Linux x86_64 wheel
    ptx: tuple[str, ...]
    keras: str  # Keras major tf.keras is
    platforms: tuple[str, ...]
    source: str
    numpy: Optional[str] = None
    tf_keras: Optional[str] = None
    note: Optional[str] = None

    @property
    def min_compute_capability(self) -> Optional[str]:
        """The lowest capability with a cubin or PTX: a GPU below it has nothing it can run."""
        every = (*self.archs, *self.ptx)
        return min(every, key=versions.key) if every else None

    @property
    def bundles_cuda(self) -> bool:
        """2.14+: `tensorflow[and-cuda]` brings CUDA and cuDNN as pip wheels; older loads them from the system."""
        return "[and-cuda]" in self.gpu_package


@dataclass(frozen=True)
class TensorflowTable:
    release: tuple[TfRelease, ...]
    checked: datetime.date  # the day the table was last checked against its sources


@functools.lru_cache(maxsize=1)
def table() -> TensorflowTable:
    return schema.read(TensorflowTable, "tensorflow")


def keras3_floor() -> Optional[str]:
    """The oldest TensorFlow whose tf.keras is Keras 3 (earlier ones pin keras < 3)."""
    found = [r.version for r in table().release if r.keras.startswith("3")]
    return min(found, key=versions.key) if found else None

"""Request (what the user asked) and Plan (what will be done): plain data.

A Plan is complete enough to execute without looking at the machine again, and its
JSON form (`install --dry-run --json`) is a contract CI scripts read.
"""

from __future__ import annotations

from typing import Any, Optional

from fwsetup import records
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class LocalWheel:
    """A wheel file already on disk (pip find-links, a wheelhouse): installable without network."""

    name: str
    version: str  # full version, local label included ("2.13.0+cpu")
    tags: tuple[str, ...]  # "cp311-cp311-manylinux_2_28_x86_64", …
    path: str


@dataclass(frozen=True)
class Request:
    framework: str
    accelerator: str = "auto"  # auto | gpu | cpu
    version: Optional[str] = None  # framework version or prefix ("2.7", "2.7.1")
    python: Optional[str] = None  # "3.10"
    backend: Optional[str] = (
        None  # keras 3: tensorflow | jax | torch; keras2: theano | tensorflow1 | tf-keras
    )
    variant: Optional[str] = None  # force a variant by name: cu126, cpu, pieces, …
    gpu_indices: Optional[tuple[int, ...]] = None  # serve only these GPUs (--gpus 0,1)
    min_version: Optional[str] = None  # a floor another framework needs (Keras 3 on TensorFlow >= 2.16)
    local_wheels: tuple[LocalWheel, ...] = ()
    hsa_override: bool = False  # AMD: serve a GPU through HSA_OVERRIDE_GFX_VERSION (--hsa-override)
    with_packages: tuple[str, ...] = ()  # --with: companions by name, or any requirement ("none": no defaults)
    without: tuple[str, ...] = ()  # --without: recipe defaults not to install


@dataclass(frozen=True)
class Step:
    """One step of a route that is not `pip install`: apt, Maven, cargo, a source build."""

    kind: str  # apt, dnf, pip, maven, cargo, shell, manual, symlink
    description: str
    command: list[str] = field(default_factory=list)
    can_run_here: bool = False
    why_not: Optional[str] = None


@dataclass(frozen=True)
class MachineNeeds:
    """What the chosen build requires of the machine it will run on, as select judged it: a lock
    made here for another machine carries this, and `install --lock` judges that machine by it."""

    cuda: Optional[str] = None  # the CUDA version the driver must run
    archs: tuple[str, ...] = ()  # GPU architectures with kernels (SASS)
    ptx: tuple[str, ...] = ()  # PTX: any GPU at least this capable JIT-compiles it
    min_driver: Optional[str] = None  # a driver floor the framework states itself (JAX)


@dataclass(frozen=True)
class Addition:
    """A package the plan installs beside the framework (a companion, an import need, a --with
    package), or a default companion it leaves out (`requirement` None): each with why."""

    name: str
    requirement: Optional[str]
    why: str
    asked: bool = False  # named by --with (else a recipe default or an import need)


@dataclass(frozen=True)
class Plan:
    framework: str
    version: str
    variant: str
    accelerator: str
    python: str  # "X.Y"
    packages: list[str]
    index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    system_packages: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    smoke: str = ""
    reasons: list[str] = field(default_factory=list)
    interpreter: Optional[str] = None  # an interpreter found on the machine, or None
    interpreter_hint: Optional[str] = None  # how to get one when None
    status: str = "supported"  # supported | legacy | partial | not-installable-here
    route: str = "pip"  # pip | apt | maven | cargo | source | manual
    build_constraints: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    post_install: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    successor: Optional[str] = None
    needs: MachineNeeds = field(default_factory=MachineNeeds)
    companions: list[Addition] = field(default_factory=list)
    download_bytes: Optional[int] = None  # fetched over the network; None: not worked out (commands/sizes.py)
    cached_bytes: Optional[int] = None  # of the plan's files, what uv's cache holds (not in download_bytes)

    def to_dict(self) -> dict[str, Any]:
        return records.asdict(self)

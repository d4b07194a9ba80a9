"""GenerationMeta: what a generation says about itself, in its `fwsetup.json`.

Written once when a generation is built (install/execute.py), through envs.write_metadata, and
read back by envs.read_metadata for smoke, run, envs, rollback, the registry, the up-to-date
check and `install --lock`. The file is data from disk, so it is read through the one decoder
(fwsetup/decode.py): a value of the wrong type is refused, a key this fwsetup does not know is
skipped, and a schema_version newer than this one is refused (upgrade fwsetup to read it).

Layouts, oldest first: before `frameworks` (one framework, top-level keys only); with
`frameworks` (one entry per framework the generation holds, after `--add`); with
`schema_version` (this module). Files without a schema_version are the first two and read as
they always did: a generation without `frameworks` holds the one its top-level keys name.
"""

from __future__ import annotations

from typing import Any, Optional

from fwsetup import records
from fwsetup.decode import DecodeError, decode
from fwsetup.plan.model import Plan
from fwsetup.records import dataclass, field

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class HeldFramework:
    """One framework a generation holds: what was planned and the smoke script copied for it."""

    framework: Optional[str] = None
    version: Optional[str] = None
    variant: Optional[str] = None
    accelerator: Optional[str] = None
    smoke: Optional[str] = None  # file name inside the generation
    plan: Optional[dict[str, Any]] = None  # Plan.to_dict() as planned
    sources: Any = None  # what the install was told to install from (index, wheelhouses, a lock)

    @classmethod
    def planned(cls, plan: Plan, smoke: Optional[str], sources: Any = None) -> HeldFramework:
        """The entry of a framework installed from `plan`, with the smoke script copied for it."""
        named = {k: getattr(plan, k) for k in ("framework", "version", "variant", "accelerator")}
        return cls(**named, smoke=smoke, plan=plan.to_dict(), sources=sources)

    def brief(self) -> dict[str, Optional[str]]:
        """What `fwsetup envs` shows of it."""
        return {"framework": self.framework, "version": self.version, "variant": self.variant}


# The first framework's keys, repeated at the top of the file (all the oldest layout had).
_AT_THE_TOP = ("framework", "version", "variant", "accelerator", "smoke", "plan")


@dataclass(frozen=True)
class GenerationMeta:
    """The generation: its first framework's keys at the top (the oldest layout), then what it holds."""

    framework: Optional[str] = None
    version: Optional[str] = None
    variant: Optional[str] = None
    accelerator: Optional[str] = None
    python: Optional[str] = None
    env: dict[str, str] = field(default_factory=dict)  # the recipe's settings, {env} filled in
    smoke: Optional[str] = None
    plan: Optional[dict[str, Any]] = None
    fwsetup_version: Optional[str] = None
    created: Optional[str] = None
    packages: dict[str, str] = field(default_factory=dict)  # name -> version, as installed
    interpreter: Optional[str] = None
    frameworks: list[HeldFramework] = field(default_factory=list)
    backend: Optional[str] = None  # uv or pip
    route: Optional[str] = None  # a route of steps (cargo, Maven, a source build)
    schema_version: int = SCHEMA_VERSION  # read as 0 from a file written before this record

    @classmethod
    def first(cls, held: HeldFramework, **rest: Any) -> GenerationMeta:
        """A new generation's metadata: `held` (its first framework) at the top, then `rest`."""
        return cls(**{k: getattr(held, k) for k in _AT_THE_TOP}, **rest)

    def held(self) -> list[HeldFramework]:
        """The frameworks this generation holds: its `frameworks` list, or the one the top names."""
        if self.frameworks:
            return list(self.frameworks)
        return [HeldFramework(**{k: getattr(self, k) for k in _AT_THE_TOP})]

    def to_dict(self) -> dict[str, Any]:
        data = records.asdict(self)
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_dict(cls, data: Any, where: str = "fwsetup.json") -> GenerationMeta:
        """Any layout fwsetup has written; a newer schema or a value that does not fit is refused."""
        version = data.get("schema_version", 0) if isinstance(data, dict) else None
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise DecodeError(
                f"{where}.schema_version", f"{version} is newer than this fwsetup reads ({SCHEMA_VERSION})"
            )
        if isinstance(data, dict) and "schema_version" not in data:
            data = {**data, "schema_version": 0}
        return decode(cls, data, where, strict=False)

"""The plan `install` and `lock` make: the ten plan options they share (cli/app.py declares them
once, as PLAN) become one `Choice`, and a `Choice` becomes one `Request`. `install` then asks the
package index whether the world is ahead of the data (network I/O, so here and not in plan/)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

from fwsetup.commands import freshness
from fwsetup.errors import Refusal
from fwsetup.plan import planning, requested
from fwsetup.plan.model import Plan, Request
from fwsetup.records import dataclass, replace
from fwsetup.report import SystemReport


@dataclass(frozen=True)
class Choice:
    """--gpu/--cpu, --version, --python, --backend, --variant, --gpus, --hsa-override, --with and
    --without, as given."""

    gpu: bool = False
    cpu: bool = False
    version: Optional[str] = None
    python: Optional[str] = None
    backend: Optional[str] = None
    variant: Optional[str] = None
    gpus: Optional[str] = None
    hsa_override: bool = False  # AMD: HSA_OVERRIDE_GFX_VERSION for a GPU no build lists (select/rocm.py)
    with_packages: Optional[str] = None
    without: Optional[str] = None

    def given(self) -> list[str]:
        """The options given, as the command line spells them (a lock takes none of them)."""
        return [flag for dest, flag in _FLAGS if getattr(self, dest) not in (None, False)]

    def checked(self) -> Choice:
        """The same choice, its --version, --python, --with and --without checked (a usage error
        before any planning)."""
        requested.check_with_and_without(
            requested.check_with(self.with_packages), requested.check_without(self.without)
        )
        return replace(
            self, version=requested.check_version(self.version), python=requested.check_python(self.python)
        )


_FLAGS = (
    ("gpu", "--gpu"), ("cpu", "--cpu"), ("version", "--version"), ("python", "--python"), ("backend", "--backend"),
    ("variant", "--variant"), ("gpus", "--gpus"), ("hsa_override", "--hsa-override"), ("with_packages", "--with"),
    ("without", "--without"),
)  # fmt: skip


def request(framework: str, choice: Choice, wheelhouses: Sequence[Path], use_pip_config: bool) -> Request:
    """What the user asked for, in the form selection takes."""
    return Request(
        framework=framework,
        accelerator=planning.accelerator_flag(choice.gpu, choice.cpu),
        version=choice.version,
        python=choice.python,
        backend=choice.backend,
        variant=choice.variant,
        gpu_indices=planning.parse_gpus(choice.gpus),
        hsa_override=choice.hsa_override,
        local_wheels=planning.local_wheels(wheelhouses, use_pip_config=use_pip_config),
        with_packages=requested.check_with(choice.with_packages),
        without=requested.check_without(choice.without),
    )


def make_plan(
    framework: str,
    report: SystemReport,
    request: Request,
    check_index: bool = False,
    index_url: Optional[str] = None,
    uv_cache: bool = True,
) -> Union[Plan, Refusal]:
    """The plan; with `check_index` (not --offline), warned when the index has a release the data
    lacks, and with the size of its download (`uv_cache`: uv installs it here, so what uv's cache
    holds is not downloaded)."""
    planned = planning.make_plan(framework, report, request)
    if check_index and isinstance(planned, Plan) and request.version is None:
        newer = freshness.check(planned.framework, planned.version, index_url)
        if newer is not None:
            planned = replace(planned, warnings=[*planned.warnings, newer])
    if check_index and isinstance(planned, Plan) and freshness.allowed():
        from fwsetup.commands import sizes

        found = sizes.download(planned, report, uv_cache=uv_cache)
        if found is not None:
            planned = replace(planned, download_bytes=found[0], cached_bytes=found[1])
    return planned

"""`fwsetup bundle`: download every file a lock names once, and fwsetup itself, into a
wheelhouse any static server can serve (`install --lock … --wheelhouse DIR|URL --offline`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from fwsetup.errors import UsageError
from fwsetup.fleet import bundle as bundling
from fwsetup.fleet import lockfile
from fwsetup.progress import Progress
from fwsetup.records import dataclass


@dataclass(frozen=True)
class Options:
    lock: Path
    output: Path  # the wheelhouse directory to fill
    target: Optional[str] = None  # only this target of the lock
    timeout: float = 3600.0  # each target's download
    allow_insecure: bool = False


@dataclass(frozen=True)
class BundleResult:
    lock: Path
    wheelhouse: Path
    downloaded: dict[str, list[str]]  # target → files
    fwsetup: list[str]  # fwsetup's own wheel and its dependencies

    def to_dict(self) -> dict[str, Any]:
        return {"wheelhouse": str(self.wheelhouse), "downloaded": self.downloaded, "fwsetup": self.fwsetup}


def execute(options: Options, progress: Progress) -> BundleResult:
    _, targets = lockfile.load(options.lock)
    for t in targets:  # downloads only from the sources a lock may name
        lockfile.check_form(t, allow_insecure=options.allow_insecure, allow_paths=True)
    chosen = [t for t in targets if options.target is None or t.name == options.target]
    if not chosen:
        raise UsageError(
            f"no target {options.target!r} in {options.lock}", "targets: " + ", ".join(t.name for t in targets)
        )
    files: dict[str, list[str]] = {}
    for t in chosen:
        progress.info(f"downloading {t.describe()}")
        files[t.name] = bundling.download(t, options.output, timeout=options.timeout)
    progress.info("adding fwsetup itself and its dependencies")
    itself = bundling.add_fwsetup(chosen, options.output, timeout=options.timeout)
    bundling.write_index(options.output)  # served by any static server, listings or not
    return BundleResult(options.lock, options.output, files, itself)

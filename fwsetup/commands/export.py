"""`fwsetup export`: the lock as a provisioning script, a fleet engine's jobs, or a requirements
or pylock file for the user's own tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from fwsetup import __version__
from fwsetup.commands.common import write_output
from fwsetup.errors import UsageError
from fwsetup.fleet import formats, lockfile
from fwsetup.progress import Progress
from fwsetup.records import dataclass


@dataclass(frozen=True)
class Options:
    lock: Path = Path("fwsetup.lock")
    fmt: str = "shell"
    target: Optional[str] = None  # requirements/pylock: the lock's target to write
    wheelhouse: str = "wheelhouse"  # the bundle the machines install from: a path or a URL
    fwsetup_spec: str = f"fwsetup=={__version__}"
    output: Optional[Path] = None  # None: stdout


@dataclass(frozen=True)
class ExportResult:
    format: str
    script: Optional[str] = None  # the export itself, when it goes to stdout
    output: Union[str, list[str], None] = None  # the file written, or an engine's files

    def to_dict(self) -> dict[str, Any]:
        if self.output is None:
            return {"format": self.format, "script": self.script}
        return {"format": self.format, "output": self.output}


def execute(options: Options, progress: Progress) -> ExportResult:
    fmt, lock, output = options.fmt, options.lock, options.output
    # fleet/formats.py: the one table, and the one check of the options, for stdout and -o alike
    chosen = formats.chosen(fmt, options.fwsetup_spec, options.wheelhouse)
    _, targets = lockfile.load(lock)  # refuse to export a broken lock, or one that could run code
    for t in targets:
        lockfile.check_form(t)  # the recipe checks are made where it is installed
    lockfile.check_names(targets)  # one script, Job or file per target
    job = formats.job(lock, targets, options.fwsetup_spec, options.wheelhouse, options.target)
    if output is not None and chosen.write is not None:
        try:
            written = chosen.write(job, lock, output)
        except OSError as exc:  # a file where a directory belongs, a read-only mount, a full disk
            raise UsageError(
                f"cannot write the export to {output}: {exc.strerror or exc}", "pass a writable path with -o"
            ) from None
        return ExportResult(fmt, output=[str(path) for path in written])
    text = chosen.render(job)
    if output is None:
        return ExportResult(fmt, script=text)
    write_output(output, text, "the export", mode=chosen.mode)
    return ExportResult(fmt, output=str(output))

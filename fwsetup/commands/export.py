"""`fwsetup export`: the lock as a provisioning script, a fleet engine's jobs, or a requirements
or pylock file for the user's own tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from fwsetup import __version__
from fwsetup.commands.common import write_output
from fwsetup.errors import UsageError
from fwsetup.fleet import engines, lockfile, pipexport
from fwsetup.fleet import export as exporting
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
    if fmt not in exporting.ALL_FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(exporting.ALL_FORMATS)}", "pick one of those")
    exporting.check_spec(options.fwsetup_spec)
    if fmt == "kubernetes" and not options.wheelhouse.startswith(("http://", "https://")):
        raise UsageError("--format kubernetes needs the bundle's URL: pods fetch it", "pass --bundle http(s)://…")
    _, targets = lockfile.load(lock)  # refuse to export a broken lock, or one that could run code
    for t in targets:
        lockfile.check_form(t)  # the recipe checks are made where it is installed
    if fmt in ("requirements", "pylock"):
        chosen = pipexport.choose_target(targets, options.target)
        text = pipexport.requirements(chosen, lock.name) if fmt == "requirements" else pipexport.pylock(chosen)
    elif output is not None and fmt in engines.ENGINES:
        written = engines.write(fmt, lock, output, options.fwsetup_spec, options.wheelhouse)
        return ExportResult(fmt, output=[str(path) for path in written])
    else:
        text = exporting.render(fmt, lock.read_text(encoding="utf-8"), options.fwsetup_spec, options.wheelhouse)
    if output is None:
        return ExportResult(fmt, script=text)
    write_output(output, text, "the export", mode=0o755 if fmt == "shell" else None)
    return ExportResult(fmt, output=str(output))

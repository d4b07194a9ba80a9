"""The libraries fwsetup does without, timed side by side with what it does instead (README
"Decisions"): CPU time of each one-line program over a bare `python -c pass`, in one interpreter,
interleaved round by round, ratios printed.

- typer (and argparse) against cli/spec.py: `import typer`, then a CLI of fwsetup's own shape
  (generated from its grammar: the same commands, options, kinds, defaults and variables) running
  a no-op command, in typer, in argparse and in spec.py;
- distro against probe/osinfo.py's os-release reader (`distro.id()` against the reader, whose row
  also pays for importing the probe package around it);
- `dataclasses` against records.py: the import plus 30 frozen classes of four fields.

Usage: python bench/bench_libraries.py [--venv DIR] [--rounds N] [--batch N]
typer and distro come from --venv (a virtual environment that has them) or, without it, from a
throwaway one made here (`pip install typer distro`: needs the package index). fwsetup is
imported from this checkout (PYTHONPATH), so every row runs in the same interpreter.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import cpu_once, interleaved, report

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from fwsetup.cli import app  # noqa: E402 - the grammar whose shape the generated CLIs copy
from fwsetup.cli.spec import Argument, Option  # noqa: E402

BASELINE = "python -c pass"
PY_TYPES = {"flag": "bool", "text": "Optional[str]", "path": "Optional[Path]", "float": "float"}
CLASSES = 30


def _typer_param(p: Option | Argument) -> str:
    if isinstance(p, Argument):
        kind = "list[str]" if p.many else "str" if p.required else "Optional[str]"
        default = "" if p.required else " = None"
        return f"{p.dest}: Annotated[{kind}, typer.Argument(help={p.help!r})]{default}"
    kind = "list[Path]" if p.kind in ("paths", "locations") else PY_TYPES[p.kind]
    default = "False" if p.kind == "flag" else "None" if p.kind in ("paths", "locations") else repr(p.default)
    extra = f", envvar={p.envvar!r}" if p.envvar else ""
    extra += f", min={p.min!r}" if p.min is not None else ""
    flags = ", ".join(repr(f) for f in p.flags)
    return f"{p.dest}: Annotated[{kind}, typer.Option({flags}, help={p.help!r}{extra})] = {default}"


def typer_app() -> str:
    """fwsetup's grammar written as a typer app whose commands do nothing."""
    lines = [
        "from pathlib import Path",
        "from typing import Optional",
        "from typing_extensions import Annotated",
        "import typer",
        "app = typer.Typer()",
    ]
    for i, cmd in enumerate(app.COMMANDS.values()):
        params = [_typer_param(p) for p in cmd.params if p.dest != "argv"]
        required = [p for p in params if " = " not in p]
        optional = [p for p in params if " = " in p]
        lines += [
            f"@app.command({cmd.name!r}, help={cmd.help!r})",
            f"def c{i}({', '.join(required + optional)}): pass",
        ]
    lines.append("app()")
    return "\n".join(lines) + "\n"


def argparse_app() -> str:
    """The same grammar in argparse, for scale: the standard library's way to keep the conventions."""
    lines = [
        "import argparse",
        "p = argparse.ArgumentParser(prog='fwsetup')",
        "s = p.add_subparsers(dest='cmd')",
    ]
    for cmd in app.COMMANDS.values():
        lines.append(f"c = s.add_parser({cmd.name!r}, help={cmd.help!r})")
        for p in cmd.params:
            if isinstance(p, Argument):
                nargs = "'*'" if p.many else "None" if p.required else "'?'"
                lines.append(f"c.add_argument({p.dest!r}, nargs={nargs}, help={p.help!r})")
            else:
                action = (
                    "'store_true'"
                    if p.kind == "flag"
                    else "'append'"
                    if p.kind in ("paths", "locations")
                    else "'store'"
                )
                flags = ", ".join(repr(f) for f in p.flags)
                lines.append(f"c.add_argument({flags}, dest={p.dest!r}, action={action}, help={p.help!r})")
    lines.append("p.parse_args(['doctor'])")
    return "\n".join(lines) + "\n"


def frozen_classes(module: str) -> str:
    """30 frozen classes of four fields (a default, a default factory) made with `module`."""
    lines = ["from __future__ import annotations", f"from {module} import dataclass, field"]
    for i in range(CLASSES):
        lines += [
            "@dataclass(frozen=True)",
            f"class C{i}:",
            "    name: str",
            "    count: int = 0",
            "    items: list[str] = field(default_factory=list)",
            "    note: str | None = None",
        ]
    lines.append("C0('x') == C0('x')")
    return "\n".join(lines) + "\n"


def reader_alone() -> str:
    """probe/osinfo.py's os-release reader on its own, as distro's counterpart."""
    import inspect

    from fwsetup.probe.osinfo import parse_os_release

    source = inspect.getsource(parse_os_release)
    return f"from __future__ import annotations\nimport re\n{source}\nparse_os_release(open('/etc/os-release').read())\n"


def throwaway_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    python = where / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "typer", "distro"], check=True, timeout=600)
    return python


def versions(python: Path) -> str:
    code = "import sys; from importlib.metadata import version as v; print('typer', v('typer'), '· distro', v('distro'), '· Python', sys.version.split()[0])"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", type=Path, help="a virtual environment with typer and distro")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=5, help="runs averaged per sample (timer ticks)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        python = args.venv / "bin" / "python" if args.venv else throwaway_venv(work / "venv")
        files = {
            "typer.py": typer_app(),
            "argparse.py": argparse_app(),
            "dataclasses.py": frozen_classes("dataclasses"),
            "records.py": frozen_classes("fwsetup.records"),
            "reader.py": reader_alone(),
        }
        for name, text in files.items():
            (work / f"shape_{name}").write_text(text, encoding="utf-8")
        py = str(python)
        reader = "from fwsetup.probe.osinfo import parse_os_release as p; p(open('/etc/os-release').read())"
        spec = "from fwsetup.cli.app import COMMANDS; from fwsetup.cli.spec import parse; parse(COMMANDS['doctor'], [], {})"
        commands: dict[str, Sequence[str]] = {
            BASELINE: [py, "-c", "pass"],
            "import typer": [py, "-c", "import typer"],
            "typer CLI of fwsetup's shape: doctor (no-op)": [py, str(work / "shape_typer.py"), "doctor"],
            "argparse CLI of fwsetup's shape: doctor (no-op)": [py, str(work / "shape_argparse.py")],
            "spec.py (fwsetup's grammar): doctor (no-op)": [py, "-c", spec],
            "import distro; distro.id()": [py, "-c", "import distro; distro.id()"],
            "fwsetup.probe.osinfo reader (with the probe package)": [py, "-c", reader],
            "the os-release reader alone": [py, str(work / "shape_reader.py")],
            f"import dataclasses + {CLASSES} frozen classes": [py, str(work / "shape_dataclasses.py")],
            f"import fwsetup.records + {CLASSES} frozen classes": [py, str(work / "shape_records.py")],
        }
        for argv in commands.values():  # each program runs before it is timed
            subprocess.run(argv, check=True, capture_output=True, timeout=120, env=_env())
        print(versions(python))
        samples = interleaved(commands, args.rounds, env=_env(), batch=args.batch, measure=cpu_once)
        report(samples, BASELINE)


def _env() -> dict[str, str]:
    return {"PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": ""}


if __name__ == "__main__":
    main()

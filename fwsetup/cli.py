"""The `fwsetup` command line: parse, call, render. No decisions are made here."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from typing import Any, Callable, Optional, TypeVar

import typer

from fwsetup import __version__
from fwsetup.errors import ExitCode, FwsetupError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Make this machine ready for machine learning: detect, choose the right build, "
    "install it in an isolated environment, prove it works.",
)

F = TypeVar("F", bound=Callable[..., Any])

JSON_HELP = "Print exactly one JSON document on stdout."


def _debug() -> bool:
    return os.environ.get("FWSETUP_DEBUG", "") not in ("", "0")


def emit_error(exc: FwsetupError, json_output: bool) -> None:
    from fwsetup import render

    if json_output:
        render.dump_json({"error": exc.to_dict()})
    else:
        sys.stderr.write(render.error_text(exc.message, exc.fix, render.use_color(sys.stderr)))


def handles_errors(fn: F) -> F:
    """Turn every failure into one message and its documented exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        json_output = bool(kwargs.get("json_output", False))
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except FwsetupError as exc:
            if _debug():
                traceback.print_exc()
            emit_error(exc, json_output)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            emit_error(FwsetupError("interrupted", None, code="interrupted"), json_output)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:
            if _debug():
                traceback.print_exc()
            emit_error(
                FwsetupError(
                    f"internal error: {type(exc).__name__}: {exc}",
                    "rerun with FWSETUP_DEBUG=1 to see the traceback, and report it",
                ),
                json_output,
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"fwsetup {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """fwsetup: the right ML framework build for this machine, installed and proven."""


@app.command()
@handles_errors
def doctor(
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 when any finding is an error (for CI).", envvar="FWSETUP_STRICT"
    ),
    timeout: float = typer.Option(
        5.0, "--timeout", min=0.1, max=120.0, help="Seconds each probe may take.", envvar="FWSETUP_PROBE_TIMEOUT"
    ),
) -> None:
    """Report what this machine is and what is wrong with it for ML work."""
    import dataclasses

    from fwsetup import render, system
    from fwsetup.diagnose import diagnose
    from fwsetup.system.base import ProbeEnv

    report = system.collect(ProbeEnv(timeout=timeout))
    report = dataclasses.replace(report, findings=diagnose(report))
    if json_output:
        render.dump_json(report.to_dict())
    else:
        sys.stdout.write(render.report_text(report, render.use_color(sys.stdout)))
    if strict and any(f.level == "error" for f in report.findings):
        raise typer.Exit(int(ExitCode.INTERNAL))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # between commands, e.g. while typer imports
        sys.exit(int(ExitCode.INTERRUPTED))


if __name__ == "__main__":
    main()

"""How every command reports a failure: one message and its fix, JSON when asked, no traceback
unless FWSETUP_DEBUG is set. Kept apart from app.py so code outside the command line can use it too."""

from __future__ import annotations

import os
import sys

from fwsetup.errors import ExitCode, FwsetupError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fwsetup.cli.spec import ParseError


def debug_enabled() -> bool:
    return os.environ.get("FWSETUP_DEBUG", "") not in ("", "0")


def emit_error(exc: FwsetupError, json_output: bool) -> None:
    from fwsetup.cli import render

    if json_output:
        render.dump_json({"error": exc.to_dict()})
    else:
        sys.stderr.write(render.error_text(exc.message, exc.fix, render.use_color(sys.stderr)))


def usage_error(exc: ParseError, prog: str, json_output: bool) -> int:
    """A command line that does not parse: exit 2, shown with its usage line and the close spelling
    of a typo (text), or as the envelope with that spelling in its fix (JSON)."""
    if json_output:
        emit_error(UsageError(exc.message, exc.fix(prog)), True)
    else:
        from fwsetup.cli import render

        sys.stderr.write(render.terminal(exc.text(prog)))
    return int(ExitCode.USAGE)


def debug_traceback(exc: BaseException) -> None:
    """With FWSETUP_DEBUG=1, the traceback behind a message (stderr; stdout stays one document)."""
    if debug_enabled():
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)


def report_internal_error(exc: BaseException, json_output: bool) -> int:
    debug_traceback(exc)
    emit_error(
        FwsetupError(
            f"internal error: {type(exc).__name__}: {exc}",
            "rerun with FWSETUP_DEBUG=1 to see the traceback, and report it",
        ),
        json_output,
    )
    return int(ExitCode.INTERNAL)

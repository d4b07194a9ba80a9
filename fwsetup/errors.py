"""Every way fwsetup can fail on purpose, each with its documented exit code.

One module, so the README's exit-code table and the code cannot drift apart:
the CLI catches `FwsetupError` at the top and exits with `exit_code`.
"""

from __future__ import annotations

import enum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


class ExitCode(enum.IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    REFUSED = 3
    INSTALL_FAILED = 4
    SMOKE_FAILED = 5
    LOCKED = 6
    INTERRUPTED = 130


def shorten(text: str, limit: int = 80, quote: bool = False) -> str:
    """A user's value as a message shows it: whole when short, else its start and its length (a
    5,000-character argument is not echoed back). `quote`: as repr() writes it."""
    if len(text) <= limit:
        return repr(text) if quote else text
    start = repr(text[:limit]) if quote else text[:limit]
    return f"{start}… ({len(text)} characters)"


class FwsetupError(Exception):
    """An error the user can act on: a message, the fix, a stable code."""

    exit_code: ExitCode = ExitCode.INTERNAL
    code: str = "internal"

    def __init__(self, message: str, fix: Optional[str] = None, *, code: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.fix = fix
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Optional[str]]:
        return {"code": self.code, "message": self.message, "fix": self.fix}


class UsageError(FwsetupError):
    exit_code = ExitCode.USAGE
    code = "usage"


class ReportFileError(UsageError):
    """A `--system report.json` that cannot be read as a doctor report."""

    code = "bad-report"


class RecipeError(FwsetupError):
    """A recipe file that does not validate: names the file, key and problem."""

    exit_code = ExitCode.INTERNAL
    code = "bad-recipe"


class UnknownFrameworkError(UsageError):
    code = "unknown-framework"


class Refusal(FwsetupError):
    """No build of the framework can run here, with the reason and what to do."""

    exit_code = ExitCode.REFUSED
    code = "refused"


class InstallError(FwsetupError):
    exit_code = ExitCode.INSTALL_FAILED
    code = "install-failed"


class SmokeError(FwsetupError):
    exit_code = ExitCode.SMOKE_FAILED
    code = "smoke-failed"


class LockedError(FwsetupError):
    exit_code = ExitCode.LOCKED
    code = "locked"

"""What several commands share: a path the user typed, and a file the user named with -o."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from fwsetup.errors import UsageError, shorten


def absolute(value: Any) -> Path:
    """A path from the command line, `~` expanded and made absolute (symlinks kept: an env is one)."""
    return Path(os.path.abspath(os.path.expanduser(str(value))))


def write_output(path: Path, text: str, what: str, mode: Optional[int] = None) -> None:
    """Write a file the user named (-o): a directory, a read-only mount or a full disk is exit 2."""
    try:
        path.write_text(text, encoding="utf-8")
        if mode is not None:
            path.chmod(mode)
    except OSError as exc:
        raise UsageError(
            f"cannot write {what} to {shorten(str(path))}: {exc.strerror or exc}", "pass a writable file path with -o"
        ) from None

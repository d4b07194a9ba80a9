"""The `fwsetup` entry point. The command line (cli/app.py) imports only what the chosen command
needs, so there is no separate fast path: `doctor` costs its probes and little else."""

from __future__ import annotations

from collections.abc import Sequence

from fwsetup.cli.app import main as cli_main

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


def main(argv: Optional[Sequence[str]] = None) -> None:
    cli_main(argv)

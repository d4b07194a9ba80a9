"""The `fwsetup` entry point: the typer-free doctor fast path first, then the full CLI."""

from __future__ import annotations

import sys


def main() -> None:
    from fwsetup.cli.doctor import fast_path

    code = fast_path(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from fwsetup.cli.app import main as cli_main

    cli_main()

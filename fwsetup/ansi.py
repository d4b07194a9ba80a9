"""ANSI colours for text bound for a terminal; shared by every renderer (cli/render.py,
fleet/report.py) so a style means the same colour everywhere."""

from __future__ import annotations

COLORS = {"error": "31", "warning": "33", "info": "36", "ok": "32", "dim": "2", "bold": "1"}


def paint(text: str, style: str, color: bool) -> str:
    return f"\033[{COLORS[style]}m{text}\033[0m" if color else text

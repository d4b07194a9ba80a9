"""The README's "Machine-readable output" says its key sets are exact and that the tests compare
them with equality: so the README's own lists are compared with the sets the tests use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import INSTALL_KEYS, PLAN_KEYS, REPORT_KEYS, SMOKE_KEYS

README = Path(__file__).resolve().parent.parent / "README.md"


def _bullet_keys(lead: str) -> set[str]:
    """The top-level quoted keys of the first `{…}` of the README bullet starting with `lead`."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"- {lead}")
    body = text[text.index("{", start) :]
    depth, keys, i = 0, set(), 0
    while True:
        ch = body[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return keys
        elif ch == '"' and depth == 1:
            end = body.index('"', i + 1)
            if body[end + 1] in ",:}":  # a key, not a value such as "cuda"|"rocm"
                keys.add(body[i + 1 : end])
            i = end
        i += 1


@pytest.mark.parametrize(
    ("lead", "keys"),
    [
        ("`doctor --json`", REPORT_KEYS),
        ("`install --dry-run --json`", PLAN_KEYS),
        ("`install --json`", INSTALL_KEYS),
        ("the smoke result", SMOKE_KEYS),
        ("`completion SHELL --json`", {"shell", "script"}),
    ],
)
def test_the_readme_names_the_exact_json_keys(lead: str, keys: set[str]) -> None:
    assert _bullet_keys(lead) == keys


def test_the_readme_lists_every_short_option() -> None:
    """The README showed `-qo FILE`, which no command takes (`-q` is install's, `-o` lock's,
    bundle's and export's): its list of short forms is the command table's."""
    from fwsetup.cli import app

    text = " ".join(README.read_text(encoding="utf-8").split())
    listed = text[text.index("The short forms: ") : text.index("; no command has both")]
    found = {(cmd, flag) for cmd, flags in re.findall(r"`(\w+)((?: -\w)+)`", listed) for flag in flags.split()}
    declared = {
        (name, flag)
        for name, command in app.COMMANDS.items()
        for option in command.options()
        for flag in option.flags
        if len(flag) == 2
    }
    assert found == declared

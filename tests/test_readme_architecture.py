"""The README's Architecture table is the map a newcomer reads first: every module of the stage
folders must be on it, so a new module cannot land unmapped."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPPED = ["cli", "commands", "plan", "install", "fleet"]  # probe/ and facts/ are mapped by rule: a module per fact, a loader per table


def _architecture() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Architecture")
    end = text.index("\n## ", start + 1)
    return text[start:end]


@pytest.mark.parametrize("folder", MAPPED)
def test_every_module_of_a_stage_folder_is_on_the_architecture_table(folder: str) -> None:
    table = _architecture()
    modules = sorted(
        p.name for p in (ROOT / "fwsetup" / folder).glob("*.py") if p.name != "__init__.py"
    )
    missing = [m for m in modules if f"`{m}`" not in table]
    assert not missing, f"README Architecture does not name fwsetup/{folder}/: {missing}"

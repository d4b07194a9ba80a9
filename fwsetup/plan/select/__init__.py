"""The decision: Recipe × SystemReport × Request → Plan, or a Refusal that explains itself.

Pure: no I/O, no subprocess. Everything it knows about the machine is in the report
(which may describe another machine), everything about the world is in the recipe and
the facts tables. Each choice appends its reason, so `--dry-run` answers "why this build?".

The rules users expect, which pip, conda and `uv --torch-backend=auto` get wrong:
the newest build that supports every GPU's architecture AND the driver AND the Python
AND the OS/arch; on a mixed box one that covers all GPUs, or a refusal naming the GPU
it cannot serve; `--gpu` without a usable GPU is refused with the cause; `--cpu` never
pulls CUDA packages.

Layout: common.py is the release walk (once); pytorch.py, tensorflow.py, jax.py are the
hooks of the frameworks with a build matrix; keras.py and static.py the others;
registry.py the one table from a recipe's `selector` to its hook.
"""

from __future__ import annotations

from typing import Optional

from fwsetup.errors import Refusal
from fwsetup.plan.model import Request
from fwsetup.plan.pythons import local_pythons
from fwsetup.plan.recipes import Recipe
from fwsetup.plan.select.common import Hook, Outcome
from fwsetup.plan.select.registry import HOOKS
from fwsetup.plan.wheels import wheel_fits
from fwsetup.report import SystemReport

__all__ = [
    "Outcome",
    "hook",
    "local_pythons",
    "select",
    "variant_names",
    "wheel_fits",
]


def hook(recipe: Recipe) -> Hook:
    """The hook of this recipe's selector (registry.py)."""
    return HOOKS[recipe.selector]


def variant_names(recipe: Recipe) -> list[str]:
    """The variant names `fwsetup list` shows for a recipe."""
    return hook(recipe).variant_names(recipe)


def select(
    recipe: Recipe, report: SystemReport, request: Request, recipes: Optional[dict[str, Recipe]] = None
) -> Outcome:
    """Choose the build of `recipe` for the machine in `report`, or say why none fits."""
    try:
        return hook(recipe).select(recipe, report, request, recipes)
    except Refusal as refusal:
        return refusal

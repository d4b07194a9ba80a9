"""The one table of selectors: a recipe's `selector` names its hook here.

Frameworks with a build matrix (a facts table walked by select/common.py) and the two that
are not (Keras, which delegates to its backend's hook; static, the historic recipes' variant
lists). Adding a framework with a build matrix: its recipe (`selector = "NAME"`, a name
plan/recipes.py's SELECTORS lists), its facts table and loader (fwsetup/facts/NAME.toml +
NAME.py), its hook (select/NAME.py, `HOOK`), and one line here.
"""

from __future__ import annotations

from fwsetup.plan.select import jax, pytorch, static, tensorflow
from fwsetup.plan.select.common import Hook
from fwsetup.plan.select.keras import KerasHook

MATRIX: dict[str, Hook] = {
    "pytorch": pytorch.HOOK,
    "tensorflow": tensorflow.HOOK,
    "jax": jax.HOOK,
}
HOOKS: dict[str, Hook] = {
    **MATRIX,
    "keras": KerasHook(MATRIX),
    "static": static.HOOK,
}

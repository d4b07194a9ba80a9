"""The one table of selectors: a recipe's `selector` names its hook module here.

Frameworks with a build matrix (a facts table walked by select/common.py) and the two that
are not (Keras, which delegates to its backend; static, the historic recipes' variant lists).
Adding a framework with a build matrix: its recipe (`selector = "NAME"`), its facts table and
loader (fwsetup/facts/NAME.toml + NAME.py), its hook (select/NAME.py, `HOOK`), and one line here.
"""

from __future__ import annotations

# selector -> module that defines HOOK (imported only when a recipe of that selector is used)
MATRIX = {
    "pytorch": "fwsetup.plan.select.pytorch",
    "tensorflow": "fwsetup.plan.select.tensorflow",
    "jax": "fwsetup.plan.select.jax",
}
OTHER = {
    "keras": "fwsetup.plan.select.keras",
    "static": "fwsetup.plan.select.static",
}
SELECTORS = (*MATRIX, *OTHER)

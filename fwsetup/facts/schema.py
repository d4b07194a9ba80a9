"""Facts tables as typed, validated data: a TOML table becomes a frozen dataclass.

The dataclass is the schema (read by fwsetup/decode.py, strictly): a field without a default is
a required key, a field with one is optional, and any key the dataclass does not name is refused.
A misspelt key in a data file would otherwise silently change a decision (`.get("arhcs", [])` is
an empty arch list), so a bad file fails loudly, naming the file, the key and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from fwsetup import tomlfile
from fwsetup.decode import DecodeError, decode

T = TypeVar("T")
DATA_DIR = Path(__file__).parent


class FactsError(ValueError):
    """A facts file that does not match its schema: a bug in fwsetup's data, never the user's."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: key '{key}': {problem}")
        self.file, self.key, self.problem = file, key, problem


def build(cls: type[T], raw: Any, file: str, where: str = "") -> T:
    """`cls` from one TOML table; refuses unknown keys, missing keys and wrong types."""
    try:
        return decode(cls, raw, where, strict=True)
    except DecodeError as exc:
        raise FactsError(file, exc.where, exc.problem) from None


def parse(cls: type[T], text: str, file: str) -> T:
    """`cls` from TOML text (tests feed edited copies of the real files through this)."""
    try:
        raw = tomlfile.loads(text)
    except tomlfile.TOMLDecodeError as exc:
        raise FactsError(file, "(file)", f"not valid TOML: {exc}") from None
    return build(cls, raw, file)


def read(cls: type[T], name: str) -> T:
    """`cls` from fwsetup/facts/<name>.toml. Callers cache (each table module has one reader)."""
    file = f"fwsetup/facts/{name}.toml"
    try:
        raw = tomlfile.load(DATA_DIR / f"{name}.toml")
    except tomlfile.TOMLDecodeError as exc:
        raise FactsError(file, "(file)", f"not valid TOML: {exc}") from None
    return build(cls, raw, file)

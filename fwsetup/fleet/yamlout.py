"""fwsetup's one YAML writer, which cannot be injected: structure in, text out, every string a
quoted scalar.

Every string (keys that are not plain words included) is a YAML double-quoted scalar in which
newlines, CR, NUL, U+2028, the byte order mark, every other control, format or separator
character and quotes are escapes, so no value can end its line, open a new key or a block, and
a YAML 1.1 reader (PyYAML, Ansible) and a 1.2 one read the same data. Every export written as
YAML (cloud-init, GitHub Actions, the Ansible playbook, the Kubernetes manifest, and any format
added later) builds its data and calls `dumps`; none formats YAML by hand, and no runtime YAML
library is needed. Block style keeps the output readable and diffable.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*\Z")
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def scalar(value: Any) -> str:
    """One YAML scalar: strings always quoted (so `on`, `1.10` or `${{ x }}` stay strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return '"' + "".join(_escape(c) for c in value) + '"'
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(c: str) -> str:
    """YAML double-quoted escaping: printable text as it is; every control, format, separator or
    unassigned character as \\uXXXX / \\UXXXXXXXX (YAML's 32-bit form: no surrogate pairs)."""
    if c in _ESCAPES:
        return _ESCAPES[c]
    if " " <= c <= "~" or (ord(c) > 0x9F and unicodedata.category(c)[0] not in "CZ"):
        return c
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


def key(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError("YAML keys must be strings here")
    return name if _PLAIN_KEY.match(name) and name.lower() not in _RESERVED else scalar(name)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        out: list[str] = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{key(k)}:")
                out.extend(_lines(v, indent + 2))
            else:
                out.append(f"{pad}{key(k)}: {_inline(v)}")
        return out
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = _lines(item, indent + 2)
                out.append(f"{pad}- {nested[0].lstrip()}")
                out.extend(nested[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + scalar(value)]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def comment(text: str) -> str:
    """`text` as YAML comment lines, for a header."""
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines())


def dumps(doc: Any, header: str = "") -> str:
    """`doc` (a mapping or a list) as block-style YAML, after `header` (comment lines, e.g.
    `#cloud-config`)."""
    for line in header.splitlines():
        if line and not line.startswith("#"):
            raise ValueError("a YAML header holds only comment lines")
    return header + "\n".join(_lines(doc, 0)) + "\n"

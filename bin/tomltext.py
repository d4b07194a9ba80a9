"""Edit a facts table as text, so regenerated files keep their comments, order and formatting.

A table file is a head (comments and top-level keys) and top-level blocks, each starting at a
`[[name]]` line in column 0 and running to the next one; a block's sub-tables start at indented
`[[name.sub]]` lines. Values are set line by line, in the file's own spelling, so a new release
shows up in a diff as a few added lines and a changed fact as one changed line.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from fwsetup import tomlfile

Value = Union[str, bool, Sequence[str]]
_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_]+) = (?P<value>.*)$")


def fmt(value: Value) -> str:
    """A value as the tables write it: "text", true, ["a", "b"]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"


@dataclass
class Section:
    """Lines of one table (a [[release]] without its sub-tables, or one [[release.variant]])."""

    lines: list[str]

    def get(self, key: str) -> Any:
        for line in self.lines:
            m = _KEY.match(line)
            if m and m.group("key") == key:
                return tomlfile.loads(f"v = {m.group('value')}")["v"]
        return None

    def set(self, key: str, value: Optional[Value], order: Sequence[str]) -> bool:
        """Set, add (in `order`) or, with None, remove `key`; True when the text changed."""
        header = 1 if self.lines and self.lines[0].lstrip().startswith("[") else 0
        indent = self.lines[0][: len(self.lines[0]) - len(self.lines[0].lstrip())] if header else ""
        for i, line in enumerate(self.lines):
            m = _KEY.match(line)
            if not m:
                continue
            indent = m.group("indent")
            if m.group("key") == key:
                if value is None:
                    del self.lines[i]
                    return True
                new = f"{indent}{key} = {fmt(value)}"
                changed = new != line
                self.lines[i] = new
                return changed
        if value is None:
            return False
        rank = order.index(key)
        at = header
        for i, line in enumerate(self.lines):
            m = _KEY.match(line)
            if m and m.group("key") in order and order.index(m.group("key")) < rank:
                at = i + 1
        self.lines.insert(at, f"{indent}{key} = {fmt(value)}")
        return True


@dataclass
class Block:
    """One top-level [[name]] table and its indented sub-tables; `tail` holds trailing blank lines."""

    name: str
    main: Section
    subs: list[Section] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def text(self) -> list[str]:
        out = list(self.main.lines)
        for sub in self.subs:
            out += sub.lines
        return out + self.tail


@dataclass
class TableText:
    head: list[str]
    blocks: list[Block]

    @classmethod
    def parse(cls, text: str) -> TableText:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        starts = [i for i, line in enumerate(lines) if line.startswith("[[")]
        head = lines[: starts[0]] if starts else lines
        blocks = []
        for n, start in enumerate(starts):
            body = lines[start : starts[n + 1] if n + 1 < len(starts) else len(lines)]
            tail: list[str] = []
            while body and body[-1].strip() == "":
                tail.insert(0, body.pop())
            subs_at = [i for i, line in enumerate(body) if i > 0 and line.lstrip().startswith("[[")]
            main = Section(body[: subs_at[0]] if subs_at else body)
            subs = [
                Section(body[s : subs_at[k + 1] if k + 1 < len(subs_at) else len(body)])
                for k, s in enumerate(subs_at)
            ]
            blocks.append(Block(body[0].strip("[] "), main, subs, tail))
        return cls(head, blocks)

    def text(self) -> str:
        out = list(self.head)
        for block in self.blocks:
            out += block.text()
        return "\n".join(out) + "\n"

    def checked(self) -> Optional[datetime.date]:
        value = Section(self.head).get("checked")
        return value if isinstance(value, datetime.date) else None

    def set_checked(self, day: datetime.date) -> None:
        for i, line in enumerate(self.head):
            m = _KEY.match(line)
            if m and m.group("key") == "checked":
                comment = line.split("#", 1)[1] if "#" in line else None
                self.head[i] = f"checked = {day.isoformat()}" + (
                    f"  #{comment}" if comment is not None else ""
                )

    def of(self, name: str) -> list[Block]:
        return [b for b in self.blocks if b.name == name]

    def insert(self, block: Block, after: Optional[Block]) -> None:
        """Put `block` after `after` (None: before the first block of its name, or at the end)."""
        if after is not None:
            if not after.tail:  # `after` ended the file: the blank line moves between them
                after.tail, block.tail = [""], []
            self.blocks.insert(self.blocks.index(after) + 1, block)
            return
        same = self.of(block.name)
        self.blocks.insert(self.blocks.index(same[0]) if same else len(self.blocks), block)

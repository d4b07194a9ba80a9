"""Documents for fleet engines (Ansible playbooks, Kubernetes manifests) made by a serializer.

They are YAML to their readers; fwsetup writes them as JSON, which YAML 1.2 reads as the same
data, so every value (a lock's target names above all) is quoted by a serializer's rules and no
runtime YAML library is needed. The characters JSON leaves raw but YAML readers treat as line
breaks or refuse (C1 controls, U+2028/U+2029, the byte order mark, non-characters) are escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any

# YAML's printable set excludes these; PyYAML folds \x85, U+2028 and U+2029 like a newline.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def yaml_text(doc: Any, header: str) -> str:
    """`doc` as a YAML document (JSON syntax) under `header`'s comment lines."""
    body = json.dumps(doc, indent=2, ensure_ascii=False)
    body = _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + body + "\n"

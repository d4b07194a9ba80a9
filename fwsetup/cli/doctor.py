"""Where the published JSON Schema of `doctor --json` is (README "Machine-readable output"); the
command itself is fwsetup/commands/doctor.py."""

from __future__ import annotations

import os

# The published JSON Schema of `doctor --json` (shipped in the wheel; README "Machine-readable output").
SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "doctor.schema.json")

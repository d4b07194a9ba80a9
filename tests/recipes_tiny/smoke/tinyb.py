"""Smoke for the second test recipe: imports iniconfig, parses a line."""

import json
import sys
import time

started = time.time()
import iniconfig  # noqa: E402

ok = iniconfig.IniConfig("x.ini", data="[a]\nb = 1\n")["a"]["b"] == "1"
print(
    json.dumps(
        {
            "ok": ok,
            "framework": "tinyb",
            "framework_version": "2.0.0",
            "device": "cpu",
            "checks": {"parse": ok},
            "seconds": round(time.time() - started, 3),
        }
    )
)
sys.exit(0 if ok else 1)

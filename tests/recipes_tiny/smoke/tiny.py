"""Smoke for the test recipe: imports six, checks a computation, can be told to hang or fail."""

import json
import os
import sys
import time

started = time.time()
marker = os.environ.get("TINY_SMOKE_MARKER")
if marker:
    with open(marker, "w") as fh:
        fh.write(str(os.getpid()))
time.sleep(float(os.environ.get("TINY_SMOKE_SLEEP", "0")))
import six  # noqa: E402

ok = six.moves.reduce(lambda a, b: a + b, range(5)) == 10 and os.environ.get("TINY_SMOKE_FAIL") != "1"
print(
    json.dumps(
        {
            "ok": ok,
            "framework": "tiny",
            "framework_version": six.__version__,
            "device": "cpu",
            "checks": {"sum": ok},
            "details": {"tiny_home": os.environ.get("TINY_HOME")},
            "seconds": round(time.time() - started, 3),
        }
    )
)
sys.exit(0 if ok else 1)

"""Run inside `unshare -n` by test_fleet_engines: serve the bundle on loopback with
`python -m http.server`, run a playbook twice against an inventory, write both outputs.

argv: WHEELHOUSE PORT OUTDIR ANSIBLE_PLAYBOOK ARGS…"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    wheelhouse, port, outdir, playbook_cmd = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", wheelhouse, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for run in ("first", "second"):
            started = time.monotonic()
            out = subprocess.run(playbook_cmd, capture_output=True, text=True, timeout=900, check=False)
            (outdir / f"{run}.out").write_text(out.stdout + "\n--- stderr\n" + out.stderr)
            (outdir / f"{run}.rc").write_text(str(out.returncode))
            (outdir / f"{run}.seconds").write_text(f"{time.monotonic() - started:.1f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run inside `unshare -n -m` by test_fleet_engines: the README's commands with no network but
loopback. The host name of the bundle's URL resolves to loopback (a hosts file bound over
/etc/hosts in this mount namespace only), the README's server line serves the bundle, and the
README's playbook line runs twice; both outputs, exit codes and times are written to OUTDIR.

argv: OUTDIR HOSTNAME PORT SERVE_LINE PLAYBOOK_LINE (lines run by bash in the current directory)"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    outdir, hostname, port, serve, playbook = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), *sys.argv[4:6]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    hosts = outdir / "hosts"
    hosts.write_text(f"127.0.0.1 localhost {hostname}\n::1 localhost ip6-localhost\n")
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True, timeout=30)
    server = subprocess.Popen(
        ["bash", "-c", "exec " + serve], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((hostname, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        for run in ("first", "second"):
            started = time.monotonic()
            out = subprocess.run(["bash", "-c", playbook], capture_output=True, text=True, timeout=900, check=False)
            (outdir / f"{run}.out").write_text(out.stdout + "\n--- stderr\n" + out.stderr)
            (outdir / f"{run}.rc").write_text(str(out.returncode))
            (outdir / f"{run}.seconds").write_text(f"{time.monotonic() - started:.1f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start-up cost of the everyday commands: CPU time (user + system of the child) over a bare
`python -c pass`, batches of runs interleaved side by side in one run, ratios printed.

Usage: python bench/bench_cli.py [--rounds N] [--batch N] [--check] [--where]
Limits (issue 10): doctor --json <= 5x, install FW --dry-run --json <= 10x, list --json <= 15x,
--help <= 8x. With --check the exit status is 1 when a ratio is over its limit. With --where it
also prints, per command, the import time of each part (`-X importtime`, self times summed by
package: fwsetup.probe, fwsetup.plan, packaging, …), to show where the remaining time goes.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import cpu_once, interleaved, report

BASELINE = "python -c pass"
LIMITS = {
    "doctor --json": 5.0,
    "install jax --cpu --dry-run --json": 10.0,
    "list --json": 15.0,
    "--help": 8.0,
}


def import_times(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds of import time (self, not cumulative) per package for one run of argv."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fwsetup", *argv[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **env),
        check=False,
    )
    groups: dict[str, float] = collections.defaultdict(float)
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        parts = name.split(".")
        groups[".".join(parts[:2]) if parts[0] == "fwsetup" else parts[0]] += int(self_us) / 1e6
    return groups


def where(commands: dict[str, list[str]], env: dict[str, str]) -> None:
    for name, argv in commands.items():
        if name == BASELINE:
            continue
        groups = import_times(argv, env)
        top = sorted(groups.items(), key=lambda kv: -kv[1])[:8]
        print(f"\n{name}: imports {sum(groups.values()):.3f} s, of which")
        for group, seconds in top:
            print(f"  {group:<28} {seconds:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=5, help="runs averaged per sample (timer ticks)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio is over its limit")
    parser.add_argument("--where", action="store_true", help="import time per package, per command")
    args = parser.parse_args()
    # The `fwsetup` script beside this interpreter (what users run), else `-m fwsetup`.
    script = Path(sys.executable).parent / "fwsetup"
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "fwsetup"]
    commands = {BASELINE: [sys.executable, "-c", "pass"]}
    commands.update({name: [*entry, *name.split()] for name in LIMITS})
    # Installed from a wheel, fwsetup runs from .pyc files pip compiled; let the warm-up write them
    # here too (this machine's shells set PYTHONDONTWRITEBYTECODE, which would time the compiler).
    env = {"PYTHONDONTWRITEBYTECODE": ""}
    samples = interleaved(commands, args.rounds, env=env, batch=args.batch, measure=cpu_once)
    ratios = report(samples, BASELINE, LIMITS)
    if args.where:
        where(commands, env)
    if args.check and any(ratios[name] > limit for name, limit in LIMITS.items()):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""`fwsetup install FW --cpu` beside plain `uv pip install` and plain `pip install` of the same
packages into fresh venvs, measured side by side in one run, warm and cold cache.

Usage: python bench/bench_install.py [--framework jax] [--rounds 3] [--cold]
fwsetup's time includes its smoke test (a real computation); the others only install. "excl.
smoke" takes off the smoke step's wall time as fwsetup's progress reports it (the script's
start-up and framework import included, which the script's own `seconds` leaves out).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(argv: list[str], env: dict[str, str] | None = None) -> float:
    import os

    started = time.perf_counter()
    subprocess.run(
        argv,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    return time.perf_counter() - started


def run_fwsetup(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, the part of them the smoke step took) of one `fwsetup install`."""
    import os
    import re

    started = time.perf_counter()
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env={**os.environ, **env})
    wall = time.perf_counter() - started
    smoke = re.search(r"smoke test[^\n]*\n\s+done in ([0-9.]+) s", out.stderr)
    if smoke is None:
        raise SystemExit(f"no smoke step in fwsetup's progress:\n{out.stderr}")
    return wall, float(smoke.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", default="jax")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="empty uv and pip caches before every install")
    args = parser.parse_args()
    fwsetup = str(Path(sys.executable).parent / "fwsetup")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    plan = json.loads(
        subprocess.run(
            [fwsetup, "install", args.framework, "--cpu", "--dry-run", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    python = plan["interpreter"] or sys.executable
    packages = plan["packages"]
    extra: list[str] = []
    for fl in plan["find_links"]:
        extra += ["--find-links", fl]
    for url in plan["index_urls"]:
        extra += ["--extra-index-url", url]
    print(
        f"{args.framework}: {' '.join(packages)} on Python {plan['python']} ({'cold' if args.cold else 'warm'} cache)"
    )
    samples: dict[str, list[float]] = {
        "fwsetup install (incl. smoke)": [],
        "fwsetup install (excl. smoke)": [],
        "uv venv + uv pip install": [],
        "venv + pip install": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for i in range(args.rounds):
            env: dict[str, str] = {}
            if args.cold:
                env = {"UV_CACHE_DIR": str(base / f"uvcache{i}"), "PIP_CACHE_DIR": str(base / f"pipcache{i}")}
            wall, smoke_seconds = run_fwsetup(
                [fwsetup, "install", args.framework, "--cpu", "--env", str(base / f"fw{i}")],
                {**env, "FWSETUP_HOME": str(base / "home")},
            )
            samples["fwsetup install (incl. smoke)"].append(wall)
            samples["fwsetup install (excl. smoke)"].append(wall - smoke_seconds)
            samples["uv venv + uv pip install"].append(
                run([uv, "venv", "-q", "--python", python, str(base / f"uv{i}")], env)
                + run(
                    [
                        uv,
                        "pip",
                        "install",
                        "-q",
                        "--python",
                        str(base / f"uv{i}" / "bin" / "python"),
                        "--index-strategy",
                        "unsafe-best-match",
                        *extra,
                        *packages,
                    ],
                    env,
                )
            )
            samples["venv + pip install"].append(
                run([python, "-m", "venv", str(base / f"pip{i}")], env)
                + run(
                    [
                        str(base / f"pip{i}" / "bin" / "python"),
                        "-m",
                        "pip",
                        "install",
                        "-q",
                        *extra,
                        *packages,
                    ],
                    env,
                )
            )
    base_med = statistics.median(samples["uv venv + uv pip install"])
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"  {name:<32} median {med:7.1f} s   ratio to uv {med / base_med:5.2f}x")


if __name__ == "__main__":
    main()

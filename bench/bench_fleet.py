"""N environments from one wheelhouse (offline) vs N online installs of the same lock, side by side.

Usage: python bench/bench_fleet.py [--framework jax] [--n 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env}
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", default="jax")
    parser.add_argument("--n", type=int, default=3)
    args = parser.parse_args()
    fwsetup = str(Path(sys.executable).parent / "fwsetup")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = {"FWSETUP_HOME": str(base / "home")}
        lock = base / "fw.lock"
        t_lock = timed([fwsetup, "lock", args.framework, "--cpu", "-o", str(lock)], env)
        t_bundle = timed([fwsetup, "bundle", "--lock", str(lock), "-o", str(base / "wh")], env)
        offline, online = [], []
        for i in range(args.n):
            # each VM is fresh: no installer cache of its own
            cold = {**env, "UV_CACHE_DIR": str(base / f"c-off{i}"), "PIP_CACHE_DIR": str(base / f"p-off{i}")}
            offline.append(
                timed(
                    [
                        fwsetup,
                        "install",
                        "--lock",
                        str(lock),
                        "--wheelhouse",
                        str(base / "wh"),
                        "--offline",
                        "--quiet",
                        "--env",
                        str(base / f"off{i}"),
                    ],
                    cold,
                )
            )
            cold = {**env, "UV_CACHE_DIR": str(base / f"c-on{i}"), "PIP_CACHE_DIR": str(base / f"p-on{i}")}
            online.append(
                timed(
                    [fwsetup, "install", "--lock", str(lock), "--quiet", "--env", str(base / f"on{i}")], cold
                )
            )
    print(f"{args.framework}: lock {t_lock:.1f} s, bundle (one download) {t_bundle:.1f} s")
    print(
        f"  {args.n} offline installs from the wheelhouse: {sum(offline):7.1f} s  (mean {sum(offline) / args.n:.1f} s)"
    )
    print(
        f"  {args.n} online installs, cold caches:          {sum(online):7.1f} s  (mean {sum(online) / args.n:.1f} s)"
    )
    print(
        f"  ratio offline/online: {sum(offline) / sum(online):.2f}; with the bundle counted once: {(sum(offline) + t_bundle) / sum(online):.2f}"
    )


if __name__ == "__main__":
    main()

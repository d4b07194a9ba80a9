"""Selection: throughput over every fixture machine × framework × accelerator, the table of
choices, and the CPU cost of the commands that select, as ratios over a bare interpreter.

Usage:
  python bench/bench_select.py [--table]      selections per second (+ the choice table)
  python bench/bench_select.py --cli          CPU time (user+sys of the child), side by side:
                                              python -c pass, install jax --cpu --dry-run --json,
                                              list --json; then where the time of one run goes
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))


def selections(table: bool, accelerator: str) -> None:
    from machines import machines

    from fwsetup.errors import Refusal
    from fwsetup.plan import recipes
    from fwsetup.plan.model import Request
    from fwsetup.plan.select import select

    all_recipes = recipes.load_all()
    fixtures = machines()
    started = time.perf_counter()
    count = 0
    rows = []
    for mname, report in fixtures.items():
        for fname, recipe in all_recipes.items():
            for accel in ("auto", "gpu", "cpu"):
                out = select(recipe, report, Request(fname, accelerator=accel), all_recipes)
                count += 1
                if accel == accelerator:
                    rows.append((mname, fname, out))
    elapsed = time.perf_counter() - started
    print(
        f"{count} selections in {elapsed:.3f} s: {count / elapsed:.0f} per second ({1000 * elapsed / count:.2f} ms each)"
    )
    if table:
        for mname, fname, out in rows:
            if isinstance(out, Refusal):
                text = f"refused [{out.code}]"
            else:
                text = f"{out.version} {out.variant} py{out.python or 'system'}" + (
                    f" ({out.status})" if out.status != "supported" else ""
                )
            print(f"| {mname} | {fname} | {text} |")


def child_cpu(argv: list[str]) -> float:
    """User+sys CPU seconds of one run of argv (wall time here is mostly other sessions' noise)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cli(rounds: int) -> None:
    fwsetup = shutil.which("fwsetup") or str(Path(sys.executable).parent / "fwsetup")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "install jax --cpu --dry-run --json": [fwsetup, "install", "jax", "--cpu", "--dry-run", "--json"],
        "list --json": [fwsetup, "list", "--json"],
    }
    for argv in commands.values():
        child_cpu(argv)  # warm-up: page cache, .pyc files
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            samples[name].append(child_cpu(argv))
    base = statistics.median(samples["python -c pass"])
    width = max(len(n) for n in commands)
    print(f"{'command':<{width}}  median CPU ms   ratio")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:<{width}}  {1000 * med:13.1f}   {med / base:5.1f}x")
    code = (
        "import time; c=time.process_time\n"
        "t0=c(); import fwsetup.cli.app; t1=c()\n"
        "from fwsetup.plan import planning; from fwsetup.plan.model import Request; t2=c()\n"
        "r=planning.machine_report(None); t3=c()\n"
        "planning.make_plan('jax', r, Request('jax', accelerator='cpu')); t4=c()\n"
        "planning.machine_summary(r, planning.local_wheels([], True)); t5=c()\n"
        "print(f'in one process, CPU ms: import the CLI (typer app, render, …) {1000*(t1-t0):.0f}; "
        "plan modules not already imported by it {1000*(t2-t1):.0f}; probes {1000*(t3-t2):.0f}; "
        "select jax (recipe + jax.toml parsed) {1000*(t4-t3):.0f}; list: every recipe selected {1000*(t5-t4):.0f}')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--cli", action="store_true", help="CPU-time ratios of the selecting commands")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if args.cli:
        cli(args.rounds)
    else:
        selections(args.table, args.accelerator)


if __name__ == "__main__":
    main()

"""Selection throughput over every fixture machine × framework × accelerator, and the table of
choices (the (machine, framework) → build table in the closing notes comes from here).

Usage: python bench/bench_select.py [--table]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from machines import machines

from fwsetup.errors import Refusal
from fwsetup.plan import recipes
from fwsetup.plan.model import Request
from fwsetup.plan.select import select


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--accelerator", default="auto")
    args = parser.parse_args()
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
                if accel == args.accelerator:
                    rows.append((mname, fname, out))
    elapsed = time.perf_counter() - started
    print(
        f"{count} selections in {elapsed:.3f} s: {count / elapsed:.0f} per second ({1000 * elapsed / count:.2f} ms each)"
    )
    if args.table:
        for mname, fname, out in rows:
            if isinstance(out, Refusal):
                text = f"refused [{out.code}]"
            else:
                text = f"{out.version} {out.variant} py{out.python or 'system'}" + (
                    f" ({out.status})" if out.status != "supported" else ""
                )
            print(f"| {mname} | {fname} | {text} |")


if __name__ == "__main__":
    main()

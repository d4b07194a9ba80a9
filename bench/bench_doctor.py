"""`fwsetup doctor --json` against a bare interpreter start and torch's collect_env.

Usage: python bench/bench_doctor.py [--rounds N] [--torch-python PATH]
Prints medians and ratios measured side by side in one run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import interleaved, report


def find_torch_python() -> str | None:
    from fwsetup import paths

    for env in sorted(paths.env_root().glob("pytorch-*")):
        py = env / "bin" / "python"
        if py.exists():
            return str(py)
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=10, help="runs averaged per sample (timer ticks)")
    parser.add_argument(
        "--torch-python", help="an interpreter with torch installed (default: an fwsetup pytorch env)"
    )
    args = parser.parse_args()
    fwsetup = shutil.which("fwsetup") or str(Path(sys.executable).parent / "fwsetup")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "fwsetup doctor --json": [fwsetup, "doctor", "--json"],
        "fwsetup doctor": [fwsetup, "doctor"],
    }
    torch_py = args.torch_python or find_torch_python()
    if torch_py:
        commands["torch collect_env"] = [torch_py, "-m", "torch.utils.collect_env"]
    else:
        print(
            "(no interpreter with torch found: `fwsetup install pytorch --cpu` first to compare with collect_env)"
        )
    fast = {k: v for k, v in commands.items() if k != "torch collect_env"}
    # as installed from a wheel: from .pyc files (this machine's shells set PYTHONDONTWRITEBYTECODE)
    samples = interleaved(fast, args.rounds, env={"PYTHONDONTWRITEBYTECODE": ""}, batch=args.batch)
    if "torch collect_env" in commands:
        samples.update(
            interleaved({"torch collect_env": commands["torch collect_env"]}, max(3, args.rounds // 2))
        )
    report(samples, "python -c pass")
    if torch_py:
        import statistics

        ratio = statistics.median(samples["fwsetup doctor --json"]) / statistics.median(
            samples["torch collect_env"]
        )
        print(f"doctor --json / collect_env = {ratio:.2f}")


if __name__ == "__main__":
    main()

"""How long ``mentalize --help`` and each subcommand's ``--help`` take: median of 5 fresh processes.

    python benchmarks/cli_help.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time

COMMANDS = ([], ["score"], ["report"], ["train"], ["evaluate"], ["export"], ["import"], ["agree"])


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(f"# {dt.date.today()} on {platform.node()}: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    print("| command | median s (5 runs) |\n| --- | ---: |")
    baseline = [sys.executable, "-c", "pass"]
    for args in ((None,), *((c,) for c in COMMANDS)):
        cmd = baseline if args == (None,) else [sys.executable, "-m", "mentalize_nlp", *args[0], "--help"]
        times = []
        for _ in range(5):
            start = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True)
            times.append(time.perf_counter() - start)
            if done.returncode not in (0, 2):
                break
        name = "python -c pass (baseline)" if args == (None,) else "mentalize " + " ".join([*args[0], "--help"])
        print(f"| {name} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()

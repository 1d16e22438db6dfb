"""Time and peak memory of ``mentalize score`` on one long table against many small files of the same text.

A 200,000-row CSV (about 20 MB, columns ``speaker,text``, one session) is generated from the
turns of the shipped sample sessions, cycled, each pass's texts ending in its number (a text
repeated within a batch is tagged once, so plain copies would time nothing); the same rows,
in the same order, are also written as 2,000 CSV files of 100 rows. Each is then scored in a fresh process (start-up
counted), with 1 and with 2 jobs; peak memory is the largest resident size among the
processes of the run (``ru_maxrss`` of the children of a measuring process).

    python benchmarks/large_table.py [--rows 200000] [--files 2000] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def turns() -> pd.DataFrame:
    """The (speaker, text) turns of the shipped sample sessions."""
    from mentalize_nlp.transcripts import read_transcript

    rows = [(u.speaker, u.text) for path in sorted((ROOT / "corpora" / "sample").iterdir()) if path.suffix == ".txt"
            for session in read_transcript(path) for u in session.utterances]
    return pd.DataFrame(rows, columns=["speaker", "text"])


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Wall-clock seconds, peak resident memory in MB, and exit status of one run in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    memory = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        memory = f", {kb / 1024 ** 2:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, pandas {pd.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    base = turns()
    rows = base.iloc[[k % len(base) for k in range(args.rows)]].reset_index(drop=True)
    rows["text"] += [f" ({k // len(base)})" for k in range(args.rows)]  # each pass its own texts: a repeat is tagged once
    per_file = -(-args.rows // args.files)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = folder / "long.csv"
        rows.to_csv(table, index=False)
        small = folder / "small"
        small.mkdir()
        for k in range(args.files):
            rows.iloc[k * per_file:(k + 1) * per_file].to_csv(small / f"s{k:04d}.csv", index=False)
        mb = table.stat().st_size / 1e6
        print(f"Measured on {dt.date.today().isoformat()} on {machine()}.")
        print(f"Input: {args.rows:,} rows (speaker,text; {mb:.1f} MB) as one CSV, and the same rows as "
              f"{args.files:,} CSV files of {per_file} rows. One run each, in a fresh process.\n")
        print("| input | jobs | wall-clock s | rows/s | peak MB (largest process) | exit |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for jobs in args.jobs:
            for name, given in ((f"one {args.rows:,}-row CSV", table), (f"{args.files:,} small files", small)):
                out = folder / f"out-{jobs}-{given.name}"
                seconds, peak, code = measure([sys.executable, "-m", "mentalize_nlp", "score", str(given), "--out", str(out),
                                               "--jobs", str(jobs)])
                print(f"| {name} | {jobs} | {seconds:.1f} | {args.rows / seconds:,.0f} | {peak:.0f} | {code} |", flush=True)


if __name__ == "__main__":
    main()

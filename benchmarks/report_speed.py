"""Wall time of ``mentalize report`` for the 133 AnnoMI sessions (one page each, and the index).

The AnnoMI sessions are written out as one CSV file per session (columns speaker,text),
scored once with ``mentalize score``, then ``mentalize report`` is timed in fresh processes
(start-up counted), after removing the report folder each time.

    python benchmarks/report_speed.py [--annomi PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def write_sessions(annomi: Path, folder: Path) -> int:
    """One CSV file per AnnoMI transcript, columns speaker,text; returns the number of sessions."""
    frame = pd.read_csv(annomi).drop_duplicates(["transcript_id", "utterance_id"]).sort_values(["transcript_id", "utterance_id"])
    folder.mkdir(parents=True, exist_ok=True)
    for transcript, rows in frame.groupby("transcript_id"):
        pd.DataFrame({"speaker": rows["interlocutor"], "text": rows["utterance_text"]}).to_csv(
            folder / f"annomi-{int(transcript):03d}.csv", index=False
        )
    return int(frame["transcript_id"].nunique())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annomi", type=Path, default=ROOT.parent / "shared" / "corpora" / "annomi" / "AnnoMI-full.csv")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    mentalize = [sys.executable, "-m", "mentalize_nlp"]
    with tempfile.TemporaryDirectory() as tmp:
        inputs, out = Path(tmp) / "in", Path(tmp) / "out"
        n = write_sessions(args.annomi, inputs)
        subprocess.run([*mentalize, "score", str(inputs), "--out", str(out), "-j", "2"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times = []
        for _ in range(args.repeat):
            shutil.rmtree(out / "report", ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([*mentalize, "report", str(out)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        pages = len(list((out / "report").glob("*.html")))
    print(f"mentalize report, {n} AnnoMI sessions ({pages} pages with the index): best {min(times):.1f} s, "
          f"median {statistics.median(times):.1f} s of {args.repeat} runs ({', '.join(f'{t:.1f}' for t in times)})")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; {dt.date.today().isoformat()}")


if __name__ == "__main__":
    main()

"""End-to-end throughput and memory of ``mentalize score`` on AnnoMI, against a spaCy tokenizer-only pass.

The 133 AnnoMI sessions are written out as one CSV file per session (as a supervisor's
folder would hold them), then, each in a fresh process so start-up is counted:

1. baseline: spaCy's blank English tokenizer over the same utterance texts (read with pandas);
2. ``mentalize score`` with 1 job;
3. ``mentalize score`` with 2 jobs, on AnnoMI and on a batch four times larger;
4. peak memory for 1x and 4x the sessions (streaming: it should not grow with the batch).

    python benchmarks/throughput.py [--annomi PATH] [--repeat 3] [--against OTHER/src]

``--against`` also times the x1 runs with the package found in another checkout's ``src``
folder (an earlier version, say), interleaved with this one's, so a change is compared
against the same baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(time.perf_counter() - t, "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
BASELINE = (
    "import sys, pathlib, pandas as pd, spacy; nlp = spacy.blank('en'); n = 0\n"
    "for f in sorted(pathlib.Path(sys.argv[1]).glob('*.csv')):\n"
    "    texts = pd.read_csv(f, dtype=str, keep_default_na=False)['text'].tolist()\n"
    "    n += sum(len(d) for d in nlp.tokenizer.pipe(texts))\n"
)


def measure(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Best wall-clock seconds over ``repeat`` runs, and peak resident memory in MB."""
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True, env=env).stdout.split()
        best = min(best, float(out[0]))
        peak = max(peak, int(out[1]) / 1024)
    return best, peak


def export(annomi: Path, folder: Path, copies: int) -> int:
    """Write each session as its own CSV (``copies`` times over); return the word count written.

    Copy ``k`` of every session comes after copy ``k - 1`` of all of them (files are read in
    name order), so no slice of utterances tagged together holds a session twice: a text
    repeated within a slice is tagged once, and copies side by side would be timed as free."""
    frame = pd.read_csv(annomi).drop_duplicates(["transcript_id", "utterance_id"]).sort_values(["transcript_id", "utterance_id"])
    words = 0
    for copy in range(copies):
        for tid, rows in frame.groupby("transcript_id"):
            table = pd.DataFrame({"speaker": rows["interlocutor"], "text": rows["utterance_text"]})
            table.to_csv(folder / f"annomi-{copy}-{tid:03d}.csv", index=False)
            words += int(table["text"].str.split().str.len().sum())
    return words


def in_process(annomi: Path, repeat: int) -> tuple[int, float, float]:
    """Words, and best seconds for the tokenizer alone and for tagging, on the texts in memory (no start-up)."""
    import time

    import mentalize_nlp

    texts = pd.read_csv(annomi).drop_duplicates(["transcript_id", "utterance_id"])["utterance_text"].astype(str).tolist()
    words = sum(len(t.split()) for t in texts)
    tagger = mentalize_nlp.load()
    tokenizer = tagger.nlp.tokenizer

    def best(run) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    return words, best(lambda: list(tokenizer.pipe(texts))), best(lambda: tagger.tag_texts(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annomi", type=Path, default=ROOT.parent / "shared" / "corpora" / "annomi" / "AnnoMI-full.csv")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout's src folder, timed on the x1 runs too")
    args = parser.parse_args()
    mentalize = [sys.executable, "-m", "mentalize_nlp", "score"]
    with tempfile.TemporaryDirectory() as tmp:
        one, four, out = Path(tmp) / "x1", Path(tmp) / "x4", Path(tmp) / "out"
        one.mkdir(), four.mkdir()
        words = export(args.annomi, one, 1)
        words4 = export(args.annomi, four, 4)

        def score(folder: Path, jobs: int, src: Path | None = None, repeat: int = args.repeat) -> tuple[float, float]:
            shutil.rmtree(out, ignore_errors=True)
            env = {**os.environ, "PYTHONPATH": str(src.resolve())} if src else None
            return measure([*mentalize, str(folder), "--out", str(out), "--jobs", str(jobs), "--force"], repeat, env)

        rows = {"tokenizer only (x1)": measure([sys.executable, "-c", BASELINE, str(one)], args.repeat)}
        for jobs in (1, 2):
            name = f"mentalize score, {jobs} job{'s' if jobs > 1 else ''} (x1)"
            if args.against:  # alternate the two versions, run by run
                pairs = [(score(one, jobs, args.against, 1), score(one, jobs, repeat=1)) for _ in range(args.repeat)]
                rows[f"{name}, {args.against}"] = (min(a[0] for a, _ in pairs), max(a[1] for a, _ in pairs))
                rows[name] = (min(b[0] for _, b in pairs), max(b[1] for _, b in pairs))
            else:
                rows[name] = score(one, jobs)
        rows["mentalize score, 1 job (x4)"] = score(four, 1)
        rows["mentalize score, 2 jobs (x4)"] = score(four, 2)
    base = rows["tokenizer only (x1)"][0]
    print(f"# {dt.date.today()} on {platform.node()}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"AnnoMI: 133 sessions, {words} words (x4: {words4} words)\n")
    print("| run | wall-clock s (incl. start-up) | words/s | x tokenizer-only time | peak MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (seconds, peak) in rows.items():
        n = words4 if "(x4)" in name else words
        print(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} | {seconds / base:.2f} | {peak:.0f} |")
    speedup = rows["mentalize score, 1 job (x4)"][0] / rows["mentalize score, 2 jobs (x4)"][0]
    growth = rows["mentalize score, 1 job (x4)"][1] / rows["mentalize score, 1 job (x1)"][1]
    print(f"\n2 jobs vs 1 on the x4 batch: {speedup:.2f}x faster; peak memory x4 vs x1 sessions: {growth:.2f}x")
    words, tok, tag = in_process(args.annomi, args.repeat)
    print(f"\nIn process, texts in memory: tokenizer only {words / tok:,.0f} words/s; tagging {words / tag:,.0f} words/s "
          f"({tag / tok:.1f}x the tokenizer's time)")
    print(json.dumps({k: {"seconds": round(v[0], 3), "peak_mb": round(v[1], 1)} for k, v in rows.items()}))


if __name__ == "__main__":
    main()

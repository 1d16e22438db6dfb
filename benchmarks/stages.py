"""Where the time of ``mentalize score`` goes: each stage timed inside one process, on AnnoMI.

The 133 AnnoMI sessions are written out as one CSV file per session (as in
``throughput.py``), then scored with one job, in a fresh process per run, with the main
stages wrapped in timers: imports, reading the files, the spaCy pipeline, building the
features, the classifier, the profiles, encoding the output rows, and the rest (loading
the model, evidence, writing); imports are split into spaCy and pandas (which the
tokenizer-only baseline imports too), scikit-learn, and the rest. Prints the median of
each stage over the runs.

    python benchmarks/stages.py [--annomi PATH] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent


def child(folder: str, out: str) -> None:
    """Score ``folder`` into ``out`` with the stages timed; print them as JSON."""
    import functools
    from collections import Counter

    import pandas  # noqa: F401 - timed: the baseline of throughput.py imports these two as well
    import spacy  # noqa: F401

    libraries = time.perf_counter()
    import sklearn.linear_model  # noqa: F401

    learn = time.perf_counter()
    from mentalize_nlp import batch, classifier, features, tagging
    from mentalize_nlp.cli import main

    spent: Counter[str] = Counter(imports=time.perf_counter() - START)
    spent["of which spaCy and pandas"] = libraries - START
    spent["of which scikit-learn"] = learn - libraries

    def timed(owner, name: str, stage: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - began

        setattr(owner, name, wrapper)

    timed(batch, "_read", "reading files")
    timed(tagging, "featurise", "pipeline and features")
    timed(features, "doc_units", "features")
    timed(features, "unit_features", "features")
    timed(classifier.Classifier, "unit_proba", "classifier")
    timed(batch, "profile", "profiles")
    timed(batch, "encode", "encoding rows")
    began = time.perf_counter()
    main(["score", folder, "--out", out, "--force"], standalone_mode=False)
    spent["score"] = time.perf_counter() - began
    spent["spaCy pipeline"] = spent.pop("pipeline and features") - spent["features"]
    stages = [k for k in spent if k != "score" and not k.startswith(("imports", "of which"))]
    spent["rest of score"] = spent["score"] - sum(spent[k] for k in stages)
    print(json.dumps(spent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annomi", type=Path, default=ROOT.parent / "shared" / "corpora" / "annomi" / "AnnoMI-full.csv")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from throughput import export

    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "x1", Path(tmp) / "out"
        folder.mkdir()
        export(args.annomi, folder, 1)
        runs = []
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, __file__, "--child", str(folder), str(out)], capture_output=True,
                                  text=True, check=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"# {dt.date.today()} on {platform.node()}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; median of {args.repeat} runs, 1 job, AnnoMI (133 files)\n")
    print("| stage | seconds (median) | range |")
    print("| --- | ---: | --- |")
    order = ["imports", "of which spaCy and pandas", "of which scikit-learn", "reading files", "spaCy pipeline", "features", "classifier", "profiles", "encoding rows", "rest of score"]
    for stage in order:
        values = [run[stage] for run in runs]
        print(f"| {stage} | {statistics.median(values):.2f} | {min(values):.2f}-{max(values):.2f} |")
    total = [run["imports"] + run["score"] for run in runs]
    print(f"| **total** | {statistics.median(total):.2f} | {min(total):.2f}-{max(total):.2f} |")


if __name__ == "__main__":
    main()

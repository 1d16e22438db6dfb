"""Held-out-writer evaluation: how well the tagger does on text written by someone it never learnt from.

The corpus was written in parts (the prefix of each ``id``), each by a different writer
with a brief for a register or kind of talk. For each part: train on the training rows of
every *other* part, and test on this part's test rows. The models are trained on the
written corpus alone (no real talk, whose thresholds and calibration would not follow
the written rows), so the figures say how far one writer's style carries to another's,
not how the shipped model does. One training per part.

    python benchmarks/held_out_writer.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from mentalize_nlp.training import train

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    corpus = pd.read_csv(ROOT / "corpora" / "mentalizing" / "corpus.csv", keep_default_na=False)
    corpus["writer"] = corpus["id"].str.split("-").str[0]
    rows = []
    for writer, count in corpus["writer"].value_counts(sort=False).items():
        if count < 100:
            continue
        part = corpus.copy()
        keep = ((part["writer"] != writer) & (part["split"] == "train")) | ((part["writer"] == writer) & (part["split"] == "test"))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "corpus.csv"
            part[keep].drop(columns="writer").to_csv(path, index=False)
            scores = train(path).metadata["scores"]["written_test"]
        rows.append({"writer": writer, "n_test": scores["n"], "macro_f1": scores["macro_f1"],
                     **{label: s["f1"] for label, s in scores["labels"].items()}})
        print(rows[-1], flush=True)
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()

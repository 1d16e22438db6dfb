"""How the tagger does on a source of real talk it was never trained on: leave one source out.

The held-out test sessions say how the model does on *new sessions of the sources it
learnt from*. A user's transcripts come from elsewhere, so this benchmark asks the harder
question. For each real source (AnnoMI, MIBot, Counsel Chat) in turn, a model is trained
exactly as ``mentalize train`` trains one (the written corpus, plus the real training
sessions of the *other two* sources, thresholds and calibration from their out-of-fold
scores), then tags the left-out source's training sessions, whole turns as a user would.
Test sessions are not read, so the figures can guide choices without touching the
held-out split.

    python benchmarks/cross_source.py [--shared ../shared/corpora]

Takes about four minutes on two cores.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from real_talk import SHORT, ci

from mentalize_nlp.corpus import (
    DEFAULT_CORPUS,
    DEFAULT_REAL_CORPUS,
    read_corpus,
    resolve_text,
)
from mentalize_nlp.evaluation import real_talk_scores
from mentalize_nlp.labels import LABELS
from mentalize_nlp.pipeline import build_pipeline
from mentalize_nlp.tagging import Tagger
from mentalize_nlp.training import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpora")
    args = parser.parse_args()
    real = resolve_text(read_corpus(DEFAULT_REAL_CORPUS), args.shared)
    real = real[real["split"] == "train"]
    nlp = build_pipeline()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in sorted(real["source"].unique()):
            others = Path(tmp) / f"without-{source}.csv"
            real[real["source"] != source].to_csv(others, index=False)
            model = train(DEFAULT_CORPUS, real=others, shared=args.shared, nlp=nlp)
            scores = real_talk_scores(Tagger(nlp=nlp, classifier=model), real[real["source"] == source])
            rows.append((source, scores))
    print("| left-out source | turns | sessions | macro-F1 [95% CI] | " + " | ".join(f"F1 {SHORT[l]}" for l in LABELS)
          + " | adjusted count error " + " / ".join(SHORT[l] for l in LABELS)
          + " | largest calibration gap, bins of >= 50 turns |")
    print("| --- | ---: | ---: | --- | " + " | ".join("---" for _ in LABELS) + " | ---: | ---: |")
    for source, s in rows:
        counts = " / ".join(f"{s['session_counts'][l]['adjusted_error']:.0%}" for l in LABELS)
        gaps = " / ".join("n/a" if (g := s["calibration"][l]["max_gap_bins_n50"]) is None else f"{g:.2f}" for l in LABELS)
        print(f"| {source} | {s['turns']:,} | {s['sessions']} | {s['macro_f1']:.2f} [{s['macro_f1_low']:.2f}-{s['macro_f1_high']:.2f}] | "
              + " | ".join(ci(s["labels"][l]) for l in LABELS) + f" | {counts} | {gaps} |")
    mean = sum(s["macro_f1"] for _, s in rows) / len(rows)
    print(f"\nMean macro-F1 over left-out sources: {mean:.3f}")


if __name__ == "__main__":
    main()

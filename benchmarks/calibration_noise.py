"""How large a calibration gap chance alone makes on the real-talk test split.

The model card's calibration target asks that, in every probability bin of at least 50
turns, the observed share lie within 0.05 of the predicted probability. In a bin of 50
turns near p = 0.3 the observed share has a standard error of 0.065, so even a perfectly
calibrated model misses such a target often. This script tags the test turns once, then
draws outcomes from the model's own probabilities (what a perfectly calibrated model
would see) many times, and prints per label: the observed largest gap, the median gap of
the draws, the share of draws at least as large as the observed one (a p-value for "the
probabilities are right"), and the share of draws that would meet the 0.05 target.

    python benchmarks/calibration_noise.py [--model DIR] [--corpus corpora/real/corpus.csv] [--shared ../shared/corpora] [--draws 2000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mentalize_nlp.calibration import largest_gap
from mentalize_nlp.labels import LABELS

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "real" / "corpus.csv")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()

    import mentalize_nlp
    from mentalize_nlp.corpus import read_corpus, resolve_text
    from mentalize_nlp.evaluation import real_turns

    frame = resolve_text(read_corpus(args.corpus), args.shared)
    turns = real_turns(frame[frame["split"] == "test"])
    tags = mentalize_nlp.load(str(args.model) if args.model else None).tag_texts(turns["text"].tolist())
    rng = np.random.default_rng(0)
    met = np.ones(args.draws, dtype=bool)
    print(f"{len(turns):,} test turns, {args.draws} draws from the model's own probabilities\n")
    print("| label | observed largest gap | median gap of the draws | draws at least as large | draws within 0.05 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label in LABELS:
        proba = tags[f"p_{label}"].to_numpy(dtype=float)
        observed = largest_gap(proba, turns[label].to_numpy(dtype=int)) or 0.0  # None: no bin of 50
        drawn = np.array([largest_gap(proba, (rng.random(len(proba)) < proba).astype(int)) or 0.0 for _ in range(args.draws)])
        met &= drawn <= 0.05
        print(f"| {label} | {observed:.3f} | {np.median(drawn):.3f} | {np.mean(drawn >= observed):.1%} | {np.mean(drawn <= 0.05):.1%} |")
    print(f"\nDraws within 0.05 for all labels at once: {met.mean():.1%}")


if __name__ == "__main__":
    main()

"""Agreement with a human coder on the AnnoMI check set, turn by turn.

The labels in ``corpora/annomi-check/labels.csv`` were coded by hand from the spec,
blind to the model, on whole turns; the utterance texts are read from the AnnoMI file in
``../shared`` (not copied into the project). Half the sample was drawn at random, half
from utterances of eight words or more; rows of the six reserved transcripts were
removed. Since the real-talk corpus now codes every other AnnoMI transcript, only the
rows whose transcript is in that corpus's test split are unseen by the model; figures are
printed for those and, separately, for all rows.

    python benchmarks/annomi_check.py [--annomi PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import mentalize_nlp
from mentalize_nlp.evaluation import label_scores

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annomi", type=Path, default=ROOT.parent / "shared" / "corpora" / "annomi" / "AnnoMI-full.csv")
    args = parser.parse_args()
    gold = pd.read_csv(ROOT / "corpora" / "annomi-check" / "labels.csv")
    real = pd.read_csv(ROOT / "corpora" / "real" / "corpus.csv", usecols=["session", "split"]).drop_duplicates("session")
    held_out = {int(s.split("-")[1]) for s in real.loc[(real["split"] == "test") & real["session"].str.startswith("annomi-"), "session"]}
    annomi = pd.read_csv(args.annomi).drop_duplicates(["transcript_id", "utterance_id"])
    merged = gold.merge(annomi[["transcript_id", "utterance_id", "interlocutor", "utterance_text"]], on=["transcript_id", "utterance_id"], how="left")
    tags = mentalize_nlp.load().tag_texts(merged["utterance_text"].fillna("").tolist())
    unseen = merged["transcript_id"].isin(held_out).to_numpy()
    for name, rows in (("unseen transcripts", unseen), ("all rows (most in training sessions)", slice(None))):
        part, part_tags = merged[rows].reset_index(drop=True), tags[rows].reset_index(drop=True)
        print(f"AnnoMI check, {name}: {len(part)} utterances, {int(part[list(mentalize_nlp.LABELS)].any(axis=1).sum())} with a gold label")
        print(label_scores(part, part_tags).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    predicted = int(tags[list(mentalize_nlp.LABELS)].sum().sum())
    print(f"labels predicted: {predicted}; gold labels: {int(merged[list(mentalize_nlp.LABELS)].sum().sum())}")
    for label in mentalize_nlp.LABELS:
        wrong = merged[(merged[label] != tags[label])]
        for row, pred in zip(wrong.itertuples(), tags.loc[wrong.index, label]):
            print(f"  {label:20s} gold={getattr(row, label)} pred={pred}  {row.utterance_text[:110]!r}")


if __name__ == "__main__":
    main()

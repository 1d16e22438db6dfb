"""Assemble the real-talk corpus from the coders' files.

Each coder's file holds ``id`` and one 0/1 column per label, for the sentences listed in
the units file (``id, source, session, turn, sentence, role, start_char, end_char, text``).
Rows coded twice are settled by the adjudication file where the coders disagreed, and
rows read again in the consistency review take the reviewer's labels.
Counsel Chat text is not copied: its rows keep offsets into ../shared (see README.md).

    python corpora/real/assemble.py CODING_DIR
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd

LABELS = ["certainty_labelling", "feeling_naming", "perspective_taking"]
RESERVED = {"annomi-18", "annomi-23", "annomi-53", "annomi-117", "annomi-126", "annomi-131"}
HERE = Path(__file__).resolve().parent
TEST_FRACTION = 0.25
FIRST_CODER = {"round3": 8, "round4": 14}
"""The first and second rounds shared eight coders; the third and fourth had six new ones each."""


def split_of(session: str) -> str:
    """Whole sessions go to test or train, by a hash of the session id."""
    bucket = int(hashlib.sha256(f"mentalize-real-v1:{session}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < TEST_FRACTION else "train"


def read_labels(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"id": str})
    frame = frame.drop_duplicates("id", keep="last")
    bad = frame[LABELS].isin([0, 1]).all(axis=1)
    if not bad.all():
        raise SystemExit(f"{path}: rows with labels other than 0/1: {frame.loc[~bad, 'id'].tolist()[:5]}")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("coding", type=Path)
    args = parser.parse_args()
    units = pd.concat([pd.read_csv(p, dtype={"id": str}, keep_default_na=False) for p in sorted(args.coding.glob("units*.csv"))])
    units = units.drop_duplicates("id")
    coded = []
    for path in sorted(args.coding.glob("*chunk*.labels.csv")):
        frame = read_labels(path)
        coder = int(path.name.split("chunk")[1].split(".")[0]) + FIRST_CODER.get(path.name.split("-")[0], 0)
        coded.append(frame.assign(coder=f"coder{coder}"))
    coded = pd.concat(coded).drop_duplicates("id")
    corpus = units.drop(columns=["coder"], errors="ignore").merge(coded, on="id", how="inner")
    adjudicated_path = args.coding / "adjudicated.csv"
    if adjudicated_path.exists():
        settled = read_labels(adjudicated_path).set_index("id")
        rows = corpus["id"].isin(settled.index)
        corpus.loc[rows, LABELS] = settled.loc[corpus.loc[rows, "id"], LABELS].to_numpy()
        corpus["adjudicated"] = rows.astype(int)
    reviewed = [read_labels(p) for p in sorted(args.coding.glob("review*.labels.csv"))]
    corpus["reviewed"] = 0
    if reviewed:
        final = pd.concat(reviewed).drop_duplicates("id", keep="last").set_index("id")
        rows = corpus["id"].isin(final.index)
        before = corpus.loc[rows, LABELS].to_numpy()
        corpus.loc[rows, LABELS] = final.loc[corpus.loc[rows, "id"], LABELS].to_numpy()
        corpus["reviewed"] = rows.astype(int)
        changed = int((before != corpus.loc[rows, LABELS].to_numpy()).any(axis=1).sum())
        print(f"consistency review: {int(rows.sum())} rows read again, {changed} changed")
    for name in ("adjudicated2.csv", "adjudicated3.csv", "adjudicated4.csv"):  # later blind second codings, disagreements settled
        if not (args.coding / name).exists():
            continue
        settled = read_labels(args.coding / name).set_index("id")
        rows = corpus["id"].isin(settled.index)
        corpus.loc[rows, LABELS] = settled.loc[corpus.loc[rows, "id"], LABELS].to_numpy()
        corpus.loc[rows, "adjudicated"] = 1
    corpus = corpus[~corpus["session"].isin(RESERVED)]
    corpus.loc[corpus["source"].eq("counselchat"), "text"] = ""
    corpus["split"] = corpus["session"].map(split_of)
    corpus = corpus.sort_values(["source", "session", "turn", "sentence"], kind="stable")
    columns = ["id", "source", "session", "turn", "sentence", "role", "start_char", "end_char", "text", *LABELS, "coder", "reviewed", "split"]
    corpus[columns + (["adjudicated"] if "adjudicated" in corpus else [])].to_csv(HERE / "corpus.csv", index=False)
    print(corpus.groupby(["source", "split"]).size())
    print(corpus[LABELS].sum())


if __name__ == "__main__":
    main()

"""Real-talk figures of a model, as Markdown tables for the model card.

Reads the scores stored in the model's metadata (measured by ``mentalize train`` on the
real-talk test split: whole sessions the model never saw), or measures them again with
``--measure`` on any real-talk corpus of the same shape.

    python benchmarks/real_talk.py [--model DIR] [--measure corpora/real/corpus.csv --shared ../shared/corpora [--plain]]

``--plain`` lower-cases the texts and strips their punctuation (apostrophes kept) before
tagging, as an automatic transcript without casing or punctuation reads: how far the
figures rest on the transcriber's punctuation.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from mentalize_nlp.labels import LABELS

SHORT = {"certainty_labelling": "CL", "feeling_naming": "FN", "perspective_taking": "PT"}


def ci(entry: dict, key: str = "f1") -> str:
    return f"{entry[key]:.2f} [{entry[f'{key}_low']:.2f}-{entry[f'{key}_high']:.2f}]"


def tables(real: dict) -> str:
    out = [f"Held-out real talk: {real['turns']:,} turns in {real['sessions']} sessions. "
           f"**Macro-F1 {real['macro_f1']:.2f} (95% CI {real['macro_f1_low']:.2f}-{real['macro_f1_high']:.2f})**.", ""]
    out += ["| label | precision | recall | F1 | gold turns |", "| --- | ---: | ---: | ---: | ---: |"]
    for label in LABELS:
        e = real["labels"][label]
        out.append(f"| {label} | {ci(e, 'precision')} | {ci(e, 'recall')} | {ci(e)} | {e['support']} |")
    for key, title in (("by_source", "source"), ("by_role", "role")):
        out += ["", f"| {title} | turns | macro-F1 | " + " | ".join(f"F1 {SHORT[l]}" for l in LABELS) + " |",
                "| --- | ---: | ---: | " + " | ".join("---:" for _ in LABELS) + " |"]
        for name, e in real[key].items():
            out.append(f"| {name} | {e['turns']:,} | {e['macro_f1']:.2f} | " + " | ".join(ci(e[l]) for l in LABELS) + " |")
    out += ["", "| label | gold | tagged | adjusted [90% interval] | error: tagged | adjusted | ACC | sessions whose gold count is in their 90% interval |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label in LABELS:
        c = real["session_counts"][label]
        out.append(f"| {label} | {c['gold']} | {c['tagged']} | {c['adjusted']:.1f} [{c['adjusted_low']:.1f}-{c['adjusted_high']:.1f}] | "
                   f"{c['tagged_error']:.0%} | {c['adjusted_error']:.0%} | {c['acc_error']:.0%} | {c['sessions_in_90_interval']:.0%} |")
    out += ["", "| label | Brier | largest gap in a bin of >= 50 turns | reliability (bin: predicted / observed, n) |", "| --- | ---: | ---: | --- |"]
    for label in LABELS:
        c = real["calibration"][label]
        bins = "; ".join(f"{b['bin']}: {b['predicted']:.2f} / {b['observed']:.2f} ({b['n']})" for b in c["bins"])
        gap = "n/a" if c["max_gap_bins_n50"] is None else f"{c['max_gap_bins_n50']:.3f}"
        out.append(f"| {label} | {c['brier']:.4f} | {gap} | {bins} |")
    out += ["", f"Turns marked `needs_review`: {real['needs_review_share']:.1%}."]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--measure", type=Path, default=None, help="Measure on the test split of this real-talk corpus.")
    parser.add_argument("--shared", type=Path, default=Path("..") / "shared" / "corpora")
    parser.add_argument("--plain", action="store_true", help="With --measure: tag the texts lower-cased and without punctuation.")
    args = parser.parse_args()
    import mentalize_nlp

    tagger = mentalize_nlp.load(str(args.model) if args.model else None)
    if args.measure:
        from mentalize_nlp.corpus import read_corpus, resolve_text
        from mentalize_nlp.evaluation import real_talk_scores

        frame = resolve_text(read_corpus(args.measure), args.shared)
        if args.plain:
            frame["text"] = [" ".join(re.sub(r"[^\w\s']", " ", text.lower()).split()) for text in frame["text"]]
        real = real_talk_scores(tagger, frame[frame["split"] == "test"])
    else:
        real = tagger.classifier.metadata["scores"]["real_test"]
    print(tables(real))
    written = tagger.classifier.metadata["scores"].get("written_test")
    if written and not args.measure:
        print(f"\nWritten test split: {written['n']:,} utterances, macro-F1 {written['macro_f1']:.3f}; "
              + ", ".join(f"{l} {written['labels'][l]['f1']:.3f}" for l in LABELS))
        cv = tagger.classifier.metadata["scores"]["cross_validation"]
        print(f"Cross-validation on real training sessions (out-of-fold): macro-F1 {cv['macro_f1']:.3f}; "
              + ", ".join(f"{l} {cv['labels'][l]['f1']:.3f}" for l in LABELS))
        print(json.dumps({"thresholds": tagger.classifier.metadata["thresholds"], "error_rates": tagger.classifier.metadata["error_rates"]}))


if __name__ == "__main__":
    main()

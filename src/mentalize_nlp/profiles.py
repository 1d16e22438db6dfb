"""Session profiles: pure pandas over the utterance table, one row per session and speaker.

The mentalizing balance is ``(PT + FN - CL) / (PT + FN + CL)`` over the label counts
(perspective-taking, feeling-naming, certainty-laden labelling): +1 when every tagged
utterance mentalizes, -1 when every one is certainty-laden, empty when nothing is tagged.

Counts are what the tagger tagged. Because single tags are sometimes wrong, each label
also gets an *adjusted* count: the sum of the utterances' calibrated probabilities
(probabilistic classify-and-count, corrected by the calibration measured on held-out real
talk), with a 90% interval for the true count and rate. A table without probabilities
(hand-built, or from another tool) falls back to the tagged count with a Wilson interval;
see :mod:`mentalize_nlp.calibration`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .calibration import count_interval, expected_count
from .labels import LABELS

NO_CUE = "no cue word"
"""How the evidence of a label given without any cue word begins."""



def _top_words(series: pd.Series, k: int = 5) -> str:
    counts: Counter[str] = Counter()
    for cell in series:
        if str(cell).startswith(NO_CUE):
            continue
        counts.update(w.strip().lower() for w in str(cell).split(",") if w.strip())
    return ", ".join(f"{w} ({n})" if n > 1 else w for w, n in counts.most_common(k))


def _text_column(values: pd.Series, index: pd.Index) -> pd.Series:
    return values.reindex(index).astype(object).fillna("")


def balance(positive: pd.Series | float, negative: pd.Series | float) -> pd.Series | float:
    """The mentalizing balance from mentalizing and certainty-laden counts (NaN when both are 0)."""
    total = positive + negative
    if isinstance(total, pd.Series):
        return (positive - negative) / total.where(total != 0)
    return (positive - negative) / total if total else float("nan")


def profile(utterances: pd.DataFrame, labels: tuple[str, ...] = LABELS) -> pd.DataFrame:
    """Counts, rates per 100 utterances and the mentalizing balance per session and speaker.

    Args:
        utterances: The tagged utterance table; its ``p_<label>`` columns, when present,
            give the adjusted counts.

    Also, per label: the adjusted count and rate with a 90% interval
    (``<label>_adjusted``, ``<label>_count_low``/``_high``, ``<label>_per_100_low``/``_high``),
    the turns that drive each count (``<label>_turns``, ``;``-separated) and the most
    frequent evidence words (``<label>_evidence``); and the utterances marked for review.
    """
    keys = ["session", "speaker"]
    columns = ["session", "speaker", "role", "utterances"]
    for label in labels:
        columns += [f"{label}_count", f"{label}_per_100"]
    columns += ["mentalizing_balance"]
    for label in labels:
        columns += [f"{label}_adjusted", f"{label}_count_low", f"{label}_count_high", f"{label}_adjusted_per_100",
                    f"{label}_per_100_low", f"{label}_per_100_high"]
    columns += ["needs_review_count", "needs_review_share", *(f"{l}_turns" for l in labels), *(f"{l}_evidence" for l in labels)]
    if utterances.empty:
        return pd.DataFrame(columns=columns)
    needed = ["session", "speaker", "role", "turn", *labels]
    missing = [c for c in needed if c not in utterances.columns]
    if missing:
        raise KeyError(f"profile() needs the columns {', '.join(needed)} (as Tagger.tag_sessions gives them); "
                       f"missing: {', '.join(missing)}.")
    theirs = [l for l in labels if f"pred_{l}" in utterances.columns]
    if theirs:  # tag_frame kept a coder's column and put the tagger's beside it: counts and adjusted figures would mix them
        raise KeyError(f"the frame holds both a coder's {theirs[0]} and the tagger's pred_{theirs[0]}; profile one of them: "
                       f"drop the coder's columns, and rename the pred_ ones to {theirs[0]} and the rest.")
    numeric = {f"p_{l}": pd.to_numeric(utterances[f"p_{l}"], errors="coerce") for l in labels if f"p_{l}" in utterances}
    groups = utterances.assign(**numeric).groupby(keys, sort=False)
    table = groups.agg(utterances=("role", "size"))
    roles = utterances.groupby([*keys, "role"], sort=False).size().rename("n").reset_index()
    roles = roles.sort_values(["n", "role"], ascending=[False, True], kind="stable").drop_duplicates(keys)
    table.insert(0, "role", roles.set_index(keys)["role"].reindex(table.index))  # the most frequent; on a tie, the first by name
    for label in labels:
        table[f"{label}_count"] = groups[label].sum().astype(int)
        table[f"{label}_per_100"] = (100.0 * table[f"{label}_count"] / table["utterances"]).round(2)
    mentalizing = table.get("perspective_taking_count", 0) + table.get("feeling_naming_count", 0)
    table["mentalizing_balance"] = balance(mentalizing, table.get("certainty_labelling_count", 0)).round(3)
    n = table["utterances"].to_numpy()
    for label in labels:
        p = f"p_{label}"
        if p in utterances:
            figures = groups[p].agg(lambda s: expected_count(s.to_numpy()))
            adjusted, low, high = (np.array([f[i] for f in figures]) for i in range(3))
        else:
            adjusted = table[f"{label}_count"].to_numpy(dtype=float)
            low, high = count_interval(adjusted, n, 1.0, 0.0)
        table[f"{label}_adjusted"] = adjusted.round(1)
        table[f"{label}_count_low"], table[f"{label}_count_high"] = low.round(1), high.round(1)
        table[f"{label}_adjusted_per_100"] = (100.0 * adjusted / n).round(2)
        table[f"{label}_per_100_low"], table[f"{label}_per_100_high"] = (100.0 * low / n).round(2), (100.0 * high / n).round(2)
    review = groups["needs_review"].sum().astype(int) if "needs_review" in utterances else pd.Series(0, index=table.index)
    table["needs_review_count"] = review
    table["needs_review_share"] = (review / table["utterances"]).round(3)
    for label in labels:
        hits = utterances[utterances[label] == 1].groupby(keys, sort=False)
        table[f"{label}_turns"] = _text_column(hits["turn"].agg(lambda s: ";".join(map(str, s))), table.index)
        evidence = f"evidence_{label}"
        table[f"{label}_evidence"] = _text_column(hits[evidence].agg(_top_words), table.index) if evidence in utterances else ""
    return table.reset_index()[columns]

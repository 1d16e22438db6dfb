"""Session profiles: pure pandas over the utterance table, one row per session and speaker.

The mentalizing balance is ``(PT + FN - CL) / (PT + FN + CL)`` over the label counts
(perspective-taking, feeling-naming, certainty-laden labelling): +1 when every tagged
utterance mentalizes, -1 when every one is certainty-laden, empty when nothing is tagged.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .labels import LABELS


def _top_words(series: pd.Series, k: int = 5) -> str:
    counts: Counter[str] = Counter()
    for cell in series:
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

    Also, per label, the turns that drive each count (``<label>_turns``, ``;``-separated)
    and the most frequent evidence words (``<label>_evidence``).
    """
    keys = ["session", "speaker"]
    columns = ["session", "speaker", "role", "utterances"]
    for label in labels:
        columns += [f"{label}_count", f"{label}_per_100"]
    columns += ["mentalizing_balance", *(f"{l}_turns" for l in labels), *(f"{l}_evidence" for l in labels)]
    if utterances.empty:
        return pd.DataFrame(columns=columns)
    groups = utterances.groupby(keys, sort=False)
    table = groups.agg(role=("role", lambda s: s.mode().iat[0]), utterances=("role", "size"))
    for label in labels:
        table[f"{label}_count"] = groups[label].sum().astype(int)
        table[f"{label}_per_100"] = (100.0 * table[f"{label}_count"] / table["utterances"]).round(2)
    mentalizing = table.get("perspective_taking_count", 0) + table.get("feeling_naming_count", 0)
    table["mentalizing_balance"] = balance(mentalizing, table.get("certainty_labelling_count", 0)).round(3)
    for label in labels:
        hits = utterances[utterances[label] == 1].groupby(keys, sort=False)
        table[f"{label}_turns"] = _text_column(hits["turn"].agg(lambda s: ";".join(map(str, s))), table.index)
        evidence = f"evidence_{label}"
        table[f"{label}_evidence"] = _text_column(hits[evidence].agg(_top_words), table.index) if evidence in utterances else ""
    return table.reset_index()[columns]

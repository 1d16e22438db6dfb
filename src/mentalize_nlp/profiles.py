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


def balance(positive: pd.Series | float, negative: pd.Series | float) -> pd.Series | float:
    """The mentalizing balance from mentalizing and certainty-laden counts (NaN when both are 0)."""
    total = positive + negative
    with np.errstate(invalid="ignore", divide="ignore"):
        return (positive - negative) / np.where(total == 0, np.nan, total) if isinstance(total, pd.Series) else (
            (positive - negative) / total if total else float("nan")
        )


def profile(utterances: pd.DataFrame, labels: tuple[str, ...] = LABELS) -> pd.DataFrame:
    """Counts, rates per 100 utterances and the mentalizing balance per session and speaker.

    Also, per label, the turns that drive each count (``<label>_turns``) and the most
    frequent evidence words (``<label>_evidence``).
    """
    keys = ["session", "speaker"]
    columns = ["session", "speaker", "role", "utterances"]
    for label in labels:
        columns += [f"{label}_count", f"{label}_per_100"]
    columns += ["mentalizing_balance", *(f"{l}_turns" for l in labels), *(f"{l}_evidence" for l in labels)]
    if utterances.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (session, speaker), group in utterances.groupby(keys, sort=False):
        n = len(group)
        row = {"session": session, "speaker": speaker, "role": group["role"].mode().iat[0], "utterances": n}
        for label in labels:
            count = int(group[label].sum())
            row[f"{label}_count"] = count
            row[f"{label}_per_100"] = round(100.0 * count / n, 2)
        mentalizing = row.get("perspective_taking_count", 0) + row.get("feeling_naming_count", 0)
        value = balance(mentalizing, row.get("certainty_labelling_count", 0))
        row["mentalizing_balance"] = round(value, 3) if value == value else np.nan
        for label in labels:
            hits = group[group[label] == 1]
            row[f"{label}_turns"] = ";".join(str(t) for t in hits["turn"])
            evidence_col = f"evidence_{label}"
            row[f"{label}_evidence"] = _top_words(hits[evidence_col]) if evidence_col in hits else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)

"""Agreement between predicted and gold labels: per label, macro, and per register."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

from .labels import LABELS


def label_scores(gold: pd.DataFrame, predicted: pd.DataFrame, labels: tuple[str, ...] = LABELS) -> pd.DataFrame:
    """Precision, recall, F1, Cohen's kappa and support for each label, plus a ``macro`` row."""
    rows = []
    for label in labels:
        y_true = gold[label].to_numpy(dtype=int)
        y_pred = predicted[label].to_numpy(dtype=int)
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
        kappa = cohen_kappa_score(y_true, y_pred) if len(set(y_true) | set(y_pred)) > 1 else float("nan")
        rows.append({"label": label, "precision": p, "recall": r, "f1": f, "kappa": kappa, "support": int(y_true.sum())})
    table = pd.DataFrame(rows)
    macro = {"label": "macro", **table[["precision", "recall", "f1", "kappa"]].mean().to_dict(), "support": int(table["support"].sum())}
    return pd.concat([table, pd.DataFrame([macro])], ignore_index=True)


def register_scores(gold: pd.DataFrame, predicted: pd.DataFrame, column: str = "register", labels: tuple[str, ...] = LABELS) -> pd.DataFrame:
    """Macro-F1 and per-label F1 within each value of ``column`` (a register, a role, a coder)."""
    rows = []
    for value, index in gold.groupby(column, sort=True).groups.items():
        table = label_scores(gold.loc[index], predicted.loc[index], labels).set_index("label")
        row = {column: value, "n": len(index), "macro_f1": table.at["macro", "f1"]}
        row.update({f"f1_{label}": table.at[label, "f1"] for label in labels})
        rows.append(row)
    return pd.DataFrame(rows)


def scores_dict(gold: pd.DataFrame, predicted: pd.DataFrame, labels: tuple[str, ...] = LABELS) -> dict:
    """Plain-number summary for the model metadata and the model card."""
    table = label_scores(gold, predicted, labels).set_index("label")
    out: dict = {
        "n": len(gold),
        "macro_f1": round(float(table.at["macro", "f1"]), 4),
        "labels": {
            label: {k: round(float(table.at[label, k]), 4) for k in ("precision", "recall", "f1", "kappa")}
            | {"support": int(table.at[label, "support"])}
            for label in labels
        },
    }
    if "register" in gold.columns:
        regs = register_scores(gold, predicted, "register", labels)
        out["registers"] = {
            r["register"]: {"n": int(r["n"]), "macro_f1": round(float(r["macro_f1"]), 4)}
            | {label: round(float(r[f"f1_{label}"]), 4) for label in labels}
            for r in regs.to_dict("records")
        }
    return out


def exact_match(gold: pd.DataFrame, predicted: pd.DataFrame, labels: tuple[str, ...] = LABELS) -> float:
    """Share of utterances whose whole label set is right."""
    return float(np.mean((gold[list(labels)].to_numpy() == predicted[list(labels)].to_numpy()).all(axis=1)))

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


def bootstrap_f1(gold: np.ndarray, pred: np.ndarray, sessions: np.ndarray, reps: int = 1000, seed: int = 0) -> dict[str, float]:
    """Precision, recall and F1 of one label, each with a 95% interval from resampling whole
    sessions (utterances of one session are not independent, so they move together)."""
    names, index = np.unique(sessions, return_inverse=True)
    tp = np.bincount(index, weights=(gold == 1) & (pred == 1), minlength=len(names))
    fp = np.bincount(index, weights=(gold == 0) & (pred == 1), minlength=len(names))
    fn = np.bincount(index, weights=(gold == 1) & (pred == 0), minlength=len(names))
    weights = np.random.default_rng(seed).multinomial(len(names), np.full(len(names), 1 / len(names)), size=reps)
    out: dict[str, float] = {}
    for name, (num, den) in {
        "precision": (tp, tp + fp),
        "recall": (tp, tp + fn),
        "f1": (2 * tp, 2 * tp + fp + fn),
    }.items():
        value = num.sum() / den.sum() if den.sum() else float("nan")
        boot_den = weights @ den
        boot = np.divide(weights @ num, boot_den, out=np.full(reps, np.nan), where=boot_den > 0)
        boot = boot[~np.isnan(boot)]
        out[name] = round(float(value), 4)
        out[f"{name}_low"] = round(float(np.percentile(boot, 2.5)), 4) if len(boot) else float("nan")
        out[f"{name}_high"] = round(float(np.percentile(boot, 97.5)), 4) if len(boot) else float("nan")
    out["support"] = int(gold.sum())
    out["n"] = int(len(gold))
    return out


def real_turns(sentences: pd.DataFrame) -> pd.DataFrame:
    """Whole turns from sentence rows of a real-talk corpus: the sentences joined in order,
    a label set when any sentence of the turn has it."""
    ordered = sentences.sort_values(["session", "turn", "sentence"], kind="stable") if "sentence" in sentences else sentences
    grouped = ordered.groupby(["session", "turn"], sort=False)
    turns = grouped.agg(text=("text", " ".join), source=("source", "first"), role=("role", "first"))
    for label in LABELS:
        turns[label] = grouped[label].max()
    return turns.reset_index()


def real_talk_scores(tagger, sentences: pd.DataFrame, labels: tuple[str, ...] = LABELS) -> dict:
    """Everything the model card reports on held-out real talk, measured by tagging whole
    turns as a user would: per label with intervals, per source and role, session counts
    (raw and adjusted), calibration and the share marked for review."""
    from .calibration import adjusted_count, brier, expected_count, reliability

    turns = real_turns(sentences)
    tags = tagger.tag_texts(turns["text"].tolist())
    sessions = turns["session"].to_numpy()
    out: dict = {"turns": int(len(turns)), "sessions": int(turns["session"].nunique()), "labels": {}, "by_source": {}, "by_role": {}}
    for label in labels:
        gold, pred = turns[label].to_numpy(dtype=int), tags[label].to_numpy(dtype=int)
        out["labels"][label] = bootstrap_f1(gold, pred, sessions)
    f1s = [out["labels"][l]["f1"] for l in labels]
    out["macro_f1"] = round(float(np.mean(f1s)), 4)
    names, index = np.unique(sessions, return_inverse=True)
    weights = np.random.default_rng(1).multinomial(len(names), np.full(len(names), 1 / len(names)), size=1000)
    counts = {}
    for label in labels:
        g, p = turns[label].to_numpy(dtype=int), tags[label].to_numpy(dtype=int)
        tp = np.bincount(index, weights=(g == 1) & (p == 1), minlength=len(names))
        fp = np.bincount(index, weights=(g == 0) & (p == 1), minlength=len(names))
        fn = np.bincount(index, weights=(g == 1) & (p == 0), minlength=len(names))
        counts[label] = (tp, fp, fn)
    per_label = []
    for tp, fp, fn in counts.values():
        num, den = 2 * (weights @ tp), 2 * (weights @ tp) + weights @ fp + weights @ fn
        per_label.append(np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0))
    boot = np.nanmean(np.array(per_label), axis=0) if len(names) else np.array([np.nan])
    out["macro_f1_low"], out["macro_f1_high"] = (round(float(v), 4) for v in np.nanpercentile(boot, [2.5, 97.5]))
    for column, key in (("source", "by_source"), ("role", "by_role")):
        for value, part in turns.groupby(column):
            rows = part.index.to_numpy()
            entry = {"turns": int(len(rows))}
            for label in labels:
                entry[label] = bootstrap_f1(turns.loc[rows, label].to_numpy(dtype=int), tags.loc[rows, label].to_numpy(dtype=int), sessions[rows])
            entry["macro_f1"] = round(float(np.nanmean([entry[l]["f1"] for l in labels])), 4)
            out[key][str(value)] = entry
    per_session = pd.concat([turns[["session", *labels]], tags[list(labels)].add_prefix("pred_")], axis=1).groupby("session")
    gold_counts, pred_counts, n = per_session[list(labels)].sum(), per_session[[f"pred_{l}" for l in labels]].sum(), per_session.size()
    out["session_counts"] = {}
    for label in labels:
        rates = tagger.classifier.error_rates(label) or {"tpr": 1.0, "fpr": 0.0}
        adjusted = adjusted_count(pred_counts[f"pred_{label}"].to_numpy(), n.to_numpy(), rates["tpr"], rates["fpr"])
        gold_total = float(gold_counts[label].sum())
        expected, low, high = expected_count(tags[f"p_{label}"].to_numpy(dtype=float))
        by_session = pd.DataFrame({"session": turns["session"], "p": tags[f"p_{label}"], "g": turns[label]}).groupby("session")
        covered = [lo <= g <= hi for (lo, hi), g in zip(
            (expected_count(part["p"].to_numpy())[1:] for _, part in by_session), by_session["g"].sum())]

        def error(value: float) -> float:
            return round(abs(value - gold_total) / max(gold_total, 1.0), 4)

        out["session_counts"][label] = {
            "gold": int(gold_total),
            "tagged": int(pred_counts[f"pred_{label}"].sum()),
            "adjusted": round(expected, 1),
            "adjusted_low": round(low, 1),
            "adjusted_high": round(high, 1),
            "acc": round(float(adjusted.sum()), 1),
            "tagged_error": error(float(pred_counts[f"pred_{label}"].sum())),
            "adjusted_error": error(expected),
            "acc_error": error(float(adjusted.sum())),
            "sessions_in_90_interval": round(float(np.mean(covered)), 4),
        }
    out["calibration"] = {}
    for label in labels:
        proba, gold = tags[f"p_{label}"].to_numpy(dtype=float), turns[label].to_numpy(dtype=int)
        bins = reliability(proba, gold)
        big = [abs(b["predicted"] - b["observed"]) for b in bins if b["n"] >= 50]
        out["calibration"][label] = {"brier": round(brier(proba, gold), 4), "bins": bins,
                                     "max_gap_bins_n50": round(float(max(big)), 4) if big else None}
    out["needs_review_share"] = round(float(tags["needs_review"].mean()), 4)
    return out

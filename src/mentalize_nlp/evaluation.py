"""Agreement between predicted and gold labels: per label, macro, and per register."""

from __future__ import annotations

import warnings

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
    sentences = sentences.copy()
    for column, default in (("session", "all"), ("source", ""), ("role", "")):
        if column not in sentences:
            sentences[column] = default
    if "turn" not in sentences:
        sentences["turn"] = np.arange(len(sentences))
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
    from .calibration import adjusted_count, brier, expected_count, largest_gap, reliability

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
        out["calibration"][label] = {"brier": round(brier(proba, gold), 4), "bins": reliability(proba, gold),
                                     "max_gap_bins_n50": largest_gap(proba, gold)}
    out["needs_review_share"] = round(float(tags["needs_review"].mean()), 4)
    return out


def _binary_figures(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1, Cohen's kappa and Krippendorff's alpha (nominal, two coders,
    no missing values) from confusion counts; arrays in, arrays out, NaN where undefined."""
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        observed = (tp + tn) / n
        expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
        kappa = np.where(expected < 1, (observed - expected) / (1 - expected), np.nan)
        pairs = 2 * n
        ones, zeros = 2 * tp + fp + fn, 2 * tn + fp + fn
        alpha = np.where(ones * zeros > 0, 1 - (pairs - 1) * (fp + fn) / (ones * zeros), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "kappa": kappa, "alpha": alpha}


def agreement(a: pd.DataFrame, b: pd.DataFrame, sessions: pd.Series | None = None, labels: tuple[str, ...] = LABELS,
              reps: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Agreement of ``b`` with ``a`` (gold and predictions, or two coders), per label and
    overall: precision, recall, F1, Cohen's kappa and Krippendorff's alpha, each with a 95%
    bootstrap interval from resampling whole sessions (rows, when no session is given).

    Undefined figures (F1 when neither side ever gives a label, kappa when both are
    constant) are NaN, to be shown as "n/a", never as 0. The ``overall`` row is the mean
    over labels of precision, recall, F1 and kappa, and alpha over all label decisions
    pooled.
    """
    groups = (sessions if sessions is not None else pd.Series(np.arange(len(a)))).astype(str).to_numpy()
    names, index = np.unique(groups, return_inverse=True)
    weights = np.random.default_rng(seed).multinomial(len(names), np.full(len(names), 1 / len(names)), size=reps)
    rows, pooled, boot_rows = [], np.zeros((4, len(names))), []
    for label in labels:
        x, y = a[label].to_numpy(dtype=int), b[label].to_numpy(dtype=int)
        counts = np.vstack([np.bincount(index, weights=w, minlength=len(names)) for w in
                            ((x == 1) & (y == 1), (x == 0) & (y == 1), (x == 1) & (y == 0), (x == 0) & (y == 0))])
        pooled += counts
        point = _binary_figures(*counts.sum(axis=1))
        boot = _binary_figures(*(weights @ counts.T).T)
        boot_rows.append(boot)
        rows.append(_row(label, point, boot, int(x.sum()), int(y.sum()), len(x)))
    with warnings.catch_warnings():  # a label undefined everywhere is NaN, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_point = {k: np.nanmean([r[k] for r in rows]) for k in ("precision", "recall", "f1", "kappa")}
        mean_boot = {k: np.nanmean(np.vstack([b[k] for b in boot_rows]), axis=0) for k in ("precision", "recall", "f1", "kappa")}
    pooled_point, pooled_boot = _binary_figures(*pooled.sum(axis=1)), _binary_figures(*(weights @ pooled.T).T)
    mean_point["alpha"], mean_boot["alpha"] = pooled_point["alpha"], pooled_boot["alpha"]
    rows.append(_row("overall", mean_point, mean_boot, sum(r["n_a"] for r in rows), sum(r["n_b"] for r in rows), len(a)))
    return pd.DataFrame(rows)


def _row(label: str, point: dict, boot: dict, n_a: int, n_b: int, n: int) -> dict:
    row: dict = {"label": label}
    for key in ("precision", "recall", "f1", "kappa", "alpha"):
        value = float(point[key])
        values = np.asarray(boot[key], dtype=float)
        values = values[~np.isnan(values)]
        row[key] = value
        row[f"{key}_low"] = float(np.percentile(values, 2.5)) if len(values) and not np.isnan(value) else float("nan")
        row[f"{key}_high"] = float(np.percentile(values, 97.5)) if len(values) and not np.isnan(value) else float("nan")
    row.update({"n_a": n_a, "n_b": n_b, "n": n})
    return row


def format_agreement(table: pd.DataFrame) -> str:
    """The agreement table as text, undefined figures as "n/a"."""
    def cell(row: pd.Series, key: str) -> str:
        if np.isnan(row[key]):
            return "n/a"
        if np.isnan(row[f"{key}_low"]):  # one session: nothing to resample
            return f"{row[key]:.3f} [n/a]"
        return f"{row[key]:.3f} [{row[f'{key}_low']:.3f}-{row[f'{key}_high']:.3f}]"

    keys = ("precision", "recall", "f1", "kappa", "alpha")
    lines = [f"{'label':22s} " + " ".join(f"{k:>21s}" for k in keys) + "   n_a   n_b"]
    for _, row in table.iterrows():
        lines.append(f"{row['label']:22s} " + " ".join(f"{cell(row, k):>21s}" for k in keys) + f" {row['n_a']:5d} {row['n_b']:5d}")
    return "\n".join(lines)

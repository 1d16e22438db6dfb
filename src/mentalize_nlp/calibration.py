"""Probabilities that mean what they say, decisions, and counts corrected for known errors.

Everything here is fitted on *out-of-fold* predictions for real talk (each utterance
scored by a model that never saw its session) and stored as plain numbers in the model
metadata, so applying it needs no pickled object:

- **calibration**: isotonic regression from the model's raw turn score to the share of
  such turns that human coders labelled, kept as its breakpoints and applied with
  :func:`numpy.interp`;
- **thresholds**: per label, the raw turn score at which a tag is given (chosen on the
  raw scores, which separate turns more finely than the calibration's steps; the
  calibration is monotone, so a tagged turn never has a lower probability than an
  untagged one);
- **error rates**: per label, the true- and false-positive rates at that threshold.

A session's count is corrected by *probabilistic classify-and-count* (Bella et al.,
2010): with calibrated probabilities, the expected number of utterances that carry a
label is the sum of their probabilities, whatever the threshold, so tagging errors in
either direction cancel (:func:`expected_count`). Adjusted classify-and-count (Forman,
2008), which divides by the measured ``tpr - fpr``, is kept for comparison: with true-
positive rates near 0.4-0.5 it amplifies small errors in those rates.
"""

from __future__ import annotations

import numpy as np
from statistics import NormalDist



def fit_isotonic(scores: np.ndarray, truth: np.ndarray) -> dict[str, list[float]]:
    """Breakpoints of the isotonic map from raw scores to observed frequencies."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, truth)
    return {"x": [round(float(v), 6) for v in iso.X_thresholds_], "y": [round(float(v), 6) for v in iso.y_thresholds_]}


def apply_isotonic(scores: np.ndarray, points: dict[str, list[float]] | None) -> np.ndarray:
    """Calibrated probabilities; the scores unchanged when there is no map."""
    if not points or not points.get("x"):
        return np.asarray(scores, dtype=float)
    return np.interp(scores, points["x"], points["y"])


_GRID = np.round(np.arange(0.05, 0.996, 0.005), 3)


def choose_threshold(proba: np.ndarray, truth: np.ndarray, *, count_tolerance: float = 0.15, groups: np.ndarray | None = None) -> float:
    """The threshold with the best F1 among those whose number of tags stays within
    ``count_tolerance`` of the true number (so session counts are not inflated to buy
    recall); the best-F1 threshold when none does.

    With ``groups`` (the source of each row) holding two or more sources that carry the
    label, the threshold with the best F1 *averaged over the sources* instead: pooled, the
    source with the most positives sets the operating point for all (long forum answers,
    whose many sentences lift their turn scores, would push the threshold up for one-line
    chat turns), while a user's transcripts come from none of them."""
    if groups is not None:
        groups = np.asarray(groups)
        carrying = [g for g in np.unique(groups) if truth[groups == g].sum() > 0]
        if len(carrying) > 1:
            mean_f1 = np.mean([_f1_by_threshold(proba[groups == g], truth[groups == g])[0] for g in carrying], axis=0)
            return float(_GRID[int(np.argmax(mean_f1))])
    f1, tagged = _f1_by_threshold(proba, truth)
    positives = max(float(truth.sum()), 1.0)
    near = np.abs(tagged - positives) <= count_tolerance * positives
    return float(_GRID[int(np.argmax(np.where(near, f1, -1.0)))] if near.any() else _GRID[int(np.argmax(f1))])


def _f1_by_threshold(proba: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F1 and the number of tags at each threshold of the grid."""
    pred = np.asarray(proba)[:, None] >= _GRID[None, :]
    tp = (pred & (np.asarray(truth) == 1)[:, None]).sum(axis=0)
    tagged = pred.sum(axis=0).astype(float)
    return 2 * tp / np.maximum(tagged + max(float(truth.sum()), 1.0), 1.0), tagged


def error_rates(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """True- and false-positive rates of 0/1 predictions."""
    pos, neg = truth == 1, truth == 0
    return {
        "tpr": round(float(pred[pos].mean()) if pos.any() else 1.0, 4),
        "fpr": round(float(pred[neg].mean()) if neg.any() else 0.0, 4),
        "n": int(len(truth)),
    }


def adjusted_count(count: np.ndarray, n: np.ndarray, tpr: float, fpr: float) -> np.ndarray:
    """Adjusted classify-and-count: the true count implied by ``count`` tags among ``n``
    utterances when the tagger finds ``tpr`` of true cases and fires on ``fpr`` of the
    rest: ``(count - fpr * n) / (tpr - fpr)``, clipped to ``[0, n]``."""
    count, n = np.asarray(count, dtype=float), np.asarray(n, dtype=float)
    if tpr - fpr <= 0.05:  # the correction would divide by ~0: report the raw count
        return count
    return np.clip((count - fpr * n) / (tpr - fpr), 0.0, n)


def count_interval(count: np.ndarray, n: np.ndarray, tpr: float, fpr: float, confidence: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """A ``confidence`` interval for the true count: the Wilson interval of the observed
    tag rate, carried through the adjusted classify-and-count correction."""
    from scipy.stats import binomtest  # slow to import, and needed only for tables without probabilities

    low, high = [], []
    for k, m in zip(np.asarray(count, dtype=int).tolist(), np.asarray(n, dtype=int).tolist()):
        if m <= 0:
            low.append(0.0)
            high.append(0.0)
            continue
        ci = binomtest(k, m).proportion_ci(confidence_level=confidence, method="wilson")
        low.append(ci.low * m)
        high.append(ci.high * m)
    lo = adjusted_count(np.array(low), np.asarray(n), tpr, fpr)
    hi = adjusted_count(np.array(high), np.asarray(n), tpr, fpr)
    return lo, hi


def expected_count(proba: np.ndarray, confidence: float = 0.9) -> tuple[float, float, float]:
    """Expected number of labelled utterances among those with calibrated probabilities
    ``proba``, and a ``confidence`` interval for it.

    Each utterance is a Bernoulli trial with its own probability, so the count is
    Poisson-binomial with mean ``sum(p)`` and variance ``sum(p * (1 - p))``; the interval
    is the normal approximation, clipped to ``[0, n]``.
    """
    p = np.asarray(proba, dtype=float)
    p = p[~np.isnan(p)]
    mean = float(p.sum())
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * float(np.sqrt(np.sum(p * (1 - p))))
    return mean, max(mean - half, 0.0), min(mean + half, float(len(p)))


def reliability(proba: np.ndarray, truth: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per probability bin: how many utterances, their mean predicted probability and the
    observed share labelled (the points of a reliability curve)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(mask.sum()),
                        "predicted": round(float(proba[mask].mean()), 4), "observed": round(float(truth[mask].mean()), 4)})
    return out


def largest_gap(proba: np.ndarray, truth: np.ndarray, min_n: int = 50) -> float | None:
    """The largest gap between predicted and observed among the :func:`reliability` bins of at
    least ``min_n`` utterances (the calibration target's measure); ``None`` when no bin is that full."""
    gaps = [abs(b["predicted"] - b["observed"]) for b in reliability(proba, truth) if b["n"] >= min_n]
    return round(float(max(gaps)), 4) if gaps else None


def brier(proba: np.ndarray, truth: np.ndarray) -> float:
    """Mean squared difference between probability and outcome."""
    return float(np.mean((np.asarray(proba, dtype=float) - truth) ** 2))

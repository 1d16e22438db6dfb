"""Training the classifier, deterministically, and measuring it where it matters: real talk.

Two corpora feed a model: the written one (utterances written and coded for the project)
and the real one (sentences of real sessions, coded by hand). When the real one is a
researcher's own codes, the shipped real corpus can join the training data too, without
setting anything that is calibrated or measured. Rows whose ``split`` is
``test`` are never seen by training, calibration or threshold choice.

On the real training rows, a grouped cross-validation (whole sessions held out) gives
every real utterance a score from a model that never saw its session. Those
*out-of-fold* scores, combined to turns as the tagger combines them, pick the thresholds,
fit the calibration of each turn-length group, and measure the error rates that correct
session counts (:mod:`mentalize_nlp.calibration`). The final model is then
fitted on all training rows and measured on the real and written test rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold
from spacy.language import Language

from .calibration import choose_threshold, error_rates, fit_isotonic
from .classifier import LENGTH_EDGES, Classifier, build_estimator, length_groups, library_versions, save, turn_scores
from .corpus import DEFAULT_SHARED, check_one_coder, corpus_hash, read_corpus, resolve_text
from .errors import CorpusError
from .features import featurise
from .labels import LABELS
from .pipeline import build_pipeline, default_rules

log = logging.getLogger(__name__)

REVIEW_BAND = (0.3, 0.7)
"""Calibrated probabilities in this band are marked ``needs_review``."""


def rules_hash() -> str:
    """A hash of the shipped cue rules, so a model can say which word lists it was trained with."""
    blob = json.dumps([r.to_dict() for r in default_rules()], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def turn_keys(frame: pd.DataFrame) -> pd.Series:
    """One key per turn: ``session`` + ``turn`` where the corpus has them (sentence rows of
    one turn share it), else the row itself."""
    if {"session", "turn"} <= set(frame.columns):
        return frame["session"].astype(str) + "\x1f" + frame["turn"].astype(str)
    return pd.Series(frame.index.astype(str), index=frame.index)


def session_keys(frame: pd.DataFrame) -> pd.Series:
    """What cross-validation holds out together: the session, else the near-duplicate group."""
    for column in ("session", "group"):
        if column in frame.columns:
            return frame[column].astype(str)
    return pd.Series(frame.index.astype(str), index=frame.index)


def turn_table(frame: pd.DataFrame, unit_scores: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Collapse sentence rows to turns: gold labels OR-ed, first-row metadata kept, and the
    turn scores and lengths (in sentences) the tagger would give (:func:`turn_scores`)."""
    keys = turn_keys(frame).to_numpy()
    index = pd.Index(pd.unique(keys)).get_indexer(keys)
    order = np.argsort(index, kind="stable")
    scores, _, lengths = turn_scores(unit_scores[order], index[order], int(index.max()) + 1 if len(index) else 0)
    gold = frame[list(LABELS)].groupby(index).max()
    meta = frame.drop(columns=list(LABELS)).groupby(index).first()
    return pd.concat([meta, gold], axis=1).reset_index(drop=True), scores, lengths


MIN_GROUP = 20
"""Turns with and without a label a turn-length group needs for its own calibration map;
a smaller group uses the map fitted on all turns."""


def fit_calibration(scores: np.ndarray, truth: np.ndarray, lengths: np.ndarray,
                    edges: tuple[int, ...] = LENGTH_EDGES) -> list[dict]:
    """Calibration maps per turn-length group and label, from out-of-fold turn scores,
    gold labels (one column per label) and turn lengths."""
    groups = length_groups(lengths, edges)
    calibration: list[dict] = [{} for _ in range(len(edges) + 1)]
    for j, label in enumerate(LABELS):
        overall = fit_isotonic(scores[:, j], truth[:, j])
        for g in range(len(edges) + 1):
            rows = groups == g
            positives = int(truth[rows, j].sum())
            enough_rows = min(positives, int(rows.sum()) - positives) >= MIN_GROUP
            calibration[g][label] = fit_isotonic(scores[rows, j], truth[rows, j]) if enough_rows else overall
    return calibration


def _fit(X: pd.DataFrame, Y: np.ndarray, weights: np.ndarray, C: float) -> Classifier:
    estimator = build_estimator(C)
    estimator.fit(X, Y, model__sample_weight=weights) if weights is not None else estimator.fit(X, Y)
    return Classifier(estimator=estimator, metadata={"labels": list(LABELS)})


def out_of_fold(X: pd.DataFrame, Y: np.ndarray, groups: pd.Series, fixed: tuple[pd.DataFrame, np.ndarray, np.ndarray] | None,
                C: float, folds: int = 5, real_weight: float = 1.0) -> np.ndarray:
    """Raw unit scores for every row of ``X``, each from a model trained without its group.

    ``fixed`` rows (features, labels, weights: the written corpus, and any further corpus
    trained on) are in every fold's training data.
    """
    oof = np.zeros(Y.shape, dtype=float)
    n_folds = min(folds, groups.nunique())
    if n_folds < 2:
        raise CorpusError("cross-validation needs at least two sessions (or groups) of training rows.")
    for train_idx, val_idx in GroupKFold(n_splits=n_folds).split(X, Y, groups):
        Xt, Yt = X.iloc[train_idx], Y[train_idx]
        w = np.full(len(train_idx), real_weight)
        if fixed is not None:
            Xt = pd.concat([fixed[0], Xt], ignore_index=True)
            Yt = np.vstack([fixed[1], Yt])
            w = np.r_[fixed[2], w]
        oof[val_idx] = _fit(Xt, Yt, w, C).unit_proba(X.iloc[val_idx])
    return oof


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    is_test = frame["split"].eq("test") if "split" in frame.columns else pd.Series(False, index=frame.index)
    return frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)


def train(
    corpus: str | Path,
    out: str | Path | None = None,
    *,
    real: str | Path | None = None,
    also: str | Path | None = None,
    shared: str | Path = DEFAULT_SHARED,
    C: float = 0.5,
    real_weight: float = 3.0,
    folds: int = 5,
    nlp: Language | None = None,
    columns: dict[str, dict[str, str]] | None = None,
) -> Classifier:
    """Train, calibrate on out-of-fold scores, measure on test rows, and save to ``out``.

    Args:
        corpus: An annotated CSV (see :mod:`mentalize_nlp.corpus`): the written corpus, or
            a researcher's own codes.
        out: Folder for the artefact and metadata; nothing is written when ``None``.
        real: The real-talk corpus. Calibration, thresholds and error rates come from
            its out-of-fold scores; without it, from ``corpus``'s own.
        also: A further real-talk corpus whose training rows join every fit, weighted as
            real rows, but which sets no threshold, calibration or figure: the shipped
            one, when ``real`` is a researcher's own codes. Used only with ``real``.
        shared: The shared corpora folder, for real rows whose text stays there.
        C: Inverse regularisation strength of the logistic regressions.
        real_weight: Weight of a real row against a written one in training.
        folds: Cross-validation folds (whole sessions held out).
        columns: Column renames for ``"corpus"`` and ``"real"`` (our name -> the file's).

    Raises:
        CorpusError: a corpus is missing columns, or holds too few coded rows to train and
            calibrate on (say which label and how many).
    """
    from .evaluation import real_talk_scores, scores_dict

    nlp = nlp or build_pipeline()
    columns = columns or {}
    own = read_corpus(corpus, columns.get("corpus"))
    check_one_coder(own, corpus)
    written_train, written_test = _split(own)
    calib_source = written_train
    fixed = None
    weight = 1.0
    missing_text = 0
    if real is not None:
        codes = read_corpus(real, columns.get("real"))
        check_one_coder(codes, real)
        resolved, missing_text = _with_text(codes, shared)
        real_train, real_test = _split(resolved)
        calib_source, weight = real_train, real_weight
    else:
        real_test = written_test.iloc[0:0]
    enough(calib_source, Path(real if real is not None else corpus).name, folds)
    if real is not None:  # rows in every fit, never calibrated on: the written corpus, and `also`'s training rows
        parts = [(written_train, 1.0)]
        if also is not None:
            resolved, missing = _with_text(read_corpus(also), shared)
            missing_text += missing
            parts.append((_split(resolved)[0], real_weight))
        rows = pd.concat([frame[["text", *LABELS]] for frame, _ in parts], ignore_index=True)
        _, _, Xf = featurise(nlp, rows["text"], by_sentence=False)
        fixed = (Xf, rows[list(LABELS)].to_numpy(dtype=int), np.concatenate([np.full(len(frame), w) for frame, w in parts]))
    _, _, Xc = featurise(nlp, calib_source["text"], by_sentence=False)
    Yc = calib_source[list(LABELS)].to_numpy(dtype=int)
    log.info("cross-validating on %d rows (%d sessions)", len(calib_source), session_keys(calib_source).nunique())
    with warnings.catch_warnings():  # too little data is reported by enough(), not by library warnings
        warnings.simplefilter("ignore")
        oof = out_of_fold(Xc, Yc, session_keys(calib_source), fixed, C, folds, weight)
    turns, oof_turns, lengths = turn_table(calib_source, oof)
    truth = turns[list(LABELS)].to_numpy(dtype=int)
    sources = turns["source"].to_numpy() if "source" in turns else None
    thresholds = [choose_threshold(oof_turns[:, j], truth[:, j], groups=sources) for j in range(len(LABELS))]
    calibration = fit_calibration(oof_turns, truth, lengths)
    decided = (oof_turns >= np.asarray(thresholds)).astype(int)
    rates = {label: error_rates(decided[:, j], truth[:, j]) for j, label in enumerate(LABELS)}
    oof_scores = scores_dict(turns, pd.DataFrame(decided, columns=list(LABELS)))

    X_all = Xc if fixed is None else pd.concat([fixed[0], Xc], ignore_index=True)
    Y_all = Yc if fixed is None else np.vstack([fixed[1], Yc])
    w_all = None if fixed is None else np.r_[fixed[2], np.full(len(Xc), weight)]
    model = _fit(X_all, Y_all, w_all, C)
    model.metadata.update({"length_edges": list(LENGTH_EDGES), "thresholds": thresholds, "calibration": calibration,
                           "error_rates": rates, "review_band": list(REVIEW_BAND)})

    from .tagging import Tagger

    tagger = Tagger(nlp=nlp, classifier=model)
    scores: dict = {"cross_validation": oof_scores}
    if len(real_test):
        scores["real_test"] = real_talk_scores(tagger, real_test)
    if len(written_test):
        tags = tagger.tag_texts(written_test["text"].tolist())
        scores["written_test"] = scores_dict(written_test, tags)
    model.metadata.update(
        {
            "name": "mentalize-classifier",
            "labels": list(LABELS),
            "C": C,
            "real_weight": weight,
            "corpus": Path(corpus).name,
            "corpus_sha256": corpus_hash(corpus),
            "real_corpus": Path(real).name if real is not None else None,
            "real_corpus_sha256": corpus_hash(real) if real is not None else None,
            **({"also_corpus": Path(also).name, "also_corpus_sha256": corpus_hash(also)} if real is not None and also is not None else {}),
            "cue_rules_sha256": rules_hash(),
            "n_train": int(len(X_all)),
            **({"rows_without_text": int(missing_text)} if real is not None else {}),
            "n_test_real": int(len(real_test)),
            "n_test_written": int(len(written_test)),
            "scores": scores,
            "versions": library_versions(),
        }
    )
    if out is not None:
        save(model, out)
        (Path(out) / "MODEL_CARD.md").write_text(model_card(model.metadata), encoding="utf-8")
    return model


MIN_POSITIVES = 5
"""Coded rows needed per label, with and without it, to train and calibrate at all."""


def _with_text(coded: pd.DataFrame, shared: str | Path) -> tuple[pd.DataFrame, int]:
    """The coded rows whose text was found (see :func:`resolve_text`), and how many were not."""
    resolved = resolve_text(coded, shared)
    return resolved, len(coded) - len(resolved)


def enough(frame: pd.DataFrame, name: str, folds: int) -> None:
    """Refuse, in plain words, a corpus too small to cross-validate and calibrate on."""
    if not {"session", "group"} & set(frame.columns):
        raise CorpusError(f"{name} has no 'session' column: cross-validation holds out whole sessions, and rows of one "
                          "session held out apart would read too high. Add a 'session' column naming each row's session.")
    groups = session_keys(frame).nunique()
    if groups < 2:
        raise CorpusError(f"{name}: its training rows come from {groups} session(s); at least 2 are needed to hold "
                          "sessions out for calibration. Code rows of more sessions.")
    for label in LABELS:
        positives = int(frame[label].sum())
        negatives = int(len(frame) - positives)
        if min(positives, negatives) < MIN_POSITIVES:
            raise CorpusError(
                f"{name}: only {positives} training row(s) coded {label} and {negatives} not; at least {MIN_POSITIVES} of "
                "each are needed to train and calibrate. Code more rows: thresholds and calibration come from these rows "
                "(cross-validated by session), even when the shipped corpora train too."
            )


def model_card(meta: dict) -> str:
    """A short model card for a trained model folder, from its metadata."""
    lines = [f"# Model card: {meta.get('name', 'mentalize-classifier')}", "",
             f"- Trained on `{meta.get('corpus')}` (SHA-256 {str(meta.get('corpus_sha256'))[:16]}…)"
             + (f" and `{meta['real_corpus']}` (SHA-256 {str(meta.get('real_corpus_sha256'))[:16]}…)" if meta.get("real_corpus") else "")
             + (f", with the training rows of `{meta['also_corpus']}` (SHA-256 {str(meta.get('also_corpus_sha256'))[:16]}…)"
                if meta.get("also_corpus") else ""),
             f"- {meta.get('n_train')} training rows; thresholds {meta.get('thresholds')}; C={meta.get('C')}",
             *([f"- {meta['rows_without_text']} coded rows left out: their text is kept outside the project and was not "
                "found in the shared corpora folder (pass --shared DIR to train on them)"] if meta.get("rows_without_text") else []),
             "- Library versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()), ""]
    scores = meta.get("scores", {})
    for key, title in (("cross_validation", "Cross-validated, sessions held out (the calibration data; the thresholds were "
                                            "chosen on these same scores, so they read a little high)"),
                       ("real_test", "Held-out real-talk sessions"), ("written_test", "Written test split")):
        part = scores.get(key)
        if not part:
            continue
        lines += [f"## {title}", "", "| label | precision | recall | F1 |", "| --- | ---: | ---: | ---: |"]
        for label in LABELS:
            entry = part["labels"][label]
            lines.append(f"| {label} | {entry['precision']:.3f} | {entry['recall']:.3f} | {entry['f1']:.3f} |")
        lines += [f"| **macro** | | | **{part['macro_f1']:.3f}** |", ""]
    return "\n".join(lines)

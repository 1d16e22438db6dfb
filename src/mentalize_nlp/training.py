"""Training the classifier from an annotated corpus, deterministically.

Rows whose ``split`` is ``test`` are never seen by training, threshold tuning included;
the scores stored in the metadata are measured on them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from spacy.language import Language

from .classifier import Classifier, build_estimator, library_versions, save, tune_thresholds
from .corpus import corpus_hash, read_corpus
from .evaluation import scores_dict
from .features import featurise
from .labels import LABELS
from .pipeline import build_pipeline, default_rules

log = logging.getLogger(__name__)


def rules_hash() -> str:
    """A hash of the shipped cue rules, so a model can say which word lists it was trained with."""
    import hashlib
    import json

    blob = json.dumps([r.to_dict() for r in default_rules()], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def train(corpus: str | Path, out: str | Path | None = None, *, C: float = 4.0, nlp: Language | None = None) -> Classifier:
    """Train on the corpus's training rows, measure on its test rows, and save to ``out``.

    Args:
        corpus: An annotated CSV (see :mod:`mentalize_nlp.corpus`). Without a ``split``
            column every row is trained on and no scores are recorded.
        out: Folder for the artefact and metadata; nothing is written when ``None``.
        C: Inverse regularisation strength of the logistic regressions.
    """
    frame = read_corpus(corpus)
    nlp = nlp or build_pipeline()
    is_test = frame["split"].eq("test").to_numpy() if "split" in frame.columns else np.zeros(len(frame), bool)
    train_rows, test_rows = frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)
    _, X_train = featurise(nlp, train_rows["text"])
    Y_train = train_rows[list(LABELS)].to_numpy(dtype=int)
    groups = (train_rows["group"] if "group" in train_rows.columns else train_rows.index.astype(str)).astype(str).tolist()
    log.info("tuning thresholds on %d training rows", len(train_rows))
    thresholds = tune_thresholds(X_train, Y_train, groups, C)
    estimator = build_estimator(C).fit(X_train, Y_train)
    model = Classifier(estimator=estimator, metadata={"labels": list(LABELS), "thresholds": thresholds})
    scores: dict = {}
    if len(test_rows):
        _, X_test = featurise(nlp, test_rows["text"])
        predicted = pd.DataFrame(model.decide(model.predict_proba(X_test)), columns=list(LABELS))
        scores = {"test": scores_dict(test_rows, predicted)}
    model.metadata.update(
        {
            "name": "mentalize-classifier",
            "labels": list(LABELS),
            "thresholds": thresholds,
            "C": C,
            "corpus": Path(corpus).name,
            "corpus_sha256": corpus_hash(corpus),
            "cue_rules_sha256": rules_hash(),
            "n_train": int(len(train_rows)),
            "n_test": int(len(test_rows)),
            "scores": scores,
            "versions": library_versions(),
            "feature_names": [str(n) for n in estimator.named_steps["features"].get_feature_names_out()],
        }
    )
    if out is not None:
        save(model, out)
    return model

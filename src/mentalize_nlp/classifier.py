"""The scikit-learn classifier: how it is built, trained, saved and loaded.

The artefact is a stock ``Pipeline``: a ``ColumnTransformer`` over the utterance text
(word and character n-gram TF-IDF) and the cue features (``DictVectorizer``), then one
logistic regression per label. Beside the joblib file sits a JSON metadata file with the
labels, feature names, library versions, corpus hash, test scores, decision thresholds and
the artefact's SHA-256, which is checked before the file is unpickled (loading a joblib
file runs code, so a file that is not the one described is refused).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
import spacy
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from .errors import ModelError
from .labels import LABELS

ARTEFACT = "mentalize-classifier.joblib"
METADATA = "mentalize-classifier.json"


def build_estimator(C: float = 4.0) -> Pipeline:
    """The untrained classifier; its input is a frame with ``text`` and ``cues`` columns."""
    features = ColumnTransformer(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b|n't"), "text"),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=40000), "text"),
            ("cues", DictVectorizer(), "cues"),
        ]
    )
    model = OneVsRestClassifier(LogisticRegression(C=C, class_weight="balanced", max_iter=5000, solver="liblinear", random_state=0))
    return Pipeline([("features", features), ("model", model)])


def tune_thresholds(X: pd.DataFrame, Y: np.ndarray, groups: list[str], C: float, folds: int = 5) -> list[float]:
    """Per-label decision thresholds that maximise F1 in grouped cross-validation on the training data."""
    oof = np.zeros(Y.shape, dtype=float)
    for train_idx, val_idx in GroupKFold(n_splits=folds).split(X, Y, groups):
        est = build_estimator(C).fit(X.iloc[train_idx], Y[train_idx])
        oof[val_idx] = est.predict_proba(X.iloc[val_idx])
    thresholds = []
    grid = np.arange(0.2, 0.81, 0.025)
    for j in range(Y.shape[1]):
        f1s = []
        for t in grid:
            pred = oof[:, j] >= t
            tp = float(np.sum(pred & (Y[:, j] == 1)))
            f1s.append(2 * tp / max(float(pred.sum() + Y[:, j].sum()), 1.0))
        thresholds.append(round(float(grid[int(np.argmax(f1s))]), 3))
    return thresholds


@dataclass
class Classifier:
    """A trained estimator with its metadata; ``predict`` applies the stored thresholds."""

    estimator: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)
    _vocab: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.metadata.get("labels", LABELS))

    @property
    def thresholds(self) -> np.ndarray:
        return np.asarray(self.metadata.get("thresholds", [0.5] * len(self.labels)), dtype=float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of each label, one column per label."""
        return self.estimator.predict_proba(X)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """0/1 labels from probabilities, with the per-label thresholds."""
        return (proba >= self.thresholds).astype(int)

    def word_contributions(self, X: pd.DataFrame, rows: np.ndarray, label_index: int, k: int = 3) -> list[list[str]]:
        """For each row, up to ``k`` word n-grams of its text that pushed ``label`` up the most."""
        words = self.estimator.named_steps["features"].named_transformers_["words"]
        if self._vocab is None:
            self._vocab = words.get_feature_names_out()
        vocab = self._vocab
        coef = self.estimator.named_steps["model"].estimators_[label_index].coef_.ravel()[: len(vocab)]
        matrix = words.transform(X["text"].iloc[rows]).tocsr()
        out = []
        for r in range(matrix.shape[0]):
            start, end = matrix.indptr[r], matrix.indptr[r + 1]
            idx, vals = matrix.indices[start:end], matrix.data[start:end]
            contrib = vals * coef[idx]
            order = np.argsort(-contrib)
            out.append([str(vocab[idx[o]]) for o in order[:k] if contrib[o] > 0])
        return out


def _drop_run_state(estimator: Pipeline) -> None:
    """Remove what differs between two trainings on the same corpus: the TF-IDF
    ``stop_words_`` set (introspection only, pickled in hash order) and ``_stop_words_id``
    (a memory address, looked up with a default)."""
    for _, transformer, _ in estimator.named_steps["features"].transformers_:
        if hasattr(transformer, "stop_words_"):
            transformer.stop_words_ = None
        if hasattr(transformer, "_stop_words_id"):
            del transformer._stop_words_id


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions recorded beside a model so a mismatch can be explained."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "spacy": spacy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


def save(classifier: Classifier, folder: str | Path) -> Path:
    """Write the artefact and its metadata (with the artefact's SHA-256) into ``folder``."""
    from .output import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    artefact = folder / ARTEFACT
    _drop_run_state(classifier.estimator)
    with atomic_path(artefact) as tmp:
        joblib.dump(classifier.estimator, tmp, compress=3)
    meta = dict(classifier.metadata)
    meta["artefact"] = ARTEFACT
    meta["sha256"] = _sha256(artefact)
    with atomic_path(folder / METADATA) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    classifier.metadata = meta
    return artefact


def default_model_dir() -> Path:
    """The folder of the model shipped with the package."""
    return Path(str(resources.files("mentalize_nlp.models")))


def load(folder: str | Path | None = None) -> Classifier:
    """Load a classifier after checking its artefact against the metadata's SHA-256.

    Raises:
        ModelError: the metadata or artefact is missing, or the artefact's hash differs.
    """
    folder = Path(folder) if folder is not None else default_model_dir()
    meta_path = folder / METADATA
    if not meta_path.exists():
        raise ModelError(f"{meta_path}: no model metadata here. Run 'mentalize train' to build a model, or pass --model to a folder that has one.")
    meta = json.loads(meta_path.read_text("utf-8"))
    artefact = folder / meta.get("artefact", ARTEFACT)
    if not artefact.exists():
        raise ModelError(f"{artefact}: the model file named in {meta_path.name} is missing. Rebuild it with 'mentalize train'.")
    actual = _sha256(artefact)
    if actual != meta.get("sha256"):
        raise ModelError(
            f"{artefact}: SHA-256 {actual[:12]}… does not match {meta.get('sha256', '')[:12]}… in {meta_path.name}; "
            "the file was changed or replaced, so it was not loaded. Rebuild it with 'mentalize train' or restore the original."
        )
    estimator = joblib.load(artefact)
    return Classifier(estimator=estimator, metadata=meta)

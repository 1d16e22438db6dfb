"""The scikit-learn classifier: how it is built, trained, saved and loaded.

The artefact is a stock ``Pipeline``: a ``ColumnTransformer`` over a unit's content words
(word n-gram TF-IDF) and its cue features (``DictVectorizer``), then one logistic
regression per label. A unit is a sentence; a turn takes the score of its most telling
sentence, which is then calibrated (:mod:`mentalize_nlp.calibration`). Beside the joblib file sits a JSON metadata file with the
labels, feature names, library versions, corpus hashes, scores, calibration, thresholds and
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
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline

from .calibration import apply_isotonic
from .errors import ModelError
from .labels import LABELS
from .models import ARTEFACT, METADATA



def build_estimator(C: float = 0.5, *, min_df: int = 2) -> Pipeline:
    """The untrained unit classifier; its input is a frame with ``text`` (content words
    only, see :mod:`mentalize_nlp.features`) and ``cues`` (named cue features) columns.

    Character n-grams are taken within content words, so "stressed", "stressful" and a
    mis-transcribed "stresed" share evidence, while function words never reach them."""
    features = ColumnTransformer(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True, token_pattern=r"\S+"), "text"),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True, max_features=30000), "text"),
            ("cues", DictVectorizer(), "cues"),
        ]
    )
    model = MultiOutputClassifier(LogisticRegression(C=C, class_weight="balanced", max_iter=5000, solver="liblinear", random_state=0))
    return Pipeline([("features", features), ("model", model)])


def turn_max(unit_proba: np.ndarray, unit_doc: np.ndarray, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """Per doc and label, the highest unit probability and the index of the unit that has it.

    Units of one doc are contiguous and every doc has at least one, so a turn's score is
    the score of its most telling sentence, and that sentence is what carried the label.
    """
    if not n_docs:
        width = unit_proba.shape[1] if unit_proba.ndim == 2 else 0
        return np.zeros((0, width)), np.zeros((0, width), dtype=int)
    starts = np.flatnonzero(np.r_[True, unit_doc[1:] != unit_doc[:-1]])
    best = np.maximum.reduceat(unit_proba, starts, axis=0)
    carrier = np.empty(best.shape, dtype=int)
    ends = np.r_[starts[1:], len(unit_doc)]
    for d, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
        carrier[d] = s + np.argmax(unit_proba[s:e], axis=0)
    return best, carrier


@dataclass
class Classifier:
    """A trained estimator with its metadata: calibration, thresholds and error rates."""

    estimator: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.metadata.get("labels", LABELS))

    @property
    def thresholds(self) -> np.ndarray:
        return np.asarray(self.metadata.get("thresholds", [0.5] * len(self.labels)), dtype=float)

    @property
    def review_band(self) -> tuple[float, float]:
        """Calibrated probabilities in ``[low, high)`` are too uncertain to trust unread."""
        low, high = self.metadata.get("review_band", (0.3, 0.7))
        return float(low), float(high)

    def error_rates(self, label: str) -> dict[str, float] | None:
        """True- and false-positive rates measured on held-out real talk, if recorded."""
        return self.metadata.get("error_rates", {}).get(label)

    def unit_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Raw probability of each label for each unit, one column per label."""
        if not len(X):
            return np.zeros((0, len(self.labels)))
        return np.column_stack([p[:, 1] for p in self.estimator.predict_proba(X)])

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from raw turn scores, label by label."""
        maps = self.metadata.get("calibration", {})
        return np.column_stack([apply_isotonic(raw[:, j], maps.get(label)) for j, label in enumerate(self.labels)]) if len(raw) else raw

    def decide(self, raw: np.ndarray) -> np.ndarray:
        """0/1 labels from raw turn scores, with the per-label thresholds."""
        return (raw >= self.thresholds).astype(int)


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
    meta["decision_sha256"] = decision_hash(meta)
    with atomic_path(folder / METADATA) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    classifier.metadata = meta
    return artefact


def default_model_dir() -> Path:
    """The folder of the model shipped with the package."""
    return Path(str(resources.files("mentalize_nlp.models")))


DECISION_KEYS: tuple[str, ...] = ("sha256", "labels", "thresholds", "calibration", "review_band", "feature_names")
"""Metadata that decides the tags, covered by one hash with the artefact's own."""


def decision_hash(meta: dict[str, Any]) -> str:
    """SHA-256 over the artefact's hash and every metadata value that decides a tag."""
    blob = json.dumps({k: meta.get(k) for k in DECISION_KEYS}, sort_keys=True, ensure_ascii=True).encode()
    return hashlib.sha256(blob).hexdigest()


def load(folder: str | Path | None = None) -> Classifier:
    """Load a classifier after checking the folder, its metadata and the artefact's hash.

    The artefact must be a file of the model's own folder; its SHA-256, the labels,
    thresholds, calibration and feature names must match the hashes recorded when it was
    saved; and it must have been built with this scikit-learn minor version. Only then is
    the file unpickled.

    Raises:
        ModelError: one plain message naming what is wrong and the fix.
    """
    folder = Path(folder) if folder is not None else default_model_dir()
    rebuild = f"Rebuild it with 'mentalize train --out {folder} --force'"
    meta_path = folder / METADATA
    if not meta_path.exists():
        raise ModelError(f"{meta_path}: no model metadata here. Run 'mentalize train' to build a model, or pass --model to a folder that has one.")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{meta_path}: the model metadata cannot be read ({exc}). {rebuild}, or restore the original.") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("artefact", ARTEFACT), str):
        raise ModelError(f"{meta_path}: the model metadata is not a JSON object naming its artefact. {rebuild}.")
    name = meta.get("artefact", ARTEFACT)
    if Path(name).name != name or name in ("", ".", ".."):
        raise ModelError(f"{meta_path}: the artefact {name!r} is not a file of the model's own folder, so it was not loaded. {rebuild}.")
    artefact = folder / name
    if not artefact.is_file():
        raise ModelError(f"{artefact}: the model file named in {meta_path.name} is missing. {rebuild}.")
    actual = _sha256(artefact)
    if actual != meta.get("sha256"):
        raise ModelError(
            f"{artefact}: SHA-256 {actual[:12]}… does not match {str(meta.get('sha256', ''))[:12]}… in {meta_path.name}; "
            f"the file was changed or replaced, so it was not loaded. {rebuild} or restore the original."
        )
    if meta.get("decision_sha256") != decision_hash(meta):
        raise ModelError(
            f"{meta_path}: the labels, thresholds, calibration or feature names differ from those the model was saved "
            f"with, so it was not loaded. {rebuild} or restore the original."
        )
    built = str(meta.get("versions", {}).get("scikit-learn", ""))
    if built.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        minor = ".".join(built.split(".")[:2]) or "?"
        raise ModelError(
            f"{artefact} was built with scikit-learn {built or 'an unknown version'}; this environment has {sklearn.__version__}. "
            f"Install it with pip install 'scikit-learn=={minor}.*', or {rebuild[0].lower() + rebuild[1:]} in this environment."
        )
    estimator = joblib.load(artefact)
    return Classifier(estimator=estimator, metadata=meta)

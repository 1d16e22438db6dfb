"""The scikit-learn classifier: how it is built, trained, saved and loaded.

The estimator is a stock ``Pipeline``: a ``ColumnTransformer`` over a unit's content words
(word n-gram TF-IDF) and its cue features (``DictVectorizer``), then one logistic
regression per label. A unit is a sentence; a turn's score is the chance that any of its
sentences carries the label (:func:`turn_scores`), decided at one threshold per label and
calibrated with the map of its length (:mod:`mentalize_nlp.calibration`).

A model folder holds two files, neither of which can run code when read: the metadata
(JSON: labels, thresholds, calibration, error rates, the estimator's parameters and
feature names, library versions, corpus hashes and scores) and the data file (numpy
arrays, read with ``allow_pickle=False``); see :mod:`mentalize_nlp.artefact`. The
metadata records the data file's SHA-256, and one SHA-256 over every metadata value
seals the whole model, so an edited threshold or a replaced file is refused, not used.
"""

from __future__ import annotations

import hashlib
import json
import platform
import zipfile
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import spacy
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline

from .artefact import estimator_from_data, estimator_to_data, write_arrays
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


LENGTH_EDGES = (2, 4)
"""Turn lengths, in sentences, at which the next calibration map starts: turns of 1, of 2-3
and of 4 or more sentences are calibrated on their own, because the same turn score means
less in a long turn, which has more chances to score by accident."""


def length_groups(lengths: np.ndarray, edges: tuple[int, ...] = LENGTH_EDGES) -> np.ndarray:
    """The turn-length group of each turn, from its number of sentences: where calibration
    maps are both fitted (:func:`~mentalize_nlp.training.fit_calibration`) and applied."""
    return np.digitize(np.asarray(lengths), edges)


TOP_SENTENCES = 3
"""How many of a turn's sentences, its most likely ones per label, make its score."""


def turn_scores(unit_proba: np.ndarray, unit_doc: np.ndarray, n_docs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per doc and label, the chance that at least one of its sentences carries the label,
    the index of the sentence most likely to, and the doc's number of sentences.

    The chance is the noisy-or of the scores of the doc's :data:`TOP_SENTENCES` most likely
    sentences, ``1 - prod(1 - p)``: two sentences that each lean towards a label make the
    turn lean further than either does alone, while the label is still shown on the one
    sentence that carried it most; but forty sentences that each lean a little do not add
    up to a label. Units of one doc are contiguous and every doc has at least one.
    """
    width = unit_proba.shape[1] if unit_proba.ndim == 2 else 0
    if not n_docs:
        return np.zeros((0, width)), np.zeros((0, width), dtype=int), np.zeros(0, dtype=int)
    starts = np.flatnonzero(np.r_[True, unit_doc[1:] != unit_doc[:-1]])
    ends = np.r_[starts[1:], len(unit_doc)]
    log_miss = np.log1p(-np.clip(unit_proba, 0.0, 1.0 - 1e-9))
    miss = np.add.reduceat(log_miss, starts, axis=0)
    long = ends - starts > TOP_SENTENCES
    doc = np.repeat(np.arange(n_docs), ends - starts)
    top = (np.arange(len(doc)) - np.repeat(starts, ends - starts)) < TOP_SENTENCES  # rank within the turn
    carrier = np.empty((n_docs, width), dtype=int)
    for j in range(width):
        order = np.lexsort((-unit_proba[:, j], doc))  # each turn's sentences, most likely first (ties: first first)
        carrier[:, j] = order[starts]
        if long.any():  # long turns: their most likely sentences only
            miss[long, j] = np.bincount(doc[top], weights=log_miss[order[top], j], minlength=n_docs)[long]
    return -np.expm1(miss), carrier, ends - starts


def char_ngrams(vectorizer: TfidfVectorizer, texts: pd.Series) -> sparse.csr_matrix:
    """``vectorizer.transform(texts)`` for a fitted ``char_wb`` vectorizer, with each distinct
    word's n-grams counted once rather than at every occurrence.

    ``char_wb`` n-grams never cross a word boundary, so a text's counts are the sum of its
    words' counts: the counts of the distinct words, added up through a text-by-word matrix,
    then weighted by the vectorizer's own TF-IDF step (its private ``_tfidf``, as its own
    ``transform`` does; :func:`load` refuses another scikit-learn minor version). The result
    is the same matrix, bit for bit, three to five times sooner on transcripts, where a few
    hundred words make most of the text."""
    column: dict[str, int] = {}
    rows = [[column.setdefault(word, len(column)) for word in text.lower().split()] for text in texts]
    indptr = np.cumsum([0, *map(len, rows)])
    indices = np.fromiter((j for row in rows for j in row), dtype=np.int64, count=int(indptr[-1]))
    words = sparse.csr_matrix((np.ones(len(indices), dtype=np.int64), indices, indptr), shape=(len(rows), len(column)))
    counts = words @ CountVectorizer.transform(vectorizer, list(column))
    counts.sort_indices()  # as CountVectorizer leaves them, so the norms are summed in the same order
    return vectorizer._tfidf.transform(counts, copy=False)


def predict_proba(estimator: Pipeline, X: pd.DataFrame) -> list[np.ndarray]:
    """``estimator.predict_proba(X)``, with character n-grams counted by :func:`char_ngrams`."""
    features = estimator[0]
    if len(estimator) != 2 or not isinstance(features, ColumnTransformer) or not features.sparse_output_:
        return estimator.predict_proba(X)
    steps = [(step, column) for _, step, column in features.transformers_ if not (isinstance(step, str) and step == "drop")]
    if any(isinstance(step, str) for step, _ in steps):  # "passthrough"
        return estimator.predict_proba(X)
    blocks = []
    for step, column in steps:
        by_word = (isinstance(step, TfidfVectorizer) and step.analyzer == "char_wb" and step.lowercase
                   and step.preprocessor is None and step.strip_accents is None)
        blocks.append(char_ngrams(step, X[column]) if by_word else step.transform(X[column]))
    return estimator[-1].predict_proba(sparse.hstack(blocks).tocsr())


@dataclass
class Classifier:
    """A trained estimator with its metadata: calibration, thresholds and error rates."""

    estimator: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    """The model folder it was loaded from; None for one trained or built in memory."""

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.metadata.get("labels", LABELS))

    @property
    def length_edges(self) -> tuple[int, ...]:
        """Turn lengths (in sentences) at which a new calibration map starts."""
        return tuple(int(e) for e in self.metadata.get("length_edges", LENGTH_EDGES))

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
        return np.column_stack([p[:, 1] for p in predict_proba(self.estimator, X)])

    def calibrate(self, raw: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from raw turn scores and the turns' lengths in sentences,
        label by label, with the map of each turn's length group."""
        maps = self.metadata.get("calibration", [])
        group = length_groups(lengths, self.length_edges)
        proba = np.array(raw, dtype=float)
        for g in np.unique(group).tolist():
            rows = group == g
            for j, label in enumerate(self.labels):
                proba[rows, j] = apply_isotonic(raw[rows, j], maps[g].get(label) if g < len(maps) else None)
        return proba

    def decide(self, raw: np.ndarray) -> np.ndarray:
        """0/1 labels from raw turn scores, with the per-label thresholds."""
        return (raw >= self.thresholds).astype(int)


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
    }


FORMAT = 3
"""The model folder's format: metadata JSON and an ``.npz`` data file (1 was a pickle; 2
had one calibration map per label for every turn length)."""

SEAL = "model_sha256"
"""The metadata key of the SHA-256 that covers every other metadata value."""

_SAVED = ("format", "feature_names", "estimator", "artefact", "sha256", SEAL)
"""Metadata that :func:`save` writes from the estimator and the files themselves."""

_PROBE = {"text": ["probe"], "cues": [{}]}
"""One unit, as :func:`~mentalize_nlp.features.featurise` makes them, to try a rebuilt estimator on."""


def model_hash(meta: dict[str, Any]) -> str:
    """SHA-256 over every metadata value but the seal itself; the data file's SHA-256 is one
    of them, so one check covers the estimator, labels, thresholds, calibration and the rest."""
    blob = json.dumps({k: v for k, v in meta.items() if k != SEAL}, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def save(classifier: Classifier, folder: str | Path) -> Path:
    """Write the data file and the sealed metadata into ``folder``; the same model gives the same bytes."""
    from .output import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params, arrays, names = estimator_to_data(classifier.estimator)
    artefact = folder / ARTEFACT
    with atomic_path(artefact) as tmp:
        write_arrays(tmp, arrays)
    meta = {k: v for k, v in classifier.metadata.items() if k not in _SAVED}
    meta.update(format=FORMAT, feature_names=names, estimator=params, artefact=ARTEFACT, sha256=_sha256(artefact))
    meta[SEAL] = model_hash(meta)
    with atomic_path(folder / METADATA) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    classifier.metadata = meta
    return artefact


def default_model_dir() -> Path:
    """The folder of the model shipped with the package."""
    return Path(str(resources.files("mentalize_nlp.models")))


def load(folder: str | Path | None = None) -> Classifier:
    """Load a classifier from a model folder, refusing anything but the model that was saved.

    In order: the metadata must be a JSON object of this format; the data file it names
    must be a file of the model's own folder whose SHA-256 matches; the seal over every
    metadata value must match; the model must have been built with this scikit-learn
    minor version; the labels, thresholds, calibration and error rates must be what the
    tagger can use; and the estimator rebuilt from the data must score a unit. Nothing is
    unpickled at any point.

    Raises:
        ModelError: one plain message naming the file, what is wrong and the fix.
    """
    folder = Path(folder) if folder is not None else default_model_dir()
    rebuild = f"Rebuild it with 'mentalize train --out {folder} --force'"
    meta_path = folder / METADATA
    meta = _read_metadata(meta_path, rebuild)
    artefact = _checked_artefact(folder, meta, meta_path, rebuild)
    _check_version(meta, artefact, rebuild)
    _check_values(meta, meta_path, rebuild)
    try:
        arrays = np.load(artefact, allow_pickle=False)
        if not isinstance(arrays, np.lib.npyio.NpzFile):
            raise TypeError("it holds one array, not an .npz archive")
        with arrays:
            estimator = estimator_from_data(meta["estimator"], arrays, meta["feature_names"], len(meta.get("labels", LABELS)))
        estimator.predict_proba(pd.DataFrame(_PROBE))
    except (OSError, EOFError, MemoryError, ArithmeticError, KeyError, IndexError, TypeError, ValueError,
            NotImplementedError, RuntimeError, zipfile.BadZipFile, zlib.error) as exc:  # whatever bytes the data file holds
        reason = f"no {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
        raise ModelError(
            f"{artefact} and {meta_path.name} do not describe a model this version of mentalize-nlp can load ({_short(reason)}). {rebuild}."
        ) from exc
    return Classifier(estimator=estimator, metadata=meta, folder=folder)


def _short(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters, for a reason quoted in a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_metadata(meta_path: Path, rebuild: str) -> dict[str, Any]:
    """The metadata object, if it is one of this format."""
    if not meta_path.exists():
        raise ModelError(f"{meta_path}: no model metadata here. Run 'mentalize train' to build a model, or pass --model to a folder that has one.")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelError(f"{meta_path}: the model metadata cannot be read ({_short(str(exc))}). {rebuild}, or restore the original.") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"{meta_path}: the model metadata is not a JSON object. {rebuild}, or restore the original.")
    if meta.get("format") != FORMAT:
        name = meta.get("artefact")
        if isinstance(name, str) and name.endswith(".joblib"):
            raise ModelError(
                f"{meta_path}: this model was saved by an earlier version of mentalize-nlp as a pickle ({name}), which is "
                f"no longer loaded because loading a pickle can run code. {rebuild}."
            )
        raise ModelError(f"{meta_path}: model format {meta.get('format')!r}, but this version of mentalize-nlp reads format {FORMAT}. {rebuild}.")
    return meta


def _checked_artefact(folder: Path, meta: dict[str, Any], meta_path: Path, rebuild: str) -> Path:
    """The data file, once it is known to be in the folder and, with the metadata, as saved."""
    name = meta.get("artefact")
    if not isinstance(name, str) or not name.isprintable() or Path(name).name != name or "\\" in name or name in ("", ".", ".."):
        raise ModelError(f"{meta_path}: the data file {name!r} is not a file of the model's own folder, so it was not loaded. {rebuild}.")
    artefact = folder / name
    if not artefact.is_file():
        raise ModelError(f"{artefact}: the model's data file named in {meta_path.name} is missing or is not a file. {rebuild}.")
    actual = _sha256(artefact)
    if actual != meta.get("sha256"):
        raise ModelError(
            f"{artefact}: SHA-256 {actual[:12]}… does not match {str(meta.get('sha256', ''))[:12]}… in {meta_path.name}; "
            f"the file was changed or replaced, so it was not loaded. {rebuild} or restore the original."
        )
    if meta.get(SEAL) != model_hash(meta):
        raise ModelError(
            f"{meta_path}: the labels, thresholds, calibration, feature names or other values differ from those the "
            f"model was saved with, so it was not loaded. {rebuild} or restore the original."
        )
    return artefact


def _check_version(meta: dict[str, Any], artefact: Path, rebuild: str) -> None:
    """Refuse a model built with another scikit-learn minor version, saying what to install."""
    versions = meta.get("versions")
    built = versions.get("scikit-learn") if isinstance(versions, dict) else None
    if isinstance(built, str) and built.split(".")[:2] == sklearn.__version__.split(".")[:2]:
        return
    retrain = rebuild[0].lower() + rebuild[1:]
    if not isinstance(built, str) or len(built.split(".")) < 2:
        raise ModelError(f"{artefact}: its metadata does not say which scikit-learn built it. {rebuild} in this environment.")
    minor = ".".join(built.split(".")[:2])
    raise ModelError(
        f"{artefact} was built with scikit-learn {built}; this environment has {sklearn.__version__}. "
        f"Install it with pip install 'scikit-learn=={minor}.*', or {retrain} in this environment."
    )


def _numbers(value: Any, count: int | None = None) -> bool:
    return (isinstance(value, list) and (count is None or len(value) == count)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and -1e300 < v < 1e300 for v in value))


def _check_values(meta: dict[str, Any], meta_path: Path, rebuild: str) -> None:
    """Refuse labels, thresholds, calibration or error rates the tagger could not use."""

    def refuse(key: str, expected: str) -> None:
        found = _short(json.dumps(meta.get(key), ensure_ascii=False), 80)
        raise ModelError(f"{meta_path}: '{key}' should be {expected}; found {found}. {rebuild}.")

    labels = meta.get("labels", list(LABELS))
    if not (isinstance(labels, list) and all(isinstance(l, str) and l in LABELS for l in labels) and 0 < len(set(labels)) == len(labels)):
        refuse("labels", f"a list of distinct labels from: {', '.join(LABELS)}")
    edges = meta.get("length_edges", list(LENGTH_EDGES))
    if not (_numbers(edges) and all(isinstance(e, int) and e > 1 for e in edges) and edges == sorted(set(edges))):
        refuse("length_edges", "increasing whole numbers of sentences, each above 1")
    groups = len(edges) + 1
    if not _numbers(meta.get("thresholds", [0.5] * len(labels)), len(labels)):
        refuse("thresholds", f"{len(labels)} numbers, one per label")
    if not _numbers(meta.get("review_band", [0.3, 0.7]), 2):
        refuse("review_band", "two numbers")
    calibration = meta.get("calibration", [{}] * groups)
    if not (isinstance(calibration, list) and len(calibration) == groups and all(isinstance(maps, dict) and all(
            isinstance(c, dict) and _numbers(c.get("x")) and _numbers(c.get("y"), len(c["x"]))
            for label, c in maps.items() if label in labels) for maps in calibration)):
        refuse("calibration", f"{groups} objects (one per turn-length group) giving, per label, lists 'x' and 'y' of numbers, as long as each other")
    rates = meta.get("error_rates", {})
    if not (isinstance(rates, dict) and all(
            isinstance(r, dict) and _numbers([r.get("tpr"), r.get("fpr")]) for label, r in rates.items() if label in labels)):
        refuse("error_rates", "per label, numbers 'tpr' and 'fpr'")

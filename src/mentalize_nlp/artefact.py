"""The fitted estimator as plain data: nothing in a model folder is unpickled.

A model of :func:`~mentalize_nlp.classifier.build_estimator`'s shape is stored in two parts:

- **parameters** (JSON, in the model's metadata file): the constructor parameters of
  every step, the input columns, and ``feature_names``, the fitted vocabularies in the
  order of the model's columns (``words__…``, ``chars__…``, ``cues__…``);
- **arrays** (numpy's ``.npz``, read with ``allow_pickle=False``): ``idf_<step>`` for
  each TF-IDF step, and ``coef`` (one row per label, one column per feature name),
  ``intercept``, ``classes`` and ``n_iter`` of the logistic regression of each label.

:func:`estimator_from_data` rebuilds the estimator from these, creating only the classes
in :data:`STEP_TYPES` and setting the fitted attributes their ``fit`` sets, so it predicts
to the bit what the saved estimator predicted. Those attributes are scikit-learn's own
and may change between its minor versions, so a model is loaded only by the minor
version that built it (checked by :func:`mentalize_nlp.classifier.load`).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import validate_data

STEP_TYPES: dict[str, type] = {cls.__name__: cls for cls in (TfidfVectorizer, DictVectorizer, LogisticRegression)}
"""The only classes a model file can name; the pipeline around them is fixed."""

_DTYPES = {"float64": np.float64, "float32": np.float32}
_PLAIN = (str, int, float, bool, type(None))


def _encode(params: dict[str, Any]) -> dict[str, Any]:
    """Constructor parameters as JSON values: tuples become lists, a float dtype its name."""
    out: dict[str, Any] = {}
    for key, value in sorted(params.items()):
        if key == "dtype" and value in _DTYPES.values():
            value = np.dtype(value).name
        elif isinstance(value, tuple) and all(isinstance(v, _PLAIN) for v in value):
            value = list(value)
        elif not isinstance(value, _PLAIN):
            raise ValueError(f"parameter {key}={value!r} cannot be saved as data")
        out[key] = value
    return out


def _decode(params: Any) -> dict[str, Any]:
    """The inverse of :func:`_encode`; anything but plain JSON values is refused."""
    if not isinstance(params, dict):
        raise TypeError("parameters are not a JSON object")
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "dtype":
            if value not in _DTYPES:
                raise ValueError(f"dtype {value!r} is not one of {', '.join(_DTYPES)}")
            value = _DTYPES[value]
        elif isinstance(value, list) and all(isinstance(v, _PLAIN) for v in value):
            value = tuple(value)
        elif not isinstance(value, _PLAIN):
            raise ValueError(f"parameter {key!r} is not a plain value")
        out[key] = value
    return out


def _make(kind: Any, params: Any, allowed: tuple[type, ...]) -> Any:
    """A new step of a listed class, its parameters checked as ``fit`` would check them."""
    cls = STEP_TYPES.get(kind) if isinstance(kind, str) else None
    if cls not in allowed:
        raise ValueError(f"step type {kind!r} is not one of {', '.join(c.__name__ for c in allowed)}")
    step = cls(**_decode(params))
    step._validate_params()
    return step


def _array(arrays: Any, name: str, shape: tuple[int, ...], kind: str) -> np.ndarray:
    value = arrays[name]
    if value.shape != shape or value.dtype.kind != kind:
        raise ValueError(f"array {name!r} is {value.dtype}{list(value.shape)}; expected shape {list(shape)}")
    return value


def estimator_to_data(estimator: Pipeline) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str]]:
    """The parameters, arrays and feature names of a fitted estimator.

    Raises:
        ValueError: the estimator is not of :func:`~mentalize_nlp.classifier.build_estimator`'s shape.
    """
    if list(estimator.named_steps) != ["features", "model"]:
        raise ValueError("the estimator's steps are not 'features' and 'model'")
    features, model = estimator.named_steps["features"], estimator.named_steps["model"]
    arrays: dict[str, np.ndarray] = {}
    transformers = []
    for name, step, column in features.transformers_:
        if type(step) not in (TfidfVectorizer, DictVectorizer):
            raise ValueError(f"step {name!r} is a {type(step).__name__}, which cannot be saved as data")
        if isinstance(step, TfidfVectorizer):
            arrays[f"idf_{name}"] = step.idf_
        size = len(step.vocabulary_)
        transformers.append({"name": name, "type": type(step).__name__, "column": column, "size": size,
                             "params": _encode(step.get_params(deep=False))})
    classifiers = model.estimators_
    if any(type(e) is not LogisticRegression for e in classifiers):
        raise ValueError("only logistic regressions can be saved as data")
    arrays.update(
        coef=np.vstack([e.coef_ for e in classifiers]),
        intercept=np.concatenate([e.intercept_ for e in classifiers]),
        classes=np.vstack([e.classes_ for e in classifiers]),
        n_iter=np.concatenate([e.n_iter_ for e in classifiers]),
    )
    params = {
        "pipeline": _encode({k: v for k, v in estimator.get_params(deep=False).items() if k != "steps"}),
        "features": {
            "params": _encode({k: v for k, v in features.get_params(deep=False).items() if k != "transformers"}),
            "inputs": [str(c) for c in features.feature_names_in_],
            "sparse_output": bool(features.sparse_output_),
            "transformers": transformers,
        },
        "model": {
            "params": _encode({k: v for k, v in model.get_params(deep=False).items() if k != "estimator"}),
            "estimator": {"type": "LogisticRegression", "params": _encode(model.estimator.get_params(deep=False))},
        },
    }
    return params, arrays, [str(n) for n in features.get_feature_names_out()]


def estimator_from_data(params: Any, arrays: Any, feature_names: Any, n_labels: int) -> Pipeline:
    """Rebuild the fitted estimator saved by :func:`estimator_to_data`.

    Args:
        params: The ``estimator`` value of the metadata.
        arrays: The arrays (a mapping, such as an opened ``.npz``).
        feature_names: The ``feature_names`` value of the metadata.
        n_labels: How many labels the model decides, one logistic regression each.

    Raises:
        ValueError, TypeError, KeyError: the data do not describe such an estimator.
    """
    if not (isinstance(feature_names, list) and all(isinstance(n, str) for n in feature_names)):
        raise ValueError("feature_names is not a list of names")
    spec, outer = params["features"], params["model"]
    inputs = spec["inputs"]
    if not (isinstance(inputs, list) and all(isinstance(c, str) for c in inputs)):
        raise ValueError("the input columns are not a list of names")
    templates, fitted, start = [], [], 0
    for entry in spec["transformers"]:
        name, size, column = entry["name"], entry["size"], entry["column"]
        if not (isinstance(name, str) and isinstance(column, str) and column in inputs and type(size) is int and size >= 0):
            raise ValueError(f"transformer {name!r} is not described by a name, an input column and a size")
        template = _make(entry["type"], entry["params"], (TfidfVectorizer, DictVectorizer))
        step = clone(template)
        prefix = f"{name}__"
        names = feature_names[start:start + size]
        if len(names) != size or not all(n.startswith(prefix) for n in names):
            raise ValueError(f"feature names {start}-{start + size} are not the {size} names of {name!r}")
        terms = [n[len(prefix):] for n in names]
        vocabulary = {term: i for i, term in enumerate(terms)}
        if len(vocabulary) != size:
            raise ValueError(f"the feature names of {name!r} repeat a name")
        if isinstance(step, TfidfVectorizer):  # as TfidfVectorizer.fit sets them
            tfidf = TfidfTransformer(norm=step.norm, use_idf=step.use_idf, smooth_idf=step.smooth_idf, sublinear_tf=step.sublinear_tf)
            tfidf.idf_ = _array(arrays, f"idf_{name}", (size,), "f")
            tfidf.n_features_in_ = size
            step._tfidf, step.vocabulary_, step.fixed_vocabulary_ = tfidf, vocabulary, False
        else:  # as DictVectorizer.fit sets them
            step.feature_names_, step.vocabulary_ = terms, vocabulary
        templates.append((name, template, column))
        fitted.append((name, step, column))
        start += size
    if start != len(feature_names):
        raise ValueError(f"{len(feature_names)} feature names, but the transformers make {start} features")

    features = ColumnTransformer(templates, **_decode(spec["params"]))
    features._validate_params()
    # the bookkeeping of ColumnTransformer.fit_transform, with the steps already fitted
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in dict.fromkeys(inputs)})
    validate_data(features, X=empty, skip_check_array=True)
    features._validate_transformers()
    features._validate_column_callables(empty)
    features._validate_remainder(empty)
    if not isinstance(spec["sparse_output"], bool):
        raise TypeError("sparse_output is not true or false")
    features.sparse_output_ = spec["sparse_output"]
    features._update_fitted_transformers([step for _, step, _ in fitted])
    features._record_output_indices([np.zeros((0, e["size"])) for e in spec["transformers"]])

    template = _make(outer["estimator"]["type"], outer["estimator"]["params"], (LogisticRegression,))
    n = len(feature_names)
    coef = _array(arrays, "coef", (n_labels, n), "f")
    intercept = _array(arrays, "intercept", (n_labels,), "f")
    classes = _array(arrays, "classes", (n_labels, 2), "i")
    n_iter = _array(arrays, "n_iter", (n_labels,), "i")
    classifiers = []
    for j in range(n_labels):  # as LogisticRegression.fit sets them
        lr = clone(template)
        lr.classes_, lr.coef_, lr.intercept_ = classes[j].copy(), coef[j:j + 1].copy(), intercept[j:j + 1].copy()
        lr.n_iter_, lr.n_features_in_ = n_iter[j:j + 1].copy(), n
        classifiers.append(lr)
    model = MultiOutputClassifier(template, **_decode(outer["params"]))
    model._validate_params()
    model.estimators_, model.classes_, model.n_features_in_ = classifiers, [lr.classes_ for lr in classifiers], n

    pipeline = Pipeline([("features", features), ("model", model)], **_decode(params["pipeline"]))
    pipeline._validate_params()
    return pipeline


def write_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` file, the same bytes for the same arrays.

    ``numpy.savez_compressed`` stamps the current time into the archive, so two trainings
    would differ; here every entry carries the same fixed date.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in sorted(arrays.items()):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)

"""Model folders are data: nothing in them can run code, and every broken one is refused
with one plain message naming the file and the fix."""

import hashlib
import json
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentalize_nlp import ModelError
from mentalize_nlp.classifier import (
    ARTEFACT,
    METADATA,
    SEAL,
    Classifier,
    build_estimator,
    library_versions,
    load,
    model_hash,
    save,
)
from mentalize_nlp.labels import LABELS

WORDS = ["angry", "sad", "selfish", "maybe", "think", "always", "lazy", "worried", "she", "he", "feels", "felt"]


def units(n: int = 24) -> pd.DataFrame:
    """Units as featurise makes them: content words and named cue features."""
    texts = [" ".join(WORDS[(i + k) % len(WORDS)] for k in range(4)) for i in range(n)]
    cues = [{f"CUE{i % 5}": 1.0, "question": float(i % 2)} for i in range(n)]
    return pd.DataFrame({"text": texts, "cues": cues})


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A model fitted on a few units and saved, as ``mentalize train`` saves one."""
    X = units()
    Y = np.column_stack([np.arange(len(X)) % m == 0 for m in (2, 3, 4)]).astype(int)
    estimator = build_estimator().fit(X, Y)
    metadata = {
        "labels": list(LABELS),
        "length_edges": [2, 4],
        "thresholds": [0.5, 0.6, 0.7],
        "calibration": [{label: {"x": [0.0, 0.5, 1.0], "y": [0.0, 0.4, 1.0]} for label in LABELS}] * 3,
        "error_rates": {label: {"tpr": 0.5, "fpr": 0.1, "n": 24} for label in LABELS},
        "review_band": [0.3, 0.7],
        "versions": library_versions(),
        "scores": {},
    }
    folder = tmp_path_factory.mktemp("model")
    save(Classifier(estimator=estimator, metadata=metadata), folder)
    return folder, estimator


def copy(folder: Path, to: Path) -> Path:
    for name in (ARTEFACT, METADATA):
        shutil.copy(folder / name, to / name)
    return to


def reseal(folder: Path, artefact: str = ARTEFACT) -> None:
    """Record the data file's hash and seal the metadata again, as a careful forger would."""
    meta = json.loads((folder / METADATA).read_text())
    meta["artefact"] = artefact
    meta["sha256"] = hashlib.sha256((folder / artefact).read_bytes()).hexdigest()
    meta[SEAL] = model_hash(meta)
    (folder / METADATA).write_text(json.dumps(meta))


class _Touch:
    """Unpickling this creates a file: proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_the_shipped_model_is_plain_data():
    shipped = ROOT / "models"
    assert sorted(p.name for p in shipped.iterdir() if p.is_file()) == ["__init__.py", METADATA, ARTEFACT]
    with np.load(shipped / ARTEFACT, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype.kind in "fi" for name in arrays.files)
    meta = json.loads((shipped / METADATA).read_text())
    assert meta["versions"]["scikit-learn"].startswith("1.9.")


def test_a_saved_model_is_plain_data_and_predicts_to_the_bit(small_model, tmp_path):
    folder, estimator = small_model
    with np.load(folder / ARTEFACT, allow_pickle=False) as arrays:
        assert set(arrays.files) == {"idf_words", "idf_chars", "coef", "intercept", "classes", "n_iter"}
    loaded = load(folder)
    X = units(40)
    for a, b in zip(estimator.predict_proba(X), loaded.estimator.predict_proba(X)):
        assert a.tobytes() == b.tobytes()
    assert loaded.estimator.get_params(deep=True).keys() == estimator.get_params(deep=True).keys()
    assert repr(loaded.estimator) == repr(estimator)
    save(loaded, tmp_path)  # saving what was loaded writes the same bytes
    for name in (ARTEFACT, METADATA):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()


@pytest.mark.parametrize("as_name", [ARTEFACT, "other.npz"])
def test_a_foreign_pickle_named_by_the_metadata_never_runs(small_model, tmp_path, as_name):
    copy(small_model[0], tmp_path)
    marker = tmp_path / "ran"
    (tmp_path / as_name).write_bytes(pickle.dumps(_Touch(marker)))
    reseal(tmp_path, as_name)
    with pytest.raises(ModelError, match=f"{as_name} and {METADATA} do not describe a model.*mentalize train"):
        load(tmp_path)
    assert not marker.exists()


def test_an_old_joblib_model_folder_says_retrain(small_model, tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "mentalize-classifier.joblib").write_bytes(pickle.dumps(_Touch(marker)))
    meta = json.loads((small_model[0] / METADATA).read_text())
    for key in ("format", "estimator", SEAL):
        del meta[key]
    meta.update(artefact="mentalize-classifier.joblib", sha256=hashlib.sha256((tmp_path / "mentalize-classifier.joblib").read_bytes()).hexdigest())
    (tmp_path / METADATA).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"earlier version .* as a pickle .*no longer loaded.*'mentalize train --out .* --force'"):
        load(tmp_path)
    assert not marker.exists()


def _edit(key, value):
    def edit(folder):
        meta = json.loads((folder / METADATA).read_text())
        if value is KeyError:
            del meta[key]
        else:
            meta[key] = value
        (folder / METADATA).write_text(json.dumps(meta))
    return edit


def _edits(**values):
    def edit(folder):
        for key, value in values.items():
            _edit(key, value)(folder)
    return edit


def _step_type(name):
    def edit(folder):
        meta = json.loads((folder / METADATA).read_text())
        meta["estimator"]["features"]["transformers"][-1]["type"] = name
        (folder / METADATA).write_text(json.dumps(meta))
    return edit


def _one_array(folder):
    with open(folder / ARTEFACT, "wb") as handle:
        np.save(handle, np.zeros(3))


def _write(name, data):
    return lambda folder: (folder / name).write_bytes(data)


def _flip(folder):
    data = bytearray((folder / ARTEFACT).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / ARTEFACT).write_bytes(bytes(data))


def _folder_as_data_file(folder):
    (folder / ARTEFACT).unlink()
    (folder / ARTEFACT).mkdir()


BROKEN = {
    "no metadata": (lambda f: (f / METADATA).unlink(), METADATA, "no model metadata.*mentalize train"),
    "no data file": (lambda f: (f / ARTEFACT).unlink(), ARTEFACT, "is missing"),
    "a folder as the data file": (_folder_as_data_file, ARTEFACT, "is missing"),
    "truncated metadata": (lambda f: (f / METADATA).write_bytes((f / METADATA).read_bytes()[:100]), METADATA, "cannot be read"),
    "metadata not UTF-8": (_write(METADATA, b"\xff\xfe{}"), METADATA, "cannot be read"),
    "metadata a list": (_write(METADATA, b"[1, 2]"), METADATA, "not a JSON object"),
    "deeply nested metadata": (_write(METADATA, b"[" * 100_000), METADATA, "cannot be read"),
    "no format": (_edit("format", KeyError), METADATA, "model format None.*reads format 3"),
    "absolute path": (_edit("artefact", "/etc/passwd"), METADATA, "not a file of the model's own folder"),
    "path with a folder": (_edit("artefact", "sub/x.npz"), METADATA, "not a file of the model's own folder"),
    "parent folder": (_edit("artefact", ".."), METADATA, "not a file of the model's own folder"),
    "a line break": (_edit("artefact", "x\nx.npz"), METADATA, "not a file of the model's own folder"),
    "Windows separator": (_edit("artefact", "..\\x.npz"), METADATA, "not a file of the model's own folder"),
    "artefact not a string": (_edit("artefact", ["x"]), METADATA, "not a file of the model's own folder"),
    "tampered data": (_flip, ARTEFACT, "does not match"),
    "edited labels": (_edit("labels", list(reversed(LABELS))), METADATA, "labels, thresholds, calibration"),
    "no thresholds": (_edit("thresholds", KeyError), METADATA, "labels, thresholds, calibration"),
    "edited calibration": (_edit("calibration", {}), METADATA, "labels, thresholds, calibration"),
    "edited feature names": (_edit("feature_names", []), METADATA, "labels, thresholds, calibration"),
    "no seal": (_edit(SEAL, KeyError), METADATA, "labels, thresholds, calibration"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_every_broken_model_folder_gets_one_plain_message(small_model, tmp_path, case):
    break_it, named, expected = BROKEN[case]
    copy(small_model[0], tmp_path)
    break_it(tmp_path)
    with pytest.raises(ModelError, match=expected) as caught:
        load(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / named) in message
    assert "mentalize train" in message and "\n" not in message


SEALED = {
    "labels unknown": (_edit("labels", ["feelings"]), "'labels' should be a list of distinct labels"),
    "labels repeated": (_edit("labels", [LABELS[0]] * 3), "'labels' should be"),
    "labels a number": (_edit("labels", 3), "'labels' should be"),
    "no labels, so the three of the spec": (_edits(labels=KeyError, thresholds=[0.5, 0.5]), "'thresholds' should be 3 numbers"),
    "two labels": (_edits(labels=list(LABELS[:2]), thresholds=[0.5, 0.5]), r"do not describe a model.*'coef'.*expected shape \[2, "),
    "thresholds short": (_edit("thresholds", [0.5]), "'thresholds' should be 3 numbers"),
    "thresholds as text": (_edit("thresholds", ["0.5", "0.6", "0.7"]), "'thresholds' should be 3 numbers"),
    "thresholds not finite": (_edit("thresholds", [0.5, float("nan"), 0.7]), "'thresholds' should be 3 numbers"),
    "length edges decreasing": (_edit("length_edges", [4, 2]), "'length_edges' should be increasing whole numbers"),
    "length edge of one sentence": (_edit("length_edges", [1, 4]), "'length_edges' should be"),
    "length edges as text": (_edit("length_edges", "2,4"), "'length_edges' should be"),
    "review band": (_edit("review_band", 0.3), "'review_band' should be two numbers"),
    "calibration lengths": (_edit("calibration", [{LABELS[0]: {"x": [0, 1], "y": [0]}}] * 3), "'calibration' should be"),
    "one calibration map per label, as format 2 had": (_edit("calibration", {LABELS[0]: {"x": [0, 1], "y": [0, 1]}}), "'calibration' should be 3 objects"),
    "calibration for two length groups": (_edit("calibration", [{}] * 2), "'calibration' should be 3 objects"),
    "error rates": (_edit("error_rates", {LABELS[0]: {"tpr": "high"}}), "'error_rates' should be"),
    "no versions": (_edit("versions", KeyError), "does not say which scikit-learn"),
    "other scikit-learn": (_edit("versions", {"scikit-learn": "1.6.1"}), r"scikit-learn 1\.6\.1; this environment has .*scikit-learn==1\.6\.\*"),
    "no estimator": (_edit("estimator", KeyError), r"do not describe a model.*no 'estimator'"),
    "estimator of another class": (_step_type("FunctionTransformer"), "step type 'FunctionTransformer' is not one of"),
    "one array, not an archive": (_one_array, "one array, not an .npz archive"),
    "random bytes": (_write(ARTEFACT, bytes(range(256)) * 4), "do not describe a model"),
}


@pytest.mark.parametrize("case", SEALED, ids=list(SEALED))
def test_a_consistent_but_wrong_model_folder_is_refused_plainly(small_model, tmp_path, case):
    """Resealed after the edit, so only the checks after the hashes can refuse it."""
    break_it, expected = SEALED[case]
    copy(small_model[0], tmp_path)
    break_it(tmp_path)
    reseal(tmp_path)
    with pytest.raises(ModelError, match=expected) as caught:
        load(tmp_path)
    assert "mentalize train" in str(caught.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _mutate_json(data, value):
    """Replace, delete or add one value somewhere in ``value``, drawn by hypothesis."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        value[key] = _mutate_json(data, value[key])
        return value
    if isinstance(value, list) and value and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        value[index] = _mutate_json(data, value[index])
        return value
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "delete" and isinstance(value, dict) and value:
        del value[data.draw(st.sampled_from(sorted(value)))]
    elif action == "delete" and isinstance(value, list) and value:
        del value[data.draw(st.integers(0, len(value) - 1))]
    elif action == "add" and isinstance(value, dict):
        value[data.draw(st.text(max_size=6))] = data.draw(json_values)
    elif action == "add" and isinstance(value, list):
        value.append(data.draw(json_values))
    else:
        return data.draw(json_values)
    return value


def _assert_refused_plainly_or_usable(folder: Path) -> None:
    try:
        classifier = load(folder)
    except ModelError as exc:
        message = str(exc)
        assert str(folder) in message and "mentalize train" in message and "\n" not in message
    else:  # whatever loads must tag without failing
        raw, lengths = classifier.unit_proba(units(6)), np.array([1, 2, 3, 4, 5, 9])
        classifier.calibrate(raw, lengths), classifier.decide(raw), classifier.review_band
        [classifier.error_rates(label) for label in classifier.labels]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), sealed=st.booleans())
def test_any_edit_to_the_metadata_is_refused_or_harmless(small_model, data, sealed):
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy(small_model[0], Path(tmp))
        text = (folder / METADATA).read_text()
        if data.draw(st.booleans()):
            text = json.dumps(_mutate_json(data, json.loads(text)))
        else:  # garble the text itself
            at = data.draw(st.integers(0, len(text) - 1))
            text = text[:at] + data.draw(st.text(max_size=3)) + text[at + data.draw(st.integers(0, 3)):]
        (folder / METADATA).write_text(text, encoding="utf-8")
        try:
            meta = json.loads(text)
        except ValueError:
            meta = None
        if sealed and isinstance(meta, dict):
            meta[SEAL] = model_hash(meta)
            (folder / METADATA).write_text(json.dumps(meta), encoding="utf-8")
        _assert_refused_plainly_or_usable(folder)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), sealed=st.booleans())
def test_any_damage_to_the_data_file_is_refused_or_harmless(small_model, data, sealed):
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy(small_model[0], Path(tmp))
        raw = bytearray((folder / ARTEFACT).read_bytes())
        kind = data.draw(st.sampled_from(["flip", "truncate", "replace"]))
        if kind == "flip":
            for _ in range(data.draw(st.integers(1, 4))):
                raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        elif kind == "truncate":
            raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
        else:
            raw = bytearray(data.draw(st.binary(max_size=2000)))
        (folder / ARTEFACT).write_bytes(bytes(raw))
        if sealed:
            reseal(folder)
        _assert_refused_plainly_or_usable(folder)

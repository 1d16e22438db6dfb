import json
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import CORPUS, ROOT
from mentalize_nlp import ModelError
from mentalize_nlp.classifier import ARTEFACT, METADATA, load
from mentalize_nlp.corpus import read_corpus
from mentalize_nlp.labels import LABELS
from mentalize_nlp.training import rules_hash, train


def test_metadata_describes_the_shipped_model():
    meta = json.loads((ROOT / "models" / METADATA).read_text())
    assert meta["labels"] == list(LABELS)
    assert {"scikit-learn", "spacy", "python"} <= set(meta["versions"])
    assert meta["cue_rules_sha256"] == rules_hash()
    assert any(name.startswith("cues__TRAIT") for name in meta["feature_names"])
    assert not any(name in {"words__be", "words__your", "words__might", "words__me"} for name in meta["feature_names"])
    assert meta["scores"]["written_test"]["n"] == meta["n_test_written"] > 0
    real = meta["scores"]["real_test"]
    assert real["turns"] > 1000 and set(real["by_source"]) == {"annomi", "mibot", "counselchat"}
    assert len(meta["calibration"]) == len(meta["length_edges"]) + 1 and len(meta["thresholds"]) == len(LABELS)
    for label in LABELS:
        assert all(set(group[label]) == {"x", "y"} for group in meta["calibration"])
        assert 0 < meta["error_rates"][label]["tpr"] <= 1


def test_a_tampered_model_is_refused(tmp_path):
    for name in (ARTEFACT, METADATA):
        shutil.copy(ROOT / "models" / name, tmp_path / name)
    with open(tmp_path / ARTEFACT, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="does not match"):
        load(tmp_path)


def test_a_missing_model_says_how_to_build_one(tmp_path):
    with pytest.raises(ModelError, match="mentalize train"):
        load(tmp_path)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    frame = read_corpus(CORPUS)
    small = pd.concat([frame[frame.split == "train"].head(500), frame[frame.split == "test"].head(150)])
    path = tmp_path_factory.mktemp("corpus") / "small.csv"
    small.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def small_real(tmp_path_factory):
    from mentalize_nlp.corpus import DEFAULT_REAL_CORPUS

    frame = read_corpus(ROOT / DEFAULT_REAL_CORPUS)
    frame = frame[frame["source"] != "counselchat"]  # its text stays in ../shared
    sessions = sorted(frame["session"].unique())
    train_sessions = [s for s in sessions if (frame.loc[frame.session == s, "split"] == "train").all()][:12]
    test_sessions = [s for s in sessions if (frame.loc[frame.session == s, "split"] == "test").all()][:4]
    small = frame[frame["session"].isin(train_sessions + test_sessions)]
    path = tmp_path_factory.mktemp("real") / "small-real.csv"
    small.to_csv(path, index=False)
    return path


def test_training_is_deterministic_and_never_sees_the_test_rows(small_corpus, small_real, tmp_path):
    from mentalize_nlp.corpus import DEFAULT_REAL_CORPUS

    forum = read_corpus(ROOT / DEFAULT_REAL_CORPUS).query("source == 'counselchat' and split == 'train'").head(5)
    coded = tmp_path / "coded.csv"  # five rows whose text lives in a shared folder this run is not given
    pd.concat([read_corpus(small_real), forum]).to_csv(coded, index=False)
    first = train(small_corpus, tmp_path / "a", real=coded, folds=3, shared=tmp_path / "absent")
    second = train(small_corpus, tmp_path / "b", real=coded, folds=3, shared=tmp_path / "absent")
    assert first.metadata["rows_without_text"] == 5
    assert "5 coded rows left out" in (tmp_path / "a" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert first.metadata["sha256"] == second.metadata["sha256"]
    for name in (ARTEFACT, METADATA):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    real = read_corpus(small_real)
    assert first.metadata["n_train"] == 500 + int((real["split"] == "train").sum())
    assert first.metadata["n_test_written"] == 150
    assert first.metadata["scores"]["real_test"]["sessions"] == 4
    assert set(first.metadata["scores"]["written_test"]["registers"]) <= {"clean", "disfluent", "asr", "british", "adolescent"}
    reloaded = load(tmp_path / "a")
    assert reloaded.metadata["sha256"] == first.metadata["sha256"]
    assert reloaded.metadata["thresholds"] == first.metadata["thresholds"]


def test_without_a_real_corpus_calibration_comes_from_the_corpus_itself(small_corpus):
    model = train(small_corpus, None, folds=3)
    assert all(set(group) == set(LABELS) for group in model.metadata["calibration"])
    assert "real_test" not in model.metadata["scores"]


def _copy_model(tmp_path):
    for name in (ARTEFACT, METADATA):
        shutil.copy(ROOT / "models" / name, tmp_path / name)
    return json.loads((tmp_path / METADATA).read_text())


def test_edited_thresholds_are_refused_not_silently_used(tmp_path):
    meta = _copy_model(tmp_path)
    meta["thresholds"] = [0.0, 0.0, 0.0]  # would tag everything
    (tmp_path / METADATA).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="thresholds"):
        load(tmp_path)


def test_the_metadata_can_only_name_a_file_in_its_own_folder(tmp_path):
    meta = _copy_model(tmp_path)
    (tmp_path / "inner").mkdir()
    shutil.copy(tmp_path / ARTEFACT, tmp_path / "elsewhere.npz")
    meta["artefact"] = "../elsewhere.npz"
    (tmp_path / "inner" / METADATA).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="own folder"):
        load(tmp_path / "inner")


def test_broken_metadata_gets_one_plain_message(tmp_path):
    _copy_model(tmp_path)
    (tmp_path / METADATA).write_text("{ not json")
    with pytest.raises(ModelError, match="cannot be read.*mentalize train"):
        load(tmp_path)


def test_another_scikit_learn_version_says_what_to_install(tmp_path, monkeypatch):
    _copy_model(tmp_path)
    import sklearn

    monkeypatch.setattr(sklearn, "__version__", "1.6.1")
    with pytest.raises(ModelError, match=r"scikit-learn==1\.9\.\*"):
        load(tmp_path)


def test_a_turn_leans_further_when_two_of_its_sentences_lean_and_shows_the_stronger_one():
    from mentalize_nlp.classifier import turn_scores

    proba = np.array([[0.5, 0.1], [0.5, 0.3], [0.2, 0.0]])
    scores, carrier, lengths = turn_scores(proba, np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(scores, [[0.75, 1 - 0.9 * 0.7], [0.2, 0.0]])
    assert carrier.tolist() == [[0, 1], [2, 2]]
    assert lengths.tolist() == [2, 1]


def test_long_turns_are_calibrated_with_the_map_of_their_length_group():
    from mentalize_nlp.classifier import Classifier

    meta = {"labels": [LABELS[0]], "length_edges": [2, 4], "thresholds": [0.7],
            "calibration": [{LABELS[0]: {"x": [0, 1], "y": [0, 1]}}, {LABELS[0]: {"x": [0, 1], "y": [0, 0.5]}},
                            {LABELS[0]: {"x": [0, 1], "y": [0, 0.25]}}]}
    classifier = Classifier(estimator=None, metadata=meta)
    raw, lengths = np.array([[0.8], [0.8], [0.8], [0.6]]), np.array([1, 3, 4, 7])
    np.testing.assert_allclose(classifier.calibrate(raw, lengths)[:, 0], [0.8, 0.4, 0.2, 0.15])
    assert classifier.decide(raw)[:, 0].tolist() == [1, 1, 1, 0]


def test_a_length_group_with_too_few_coded_turns_uses_the_map_of_all_turns():
    from mentalize_nlp.training import MIN_GROUP, fit_calibration

    rng = np.random.default_rng(0)
    truth = (rng.random((400, 3)) < 0.3).astype(int)
    scores = np.clip(truth * 0.5 + rng.random((400, 3)) * 0.5, 0, 1)
    lengths = np.where(np.arange(400) < 400 - MIN_GROUP // 2, 1, 5)  # too few long turns for their own map
    calibration = fit_calibration(scores, truth, lengths)
    overall = fit_calibration(scores, truth, np.ones(400, dtype=int), edges=())[0]
    assert calibration[2] == calibration[1] == overall
    assert calibration[0] != overall  # the short turns, with enough rows, have their own


def test_scores_are_the_stock_pipelines_to_the_bit():
    """Character n-grams are counted once per distinct word; the scores must not move."""
    import mentalize_nlp
    from mentalize_nlp.features import featurise

    tagger = mentalize_nlp.load()
    texts = ["Yeah.", "She's just SELFISH, selfish\tand  lazy.", "", "I felt really hurt. Maybe she felt left out?",
             "Σίσυφος ΟΔΥΣΣΕΥΣ naïve café", "Mm-hmm. " * 30, "he did it to humiliate me, to humiliate me"]
    _, _, featurised = featurise(tagger.nlp, texts)
    raw = pd.DataFrame({"text": texts, "cues": [{"TRAIT": 1.0}] * len(texts)})  # capitals and odd spacing kept
    for X in (featurised, raw):
        stock = np.column_stack([p[:, 1] for p in tagger.classifier.estimator.predict_proba(X)])
        assert tagger.classifier.unit_proba(X).tobytes() == stock.tobytes()

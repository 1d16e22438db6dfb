import json
import shutil

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
    assert meta["scores"]["test"]["n"] == meta["n_test"] > 0


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


def test_training_is_deterministic_and_never_sees_the_test_rows(small_corpus, tmp_path):
    first = train(small_corpus, tmp_path / "a")
    second = train(small_corpus, tmp_path / "b")
    assert first.metadata["sha256"] == second.metadata["sha256"]
    assert (tmp_path / "a" / ARTEFACT).read_bytes() == (tmp_path / "b" / ARTEFACT).read_bytes()
    assert first.metadata["n_train"] == 500 and first.metadata["n_test"] == 150
    assert set(first.metadata["scores"]["test"]["registers"]) <= {"clean", "disfluent", "asr", "british", "adolescent"}
    reloaded = load(tmp_path / "a")
    assert reloaded.metadata["sha256"] == first.metadata["sha256"]

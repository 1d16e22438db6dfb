"""The shipped annotated corpus is what the model card says it is."""

import json

import pandas as pd
import pytest

from conftest import CORPUS, ROOT
from mentalize_nlp.corpus import assign_split, corpus_hash, near_duplicate_groups, normalise, read_corpus
from mentalize_nlp.labels import LABELS, REGISTERS
from spec_examples import SPEC_EXAMPLES


@pytest.fixture(scope="module")
def corpus():
    return read_corpus(CORPUS)


def test_size_registers_roles_and_labels(corpus):
    assert len(corpus) >= 3000
    assert set(corpus["register"]) == set(REGISTERS)
    assert corpus["register"].value_counts().min() >= 400
    assert set(corpus["role"]) == {"therapist", "client"}
    for label in LABELS:
        assert corpus[label].mean() > 0.15


def test_test_split_is_a_fifth_or_more_and_groups_never_straddle_it(corpus):
    assert (corpus["split"] == "test").mean() >= 0.2
    assert corpus.groupby("group")["split"].nunique().max() == 1


def test_no_near_duplicate_crosses_the_split(corpus):
    regrouped = near_duplicate_groups(corpus["text"].tolist(), corpus["group"].tolist(), threshold=0.8)
    check = pd.DataFrame({"group": regrouped, "split": corpus["split"]})
    assert check.groupby("group")["split"].nunique().max() == 1


def test_no_exact_duplicates_and_no_spec_example_is_trained_on(corpus):
    norms = corpus["text"].map(normalise)
    assert not norms.duplicated().any()
    assert not set(norms) & {normalise(t) for t, _ in SPEC_EXAMPLES}


def test_near_duplicate_grouping_and_split_assignment():
    groups = near_duplicate_groups(
        ["She's just so selfish.", "she's just so, um, selfish", "The clinic shuts at five."], ["a", "b", "c"]
    )
    assert groups[0] == groups[1] != groups[2]
    assert assign_split(["x", "x", "y"]) == assign_split(["x", "x", "y"])
    assert assign_split(["g1", "g1"])[0] == assign_split(["g1", "g1"])[1]


def test_shipped_model_was_trained_on_this_corpus():
    meta = json.loads((ROOT / "models" / "mentalize-classifier.json").read_text())
    assert meta["corpus_sha256"] == corpus_hash(CORPUS)

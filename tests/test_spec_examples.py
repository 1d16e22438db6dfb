"""Every example in spec/labels.md is tagged as the spec says, by the shipped model."""

import pytest

from mentalize_nlp import LABELS
from spec_examples import SPEC_EXAMPLES


@pytest.fixture(scope="module")
def tagged(tagger):
    return tagger.tag_texts([text for text, _ in SPEC_EXAMPLES])


@pytest.mark.parametrize("index", range(len(SPEC_EXAMPLES)), ids=[t for t, _ in SPEC_EXAMPLES])
def test_spec_example(tagged, index):
    text, expected = SPEC_EXAMPLES[index]
    row = tagged.iloc[index]
    assert {label for label in LABELS if row[label]} == expected


def test_evidence_names_the_trigger_words(tagged):
    texts = [t for t, _ in SPEC_EXAMPLES]
    row = tagged.iloc[texts.index("I was so angry, she's just a selfish cow")]
    assert "angry" in row["evidence_feeling_naming"]
    assert "selfish" in row["evidence_certainty_labelling"]
    assert row["evidence"].startswith("certainty_labelling:")

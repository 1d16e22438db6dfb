import pandas as pd

from mentalize_nlp import LABELS


def test_tag_texts_returns_one_row_per_text_with_probabilities(tagger):
    frame = tagger.tag_texts(["I felt really gutted when she left", "Shall we say Tuesday at ten?", ""])
    assert len(frame) == 3
    assert frame.loc[0, "feeling_naming"] == 1
    assert frame.loc[1, list(LABELS)].sum() == 0
    assert frame.loc[2, list(LABELS)].sum() == 0
    for label in LABELS:
        assert frame[f"p_{label}"].between(0, 1).all()


def test_tag_frame_keeps_the_researchers_columns_and_index(tagger):
    data = pd.DataFrame({"coder": ["A", "B"], "utterance": ["maybe he was scared of looking weak", "he's a liar"]}, index=[10, 20])
    out = tagger.tag_frame(data, text_column="utterance")
    assert list(out.index) == [10, 20]
    assert list(out.columns[:2]) == ["coder", "utterance"]
    assert out.loc[10, "perspective_taking"] == 1
    assert out.loc[20, "certainty_labelling"] == 1


def test_non_speech_in_brackets_is_not_read_as_words(tagger):
    plain = tagger.tag_texts(["Mm-hmm."]).iloc[0]
    noted = tagger.tag_texts(["Mm-hmm. [crying] (long pause)"]).iloc[0]
    assert plain["p_feeling_naming"] == noted["p_feeling_naming"]

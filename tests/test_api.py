import json

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


def test_a_bare_string_is_refused_not_split_into_characters(tagger):
    import pytest

    with pytest.raises(TypeError, match="list of texts"):
        tagger.tag_texts("I felt really hurt")


def test_evidence_points_at_the_exact_words_that_carried_each_label(tagger):
    import json

    text = "We met at the cafe. I felt really hurt when she left, really hurt."
    row = tagger.tag_texts([text]).iloc[0]
    assert row["feeling_naming"] == 1
    spans = [s for s in json.loads(row["evidence_spans"]) if s["label"] == "feeling_naming"]
    assert spans and all(text[s["start"]:s["end"]] == s["text"] for s in spans)
    assert all(s["start"] >= text.index("I felt") for s in spans)


def test_a_name_is_never_a_trait_cue(tagger):
    row = tagger.tag_texts(["My manager, Karen, she moved my shifts again."]).iloc[0]
    assert "Karen" not in row["evidence"]
    assert row["certainty_labelling"] == 0


def test_a_hedge_in_one_sentence_and_a_mental_word_in_another_are_not_perspective(tagger):
    row = tagger.tag_texts(["Maybe we could meet on Tuesday instead. I think about my mum a lot."]).iloc[0]
    assert row["perspective_taking"] == 0


def test_asking_why_a_mind_acts_is_perspective_and_asking_for_plans_is_not(tagger):
    rows = tagger.tag_texts(["Why do I keep pushing people away?", "What do you think you will do next?"])
    assert rows["perspective_taking"].tolist() == [1, 0]
    assert rows.loc[0, "evidence_perspective_taking"] == "Why do I"
    assert rows.loc[1, "evidence"] == ""


def test_asking_for_a_feeling_is_feeling_naming_and_asking_for_an_opinion_of_a_plan_is_not(tagger):
    rows = tagger.tag_texts(["How do you feel when he shouts at you?", "How do you feel about cutting down to five a day?"])
    assert rows["feeling_naming"].tolist() == [1, 0]
    assert rows.loc[0, "evidence_feeling_naming"] == "How do you feel"
    assert rows.loc[1, "evidence"] == ""


def test_evidence_never_lists_function_words(tagger):
    rows = tagger.tag_texts(["Derek's not my sister.", "Do you have any questions you might have about the leaflet?"])
    assert rows[list(LABELS)].to_numpy().sum() == 0
    assert (rows["evidence"] == "").all()


def test_needs_review_marks_the_uncertain_band_and_tags_given_at_a_low_probability(tagger):
    frame = tagger.tag_texts(["I felt really hurt", "Shall we say Tuesday at ten?", "maybe he was a bit off with me", "She is selfish."])
    low, high = tagger.classifier.review_band
    probs = frame[[f"p_{l}" for l in LABELS]].to_numpy()
    tags = frame[list(LABELS)].to_numpy()
    expected = (((probs >= low) & (probs < high)) | ((tags == 1) & (probs < low))).any(axis=1).astype(int)
    assert frame["needs_review"].tolist() == expected.tolist()
    assert frame["certainty_labelling"].iat[3] == 1 and frame["p_certainty_labelling"].iat[3] < low  # a short verdict, flagged
    assert frame["needs_review"].iat[3] == 1


def test_a_long_turn_of_plain_facts_gets_no_label_from_its_length(tagger):
    frame = tagger.tag_texts([" ".join(["We had pasta for tea."] * 60), "We had pasta for tea."])
    assert frame[list(LABELS)].to_numpy().sum() == 0


def test_tag_frame_never_overwrites_a_coders_labels(tagger):
    gold = pd.DataFrame({"text": ["I felt really hurt", "Shall we say Tuesday?"], "feeling_naming": [0, 1]})
    before = gold.copy()
    out = tagger.tag_frame(gold)
    pd.testing.assert_frame_equal(gold, before)  # the caller's frame is untouched
    assert out["feeling_naming"].tolist() == [0, 1]  # the coder's codes, unchanged
    assert out["pred_feeling_naming"].tolist() == [1, 0]  # the tagger's, beside them
    assert "certainty_labelling" in out.columns  # no clash: the plain name


def test_a_series_keeps_its_index(tagger):
    texts = pd.Series(["I felt really hurt", "Shall we say Tuesday?"], index=[100, 200])
    assert list(tagger.tag_texts(texts).index) == [100, 200]


def test_a_repeated_text_gets_the_same_row_in_its_own_place(tagger):
    texts = pd.Series(["Yeah.", "she's just selfish", "Yeah.", "I felt really hurt", "she's just selfish"], index=[5, 4, 3, 2, 1])
    together = tagger.tag_texts(texts)
    alone = pd.concat([tagger.tag_texts([t]) for t in texts])
    assert list(together.index) == [5, 4, 3, 2, 1]
    assert together.reset_index(drop=True).equals(alone.reset_index(drop=True))
    assert together.loc[4, "certainty_labelling"] == together.loc[1, "certainty_labelling"] == 1


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NAMES = st.sampled_from(["text", "feeling_naming", "p_feeling_naming", "evidence", "needs_review", "coder", "session", "x"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extra=st.lists(_NAMES.filter(lambda n: n != "text"), max_size=4, unique=True),
    index=st.lists(st.one_of(st.integers(-10**6, 10**6), st.text(max_size=3)), min_size=1, max_size=4, unique=True),
)
def test_tag_frame_keeps_every_column_and_the_index(tagger, extra, index):
    data = {"text": ["maybe she felt left out"] * len(index)}
    data.update({name: [f"{name}-{i}" for i in range(len(index))] for name in extra})
    frame = pd.DataFrame(data, index=index)
    before = frame.copy()
    out = tagger.tag_frame(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.index) == index
    pd.testing.assert_frame_equal(out[frame.columns], frame)
    assert len(out.columns) == len(set(out.columns))


def test_a_turn_written_like_a_huge_number_stays_text(tagger, tmp_path):
    """A CSV turn of "1e30" crashed tagging: it parsed as a number too large for a whole-number column."""
    from mentalize_nlp import read_transcript

    path = tmp_path / "s.csv"
    path.write_text("turn,speaker,text\n1e30,T,Hello.\n1,C,I feel sad.\n", encoding="utf-8")
    table = tagger.tag_sessions(read_transcript(path))
    assert list(table["turn"]) == ["1e30", "1"] and table["feeling_naming"].tolist() == [0, 1]


def test_evidence_names_the_cue_of_a_sentence_nearly_as_likely_when_the_carrier_names_none(tagger):
    frame = tagger.tag_texts(["Lonely. That's a big feeling to notice in her.", "Hello there. I wonder what was happening for him."])
    assert frame["evidence_feeling_naming"].iat[0] == "Lonely"
    assert frame["evidence_perspective_taking"].iat[1] == "I wonder"


def test_evidence_names_the_cues_of_every_sentence_that_carries_the_label(tagger):
    """A supervisor sees both verdicts of a two-verdict turn highlighted, not only the stronger one."""
    text = "She is so selfish. We had tea. He never listens to anyone."
    row = tagger.tag_texts([text]).iloc[0]
    assert row["certainty_labelling"] == 1
    assert row["evidence_certainty_labelling"] == "selfish, never"
    spans = [s for s in json.loads(row["evidence_spans"]) if s["label"] == "certainty_labelling"]
    assert [text[s["start"]:s["end"]] for s in spans] == ["selfish", "never"]


def test_the_api_says_so_when_two_files_of_one_name_make_one_session(tagger, tmp_path):
    import pytest

    from mentalize_nlp import read_transcript

    sessions = []
    for clinic in ("clinicA", "clinicB"):
        (tmp_path / clinic).mkdir()
        (tmp_path / clinic / "s1.txt").write_text("T: Hello.\nC: I feel sad.\n", encoding="utf-8")
        sessions += read_transcript(tmp_path / clinic / "s1.txt")
    with pytest.warns(UserWarning, match="session .s1. comes from 2 files"):
        tagger.tag_sessions(sessions)
    with pytest.raises(TypeError, match="use tag_sessions"):
        tagger.tag_session(sessions)
    assert tagger.tag_texts(pd.Series(["I felt hurt", pd.NA], dtype=object))["p_feeling_naming"].iat[1] == tagger.tag_texts([""])["p_feeling_naming"].iat[0]

import math

import pandas as pd

from mentalize_nlp.profiles import profile


def frame(rows):
    return pd.DataFrame(
        rows,
        columns=["session", "turn", "speaker", "role", "certainty_labelling", "feeling_naming", "perspective_taking",
                 "evidence_certainty_labelling", "evidence_feeling_naming", "evidence_perspective_taking"],
    )


def test_counts_rates_and_balance_per_session_and_speaker():
    utterances = frame([
        ("s1", 0, "T", "therapist", 0, 1, 1, "", "hurt", "wonder"),
        ("s1", 1, "C", "client", 1, 0, 0, "selfish", "", ""),
        ("s1", 2, "T", "therapist", 0, 0, 0, "", "", ""),
        ("s1", 3, "C", "client", 1, 1, 0, "idiot", "angry", ""),
        ("s1", 4, "C", "client", 0, 0, 0, "", "", ""),
        ("s1", 5, "C", "client", 1, 0, 0, "selfish", "", ""),
    ])
    table = profile(utterances).set_index("speaker")
    assert table.loc["C", "utterances"] == 4
    assert table.loc["C", "certainty_labelling_count"] == 3
    assert table.loc["C", "certainty_labelling_per_100"] == 75.0
    assert table.loc["C", "mentalizing_balance"] == -0.5  # (1 - 3) / (1 + 3)
    assert table.loc["T", "mentalizing_balance"] == 1.0
    assert table.loc["C", "certainty_labelling_turns"] == "1;3;5"
    assert table.loc["C", "certainty_labelling_evidence"].startswith("selfish (2)")


def test_balance_is_empty_when_nothing_is_tagged_and_sessions_stay_apart():
    utterances = frame([("a", 0, "T", "therapist", 0, 0, 0, "", "", ""), ("b", 0, "T", "therapist", 1, 0, 0, "x", "", "")])
    table = profile(utterances)
    assert list(table["session"]) == ["a", "b"]
    assert math.isnan(table.loc[0, "mentalizing_balance"])
    assert table.loc[1, "mentalizing_balance"] == -1.0


def test_empty_input_gives_the_contract_columns():
    table = profile(pd.DataFrame())
    assert {"session", "speaker", "role", "utterances", "mentalizing_balance", "feeling_naming_per_100"} <= set(table.columns)


def test_adjusted_count_is_the_expected_count_from_calibrated_probabilities():
    # 100 utterances: 10 tagged at p=0.6, 20 untagged at p=0.2, the rest near 0.
    rows = [("s", i, "C", "client", int(i < 10), 0, 0, "x" if i < 10 else "", "", "") for i in range(100)]
    utterances = frame(rows)
    utterances["p_certainty_labelling"] = [0.6] * 10 + [0.2] * 20 + [0.0] * 70
    utterances["p_feeling_naming"] = 0.0
    utterances["p_perspective_taking"] = 0.0
    utterances["needs_review"] = [1 if i % 20 == 0 else 0 for i in range(100)]
    table = profile(utterances).iloc[0]
    assert table["certainty_labelling_count"] == 10
    assert table["certainty_labelling_adjusted"] == 10.0  # 10 * 0.6 + 20 * 0.2: misses balance false alarms
    assert table["certainty_labelling_count_low"] < 10.0 < table["certainty_labelling_count_high"]
    assert table["certainty_labelling_per_100_low"] < table["certainty_labelling_adjusted_per_100"] < table["certainty_labelling_per_100_high"]
    assert table["feeling_naming_adjusted"] == 0.0
    assert table["needs_review_count"] == 5 and table["needs_review_share"] == 0.05


def test_without_probabilities_the_adjusted_count_is_the_count():
    utterances = frame([("s", 0, "C", "client", 1, 0, 0, "x", "", ""), ("s", 1, "C", "client", 0, 0, 0, "", "", "")])
    table = profile(utterances).iloc[0]
    assert table["certainty_labelling_adjusted"] == 1.0
    assert table["certainty_labelling_count_low"] <= 1.0 <= table["certainty_labelling_count_high"]


def test_profile_names_the_columns_it_needs_and_refuses_coder_and_tagger_columns_mixed(tagger):
    """It raised pandas' bare KeyError 'role', or counted a coder's labels with the tagger's adjusted figures."""
    import pytest

    frame = tagger.tag_frame(pd.DataFrame({"text": ["I felt hurt", "ok"]}))
    with pytest.raises(KeyError, match="missing: session, speaker, role, turn"):
        profile(frame)
    coded = pd.DataFrame({"session": "s", "speaker": "C", "role": "client", "turn": [0, 1], "text": ["I felt hurt", "ok"],
                          "certainty_labelling": 0, "feeling_naming": [0, 1], "perspective_taking": 0})
    with pytest.raises(KeyError, match="both a coder's certainty_labelling and the tagger's pred_certainty_labelling"):
        profile(tagger.tag_frame(coded))

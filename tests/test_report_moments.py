"""The therapist's replies described in MBT terms: the rules file, hand-written turns of each kind, and the samples."""

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import SAMPLES
from mentalize_nlp.cli import main
from mentalize_nlp.pipeline.rules import default_rules
from mentalize_nlp.report.data import (
    ReportError,
    classify_block,
    classify_turn,
    kind_counts,
    parse_response_rules,
    read_outputs,
    response_rules,
    therapist_moments,
    therapist_responses,
)

CL, FN, PT = "certainty_labelling", "feeling_naming", "perspective_taking"

TURNS = [
    ("I said that as if I knew, and I don't. What's your sense of it?", (), "repair"),
    ("Hang on, I think I got that wrong. Tell me again?", (), "repair"),
    ("He's doing it because he's afraid of losing you. That's really what it's about.", (CL,), "certainty"),
    ("The truth is you need to stand up to her.", (), "certainty"),
    ("What do you make of why she did that?", (PT,), "curiosity"),
    ("How did that feel, when she said it?", (FN,), "curiosity"),
    ("I wonder if she was feeling left out herself.", (PT,), "hypothesis"),
    ("Maybe he was worried about you.", (), "hypothesis"),
    ("That sounds really painful.", (FN,), "validation"),
    ("No wonder you were upset.", (), "validation"),
    ("Yeah.", (), "agreement"),
    ("You're right, she is so selfish.", (), "agreement"),
    ("Let's look at your diary for next week.", (), "moved_on"),
    ("Mm-hmm.", (), "moved_on"),
]


@pytest.mark.parametrize("text, tagged, kind", TURNS)
def test_each_kind_is_recognised_on_a_written_turn(text, tagged, kind):
    assert classify_turn(text, tagged).kind == kind


def test_a_question_is_needed_for_curiosity():
    assert classify_turn("I'm curious about her.", ()).kind != "curiosity"
    assert classify_turn("I'm curious, what was going on for her?", ()).kind == "curiosity"


def test_the_first_listed_kind_in_a_run_of_therapist_turns_wins():
    assert classify_block(["Mm.", "That sounds hard.", "What do you make of it?"], [(), (FN,), ()]).kind == "curiosity"
    assert classify_block([], []).kind == "moved_on"


def test_the_shipped_rules_are_valid_and_cover_every_kind():
    kinds = [r.kind for r in response_rules()]
    assert kinds == ["repair", "certainty", "curiosity", "hypothesis", "validation", "agreement", "moved_on"]
    assert [r.kind for r, n in kind_counts(["repair", "repair", "moved_on"]) if n] == ["repair", "moved_on"]
    assert dict((r.kind, n) for r, n in kind_counts(["repair", "repair"]))["repair"] == 2


def test_the_response_rules_are_not_read_as_cue_rules():
    names = {getattr(r, "category", None) for r in default_rules()}
    assert "repair" not in names and "curiosity" not in names


@pytest.mark.parametrize("line, message", [
    ('{"kind": "x", "name": "X", "labels": ["nope"]}', "unknown label"),
    ('{"kind": "x", "name": "X", "patterns": ["(unclosed"]}', "not a valid regular expression"),
    ('{"kind": "x", "name": "X", "require": "maybe"}', "require"),
    ('{"name": "X"}', "kind"),
    ('[1, 2]', "JSON object"),
    ('{"kind": "x"', "line 1"),
])
def test_bad_rules_are_refused_with_the_line(line, message):
    with pytest.raises(ReportError, match=message):
        parse_response_rules([line, '{"kind": "rest", "name": "moved on"}'])


def test_the_last_rule_must_catch_every_turn():
    with pytest.raises(ReportError, match="last rule"):
        parse_response_rules(['{"kind": "x", "name": "X", "patterns": ["a"]}'])


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    out = tmp_path_factory.mktemp("moments") / "out"
    result = CliRunner().invoke(main, ["score", str(SAMPLES), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    utterances, _ = read_outputs(out)
    return utterances


def test_sam_interpretation_is_certainty_and_the_later_turn_a_repair(samples):
    sam = samples[samples["session"] == "session-03-sam"].reset_index(drop=True)
    responses = therapist_responses(sam)
    interpretation = responses[responses["therapist_text"].str.contains("scared of losing control of you")]
    assert interpretation["kind"].tolist() == ["certainty"]
    assert interpretation["kind_name"].tolist() == ["certainty of their own"]
    moments = therapist_moments(sam)
    repair = moments[moments["text"].str.contains("I put that as if I knew")]
    assert repair["kind"].tolist() == ["repair"]
    own = moments[moments["text"].str.contains("scared of losing control of you")]
    assert own["kind"].tolist() == ["certainty"] and bool(own["tagged"].iloc[0])


def test_maria_interpretation_and_repair_are_found_too(samples):
    maria = samples[samples["session"] == "session-01-maria"].reset_index(drop=True)
    kinds = dict(zip(therapist_moments(maria)["text"].str[:20], therapist_moments(maria)["kind"]))
    assert "certainty" in kinds.values() and "repair" in kinds.values()


def test_every_response_has_a_kind(samples):
    for _, session in samples.groupby("session"):
        responses = therapist_responses(session.reset_index(drop=True))
        answered = responses[responses["therapist_pos"] >= 0]
        assert (answered["kind"] != "").all()
        assert set(answered["kind"]) <= {r.kind for r in response_rules()}


# ----------------------------------------------------------------------------- the index and big batches

from test_report import SESSION, utterances, write_outputs  # noqa: E402

from mentalize_nlp.report import write_reports  # noqa: E402


def test_index_names_sessions_without_roles_and_the_fix(tmp_path):
    rows = [("Anna", "other", "She is always so selfish.", (CL,)), ("Ben", "other", "How did that feel?", (FN,))]
    frame = pd.concat([utterances(SESSION, "ana-01"), utterances(rows, "x-01")], ignore_index=True)
    out = write_outputs(tmp_path / "out", frame)
    write_reports(out)
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    section = index.split('id="no-roles"')[1].split("</ul>")[0]
    assert "x-01" in section and "ana-01" not in section
    assert "--therapist" in section and "--client" in section and "--roles" in section
    assert 'id="explain"' in index and "90% interval" in index
    page = (out / "report" / "x-01.html").read_text(encoding="utf-8")
    assert "--therapist" in page and "--roles" in page


def test_big_batches_are_written_on_several_cores_with_the_same_pages(tmp_path):
    frame = pd.concat([utterances(SESSION, f"s{k:02d}") for k in range(16)], ignore_index=True)
    one, two = write_outputs(tmp_path / "one", frame), write_outputs(tmp_path / "two", frame)
    seen = []
    write_reports(one, jobs=1)
    write_reports(two, jobs=2, on_page=lambda name, total: seen.append((name, total)))
    assert sorted(seen) == [(f"s{k:02d}", 16) for k in range(16)]
    for page in sorted((one / "report").glob("*.html")):
        assert page.read_text(encoding="utf-8") == (two / "report" / page.name).read_text(encoding="utf-8"), page.name

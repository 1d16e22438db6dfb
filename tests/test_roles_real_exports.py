"""Roles on real exports (issue 8, item 5): who is the client, what is a header, what is a speaker.

The files in tests/data/roles/ are shaped like the exports the issue quotes: a Zoom WebVTT
with full names, a whisperX diarised JSON, and a .txt with a title, a date and a
participant list above the turns and a "Quote:" line inside a turn.
"""

import json
from pathlib import Path

import pytest

from mentalize_nlp.transcripts import RoleMap, read_transcript

DATA = Path(__file__).parent / "data" / "roles"


def speakers(session):
    return [(u.speaker, u.role) for u in session.utterances]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# One recognised therapist and one other speaker: the other is the client.


def test_zoom_vtt_the_speaker_beside_a_named_doctor_is_the_client():
    (session,) = read_transcript(DATA / "zoom.vtt")
    assert {u.speaker: u.role for u in session.utterances} == {"Dr Anna Lee": "therapist", "Priya Shah": "client"}
    assert session.warnings == []


@pytest.mark.parametrize("therapist", ["T", "Therapist", "Counsellor", "Dr. Lee"])
def test_any_recognised_therapist_makes_the_only_other_speaker_the_client(tmp_path, therapist):
    path = write(tmp_path / "s.txt", f"{therapist}: How was the week?\nMaria: Awful.\n{therapist}: Go on.\nMaria: She ignored me.\n")
    (session,) = read_transcript(path)
    assert speakers(session)[:2] == [(therapist, "therapist"), ("Maria", "client")]


def test_a_recognised_client_makes_the_only_other_speaker_the_therapist(tmp_path):
    path = write(tmp_path / "s.csv", "speaker,text\nAnna,How was the week?\nClient,Awful.\nAnna,Go on.\n")
    (session,) = read_transcript(path)
    assert speakers(session) == [("Anna", "therapist"), ("Client", "client"), ("Anna", "therapist")]


def test_the_pairing_rule_never_overrides_a_stated_role_and_needs_exactly_two_speakers(tmp_path):
    stated = write(tmp_path / "stated.csv", "speaker,role,text\nT,therapist,How was the week?\nMaria,other,Awful.\n")
    assert speakers(read_transcript(stated)[0]) == [("T", "therapist"), ("Maria", "other")]
    three = write(tmp_path / "three.txt", "T: How was the week?\nMaria: Awful.\nJoe: It was.\nT: Go on.\nMaria: Fine.\nJoe: Yes.\n")
    (session,) = read_transcript(three)
    assert {u.speaker: u.role for u in session.utterances} == {"T": "therapist", "Maria": "other", "Joe": "other"}
    assert "'Maria', 'Joe'" in session.warnings[0]
    flagged = read_transcript(DATA / "zoom.vtt", roles=RoleMap(therapists=["Priya Shah"], clients=["Dr Anna Lee"]))[0]
    assert {u.speaker: u.role for u in flagged.utterances} == {"Dr Anna Lee": "client", "Priya Shah": "therapist"}


# Two unnamed diarised speakers stay `other`, and the session says which names and which flags.


def test_whisper_diarised_speakers_stay_other_with_a_warning_naming_them_and_the_flags():
    (session,) = read_transcript(DATA / "whisperx.json")
    assert {u.role for u in session.utterances} == {"other"}
    (warning,) = session.warnings
    for needed in ("'SPEAKER_00'", "'SPEAKER_01'", "--therapist", "--client", "--roles"):
        assert needed in warning


def test_the_flags_fix_diarised_speakers():
    roles = RoleMap(therapists=["SPEAKER_00"], clients=["SPEAKER_01"])
    (session,) = read_transcript(DATA / "whisperx.json", roles=roles)
    assert speakers(session)[:2] == [("SPEAKER_00", "therapist"), ("SPEAKER_01", "client")]
    assert session.warnings == []
    only_therapist = read_transcript(DATA / "whisperx.json", roles=RoleMap(therapists=["SPEAKER_00"]))[0]
    assert speakers(only_therapist)[:2] == [("SPEAKER_00", "therapist"), ("SPEAKER_01", "client")]


# Lines before the first turn are the session's header, not turns.


def test_title_date_and_participants_are_the_header_not_turns():
    (session,) = read_transcript(DATA / "session-4.txt")
    assert session.header == [
        "Session 4 - Priya - 12 March",
        "Recorded: 12/03/2024, Room 2",
        "Participants: Dr Anna Lee (therapist), Priya Shah",
    ]
    assert len(session) == 6
    assert "UNKNOWN" not in {u.speaker for u in session.utterances}
    assert session.utterances[0].speaker == "Dr Anna Lee" and session.utterances[0].line == 5


def test_a_participant_list_of_role_names_is_header_too(tmp_path):
    path = write(
        tmp_path / "s.txt",
        "Therapist: Dr Anna Lee\nClient: Priya Shah\n\nDr Anna Lee: How was the week?\nPriya Shah: Awful.\nDr Anna Lee: Go on.\n",
    )
    (session,) = read_transcript(path)
    assert session.header == ["Therapist: Dr Anna Lee", "Client: Priya Shah"]
    assert speakers(session) == [("Dr Anna Lee", "therapist"), ("Priya Shah", "client"), ("Dr Anna Lee", "therapist")]


def test_docx_title_paragraphs_are_the_header(tmp_path):
    from docx import Document

    document = Document()
    document.add_heading("Session 4 - Priya - 12 March", level=1)
    for line in ("T: How was the week?", "C: Awful.", "T: Go on."):
        document.add_paragraph(line)
    document.save(tmp_path / "s.docx")
    (session,) = read_transcript(tmp_path / "s.docx")
    assert session.header == ["Session 4 - Priya - 12 March"]
    assert [u.speaker for u in session.utterances] == ["T", "C", "T"]


# A prefix inside a turn that is not one of the session's speakers stays in the turn's text.


def test_quote_and_note_lines_inside_a_turn_stay_in_its_text():
    (session,) = read_transcript(DATA / "session-4.txt")
    assert {u.speaker for u in session.utterances} == {"Dr Anna Lee", "Priya Shah"}
    assert session.utterances[3].text.endswith("She texted me afterwards: Quote: you always make everything about you.")
    assert session.utterances[5].text == "It was. Note: I haven't replied yet."


def test_quote_inside_a_zoom_cue_stays_in_its_text():
    (session,) = read_transcript(DATA / "zoom.vtt")
    assert [u.speaker for u in session.utterances] == ["Dr Anna Lee", "Priya Shah"] * 2 + ["Dr Anna Lee"]
    assert session.utterances[3].text.endswith("She texted me afterwards: Quote: you always make everything about you.")


@pytest.mark.parametrize("prefix", ["Quote", "Sign", "Text", "Case Worker"])
def test_a_once_used_prefix_mid_turn_is_text_but_a_repeated_one_is_a_speaker(tmp_path, prefix):
    once = write(tmp_path / "once.txt", f"T: What did it say?\nC: It said\n{prefix}: come home now.\nT: Mm.\nC: Yes.\n")
    (session,) = read_transcript(once)
    assert [u.speaker for u in session.utterances] == ["T", "C", "T", "C"]
    assert session.utterances[1].text == f"It said {prefix}: come home now."
    twice = write(tmp_path / "twice.txt", f"T: Hello.\n{prefix}: hi.\nT: And?\n{prefix}: bye.\n")
    assert [u.speaker for u in read_transcript(twice)[0].utterances] == ["T", prefix, "T", prefix]


def test_a_speaker_who_speaks_once_after_a_blank_line_is_still_a_speaker(tmp_path):
    path = write(tmp_path / "s.txt", "T: How was the week?\n\nMaria: Awful.\n\nT: Go on.\n\nInterpreter: She says it was awful.\n\nMaria: Yes.\n")
    (session,) = read_transcript(path)
    assert [u.speaker for u in session.utterances] == ["T", "Maria", "T", "Interpreter", "Maria"]


def test_two_once_used_names_are_still_two_speakers(tmp_path):
    (session,) = read_transcript(write(tmp_path / "s.txt", "Dr Lee: How was the week?\nPriya: Awful.\n"))
    assert speakers(session) == [("Dr Lee", "therapist"), ("Priya", "client")]


def test_json_prefix_inside_a_segment_follows_the_same_rule(tmp_path):
    segments = [
        {"speaker": "Dr Anna Lee", "text": "What did she write?"},
        {"speaker": "Priya Shah", "text": "She wrote\nQuote: come home now."},
        {"speaker": "Dr Anna Lee", "text": "Mm."},
    ]
    path = write(tmp_path / "s.json", json.dumps({"segments": segments}))
    (session,) = read_transcript(path)
    assert speakers(session) == [("Dr Anna Lee", "therapist"), ("Priya Shah", "client"), ("Dr Anna Lee", "therapist")]
    assert session.utterances[1].text == "She wrote Quote: come home now."


def test_a_speaker_stated_to_be_other_is_not_warned_of(tmp_path):
    path = write(tmp_path / "s.txt", "T: How was the week?\nMaria: Awful.\nJoe: It was.\nT: Go on.\nMaria: Fine.\nJoe: Yes.\n")
    (session,) = read_transcript(path, roles=RoleMap(clients=["Maria"], mapping={"Joe": "other"}))
    assert {u.speaker: u.role for u in session.utterances} == {"T": "therapist", "Maria": "client", "Joe": "other"}
    assert session.warnings == []


def test_speakers_without_a_role_are_named_on_stderr_and_in_sessions_csv(tmp_path):
    import pandas as pd
    from click.testing import CliRunner

    from mentalize_nlp.cli import main

    source = Path(__file__).parent / "data" / "roles" / "whisperx.json"
    result = CliRunner().invoke(main, ["score", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "warning: session 'whisperx'" in result.stderr and "--therapist" in result.stderr
    sessions = pd.read_csv(tmp_path / "out" / "sessions.csv", keep_default_na=False)
    assert sessions.loc[0, "session"] == "whisperx"
    assert "SPEAKER_00 (other)" in sessions.loc[0, "speakers"] and "--roles" in sessions.loc[0, "warnings"]


def test_the_report_names_the_speakers_to_check_and_the_fix(tmp_path):
    from click.testing import CliRunner

    from mentalize_nlp.cli import main

    source = Path(__file__).parent / "data" / "roles" / "whisperx.json"
    result = CliRunner().invoke(main, ["score", str(source), "--out", str(tmp_path / "out"), "--html"])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "out" / "report" / "index.html").read_text()
    page = (tmp_path / "out" / "report" / "whisperx.html").read_text()
    for html in (index, page):
        assert "Roles to check" in html and "SPEAKER_00" in html and "--therapist" in html

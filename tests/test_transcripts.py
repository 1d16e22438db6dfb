import codecs

import pytest

from conftest import SAMPLES
from mentalize_nlp import TranscriptError
from mentalize_nlp.transcripts import Columns, RoleMap, infer_role, read_transcript, speech_text


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def refused_on(path, match):
    """The line a transcript's refusal names; the refusal must match ``match``."""
    with pytest.raises(TranscriptError, match=match) as caught:
        read_transcript(path)
    return caught.value.line


def test_txt_prefix_styles_timestamps_and_continuation_lines(tmp_path):
    path = write(
        tmp_path / "s1.txt",
        "T: How was the week?\n"
        "Client: Awful. She just\n"
        "ignored me all weekend.\n"
        "\n"
        "[00:01:02] DR SMITH: What was that like?\n"
        "00:01:09 C: Lonely, I guess.\n"
        "Dr. Jones: Mm.\n",
    )
    (session,) = read_transcript(path)
    assert session.name == "s1"
    assert [u.speaker for u in session.utterances] == ["T", "Client", "DR SMITH", "C", "Dr. Jones"]
    assert session.utterances[1].text == "Awful. She just ignored me all weekend."
    assert session.utterances[2].start == "00:01:02"
    assert [u.role for u in session.utterances] == ["therapist", "client", "therapist", "client", "therapist"]
    assert [u.turn for u in session.utterances] == [0, 1, 2, 3, 4]


def test_txt_speaker_with_a_note_in_brackets_is_a_turn_with_its_role(tmp_path):
    path = write(
        tmp_path / "s2.txt",
        "Therapist (Dr Lee): How have you been this week?\n"
        "Sam (client): Not great. She hates me.\n"
        "Therapist: That sounds hard.\n",
    )
    (session,) = read_transcript(path)
    assert [u.speaker for u in session.utterances] == ["Therapist (Dr Lee)", "Sam (client)", "Therapist"]
    assert [u.role for u in session.utterances] == ["therapist", "client", "therapist"]
    assert session.header == []


@pytest.mark.parametrize("client", ["Élodie", "ŁUKASZ", "priya shah", "Maria de la Cruz"])
def test_txt_speaker_names_with_accents_particles_or_lower_case_open_their_own_turns(tmp_path, client):
    """Such a name was read as text: the client's every word went to the therapist."""
    path = write(tmp_path / "s.txt", f"Therapist: How was the week?\n{client}: Not good.\nTherapist: Why?\n{client}: She shouted.\n")
    (session,) = read_transcript(path)
    assert [(u.speaker, u.text) for u in session.utterances] == [
        ("Therapist", "How was the week?"), (client, "Not good."), ("Therapist", "Why?"), (client, "She shouted."),
    ]


def test_txt_with_numbered_lines_reads_the_speakers_after_the_numbers(tmp_path):
    """Research transcripts number their lines: each line was its own speaker ('1 T', '2 C', …)."""
    path = write(tmp_path / "s.txt", "1 T: How are you?\n2 C: Not good.\n3 T: Why?\n4 C: She shouted.\n")
    (session,) = read_transcript(path)
    assert [(u.speaker, u.role) for u in session.utterances] == [("T", "therapist"), ("C", "client")] * 2


def test_txt_lines_opening_with_a_lower_case_sentence_stay_text(tmp_path):
    path = write(tmp_path / "s.txt", "T: What did he say?\nC: he said: no way\nso i said: fine\nT: Hm.\nC: he said: go\nso i said: fine\n")
    (session,) = read_transcript(path)
    assert [u.speaker for u in session.utterances] == ["T", "C", "T", "C"]
    assert session.utterances[1].text == "he said: no way so i said: fine"


def test_txt_without_speakers_names_the_file_line_and_fix(tmp_path):
    path = write(tmp_path / "notes.txt", "just some notes\nabout the session\n")
    with pytest.raises(TranscriptError) as err:
        read_transcript(path)
    assert "notes.txt, line 1" in str(err.value) and "'SPEAKER: text'" in str(err.value)


def test_csv_keeps_none_and_na_as_words_and_reads_optional_columns(tmp_path):
    path = write(tmp_path / "s.csv", "session,turn,speaker,text\nA,5,T,None\nA,6,C,NA\nB,0,C,\"yes, \"\"fine\"\"\"\n")
    sessions = read_transcript(path)
    assert [s.name for s in sessions] == ["A", "B"]
    assert [u.text for u in sessions[0].utterances] == ["None", "NA"]
    assert [u.turn for u in sessions[0].utterances] == [5, 6]
    assert sessions[1].utterances[0].text == 'yes, "fine"'


def test_csv_missing_column_suggests_the_option(tmp_path):
    path = write(tmp_path / "s.csv", "speaker,utterance\nT,hello\n")
    with pytest.raises(TranscriptError, match="Pass --text-column utterance"):
        read_transcript(path)
    (session,) = read_transcript(path, columns=Columns(text="utterance"))
    assert session.utterances[0].text == "hello"


def test_csv_of_texts_without_speakers_is_read_with_a_warning(tmp_path):
    path = tmp_path / "thoughts.csv"
    path.write_text("text\nI always mess everything up.\nNobody likes me.\n", encoding="utf-8")
    (session,) = read_transcript(path)
    assert [(u.speaker, u.role, u.text) for u in session.utterances] == [
        ("UNKNOWN", "other", "I always mess everything up."), ("UNKNOWN", "other", "Nobody likes me.")]
    assert any("no speaker column" in w and "--speaker-column" in w for w in session.warnings)
    path.write_text("speaker,text\nclient,I always mess everything up.\n", encoding="utf-8")
    (session,) = read_transcript(path)
    assert session.utterances[0].role == "client" and not session.warnings


def test_csv_with_a_likely_speaker_column_under_another_name_is_refused(tmp_path):
    path = write(tmp_path / "s.csv", "interlocutor,text\nT,hello\n")
    assert refused_on(path, "Pass --speaker-column interlocutor") == 1


@pytest.mark.parametrize("header", ["Speaker Name", "speaker_id", "spk", "Person"])
def test_csv_speaker_columns_under_common_export_names_are_refused_with_the_option(tmp_path, header):
    """Such a column was ignored: every turn became UNKNOWN."""
    path = write(tmp_path / "s.csv", f"{header},Text\nDr Lee,How are you?\nSam,Fine.\n")
    with pytest.raises(TranscriptError, match=f"Pass --speaker-column {header}"):
        read_transcript(path)


def test_csv_with_blank_session_cells_among_named_ones_is_refused_by_line(tmp_path):
    """Rows with a blank session (merged or filled-down cells) were pooled into one made-up session, mixing two clients."""
    path = write(tmp_path / "s.csv", "session,speaker,text\nmaria-1,T,Hello Maria.\n,C,Hi.\n,T,How are you?\nben-1,T,Welcome.\n")
    assert refused_on(path, r"no session in the 'session' column on lines 3, 4.*fill in the session") == 3


def test_a_role_column_saying_t_c_counsellor_or_patient_gives_those_roles(tmp_path):
    """Such values were thrown away: Anna came out 'other' on one row and 'therapist' on the next."""
    path = write(tmp_path / "s.csv", "speaker,text,role\nAnna,How are you?,counsellor\nBen,Hurt.,patient\n"
                 "Anna,Go on.,T\nBen,Fine.,C\nMo,Hi.,mother\n")
    (session,) = read_transcript(path)
    assert [u.role for u in session.utterances] == ["therapist", "client", "therapist", "client", "other"]
    assert any("'mother' names no role" in w for w in session.warnings)


@pytest.mark.parametrize("table, texts, warning", [
    # a row repeating a turn (one row per coder) is read once
    ("speaker,text,turn\nT,How are you?,1\nC,Yes.,2\nC,Yes.,2\nT,Go on.,3\n", ["How are you?", "Yes.", "Go on."],
     "line 4 repeats an earlier row's turn"),
    # 'I went, and then I left' cut at its comma, the rest in the notes column
    ("speaker,text,notes\nT,How was it?,\nC,I went, and then I left\nT,Why?,checked\n", ["How was it?", "I went", "Why?"],
     "on line 3 a column after 'text' starts with a space"),
    # an empty text cell (in a workbook, perhaps a formula Excel never saved a value for)
    ("speaker,text\nT,How was it?\nC,\n", ["How was it?", ""], "no text on line 3: kept as an empty turn"),
])
def test_a_table_row_read_other_than_written_is_named_by_line(tmp_path, table, texts, warning):
    (session,) = read_transcript(write(tmp_path / "s.csv", table))
    assert [u.text for u in session.utterances] == texts
    assert any(w.startswith(warning) for w in session.warnings)


def test_a_speaker_name_typed_with_a_combining_accent_is_one_speaker(tmp_path):
    path = write(tmp_path / "s.csv", "speaker,text\nZoe\u0308,How are you?\nClient,Hurt.\nZo\u00eb,Go on.\n")
    (session,) = read_transcript(path, roles=RoleMap(therapists=["Zo\u00eb"]))
    assert {u.speaker for u in session.utterances} == {"Zo\u00eb", "Client"}
    assert [u.role for u in session.utterances] == ["therapist", "client", "therapist"]


def test_csv_lines_are_named_right_after_a_text_over_several_lines_or_a_blank_line(tmp_path):
    """Row i was taken for line i + 2: warnings and errors sent users to the wrong row."""
    path = write(tmp_path / "s.csv", 'speaker,text\nT,"How are you,\nreally?"\nC,"Not good.\nI cried."\n\n,"(inaudible)"\nT,Hm.\n')
    (session,) = read_transcript(path)
    assert [u.line for u in session.utterances] == [2, 4, 7, 8]
    assert any(w.startswith("no speaker on line 7") for w in session.warnings)
    bad = write(tmp_path / "bad.csv", 'speaker,text\nT,"How are you?\nReally?"\nC,Fine\n\nT,Okay, so tell me\n')
    assert refused_on(bad, "has 3 fields") == 6
    unclosed = write(tmp_path / "open.csv", 'speaker,text\nT,Hi\nC,"How are you?\nT,ok\n')
    assert refused_on(unclosed, "never closed") == 3


def test_tsv_text_opening_with_a_quotation_mark_does_not_swallow_the_rows_after_it(tmp_path):
    path = write(tmp_path / "s.tsv", 'speaker\ttext\nT\tWhat did she say?\nC\t"Go away. That is it.\nT\tAnd then?\n'
                 'C\tShe said "no" and left.\n')
    (session,) = read_transcript(path)
    assert [(u.speaker, u.text) for u in session.utterances] == [
        ("T", "What did she say?"), ("C", '"Go away. That is it.'), ("T", "And then?"), ("C", 'She said "no" and left.'),
    ]


def test_a_tab_separated_file_named_csv_is_read_with_tabs(tmp_path):
    (session,) = read_transcript(write(tmp_path / "s.csv", "speaker\ttext\nT\tHi, there\nC\tok\n"))
    assert [(u.speaker, u.text) for u in session.utterances] == [("T", "Hi, there"), ("C", "ok")]


def test_a_table_under_a_title_row_is_refused_with_the_fix_that_works(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Session 4 - Priya"
    for row in ([], ["Speaker", "Text"], ["Therapist", "How are you?"]):
        sheet.append(row)
    book.save(tmp_path / "s.xlsx")
    with pytest.raises(TranscriptError, match="delete any title rows above it"):
        read_transcript(tmp_path / "s.xlsx")


def test_turn_values_that_are_not_whole_numbers_stay_as_written_and_blank_ones_are_named(tmp_path):
    from mentalize_nlp import load

    path = write(tmp_path / "s.csv", "speaker,text,turn\nT,How are you?,1e3\nC,Hurt.,7\nT,Go on.,\n")
    (session,) = read_transcript(path)
    assert any(w.startswith("no turn number on line 4") for w in session.warnings)
    assert load().tag_sessions([session])["turn"].tolist() == ["1e3", "7", "2"]  # 1e3 was written as 1000


def test_role_warning_suggests_the_role_still_missing(tmp_path):
    path = write(tmp_path / "s.csv", "speaker,text\nAnna,How are you?\nJames,Fine.\nMark,Hi.\n")
    (session,) = read_transcript(path)
    assert any("e.g. --therapist Anna --client James" in w for w in session.warnings)
    (session,) = read_transcript(path, roles=RoleMap(therapists=["Anna"]))
    assert any("e.g. --client James" in w for w in session.warnings)
    (session,) = read_transcript(path, roles=RoleMap(clients=["James"]))
    assert any("e.g. --therapist Anna" in w for w in session.warnings)


def test_csv_row_with_an_unquoted_comma_or_open_quote_is_refused_by_line(tmp_path):
    for name, body in [("comma.csv", 'speaker,text\nT,Hello, how are you?\nC,Fine.\n'),
                       ("quote.csv", 'speaker,text\nT,"Hello there\nC,"She is always late, she is selfish."\nT,How did that feel?\n'),
                       ("one.csv", 'speaker,text\nT,Hello, how are you?\n')]:
        assert refused_on(write(tmp_path / name, body), "double quotes") == 2


def test_csv_with_row_names_and_no_header_for_them_is_read(tmp_path):
    (session,) = read_transcript(write(tmp_path / "r.csv", 'speaker,text\n"1","T","Hello, how are you?"\n"2","C","I felt hurt."\n'))
    assert [(u.speaker, u.text) for u in session.utterances] == [("T", "Hello, how are you?"), ("C", "I felt hurt.")]


def test_csv_saved_by_excel_with_semicolons_is_read(tmp_path):
    (session,) = read_transcript(write(tmp_path / "s.csv", "speaker;text\nT;How are you, really?\nC;I felt hurt.\n"))
    assert [(u.speaker, u.text) for u in session.utterances] == [("T", "How are you, really?"), ("C", "I felt hurt.")]


def test_csv_row_without_a_speaker_is_kept_and_its_line_named(tmp_path):
    path = write(tmp_path / "s.csv", "session,turn,speaker,text\nA,1,T,How are you?\nA,2,,Hurt.\nA,3,C,Bad.\n")
    (session,) = read_transcript(path)
    assert [u.text for u in session.utterances] == ["How are you?", "Hurt.", "Bad."]
    assert session.utterances[1].speaker == "UNKNOWN"
    assert any("no speaker on line 3" in w and "fill in the 'speaker' column" in w for w in session.warnings)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_encodings_and_crlf(tmp_path, encoding):
    path = write(tmp_path / "e.txt", "T: How’s that for you?\r\nC: I felt – honestly – gutted. Café\r\n", encoding)
    (session,) = read_transcript(path)
    assert session.utterances[1].text == "I felt – honestly – gutted. Café"


def test_binary_and_empty_files_are_refused_clearly(tmp_path):
    with pytest.raises(TranscriptError, match="binary"):
        read_transcript(write(tmp_path / "b.txt", "T: hi\x00\x01\x02", "latin-1"))
    with pytest.raises(TranscriptError, match="empty"):
        read_transcript(write(tmp_path / "e.csv", "  \n"))


def test_role_inference_and_overrides():
    assert [infer_role(s) for s in ("T", "Th", "Therapist", "Dr Smith", "counsellor 2")] == ["therapist"] * 5
    assert [infer_role(s) for s in ("C", "Cl", "Client", "Patient", "P", "Pt")] == ["client"] * 6
    assert infer_role("Maria") == "other"
    roles = RoleMap(therapists=["Anna"], clients=["Maria"])
    assert roles.role("anna") == "therapist" and roles.role("Maria") == "client"
    assert roles.role("X", given="client") == "client"


def test_speech_text_drops_transcriber_notes_but_keeps_spoken_asides():
    assert speech_text("I just [inaudible] left (laughs)") == "I just left"
    assert speech_text("He said (and I mean it) that") == "He said (and I mean it) that"


def test_bundled_samples_read(tmp_path):
    files = sorted(SAMPLES.iterdir())
    assert {f.suffix for f in files} >= {".txt", ".csv"}
    for file in files:
        (session,) = read_transcript(file)
        assert len(session) >= 40
        assert {u.role for u in session.utterances} == {"therapist", "client"}


def test_an_oversized_file_is_refused_with_the_fix_and_not_read(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024)
    with pytest.raises(TranscriptError, match="--max-size-mb"):
        read_transcript(path)

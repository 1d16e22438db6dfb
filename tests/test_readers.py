"""Each transcript format, written in the test, reads as the same session as its CSV form."""

import json

import openpyxl
import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from mentalize_nlp import TranscriptError
from mentalize_nlp.transcripts import Columns, read_transcript
from mentalize_nlp.transcripts.chat import plain_text

TURNS = [
    ("Therapist", "so how was the week?"),
    ("Client", "awful, honestly. she just um ignored me all weekend [laughs]."),
    ("Therapist", "what was that like for you?"),
    ("Client", "lonely, I guess. maybe she was scared too..."),
    ("Therapist", "scared of what, do you think?"),
    ("Client", "[unintelligible] of being left, I suppose."),
]
ROLES = ["therapist", "client"] * 3


def rows(sessions):
    (session,) = sessions
    return [(u.turn, u.speaker, u.role, u.text) for u in session.utterances]


@pytest.fixture
def reference(tmp_path):
    """The session as a CSV, read by the CSV reader: what every other format must match."""
    path = tmp_path / "reference.csv"
    lines = ["speaker,text", *(f'{speaker},"{text}"' for speaker, text in TURNS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = rows(read_transcript(path))
    assert [r[2] for r in expected] == ROLES
    return expected


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_xlsx_reads_like_the_csv_with_the_same_column_mapping(tmp_path, reference):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["who", "utterance", "note"])
    for speaker, text in TURNS:
        sheet.append([speaker, text, None])
    sheet.append([None, None, None])  # a blank row is not a turn
    book.create_sheet("Notes").append(["ignored"])
    book.save(tmp_path / "s.xlsx")
    sessions = read_transcript(tmp_path / "s.xlsx", columns=Columns(text="utterance", speaker="who"))
    assert rows(sessions) == reference
    assert sessions[0].name == "s"
    with pytest.raises(TranscriptError, match=r"s\.xlsx, line 1: .*Pass --text-column utterance.*also has 'Notes'"):
        read_transcript(tmp_path / "s.xlsx")


def test_xlsx_keeps_none_and_na_as_words_and_reads_sessions_and_turns(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["session", "turn", "speaker", "text"])
    for row in (["A", 5, "T", "None"], ["A", 6, "C", "NA"], ["B", 0, "C", "n/a"]):
        book.active.append(row)
    book.save(tmp_path / "t.xlsx")
    sessions = read_transcript(tmp_path / "t.xlsx")
    assert [s.name for s in sessions] == ["A", "B"]
    assert [(u.turn, u.text) for u in sessions[0].utterances] == [(5, "None"), (6, "NA")]


def test_xlsx_that_is_not_a_workbook_is_named(tmp_path):
    with pytest.raises(TranscriptError, match=r"broken\.xlsx: is not a readable Excel workbook"):
        read_transcript(write(tmp_path / "broken.xlsx", "speaker,text\nT,hello\n"))


VTT = """WEBVTT

1
00:00:00.000 --> 00:00:02.500
<v Therapist>so how was the week?</v>

2
00:00:03.000 --> 00:00:04.000 align:start
<v Client>awful, honestly.

3
00:00:04.000 --> 00:00:07.000
she just um ignored me
all weekend [laughs].

NOTE a cue without a voice tag continues the turn; 'Name:' prefixes work too

00:00:08.000 --> 00:00:09.500
Therapist: what was that like for you?

00:00:10.000 --> 00:00:12.000
<v Client>lonely, I guess.</v>

00:00:12.000 --> 00:00:13.000
<v Client><i>maybe</i> she was scared too...

00:00:14.000 --> 00:00:15.000
<v.loud Therapist>scared of what, do you think?

00:00:16.000 --> 00:00:18.000
<v Client>[unintelligible] of being left, I suppose.
"""


def test_vtt_reads_like_the_csv_and_merges_cues_of_one_speaker(tmp_path, reference):
    sessions = read_transcript(write(tmp_path / "s.vtt", VTT))
    assert rows(sessions) == reference
    turns = sessions[0].utterances
    assert [(u.start, u.end) for u in turns[:2]] == [("00:00:00.000", "00:00:02.500"), ("00:00:03.000", "00:00:07.000")]
    assert turns[1].line == 8


def test_vtt_from_windows_with_a_bom_reads_the_same(tmp_path, reference):
    assert rows(read_transcript(write(tmp_path / "s.vtt", VTT.replace("\n", "\r\n"), "utf-8-sig"))) == reference


def test_vtt_text_after_a_blank_line_inside_a_cue_is_kept(tmp_path):
    """The parser dropped such text: "And I couldn't sleep at all." vanished without a word."""
    text = ("WEBVTT\n\nNOTE exported by hand\n\n00:00:01.000 --> 00:00:04.000\nTherapist: How was the week?\n\n"
            "00:00:04.500 --> 00:00:09.000\nClient: It was hard.\n\nAnd I couldn't sleep at all.\n\n"
            "2\n00:00:09.500 --> 00:00:12.000\nTherapist: That sounds exhausting.\n")
    (session,) = read_transcript(write(tmp_path / "s.vtt", text))
    assert [(u.line, u.text) for u in session.utterances] == [
        (5, "How was the week?"), (8, "It was hard. And I couldn't sleep at all."), (14, "That sounds exhausting."),
    ]


def test_truncated_vtt_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "cut.vtt", VTT[: VTT.index("00:00:08.000") + 17])
    with pytest.raises(TranscriptError, match=r"cut\.vtt, line 18: expected cue timings"):
        read_transcript(path)
    with pytest.raises(TranscriptError, match=r"notvtt\.vtt, line 1: is not a WebVTT file"):
        read_transcript(write(tmp_path / "notvtt.vtt", "1\n00:00:01,000 --> 00:00:02,000\nT: hi\n"))
    with pytest.raises(TranscriptError, match=r"no speaker is named"):
        read_transcript(write(tmp_path / "anon.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\nhello there\n"))


SRT = """1
00:00:00,000 --> 00:00:02,500
Therapist: so how was the week?

2
00:00:03,000 --> 00:00:04,000
Client: awful, honestly.

3
00:00:04,000 --> 00:00:07,000
she just um ignored me
all weekend [laughs].

4
00:00:08,000 --> 00:00:09,500
Therapist: what was that like for you?

5
00:00:10,000 --> 00:00:12,000
Client: lonely, I guess.

6
00:00:12,000 --> 00:00:13,000
Client: <i>maybe</i> she was scared too...

7
00:00:14,000 --> 00:00:15,000
Therapist: scared of what, do you think?
Client: [unintelligible] of being left, I suppose.
"""


def test_srt_reads_like_the_csv_and_merges_subtitles_of_one_speaker(tmp_path, reference):
    sessions = read_transcript(write(tmp_path / "s.srt", SRT))
    assert rows(sessions) == reference
    turns = sessions[0].utterances
    assert (turns[1].start, turns[1].end, turns[1].line) == ("00:00:03.000", "00:00:07.000", 5)
    assert (turns[5].start, turns[5].end) == ("00:00:14.000", "00:00:15.000")


def test_malformed_srt_names_the_file_and_line(tmp_path):
    broken = SRT.replace("00:00:08,000 --> 00:00:09,500", "00:00:08,000 -> 00:0")
    with pytest.raises(TranscriptError, match=r"bad\.srt, line 14: is not well-formed SubRip"):
        read_transcript(write(tmp_path / "bad.srt", broken))


def test_json_reads_like_the_csv_and_merges_segments_of_one_speaker(tmp_path, reference):
    segments = [
        {"start": 0.0, "end": 2.5, "text": " so how was the week?", "speaker": "Therapist"},
        {"start": 3.0, "end": 4.0, "text": " awful, honestly.", "speaker": "Client"},
        {"start": 4.0, "end": 7.25, "text": " she just um ignored me all weekend [laughs]."},
        {"start": 8.0, "end": 9.5, "text": "what was that like for you?", "speaker": "Therapist", "words": []},
        {"start": 10.0, "end": 12.0, "text": "lonely, I guess.", "speaker": "Client"},
        {"start": 12.0, "end": 13.0, "text": "maybe she was scared too...", "speaker": "Client"},
        {"start": 14.0, "end": 15.0, "text": "scared of what, do you think?", "speaker": "Therapist"},
        {"start": 3600.5, "end": 3601.0, "text": "[unintelligible] of being left, I suppose.", "speaker": "Client"},
    ]
    path = write(tmp_path / "s.json", json.dumps({"language": "en", "segments": segments}, indent=2))
    sessions = read_transcript(path)
    assert rows(sessions) == reference
    turns = sessions[0].utterances
    assert (turns[1].start, turns[1].end) == ("00:00:03.000", "00:00:07.250")
    assert turns[5].start == "01:00:00.500"


def test_json_errors_name_the_file_line_and_fix(tmp_path):
    whole = json.dumps({"segments": [{"speaker": "A", "text": "hi"}, {"speaker": "B", "text": "yes"}]}, indent=2)
    with pytest.raises(TranscriptError, match=r"cut\.json, line 9: is not valid JSON"):
        read_transcript(write(tmp_path / "cut.json", whole[:-20]))
    plain_whisper = json.dumps({"text": "hi there", "segments": [{"start": 0, "end": 1, "text": "hi there"}]})
    with pytest.raises(TranscriptError, match=r"whisper\.json: no speaker is named.*--diarize"):
        read_transcript(write(tmp_path / "whisper.json", plain_whisper))
    with pytest.raises(TranscriptError, match=r"other\.json: expected whisper/whisperX output.*found the keys name, version"):
        read_transcript(write(tmp_path / "other.json", '{"name": "x", "version": 2}'))
    with pytest.raises(TranscriptError, match=r"segments\[1\] has a 'text' that is a number"):
        read_transcript(write(tmp_path / "typed.json", '{"segments": [{"speaker": "A", "text": "hi"}, {"speaker": "B", "text": 3}]}'))


CHAT = """@UTF8
@Begin
@Languages:\teng
@Participants:\tTHE Anna_Smith Therapist, CLI Client Patient
@ID:\teng|mentalize|THE|||||Therapist|||
@ID:\teng|mentalize|CLI|||||Patient|||
@Comment:\ta made-up session
*THE:\tso <how was> [/] how was the week ? \x150_2500\x15
%com:\tleans forward
*CLI:\tawful , honestly . \x153000_4000\x15
*CLI:\tshe just &-um ignored me
\tall weekend &=laughs . \x154000_7000\x15
*THE:\twhat was that (.) like for you ?
*CLI:\tlo:nely , I guess .
%mor:\tadj|lonely cm|cm pro:sub|I v|guess .
*CLI:\tmaybe she was scared@s too +...
*THE:\tscared of what \u201e do you think ?
*CLI:\txxx of being left [*] , I suppose .
@End
"""


def test_cha_reads_like_the_csv_with_roles_from_the_participants_header(tmp_path, reference):
    sessions = read_transcript(write(tmp_path / "s.cha", CHAT))
    codes = {"THE": "Therapist", "CLI": "Client"}
    assert [(turn, codes[speaker], role, text) for turn, speaker, role, text in rows(sessions)] == reference
    turns = sessions[0].utterances
    assert (turns[0].start, turns[1].start, turns[1].end, turns[1].line) == ("00:00:00.000", "00:00:03.000", "00:00:07.000", 10)


def test_cha_roles_are_inferred_where_the_header_gives_none(tmp_path):
    text = "@Begin\n@Participants:\tINV Investigator, MOT Mother\n*INV:\thow are you ?\n*MOT:\tfine .\n*T:\tand you ?\n@End\n"
    sessions = read_transcript(write(tmp_path / "r.cha", text))
    assert [(u.speaker, u.role) for u in sessions[0].utterances] == [("INV", "other"), ("MOT", "other"), ("T", "therapist")]


def test_chat_codes_are_stripped_as_clan_reads_them():
    assert plain_text("<I goed> [: I went] home [+ gram] .") == "I went home."
    assert plain_text("I [/] I <want to> [//] need &+fr friday [=! sighs] +/.") == "I need fr- friday [sighs]..."
    assert plain_text("&*CLI:mhm yeah [!] (2.5) 0is it ↑ok yyy www +..?") == "yeah it ok [unintelligible] [untranscribed]...?"
    assert plain_text("0 .") == ""


def test_malformed_cha_names_the_file_and_line(tmp_path):
    with pytest.raises(TranscriptError, match=r"bad\.cha, line 3: expected a main tier"):
        read_transcript(write(tmp_path / "bad.cha", "@Begin\n*THE:\thello .\n*CLI hello .\n@End\n"))
    with pytest.raises(TranscriptError, match=r"prose\.cha: has no main tiers"):
        read_transcript(write(tmp_path / "prose.cha", "T: hello\nC: hi\n"))


def tracked(paragraph, inserted, deleted):
    """Append a tracked insertion and a tracked deletion to a python-docx paragraph."""
    paragraph._p.append(parse_xml(
        f'<w:ins {nsdecls("w")} w:id="1" w:author="Editor" w:date="2024-01-01T00:00:00Z">'
        f'<w:r><w:t xml:space="preserve">{inserted}</w:t></w:r></w:ins>'
    ))
    paragraph._p.append(parse_xml(
        f'<w:del {nsdecls("w")} w:id="2" w:author="Editor" w:date="2024-01-01T00:00:00Z">'
        f'<w:r><w:delText xml:space="preserve">{deleted}</w:delText></w:r></w:del>'
    ))


def test_docx_paragraphs_read_like_the_csv_with_tracked_changes_accepted(tmp_path, reference):
    document = Document()
    document.add_paragraph(f"{TURNS[0][0]}: {TURNS[0][1]}")
    second = document.add_paragraph("Client: awful, honestly. ")
    tracked(second, "she just um ignored me", " and I never cared")
    assert "ignored" not in second.text  # python-docx alone would lose the insertion
    document.add_paragraph("")
    document.add_paragraph("all weekend [laughs].")
    for speaker, text in TURNS[2:]:
        document.add_paragraph(f"{speaker}: {text}")
    document.save(tmp_path / "s.docx")
    assert rows(read_transcript(tmp_path / "s.docx")) == reference


def test_docx_table_reads_like_the_csv_and_skips_the_header_and_title(tmp_path, reference):
    document = Document()
    document.add_heading("Session 4 - transcript", level=1)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Speaker", "Text"
    for speaker, text in TURNS:
        cells = table.add_row().cells
        cells[0].text = speaker
        if text.startswith("awful"):
            cells[1].text = "awful, honestly."
            tracked(cells[1].paragraphs[0], " she just um ignored me", " deleted")
            cells[1].add_paragraph("all weekend [laughs].")
        else:
            cells[1].text = text
    document.save(tmp_path / "t.docx")
    sessions = read_transcript(tmp_path / "t.docx")
    assert rows(sessions) == reference
    assert sessions[0].utterances[0].line == 2


def test_docx_turns_typed_as_paragraphs_after_the_table_are_read_too(tmp_path):
    """They were dropped without a word, because the table held more turns."""
    document = Document()
    document.add_paragraph("Session 5")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Speaker", "Text"
    for who, text in [("Therapist", "Hello."), ("Client", "Hi."), ("Therapist", "How was the week?"), ("Client", "Hard.")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = who, text
    document.add_paragraph("(recording continued after a break)")
    for who, text in [("Therapist", "Where were we?"), ("Client", "Talking about my dad.")]:
        document.add_paragraph(f"{who}: {text}")
    document.save(tmp_path / "s.docx")
    (session,) = read_transcript(tmp_path / "s.docx")
    assert [u.text for u in session.utterances][-3:] == ["Hard.", "Where were we?", "Talking about my dad."]
    assert session.header == ["Session 5"] and session.warnings == []


def test_docx_that_is_not_a_document_or_has_no_speakers_is_named(tmp_path):
    document = Document()
    document.add_paragraph("Some notes about the session.")
    document.save(tmp_path / "notes.docx")
    with pytest.raises(TranscriptError, match=r"notes\.docx: no speaker found.*'SPEAKER: text'"):
        read_transcript(tmp_path / "notes.docx")
    whole = (tmp_path / "notes.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(TranscriptError, match=r"cut\.docx: is not a readable Word document"):
        read_transcript(tmp_path / "cut.docx")


def test_caption_reported_speech_is_text_and_words_only_segments_are_read(tmp_path):
    """'She told me: …' became a speaker's turn; a whisperX segment with words and no text was dropped."""
    srt = ("1\n00:00:01,000 --> 00:00:02,000\nTherapist: What happened?\n\n2\n00:00:02,500 --> 00:00:04,000\nClient: We argued.\n\n"
           "3\n00:00:04,500 --> 00:00:06,000\nShe told me: you are just like your father.\n")
    (session,) = read_transcript(write(tmp_path / "s.srt", srt))
    assert [(u.speaker, u.text) for u in session.utterances][-1] == ("Client", "We argued. She told me: you are just like your father.")
    segments = {"segments": [
        {"start": 0.0, "end": 1.0, "words": [{"word": "So", "speaker": "SPEAKER_00"}, {"word": "how are you?", "speaker": "SPEAKER_00"}]},
        {"start": 1.0, "end": 2.0, "speaker": "SPEAKER_01", "text": " Fine, thanks."},
    ]}
    (session,) = read_transcript(write(tmp_path / "w.json", json.dumps(segments)))
    assert [(u.speaker, u.text) for u in session.utterances] == [("SPEAKER_00", "So how are you?"), ("SPEAKER_01", "Fine, thanks.")]


def workbook(path, sheets, hidden=()):
    """Save a workbook of ``sheets`` ({name: text of its one turn}, in order), each with a speaker,text header;
    the sheets named in ``hidden`` hidden, and the first of the others the one it opens on."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, text in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(["speaker", "text"])
        sheet.append(["T", text])
        sheet.sheet_state = "hidden" if name in hidden else "visible"
    book.active = next(k for k, name in enumerate(sheets) if name not in hidden)
    book.save(path)
    return path


def test_a_workbook_of_several_sheets_names_those_not_read_and_a_sheet_named_2_wins_over_position_2(tmp_path):
    workbook(tmp_path / "s.xlsx", {"1": "first", "2": "sheet 2", "3": "sheet 3"})
    (session,) = read_transcript(tmp_path / "s.xlsx")
    assert any("also has '2', '3': pass --sheet NAME" in w for w in session.warnings)
    (session,) = read_transcript(tmp_path / "s.xlsx", columns=Columns(sheet="2"))
    assert [u.text for u in session.utterances] == ["sheet 2"] and session.warnings == []


def test_whisperx_captions_with_bracketed_speakers_are_read(tmp_path):
    """'[SPEAKER_00]: …', as whisperX writes its .srt, was refused: 'no speaker is named anywhere'."""
    srt = "1\n00:00:01,000 --> 00:00:02,000\n[SPEAKER_00]: How are you?\n\n2\n00:00:02,500 --> 00:00:04,000\n[SPEAKER_01]: Fine.\n"
    (session,) = read_transcript(write(tmp_path / "s.srt", srt))
    assert [(u.speaker, u.text) for u in session.utterances] == [("SPEAKER_00", "How are you?"), ("SPEAKER_01", "Fine.")]


def test_a_hidden_first_sheet_is_not_read_by_default(tmp_path):
    (session,) = read_transcript(workbook(tmp_path / "s.xlsx", {"codes": "list row", "Transcript": "Hello."}, hidden={"codes"}))
    assert [u.text for u in session.utterances] == ["Hello."]

"""Whatever file it is fed, a reader fails cleanly (a TranscriptError naming the file, the line
where there is one, and the fix) in time and memory bounded by the file's size (issue 9).

Slow or unbounded cases run in a child process that is stopped past a deadline, so that a
regression fails the test instead of stalling the suite or filling the memory.
"""

import io
import multiprocessing
import os
import re
import resource
import socket
import time
import zipfile

import openpyxl
import pytest
from docx import Document

from mentalize_nlp import TranscriptError
from mentalize_nlp.transcripts import READERS, RoleMap, read_transcript

KB = 1024
_FORK = multiprocessing.get_context("fork")


def _child(conn, fn, args):
    # However a regression reads the file, it cannot take more than 2 GB beyond what is mapped now.
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + (2 << 30), resource.RLIM_INFINITY))
    start = time.perf_counter()
    try:
        fn(*args)
        outcome = "read"
    except TranscriptError as error:
        outcome = f"TranscriptError: {error}"
    except BaseException as error:  # what the test reports as the failure
        outcome = f"{type(error).__name__}: {str(error)[:300]}"
    conn.send((outcome, time.perf_counter() - start))


def within(seconds, fn, *args):
    """``(outcome, seconds taken)`` of ``fn(*args)`` run in a child process, or ``None`` when it
    ran past ``seconds`` (the child is then stopped)."""
    parent, child = _FORK.Pipe(duplex=False)
    process = _FORK.Process(target=_child, args=(child, fn, args))
    process.start()
    result = parent.recv() if parent.poll(seconds) else None
    process.kill()
    process.join()
    return result


def write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def docx_bytes(edit=None):
    """A Word file with a two-column table of turns; ``edit`` rewrites its document.xml."""
    document = Document()
    table = document.add_table(rows=0, cols=2)
    for speaker, text in (("T", "How was the week?"), ("C", "Awful, honestly.")):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = speaker, text
    buffer = io.BytesIO()
    document.save(buffer)
    if edit is None:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, edit(data) if name == "word/document.xml" else data)
    return out.getvalue()


# --- the cases of the issue, one by one -------------------------------------------------


def test_json_with_a_5000_digit_number_names_the_line_and_the_fix(tmp_path):
    path = write(tmp_path / "huge.json", '{"segments": [\n{"speaker": "A", "text": "hi", "start": ' + "9" * 5000 + "}]}")
    with pytest.raises(TranscriptError, match=r"huge\.json, line 2: holds a number 5,000 digits long.*fix or remove it"):
        read_transcript(path)


def test_csv_turn_cell_of_superscript_two_is_kept_as_text(tmp_path):
    path = write(tmp_path / "sup.csv", "turn,speaker,text\n²,T,How was the week?\n--3,C,Awful.\n7,T,I see.\n")
    (session,) = read_transcript(path)
    assert [u.turn for u in session.utterances] == ["²", "--3", 7]


def test_csv_turn_number_longer_than_any_count_of_turns_names_the_line(tmp_path):
    path = write(tmp_path / "long.csv", f"turn,speaker,text\n1,T,hi\n{'4' * 30},C,hello\n")
    with pytest.raises(TranscriptError, match=r"long\.csv, line 3: has a turn number 30 digits long.*number the turns"):
        read_transcript(path)


def test_docx_table_cell_spanning_superscript_two_columns_is_read(tmp_path):
    data = docx_bytes(lambda xml: xml.replace(b"<w:tcPr>", '<w:tcPr><w:gridSpan w:val="²"/>'.encode(), 1))
    assert b'w:val="\xc2\xb2"' in data or b"gridSpan" in zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    (session,) = read_transcript(write(tmp_path / "span.docx", data))
    assert [(u.speaker, u.text) for u in session.utterances] == [("T", "How was the week?"), ("C", "Awful, honestly.")]


def test_docx_with_no_body_is_refused_with_the_fix(tmp_path):
    data = docx_bytes(lambda xml: re.sub(rb"<w:body>.*</w:body>", b"", xml, flags=re.DOTALL))
    with pytest.raises(TranscriptError, match=r"nobody\.docx: is a Word file with no document body.*save it as \.docx again"):
        read_transcript(write(tmp_path / "nobody.docx", data))


def test_srt_with_a_broken_time_and_a_run_of_digits_is_refused_at_once(tmp_path):
    # 1.6 KB: the srt library's pattern took about a minute on this (25 minutes at 5 KB).
    text = "1\n00:00:01,000 --> 00:00:02,000\nT: hi\n\n2\n00:00:03,000 -> 00:0\n" + "1" * 1600
    path = write(tmp_path / "broken.srt", text)
    result = within(20, read_transcript, path)
    assert result is not None, "reading a 1.6 KB malformed .srt took more than 20 s"
    outcome, _ = result
    assert re.match(r"TranscriptError: .*broken\.srt, line 5: is not well-formed SubRip.*fix that block", outcome), outcome


def test_chat_tier_of_a_lone_bracket_does_not_crash_the_reader(tmp_path):
    # pylangacq's parser panicked on this (an exception that not even `except Exception` catches).
    (session,) = read_transcript(write(tmp_path / "bracket.cha", "@Begin\n*THE:\thello .\n*CLI:\t]\n@End\n"))
    assert [u.speaker for u in session.utterances] == ["THE", "CLI"]


def test_a_library_failing_unforeseen_is_still_a_transcript_error_naming_the_file(tmp_path, monkeypatch):
    def broken(path, **options):
        raise KeyError("a failure no reader foresaw")

    monkeypatch.setitem(READERS, ".txt", broken)
    with pytest.raises(TranscriptError, match=r"odd\.txt: could not be read \(KeyError: .*export it again") as caught:
        read_transcript(write(tmp_path / "odd.txt", "T: hi\nC: hello\n"))
    assert isinstance(caught.value.__cause__, KeyError)  # kept for --debug


def test_a_roles_file_that_is_not_csv_text_is_refused_with_the_fix(tmp_path):
    path = write(tmp_path / "roles.csv", bytes(range(256)) * 8)
    with pytest.raises(TranscriptError, match=r"roles\.csv: looks like a binary file"):
        RoleMap.from_file(path)
    path = write(tmp_path / "cp1252.csv", "speaker,role\nJos\xe9,therapist\n".encode("cp1252"))
    assert RoleMap.from_file(path).role("José") == "therapist"


# --- only regular files -------------------------------------------------------------------


def fifo(tmp_path):
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    return path


def zero(tmp_path):
    path = tmp_path / "zero.txt"
    path.symlink_to("/dev/zero")
    return path


def unix_socket(tmp_path):
    path = tmp_path / "sock.txt"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return path


@pytest.mark.parametrize("make, kind", [(fifo, "a named pipe"), (zero, "a device"), (unix_socket, "a socket")])
def test_a_pipe_a_device_or_a_socket_is_refused_at_once_without_being_read(tmp_path, make, kind):
    path = make(tmp_path)
    result = within(20, read_transcript, path)
    assert result is not None, f"reading {kind} never ended"
    outcome, _ = result
    assert outcome.startswith(f"TranscriptError: {path}: is {kind}"), outcome


# --- bounded memory: zip archives are checked before they are unpacked ----------------------


def bomb(kind, unpacked):
    """A valid .docx/.xlsx whose main part is padded with ``unpacked`` bytes of whitespace."""
    if kind == "docx":
        base, target = docx_bytes(), "word/document.xml"
    else:
        book = openpyxl.Workbook()
        book.active.append(["speaker", "text"])
        book.active.append(["T", "hi"])
        buffer = io.BytesIO()
        book.save(buffer)
        base, target = buffer.getvalue(), "xl/worksheets/sheet1.xml"
    source, out = zipfile.ZipFile(io.BytesIO(base)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in source.namelist():
            data = source.read(name)
            if name == target:
                head, tail = data.split(b">", 1)
                data = head + b">" + b" " * unpacked + tail
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_an_archive_unpacking_past_the_size_limit_is_refused_before_parsing(tmp_path, kind):
    path = write(tmp_path / f"big.{kind}", bomb(kind, 3_000_000))
    assert path.stat().st_size < 50 * KB
    with pytest.raises(TranscriptError, match=rf"big\.{kind}: unpacks to 3\.\d MB, more than the 1\.0 MB .*--max-size-mb"):
        read_transcript(path, max_bytes=1_000_000)


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_zip_bomb_is_refused_at_the_default_limit(tmp_path, kind):
    path = write(tmp_path / f"bomb.{kind}", bomb(kind, 20_000_000))
    with pytest.raises(TranscriptError, match=rf"bomb\.{kind}: holds '.*', which unpacks to 20\.\d MB .*zip bomb"):
        read_transcript(path)


def test_a_workbook_with_a_value_in_its_last_cell_is_refused_before_it_fills_the_memory(tmp_path):
    # Read into a table, the sheet would be 1,048,576 rows by 16,384 columns: 17 billion cells.
    book = openpyxl.Workbook()
    book.active.append(["speaker", "text"])
    book.active.append(["T", "hi"])
    book.active["XFD1048576"] = "x"
    book.save(tmp_path / "far.xlsx")
    assert (tmp_path / "far.xlsx").stat().st_size < 10 * KB
    result = within(60, read_transcript, tmp_path / "far.xlsx")
    assert result is not None, "reading the workbook took more than 60 s"
    assert re.match(r"TranscriptError: .*far\.xlsx: the sheet stored as xl/worksheets/sheet1\.xml has a value in cell "
                    r"XFD1048576, making a table of 1,048,576 rows by 16,384 columns.*export the sheet as \.csv", result[0]), result[0]


def test_an_archive_declaring_gigabytes_is_refused_without_unpacking(tmp_path):
    # The central directory says word/document.xml unpacks to 3 GB; nothing is unpacked to find out.
    data, name = bytearray(docx_bytes()), b"word/document.xml"
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (3_000_000_000).to_bytes(4, "little")
    with pytest.raises(TranscriptError, match=r"declared\.docx: unpacks to 3,000\.\d MB, more than the 52\.4 MB"):
        read_transcript(write(tmp_path / "declared.docx", bytes(data)))


# --- bounded time: time grows no faster than the file --------------------------------------

def repeated(head, unit, end=""):
    """A file of about ``size`` bytes: ``head``, then ``unit`` over and over, then ``end``."""

    def make(size):
        return (head + unit * ((size - len(head) - len(end)) // len(unit)) + end).encode("utf-8")

    return make


def docx_spaces(size):
    """A Word file whose third paragraph is a run of ``size`` spaces between two letters."""
    document = Document()
    for text in ("T: hi", "C: so", "A" + " " * size + "x"):
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def speakers(size):
    """Lines of speakers who each speak twice and say only a word all their names share."""
    lines = [f"Speaker {i // 2}: speaker\n" for i in range(size // 20)]
    return "".join(lines).encode("utf-8")


GROWTH = {
    ".txt": repeated("T: hi\nC: so\nA", " ", "x\n"),
    "names.txt": speakers,
    ".docx": docx_spaces,
    ".vtt": repeated("WEBVTT\n\n00:01.000 --> 00:02.000\nT: hi\n", "<v."),
    ".srt": repeated("1\n00:00:01,000 --> 00:00:02,000\nT: hi\n\n2\n00:00:03,000 -> 00:0\n", "1"),
    ".json": repeated('{"segments": [{"speaker": "T", "text": "hi"}, {"text": "C: so\\nA', " ", 'x"}]}'),
    ".cha": repeated("@Begin\n*THE:\thi .\n*CLI:\t", "<a ", " .\n@End\n"),
    ".csv": repeated("speaker,text", ",x", "\nT,hi\n"),
    ".tsv": repeated("speaker\ttext", "\tx", "\nT\thi\n"),
}
"""Per reader, a file holding damage that took time growing with the square of its length
(or worse) before issue 9: a run of spaces in a line that is not a turn's first, thousands
of speakers sharing a word, voice tags left open, digits where a subtitle's time should be,
CHAT groups left open, thousands of columns of one name."""


@pytest.mark.parametrize("kind", sorted(GROWTH))
def test_reading_time_grows_no_faster_than_the_file(tmp_path, kind):
    suffix = "." + kind.rsplit(".", 1)[-1]
    small, large = write(tmp_path / f"small{suffix}", GROWTH[kind](64 * KB)), write(tmp_path / f"large{suffix}", GROWTH[kind](1024 * KB))
    first = within(30, read_transcript, small)
    assert first is not None, f"reading a 64 KB malformed {suffix} took more than 30 s"
    # 16 times the size may take 16 times as long, four times over for noise; never less
    # than 5 s allowed, as the smallest times are the noisiest.
    allowed = max(first[1], 5 / 64) * 16 * 4
    second = within(allowed + 5, read_transcript, large)
    assert second is not None, f"reading a 1 MB malformed {suffix} took more than {allowed:.1f} s (64 KB: {first[1]:.3f} s)"
    assert second[1] < allowed, f"1 MB took {second[1]:.2f} s against {first[1]:.3f} s for 64 KB"
    for outcome, _ in (first, second):
        assert outcome == "read" or outcome.startswith("TranscriptError: "), outcome


def utterance(size):
    """One sentence of ``size`` characters: hedges, negations, trait words and terminators
    (the scope step and the evidence compared every pair of them), then a run of ``[`` (each
    one split off the run separately by spaCy's tokenizer, and a note never closed)."""
    words = "maybe she is not selfish and not lazy but I don't feel sad and he said it was so stupid "
    return (words * size)[: size - size // 16] + "[" * (size // 16)


def test_tagging_time_grows_no_faster_than_the_utterance(tagger):
    first = within(60, tagger.tag_texts, [utterance(8 * KB)])
    assert first is not None and first[0] == "read", first
    allowed = max(first[1], 0.1) * 16 * 4
    second = within(allowed + 5, tagger.tag_texts, [utterance(128 * KB)])
    assert second is not None, f"tagging a 128 KB utterance took more than {allowed:.1f} s (8 KB: {first[1]:.2f} s)"
    assert second[0] == "read", second


def test_an_utterance_longer_than_spacy_takes_at_once_is_tagged_as_if_whole(tagger):
    text = "I guess he was angry, maybe. She's just selfish; I felt so hurt and lonely. " * 40
    expected = tagger.tag_texts([text])
    limit, tagger.nlp.max_length = tagger.nlp.max_length, 500
    try:
        cut = tagger.tag_texts([text])
    finally:
        tagger.nlp.max_length = limit
    assert cut.equals(expected)

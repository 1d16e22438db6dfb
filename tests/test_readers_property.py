"""Whatever bytes arrive, every reader returns sessions or raises TranscriptError, and leaves the file alone."""

import io
import json

import openpyxl
import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentalize_nlp import TranscriptError
from mentalize_nlp.transcripts import READERS, Session, read_transcript
from test_readers import CHAT, SRT, TURNS, VTT

SUFFIXES = sorted(READERS)


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["speaker", "text"])
    for row in TURNS:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _docx() -> bytes:
    document = Document()
    for speaker, text in TURNS:
        document.add_paragraph(f"{speaker}: {text}")
    table = document.add_table(rows=0, cols=2)
    for speaker, text in TURNS:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = speaker, text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


VALID = {
    ".txt": "\n".join(f"{s}: {t}" for s, t in TURNS).encode(),
    ".csv": ("speaker,text\n" + "\n".join(f'{s},"{t}"' for s, t in TURNS)).encode(),
    ".tsv": ("speaker\ttext\n" + "\n".join(f"{s}\t{t}" for s, t in TURNS)).encode(),
    ".xlsx": _xlsx(),
    ".vtt": VTT.encode(),
    ".srt": SRT.encode(),
    ".docx": _docx(),
    ".json": json.dumps({"segments": [{"speaker": s, "text": t, "start": i, "end": i + 0.5} for i, (s, t) in enumerate(TURNS)]}).encode(),
    ".cha": CHAT.encode(),
}
assert set(VALID) == set(READERS), "a new reader needs a valid sample here"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["segments", "speaker", "text", "start", "end", "x"]) | st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@st.composite
def junk(draw, suffix):
    """Bytes a reader might meet: noise, a valid file cut short or mangled, or (for .json) any JSON."""
    valid = VALID[suffix]
    kind = draw(st.sampled_from(["bytes", "text", "truncated", "mutated", "json"]))
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=300))
    if kind == "text":
        return draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=300)).encode("utf-8")
    if kind == "truncated":
        return valid[: draw(st.integers(1, len(valid) - 1))]
    if kind == "mutated":
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    return json.dumps(draw(json_values)).encode()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("junk")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_valid_samples_read(folder, suffix):
    path = folder / f"valid{suffix}"
    path.write_bytes(VALID[suffix])
    (session,) = read_transcript(path)
    assert len(session) >= 5


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_junk_reads_or_fails_with_a_transcript_error_and_is_never_modified(folder, suffix, data):
    reads_or_names_the_file(folder / f"junk{suffix}", data.draw(junk(suffix)))


def reads_or_names_the_file(path, content):
    """Write ``content`` to ``path``: it reads as sessions of text, or fails with a
    TranscriptError naming the file; either way the file is left as it was."""
    path.write_bytes(content)
    try:
        sessions = read_transcript(path)
    except TranscriptError as error:
        assert str(path) in str(error)
    else:
        assert sessions and all(isinstance(s, Session) for s in sessions)
        for session in sessions:
            assert all(isinstance(u.text, str) and isinstance(u.speaker, str) for u in session.utterances)
    assert path.read_bytes() == content


KB = 1024

file_names = st.text(
    st.characters(categories=("Nd", "No", "Lu", "Ll", "Lo", "Zs"), exclude_characters="/"), min_size=1, max_size=120
).filter(lambda name: name == name.strip() and not name.startswith(".") and len(name.encode("utf-8")) <= 240)
"""File names as people write them: letters of any script, digits that are not ASCII (``²``,
``٣``), spaces, and names up to 240 bytes long (a file name has at most 255)."""


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=file_names)
def test_any_file_name_reads_as_the_session_name(tmp_path_factory, suffix, name):
    path = tmp_path_factory.mktemp("names") / f"{name}{suffix}"
    path.write_bytes(VALID[suffix])
    (session,) = read_transcript(path)
    assert session.name == name and session.source == str(path)
    path.write_bytes(VALID[suffix][: len(VALID[suffix]) // 3])
    try:
        read_transcript(path)
    except TranscriptError as error:
        assert str(error).startswith(f"{path}")


@st.composite
def sized_junk(draw, suffix):
    """Junk of any size up to 256 KB: a piece of junk repeated, alone or inside a valid file."""
    piece = draw(junk(suffix))
    times = min(2 ** draw(st.integers(0, 18)), max(1, 256 * KB // len(piece)))
    if draw(st.booleans()):
        return piece * times
    valid = VALID[suffix]
    cut = draw(st.integers(0, len(valid)))
    return valid[:cut] + piece * times + valid[cut:]


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_junk_of_any_size_reads_or_fails_with_a_transcript_error(folder, suffix, data):
    reads_or_names_the_file(folder / f"sized{suffix}", data.draw(sized_junk(suffix)))

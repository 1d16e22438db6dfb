"""Word documents (``.docx``): speaker-prefixed paragraphs, or a table of turns.

Paragraphs are read like the lines of a ``.txt`` transcript (``T: text``; a paragraph
without a prefix continues the turn before it). A table is read one row per turn, speaker
in the first column and text in the second, under an optional header row such as
"Speaker | Text"; with a header, columns are found by name, so "Time | Speaker | Text"
works too, and a header naming start/end or time columns fills ``start``/``end``. When a
document has both, whichever holds more turns is the transcript: paragraphs before a
transcript table are its header, and turns typed as paragraphs after it are read as turns
too; turns left unread either way are named in the session's warnings.

Tracked changes are read as the document would print once they are accepted: insertions
(``w:ins``, ``w:moveTo``) are part of the text, deletions (``w:del``, ``w:moveFrom``) are
not. ``paragraph.text`` in python-docx misses runs inside ``w:ins``, so runs are read from
the XML here. ``Utterance.line`` is the paragraph number, or the table row number.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TranscriptError
from .archive import check_archive
from .decode import MAX_BYTES, read_bytes
from .session import Session, Utterance
from .roles import RoleMap
from .tabular import Columns
from .txt import joined, numbered, split_turns

if TYPE_CHECKING:  # python-docx and lxml are imported on the first Word file, not with every reader
    from lxml import etree


def qn(tag: str) -> str:
    """A ``w:`` tag in lxml's ``{namespace}name`` form, as ``docx.oxml.ns.qn`` spells it."""
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag.removeprefix("w:")


_P, _R, _TBL, _TR, _TC = qn("w:p"), qn("w:r"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_TCPR, _GRIDSPAN = qn("w:tcPr"), qn("w:gridSpan")
_DELETED = frozenset({qn("w:del"), qn("w:moveFrom")})
_CONTAINERS = frozenset({qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")})
_T, _BR = qn("w:t"), qn("w:br")
_RUN_MARKS = {qn("w:tab"): "\t", qn("w:ptab"): "\t", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-"}

_SPEAKER_HEADS = frozenset({"speaker", "speakers", "name", "who", "person", "role", "interlocutor", "participant", "speaker name"})
_TEXT_HEADS = frozenset({"text", "utterance", "utterances", "transcript", "transcription", "content", "words", "speech", "dialogue",
                         "what was said", "comment", "comments", "message", "said"})
_START_HEADS = frozenset({"start", "time", "timestamp", "start time", "begin", "time code", "timecode"})
_END_HEADS = frozenset({"end", "end time", "stop"})


def _run_text(run: etree._Element) -> str:
    parts = []
    for child in run:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag in _RUN_MARKS:
            parts.append(_RUN_MARKS[child.tag])
        elif child.tag == _BR and child.get(qn("w:type"), "textWrapping") == "textWrapping":
            parts.append("\n")
    return "".join(parts)


def paragraph_text(p: etree._Element) -> str:
    """A paragraph's text with tracked insertions in and deletions out, text boxes left aside."""
    parts = []
    for run in p.iter(_R):
        node = run.getparent()
        while node is not None and node is not p and node.tag not in _DELETED and node.tag != _P:
            node = node.getparent()
        if node is p:
            parts.append(_run_text(run))
    return "".join(parts)


def _blocks(parent: etree._Element) -> Iterator[etree._Element]:
    """Body paragraphs and tables in document order, looking inside content controls."""
    for child in parent:
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag in _CONTAINERS:
            yield from _blocks(child)


def _cells(row: etree._Element) -> list[str]:
    """A row's cell texts, one per grid column (a merged cell repeats), so columns line up."""
    texts = []
    for cell in row.iter(_TC):
        if _nearest(cell, _TR) is not row:
            continue
        text = " ".join(paragraph_text(p) for p in cell.iter(_P) if _nearest(p, _TC) is cell).strip()
        span = cell.find(f"{_TCPR}/{_GRIDSPAN}")
        texts.extend([text] * _span(span.get(qn("w:val"), "1") if span is not None else "1"))
    return texts


def _span(value: str) -> int:
    """How many grid columns a cell's ``w:gridSpan`` covers, 1 to 64: a value that is not a
    whole number ("²", "2.5") counts as 1, and the number is read only as far as 64."""
    if not value.isdecimal():
        return 1
    value = value.lstrip("0")
    count = int(value) if 0 < len(value) <= 4 else (64 if value else 0)
    return min(count, 64) if count > 0 else 1


def _nearest(node: etree._Element, tag: str) -> etree._Element | None:
    """The closest enclosing element with ``tag``."""
    node = node.getparent()
    while node is not None and node.tag != tag:
        node = node.getparent()
    return node


def _head(cell: str) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", cell.lower()).split())


def _table_turns(table: etree._Element) -> list[Utterance]:
    """Turns from a table with a speaker/text header, or with exactly two columns; else none."""
    rows = [_cells(row) for row in table.iter(_TR) if _nearest(row, _TBL) is table]
    if not rows:
        return []
    heads = [_head(c) for c in rows[0]]
    speaker = next((i for i, h in enumerate(heads) if h in _SPEAKER_HEADS), None)
    text = next((i for i, h in enumerate(heads) if h in _TEXT_HEADS), None)
    start = next((i for i, h in enumerate(heads) if h in _START_HEADS), None)
    end = next((i for i, h in enumerate(heads) if h in _END_HEADS), None)
    if speaker is not None and text is not None:
        body = list(enumerate(rows[1:], start=2))
    elif all(len(r) == 2 for r in rows):
        speaker, text, start, end = 0, 1, None, None
        body = list(enumerate(rows, start=1))
    else:
        return []
    utterances: list[Utterance] = []
    texts: list[list[str]] = []
    for number, cells in body:
        who, words = _at(cells, speaker).rstrip(":").strip(), _at(cells, text)
        if not who and utterances:
            texts[-1].append(words)
        elif who or words:
            utterances.append(Utterance(turn=len(utterances), speaker=who or "UNKNOWN", text="",
                                        start=_at(cells, start) or None, end=_at(cells, end) or None, line=number))
            texts.append([words])
    for utterance, parts in zip(utterances, texts):
        utterance.text = joined(parts)
    return utterances


def _at(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def read_docx(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a Word transcript into one session named after the file (``encoding`` is ignored: Word stores Unicode)."""
    data = read_bytes(path, max_bytes)
    check_archive(data, path, max_bytes)
    import docx

    try:
        body = docx.Document(io.BytesIO(data)).element.body
    # python-docx, zipfile and lxml raise many exception types for a damaged or foreign file; all mean the same.
    except Exception as exc:
        hint = " (an old .doc file must be saved as .docx first)" if data[:4] == b"\xd0\xcf\x11\xe0" else ""
        raise TranscriptError(
            path,
            f"is not a readable Word document{hint} ({type(exc).__name__}: {str(exc)[:120]}); open it in Word and save it as .docx again.",
        ) from exc
    if body is None:
        raise TranscriptError(path, "is a Word file with no document body (no text at all); open it in Word and save it as .docx again.")
    paragraphs: list[tuple[int, str]] = []
    tables: list[Utterance] = []
    before_table: list[str] = []
    after_tables = 0  # paragraphs before the end of the last table that holds turns
    for block in _blocks(body):
        if block.tag == _P:
            paragraphs.append((len(paragraphs) + 1, paragraph_text(block)))
        else:
            turns = _table_turns(block)
            if turns and not tables:
                before_table = [text.strip() for _, text in paragraphs if text.strip()]
            if turns:
                after_tables = len(paragraphs)
            tables.extend(turns)
    header, prose = split_turns(((number, line) for number, text in paragraphs for line in text.split("\n")), roles.known if roles else None)
    warnings: list[str] = []
    if tables and len(tables) >= len(prose):
        # turns typed as paragraphs after the table (the session went on after a break) are turns too
        utterances, header = tables + [u for u in prose if (u.line or 0) > after_tables], before_table
        left = len(prose) - (len(utterances) - len(tables))
    else:
        utterances, left = prose, len(tables)
    if tables and prose and left:
        where = "in a table" if utterances is prose else "as paragraphs before the table"
        warnings.append(f"{left} more turn{'s' if left > 1 else ''} {where} {'were' if left > 1 else 'was'} not read as turns: "
                        "a document's turns are read from its table or from its paragraphs; put them all in one.")
    if not any(u.speaker != "UNKNOWN" for u in utterances):
        raise TranscriptError(
            path,
            "no speaker found: no paragraph starts with a prefix such as 'T:' or 'Client:', and no table has "
            "speaker and text columns; start each turn's paragraph with 'SPEAKER: text', or put the turns in a "
            "two-column table (speaker | text).",
        )
    return [Session(name=path.stem, utterances=numbered(utterances), source=str(path), header=header, warnings=warnings)]

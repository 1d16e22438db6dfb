"""Plain-text transcripts: ``SPEAKER: text`` lines, optionally time-stamped.

Accepted prefixes include ``T:``, ``Therapist:``, ``DR SMITH:``, ``Dr. Smith:``,
``Client 2:``, ``[00:01:02] C:``, ``00:01:02 C:`` and ``C [00:01:02]:``. A line without a
prefix continues the previous turn. Text before the first speaker is kept as a turn of
speaker ``UNKNOWN`` so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import TranscriptError
from .decode import MAX_BYTES, read_text
from .session import Session, Utterance
from .tabular import Columns

_TIME = r"\[?\(?(?P<{name}>\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:[.,]\d+)?)\)?\]?"
_SPEAKER = r"(?P<speaker>[A-Z][\w.'’-]*(?:[ ][A-Z0-9][\w.'’-]*){0,3}|[a-z][\w.'-]{0,14}|[A-Z0-9][\w.'’-]*(?:[ ][\w.'’-]+){0,2})"
_LINE = re.compile(
    rf"^\s*(?:{_TIME.format(name='t1')}\s*[-–]?\s*)?{_SPEAKER}\s*(?:{_TIME.format(name='t2')})?\s*:\s?(?P<text>.*)$"
)
_NOT_SPEAKERS = frozenset({"http", "https", "note", "notes", "ps", "re", "subject", "date", "time", "session", "so", "and", "but", "like", "then"})


def parse_line(line: str) -> tuple[str, str, str | None] | None:
    """``(speaker, text, start)`` if the line opens a turn, else ``None``."""
    match = _LINE.match(line)
    if not match:
        return None
    speaker = match.group("speaker").strip()
    if speaker.lower().rstrip(".") in _NOT_SPEAKERS or len(speaker) > 40:
        return None
    return speaker, match.group("text").strip(), match.group("t1") or match.group("t2")


def parse_lines(lines: Iterable[tuple[int, str]]) -> list[Utterance]:
    """Turns from numbered lines: a speaker prefix opens a turn, any other line continues it.

    Text before the first prefix becomes a turn of speaker ``UNKNOWN`` so nothing is lost.
    Used for ``.txt`` files and for the paragraphs of ``.docx`` files.
    """
    utterances: list[Utterance] = []
    for number, raw in lines:
        line = raw.strip()
        if not line:
            continue
        parsed = parse_line(line)
        if parsed is not None:
            speaker, words, start = parsed
            utterances.append(Utterance(turn=len(utterances), speaker=speaker, text=words, start=start, line=number))
        elif utterances:
            previous = utterances[-1]
            previous.text = f"{previous.text} {line}".strip()
        else:
            utterances.append(Utterance(turn=0, speaker="UNKNOWN", text=line, line=number))
    return utterances


def numbered(utterances: list[Utterance]) -> list[Utterance]:
    """The turns that hold text, numbered 0.. again so ``turn`` stays the position in the session."""
    kept = [u for u in utterances if u.text.strip()]
    for index, utterance in enumerate(kept):
        utterance.turn = index
    return kept


def read_txt(path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES) -> list[Session]:
    """Read a speaker-prefixed text transcript into one session named after the file."""
    text = read_text(path, max_bytes)
    utterances = parse_lines(enumerate(text.split("\n"), start=1))
    if not any(u.speaker != "UNKNOWN" for u in utterances):
        raise TranscriptError(
            path,
            "no line starts with a speaker prefix such as 'T:' or 'Client:'; "
            "put each turn on its own line as 'SPEAKER: text'.",
            line=1,
        )
    return [Session(name=path.stem, utterances=numbered(utterances), source=str(path))]

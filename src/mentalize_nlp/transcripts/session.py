"""What every reader produces: a session of utterances, in order."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_SQUARE = re.compile(r"\[[^\]]*\]")
_ROUND = re.compile(r"\(\s*[A-Za-z][A-Za-z '-]{0,30}\)")
_NON_SPEECH_WORDS = 3


def sub_closed(pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str], text: str, close: str) -> str:
    """``pattern.sub(repl, text)`` for a pattern whose every match ends in ``close``, tried
    only up to the last ``close`` in the text.

    Past it nothing can match, yet a pattern for a bracketed note, tried from each of a long
    run of unclosed ``[``, would scan the rest of the text again for each one; cut there,
    the time stays linear in the text.
    """
    last = text.rfind(close)
    return pattern.sub(repl, text[: last + 1]) + text[last + 1 :] if last >= 0 else text


def _drop_round(match: re.Match[str]) -> str:
    inner = match.group(0)[1:-1].strip()
    return " " if len(inner.split()) <= _NON_SPEECH_WORDS and inner == inner.lower() else match.group(0)


def speech_text(text: str) -> str:
    """The words spoken: bracketed non-speech such as ``[inaudible]`` or ``(laughs)`` removed.

    Square brackets are always transcriber notes; round brackets are removed only when
    they hold a short lowercase note, so a spoken aside "(and I mean it)" stays.
    """
    text = sub_closed(_SQUARE, " ", text, "]")
    text = _ROUND.sub(_drop_round, text)
    return " ".join(text.split())


def speech_mask(text: str) -> str:
    """Like :func:`speech_text`, but the notes are blanked to spaces instead of removed, so
    that every character keeps its offset (evidence offsets then point into ``text``)."""

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0))

    def blank_round(match: re.Match[str]) -> str:
        kept = _drop_round(match)
        return match.group(0) if kept == match.group(0) else blank(match)

    return _ROUND.sub(blank_round, sub_closed(_SQUARE, blank, text, "]"))


def seconds(value: object) -> float:
    """A time as seconds: a number, or ``[HH:]MM:SS[.fff]`` (``,`` as in SRT too); NaN when
    absent or unreadable, so every output format carries numbers or nulls."""
    if value is None or value == "":
        return float("nan")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an int past the largest float
            return float("nan")
    text = str(value).strip().replace(",", ".")
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        return float("nan")
    total = 0.0
    for part in parts:
        total = total * 60 + part
    return round(total, 3) if len(parts) <= 3 else float("nan")


@dataclass
class Utterance:
    """One speaker's turn. ``text`` is as transcribed, notes included; ``line`` is where it began."""

    turn: int | str
    speaker: str
    text: str
    role: str | None = None
    start: str | None = None
    end: str | None = None
    line: int | None = None

    @property
    def speech(self) -> str:
        """The text the classifier reads (see :func:`speech_text`)."""
        return speech_text(self.text)


@dataclass
class Session:
    """A transcript's turns, in order. ``name`` is the file stem or the ``session`` column.

    ``encoding`` is the text encoding the file was read with (``""`` for ``.docx`` and
    ``.xlsx``, which store Unicode themselves); ``header`` holds the lines before the first
    turn of a ``.txt`` or ``.docx`` transcript (titles, dates, participant lists), which are
    not turns; ``warnings`` says what a reader should check, such as speakers left without a
    role, with the option that fixes it.
    """

    name: str
    utterances: list[Utterance] = field(default_factory=list)
    source: str = ""
    encoding: str = ""
    header: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.utterances)

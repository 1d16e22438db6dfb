"""Turns from timed cues, shared by the subtitle and speech-recognition readers.

Captions (``.vtt``, ``.srt``) and recogniser output (whisper ``.json``) cut speech into
short timed pieces. A piece names its speaker with a WebVTT voice tag (``<v Anna>``), a
``Name:`` prefix as in ``.txt`` files, or a field of its own; a piece that names no one
continues the turn of whoever spoke last. Consecutive pieces of one speaker are one turn,
from the first piece's start to the last one's end.

A ``Name:`` prefix on a later line of a cue ("Quote: ...", "Note: ...") is a speaker only
if the name is used for more than one piece in the file or names a role; otherwise the
line stays in the turn's text, prefix included.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import TranscriptError
from .roles import UNKNOWN, RoleMap, infer_role
from .session import Session, Utterance
from .txt import joined, numbered, parse_line

__all__ = ["UNKNOWN", "Cue", "Piece", "clock", "cue_session", "merge_cues", "plain", "split_speakers"]

_VOICE = re.compile(r"<v(?:\.[^\s<>]*)?(?:[ \t]+([^>]*))?>")
"""A voice tag; its classes (``<v.loud``) stop at a ``<``, so no tag is looked for twice."""
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>|\{\\[^{}]*\}")


@dataclass
class Cue:
    """A timed piece of speech; ``speaker`` is ``None`` when the piece names no one."""

    text: str
    speaker: str | None = None
    start: str | None = None
    end: str | None = None
    line: int | None = None
    mid: bool = False
    """The speaker comes from a ``Name:`` prefix on a later line of the cue, not its first."""


class Piece(NamedTuple):
    """Part of a cue's text, its speaker (``None``: whoever spoke last), and whether that
    speaker was a ``Name:`` prefix on a later line of the cue."""

    speaker: str | None
    text: str
    mid: bool = False


def clock(milliseconds: float) -> str:
    """``HH:MM:SS.mmm`` for a time in milliseconds (hours grow past 99 if they must)."""
    total = max(0, round(milliseconds))
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def plain(text: str) -> str:
    """Cue text without markup: formatting tags dropped, ``&amp;`` and friends decoded."""
    return html.unescape(_TAG.sub("", text))


def split_speakers(text: str, *, voices: bool = False) -> list[Piece]:
    """``(speaker or None, text)`` pieces of one cue's text, in order.

    With ``voices``, ``<v Name>`` tags name the speaker of what follows them. Lines that
    no voice tag covers are read like ``.txt`` lines: a ``Name:`` prefix opens a piece of
    that speaker, any other line continues the piece before it.
    """
    spans: list[tuple[str | None, str]] = []
    if voices:
        position, speaker = 0, None
        # A tag is looked for only up to the last ">", past which none can end (see sub_closed).
        for match in _VOICE.finditer(text, 0, text.rfind(">") + 1):
            spans.append((speaker, text[position : match.start()]))
            speaker = " ".join((match.group(1) or "").split()) or None
            position = match.end()
        spans.append((speaker, text[position:]))
    else:
        spans.append((None, text))
    pieces: list[tuple[str | None, list[str], bool]] = []  # speaker, lines of text, mid-cue prefix
    for speaker, span in spans:
        if speaker is not None:
            pieces.append((speaker, [" ".join(plain(span).split())], False))
            continue
        for raw in plain(span).split("\n"):
            line = raw.strip()
            if not line:
                continue
            parsed = parse_line(line)
            if parsed is not None:
                pieces.append((parsed[0], [parsed[1]], bool(pieces)))
            elif pieces:
                pieces[-1][1].append(line)
            else:
                pieces.append((None, [line], False))
    return [Piece(speaker, joined(lines), mid) for speaker, lines, mid in pieces]


def _unprefix(cues: list[Cue], roles: RoleMap | None) -> list[Cue]:
    """Cues whose mid-cue ``Name:`` prefix is not a speaker of the file given back to the turn they are in."""
    known = roles.known if roles else (lambda name: infer_role(name) != "other")
    counts = Counter(" ".join(c.speaker.lower().split()) for c in cues if c.speaker)
    folded = []
    for cue in cues:
        if cue.mid and cue.speaker and counts[" ".join(cue.speaker.lower().split())] == 1 and not known(cue.speaker):
            cue = Cue(text=f"{cue.speaker}: {cue.text}", speaker=None, start=cue.start, end=cue.end, line=cue.line)
        folded.append(cue)
    speakers = {c.speaker for c in folded if c.speaker}
    return folded if len(speakers) >= 2 or len(speakers) == len({c.speaker for c in cues if c.speaker}) else cues


def merge_cues(cues: Iterable[Cue]) -> list[Utterance]:
    """One turn per run of consecutive cues of the same speaker, numbered 0.. in order.

    A cue with no speaker continues the turn before it, or opens a turn of ``UNKNOWN``
    when nobody has been named yet. A named cue with no text still changes the speaker,
    so unnamed cues after it are not given to the previous one.
    """
    utterances: list[Utterance] = []
    texts: list[list[str]] = []
    for cue in cues:
        text = " ".join(cue.text.split())
        speaker = cue.speaker if cue.speaker is not None else (utterances[-1].speaker if utterances else UNKNOWN)
        if utterances and utterances[-1].speaker == speaker:
            previous = utterances[-1]
            texts[-1].append(text)
            previous.end = cue.end or previous.end
            previous.start = previous.start or cue.start
        else:
            utterances.append(Utterance(turn=len(utterances), speaker=speaker, text="", start=cue.start, end=cue.end, line=cue.line))
            texts.append([text])
    for utterance, parts in zip(utterances, texts):
        utterance.text = joined(parts)
    return numbered(utterances)


def cue_session(path: Path, cues: Iterable[Cue], fix: str, *, encoding: str = "", roles: RoleMap | None = None) -> list[Session]:
    """The file's one session from its cues, refusing a file in which no one is named.

    Args:
        path: The transcript, for the session name and errors.
        cues: The cues in file order.
        fix: How to name the speakers in this format, for the error message.
        encoding: The encoding the file was read with, recorded on the session.
        roles: The caller's role overrides: names in them are speakers wherever they appear.
    """
    utterances = merge_cues(_unprefix(list(cues), roles))
    if not utterances:
        raise TranscriptError(path, "holds no speech to read; export the transcript again.")
    if all(u.speaker == UNKNOWN for u in utterances):
        raise TranscriptError(path, f"no speaker is named anywhere, so turns cannot be told apart; {fix}")
    return [Session(name=path.stem, utterances=utterances, source=str(path), encoding=encoding)]

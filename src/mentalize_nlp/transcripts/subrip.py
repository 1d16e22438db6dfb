"""SubRip subtitles (``.srt``).

Speakers come from ``Name:`` prefixes at the start of a subtitle's lines; a subtitle that
names no speaker continues the turn before it, and consecutive subtitles of one speaker are
one turn, timed from the first one's start to the last one's end. Formatting tags such as
``<i>`` are dropped. ``Utterance.line`` is the line where the turn's first subtitle begins.

A subtitle is an optional number line, a times line (``00:01:02,500 --> 00:01:05,000``)
and its text, up to a blank line. The file is read line by line, accepting what the
``srt`` library accepts: any of ``,.:`` between the parts of a time, milliseconds left
out, ``- >`` for the arrow, no number, no blank line before a numbered subtitle, and a
blank line inside a subtitle's text when what follows it does not start a subtitle.
(The ``srt`` library's own parser, one pattern over the whole file, takes minutes on a
few kilobytes of digits where a time should be: a damaged file must not stall a batch.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from ..errors import TranscriptError
from .captions import Cue, clock, cue_session, split_speakers
from .decode import MAX_BYTES, read_decoded
from .roles import RoleMap
from .session import Session
from .tabular import Columns

_FIX = "start each subtitle with its speaker as 'Name: text', or export the transcript with speaker names."
_SEP = "[,.:，．。：]"
_TIME = rf"([0-9]++){_SEP}([0-9]++){_SEP}([0-9]++){_SEP}?+([0-9]*+)"
"""Hours, minutes, seconds and milliseconds. Quantifiers are possessive: a run of digits is
taken whole, never shared out again, so a line of digits costs one pass."""
_TIMES = re.compile(rf"{_TIME} *+-[ -] *+> *+{_TIME}")
_STARTS_WITH_TIME = re.compile(rf"[0-9]++{_SEP}[0-9]++{_SEP}[0-9]")
_NUMBER = re.compile(r"-?[0-9]++\.?[0-9]*+")


class _Subtitle(NamedTuple):
    """One subtitle: the line it starts on, its times as ``HH:MM:SS.mmm``, and its text."""

    line: int
    start: str
    end: str
    text: str


def _milliseconds(hours: str, minutes: str, seconds: str, millis: str | None) -> int:
    if max(len(hours), len(minutes), len(seconds), len(millis or "")) > 9:
        raise ValueError("a part of the time has more than 9 digits")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis or 0)


def _subtitles(text: str, path: Path) -> Iterator[_Subtitle]:
    """The subtitles, where the ``srt`` library finds them (see its ``SRT_REGEX``), found in
    one pass over the lines."""
    lines = text.split("\n")
    count = len(lines)
    # The first line at or after each line that is not blank, so looking past a run of blank
    # lines costs nothing however long the run.
    filled = [count] * (count + 1)
    for i in range(count - 1, -1, -1):
        filled[i] = i if lines[i].strip() else filled[i + 1]

    def end(i: int) -> bool:  # the end of the text is at the start of line i
        return i >= count or (i == count - 1 and not lines[i])

    def blank(i: int) -> bool:  # a line break is at the start of line i
        return i < count - 1 and not lines[i]

    def time(i: int) -> bool:  # line i starts with a time
        return i < count and bool(_STARTS_WITH_TIME.match(lines[i]))

    def numbered(i: int) -> bool:  # line i is a number, and the next line with text starts with a time
        return i < count and bool(_NUMBER.fullmatch(lines[i].rstrip())) and time(filled[i + 1])

    def opens(i: int) -> bool:  # a subtitle can start at line i
        return time(i) or numbered(i) or end(i)

    i = filled[0]
    while i < count:
        first = i
        if _NUMBER.fullmatch(lines[i].strip()) and i + 1 < count:
            i = filled[i + 1]
        times = _TIMES.match(lines[i].strip()) if i < count else None
        if times is None:
            found = " / ".join(line.strip() for line in lines[first : first + 3] if line.strip())
            raise TranscriptError(
                path,
                "is not well-formed SubRip: expected a subtitle (a number, then times such as "
                f"'00:01:02,500 --> 00:01:05,000', then its text), found {found[:80]!r}; "
                "fix that block, or export the subtitles again if the file was cut short.",
                line=first + 1,
            )
        try:
            start, stop = clock(_milliseconds(*times.groups()[:4])), clock(_milliseconds(*times.groups()[4:]))
        except ValueError as exc:
            raise TranscriptError(path, f"has a subtitle time that cannot be read ({exc}); fix the times.", line=i + 1) from exc
        body = i = i + 1
        # The text is empty when a blank line follows the times and then a blank line and a
        # subtitle, or a numbered subtitle; otherwise it runs to the first line break that is
        # followed by a blank line and a subtitle, or by a numbered subtitle, or to the end.
        if not (end(body) or blank(body) and (blank(body + 1) and opens(body + 2) or end(body + 1) or numbered(body + 1))):
            i = body + 1
            while not (end(i) or blank(i) and opens(i + 1) or numbered(i)):
                # Within a run of blank lines only the last can end the text: go there at once.
                i = max(i + 1, filled[i] - 1 if filled[i] < count else count - 2) if blank(i) else i + 1
        yield _Subtitle(first + 1, start, stop, "\n".join(lines[body:i]))
        i = filled[i] if i < count else count


def read_srt(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a SubRip file into one session named after the file."""
    text, used = read_decoded(path, max_bytes, encoding)
    cues = [
        Cue(text=piece.text, speaker=piece.speaker, start=subtitle.start, end=subtitle.end, line=subtitle.line, mid=piece.mid)
        for subtitle in _subtitles(text, path)
        for piece in split_speakers(subtitle.text)
    ]
    return cue_session(path, cues, _FIX, encoding=used, roles=roles)

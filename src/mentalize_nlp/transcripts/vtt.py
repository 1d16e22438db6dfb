"""WebVTT transcripts (``.vtt``), as Zoom, Teams and most recorders export them.

Speakers come from voice tags (``<v Anna Smith>I see.</v>``, as Teams writes them) or from
``Name:`` prefixes at the start of a cue's lines (as Zoom writes them). Consecutive cues of
one speaker are one turn, timed from the first cue's start to the last cue's end; a cue
that names no speaker continues the turn before it, and so does text after a blank line
inside a cue. ``Utterance.line`` is the line of the turn's first cue timings.
"""

from __future__ import annotations

import re
from pathlib import Path

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Timestamp
from webvtt.vtt import WebVTTCueBlock

from ..errors import TranscriptError
from .captions import Cue, cue_session, split_speakers
from .decode import MAX_BYTES, read_decoded
from .roles import RoleMap
from .session import Session
from .tabular import Columns

_FIX = "mark each cue's speaker with a voice tag ('<v Anna>I see.') or a 'Name:' prefix, or export the transcript with speaker names."


def _timing_lines(text: str, path: Path) -> list[int]:
    """Line numbers of the cue timings, refusing a timings line the parser would drop silently."""
    lines = []
    for number, line in enumerate(text.split("\n"), start=1):
        if "-->" not in line:
            continue
        match = WebVTTCueBlock.CUE_TIMINGS_PATTERN.match(line)
        try:
            if match is None:
                raise MalformedCaptionError(line)
            Timestamp.from_string(match.group(1))
            Timestamp.from_string(match.group(2))
        except MalformedCaptionError as exc:
            raise TranscriptError(
                path,
                f"expected cue timings such as '00:01:02.500 --> 00:01:05.000', found {line.strip()[:80]!r}; "
                "fix the times on that line (minutes and seconds run to 59), or export the captions again if the file was cut short.",
                line=number,
            ) from exc
        lines.append(number)
    return lines


_GAP = re.compile(r"\n(?:[ \t]*\n)+(?=([^\n]*)(?:\n([^\n]*))?)")
"""One or more blank lines, looking ahead at the two lines after them."""


def _join_stray_text(text: str) -> str:
    """``text`` with each block after the first cue that is neither a cue nor a ``NOTE``,
    ``STYLE`` or ``REGION`` block joined to the cue before it: text after a blank line inside
    a cue, which the parser would drop without a word. Only blank lines are removed, so the
    timings keep their line numbers in the original text."""
    first_cue = text.find("-->")
    if first_cue < 0:
        return text

    def join(match: re.Match[str]) -> str:
        first, second = match.group(1), match.group(2) or ""
        stray = (match.start() > first_cue and first.strip() and "-->" not in first and "-->" not in second
                 and not first.lstrip().startswith(("NOTE", "STYLE", "REGION")))
        return "\n" if stray else match.group(0)

    return _GAP.sub(join, text)


def read_vtt(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a WebVTT file into one session named after the file."""
    text, used = read_decoded(path, max_bytes, encoding)
    try:
        captions = webvtt.from_string(_join_stray_text(text)).captions
    except MalformedFileError as exc:
        first = text.split("\n", 1)[0].strip()[:60]
        raise TranscriptError(
            path,
            f"is not a WebVTT file: the first line should be 'WEBVTT', found {first!r}; "
            "export the captions as WebVTT again, or rename the file if it is another format.",
            line=1,
        ) from exc
    except MalformedCaptionError as exc:
        _timing_lines(text, path)  # names the line where it can
        raise TranscriptError(path, f"has a malformed cue ({exc}); fix or delete that cue.") from exc
    # The parser skips a cue whose timings it cannot read; refuse instead, naming the line.
    timings = _timing_lines(text, path)
    lines: list[int | None] = list(timings) if len(timings) == len(captions) else [None] * len(captions)
    cues = [
        Cue(text=piece.text, speaker=piece.speaker, start=caption.start, end=caption.end, line=line, mid=piece.mid)
        for caption, line in zip(captions, lines)
        for piece in split_speakers(caption.raw_text, voices=True)
    ]
    return cue_session(path, cues, _FIX, encoding=used, roles=roles)

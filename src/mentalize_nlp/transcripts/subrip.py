"""SubRip subtitles (``.srt``).

Speakers come from ``Name:`` prefixes at the start of a subtitle's lines; a subtitle that
names no speaker continues the turn before it, and consecutive subtitles of one speaker are
one turn, timed from the first one's start to the last one's end. Formatting tags such as
``<i>`` are dropped. ``Utterance.line`` is the line where the turn's first subtitle begins.
"""

from __future__ import annotations

from pathlib import Path

import srt

from ..errors import TranscriptError
from .captions import Cue, clock, cue_session, split_speakers
from .decode import MAX_BYTES, read_decoded
from .roles import RoleMap
from .session import Session
from .tabular import Columns

_FIX = "start each subtitle with its speaker as 'Name: text', or export the transcript with speaker names."


def _line(text: str, offset: int) -> int:
    """The 1-based line holding a character offset, skipping the blank lines the parser jumps over."""
    while offset < len(text) and text[offset] in "\n\r\t ":
        offset += 1
    return text.count("\n", 0, offset) + 1


def read_srt(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a SubRip file into one session named after the file."""
    text, used = read_decoded(path, max_bytes, encoding)
    cues: list[Cue] = []
    # The parser does not say where a subtitle was; its own pattern, run again, does.
    lines = [_line(text, match.start()) for match in srt.SRT_REGEX.finditer(text)]
    try:
        for number, subtitle in enumerate(srt.parse(text)):
            start = clock(subtitle.start.total_seconds() * 1000)
            end = clock(subtitle.end.total_seconds() * 1000)
            line = lines[number] if number < len(lines) else None
            for piece in split_speakers(subtitle.content):
                cues.append(Cue(text=piece.text, speaker=piece.speaker, start=start, end=end, line=line, mid=piece.mid))
    except srt.SRTParseError as exc:
        raise TranscriptError(
            path,
            f"is not well-formed SubRip: expected a subtitle (a number, then times such as "
            f"'00:01:02,500 --> 00:01:05,000', then its text), found {exc.unmatched_content.strip()[:80]!r}; "
            "fix that block, or export the subtitles again if the file was cut short.",
            line=_line(text, exc.expected_start),
        ) from exc
    except (ValueError, OverflowError) as exc:
        raise TranscriptError(path, f"has a subtitle time that cannot be read ({exc}); fix the times.") from exc
    return cue_session(path, cues, _FIX, encoding=used, roles=roles)

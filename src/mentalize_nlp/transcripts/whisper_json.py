"""Speech-recogniser output (``.json``) in the shape whisper and whisperX write.

The file holds ``{"segments": [{"speaker": "SPEAKER_00", "text": " Hello.", "start": 0.0,
"end": 1.5}, ...]}`` (a bare list of segments is read too). ``start`` and ``end`` are seconds
and become ``HH:MM:SS.mmm``. Consecutive segments of one speaker are one turn.

whisperX leaves a segment without ``speaker`` when diarisation could not place it; such a
segment continues the turn before it (or opens a turn of ``UNKNOWN`` at the start), and a
``Name:`` prefix in its text is honoured as in ``.txt`` files. A file in which no segment
names a speaker (plain whisper, without diarisation) is refused, since turns cannot be told
apart; the message says how to diarise it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from ..errors import TranscriptError
from .captions import Cue, clock, cue_session, split_speakers
from .decode import MAX_BYTES, read_decoded
from .roles import RoleMap
from .session import Session
from .tabular import Columns

_FIX = (
    "the segments need a 'speaker' field: diarise the recording (whisperX: `whisperx audio.wav --diarize`), "
    "or add \"speaker\" to each segment."
)


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(type(value), "a number")


def _time(value: object, path: Path, where: str, field: str) -> str | None:
    """A segment time as ``HH:MM:SS.mmm``: seconds as a number, or a time already written as text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value < 1e9:
        return clock(value * 1000)
    raise TranscriptError(path, f"{where} has {field!r} {json.dumps(value)[:40]}; expected seconds as a number such as 12.5.")


def _cues(segments: list[Any], path: Path) -> list[Cue]:
    cues: list[Cue] = []
    for index, segment in enumerate(segments):
        where = f"segments[{index}]"
        if not isinstance(segment, dict):
            raise TranscriptError(path, f"{where} is {_kind(segment)}; expected an object with 'speaker' and 'text'.")
        text = segment.get("text")
        if text is None:  # a segment given as its words only: its text is theirs
            given = segment.get("words")
            words = [w for w in given if isinstance(w, dict)] if isinstance(given, list) else []
            text = " ".join(filter(None, (str(w.get("word", "")).strip() for w in words)))
            if segment.get("speaker") is None:  # whisperX puts the speaker on each word
                segment = {**segment, "speaker": next((w["speaker"] for w in words if w.get("speaker") is not None), None)}
        if not isinstance(text, str):
            raise TranscriptError(path, f"{where} has a 'text' that is {_kind(text)}; expected a string.")
        speaker = segment.get("speaker")
        if isinstance(speaker, bool) or not isinstance(speaker, (str, int, float, type(None))):
            raise TranscriptError(path, f"{where} has a 'speaker' that is {_kind(speaker)}; expected a name such as \"SPEAKER_00\".")
        start = _time(segment.get("start"), path, where, "start")
        end = _time(segment.get("end"), path, where, "end")
        name = " ".join(str(speaker).split()) if speaker is not None else ""
        if name:
            cues.append(Cue(text=text, speaker=name, start=start, end=end))
        else:
            cues.extend(Cue(text=piece.text, speaker=piece.speaker, start=start, end=end, mid=piece.mid) for piece in split_speakers(text))
    return cues


def read_whisper_json(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a whisper/whisperX ``.json`` transcript into one session named after the file."""
    text, used = read_decoded(path, max_bytes, encoding)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(
            path,
            f"is not valid JSON ({exc.msg} at column {exc.colno}); fix that line, or export the transcript again if the file was cut short.",
            line=exc.lineno,
        ) from exc
    except RecursionError as exc:
        raise TranscriptError(path, "is JSON nested too deeply to be a transcript; export the transcript again.") from exc
    except ValueError as exc:  # a whole number longer than Python reads (sys.get_int_max_str_digits())
        longest = max(re.finditer(r"[0-9]+", text), key=lambda m: m.end() - m.start(), default=None)
        size = f"{longest.end() - longest.start():,} digits long" if longest else "too long to read"
        raise TranscriptError(
            path,
            f"holds a number {size}, which no time or speaker can be; fix or remove it, or export the transcript again.",
            line=text.count("\n", 0, longest.start()) + 1 if longest else None,
        ) from exc
    segments = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(segments, list):
        if isinstance(data, dict) and "segments" in data:
            found = f"found 'segments' holding {_kind(segments)}"
        elif isinstance(data, dict):
            found = f"found the keys {', '.join(map(str, list(data)[:8]))}" if data else "found an empty object"
        else:
            found = f"found {_kind(data)}"
        raise TranscriptError(
            path,
            f"expected whisper/whisperX output, an object with a 'segments' list such as "
            f'{{"segments": [{{"speaker": "SPEAKER_00", "text": "Hello."}}]}}; {found}.',
        )
    return cue_session(path, _cues(segments, path), _FIX, encoding=used, roles=roles)

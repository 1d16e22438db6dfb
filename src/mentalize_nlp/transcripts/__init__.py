"""Reading transcripts into :class:`Session` objects, whatever the file format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import TranscriptError
from .chat import read_cha
from .decode import MAX_BYTES
from .roles import ROLES, RoleMap, infer_role
from .session import Session, Utterance, speech_mask, speech_text
from .spreadsheet import read_xlsx
from .subrip import read_srt
from .tabular import Columns, read_csv
from .txt import read_txt
from .vtt import read_vtt
from .whisper_json import read_whisper_json
from .word import read_docx

__all__ = [
    "Columns",
    "ROLES",
    "RoleMap",
    "Session",
    "Utterance",
    "find_inputs",
    "infer_role",
    "read_transcript",
    "speech_mask",
    "speech_text",
    "SUFFIXES",
]

READERS = {
    ".txt": read_txt,
    ".csv": read_csv,
    ".tsv": read_csv,
    ".xlsx": read_xlsx,
    ".vtt": read_vtt,
    ".srt": read_srt,
    ".docx": read_docx,
    ".json": read_whisper_json,
    ".cha": read_cha,
}
"""Reader per file extension; each is ``reader(path, *, columns, max_bytes) -> list[Session]``."""
SUFFIXES: tuple[str, ...] = tuple(READERS)


def find_inputs(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand folders recursively into transcript files (by extension), in a stable order.

    A folder yields the files whose extension has a reader in ``READERS`` (see ``SUFFIXES``:
    .txt, .csv, .tsv, .xlsx, .vtt, .srt, .docx, .json, .cha), leaving out hidden files and
    Word's ``~$`` lock files. A path given directly is yielded as it is, whatever its
    extension or whether it exists, so the caller reports any problem with the rest.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in READERS and not p.name.startswith((".", "~$")))
        else:
            yield path


def read_transcript(
    path: str | Path,
    *,
    columns: Columns = Columns(),
    roles: RoleMap | None = None,
    max_bytes: int = MAX_BYTES,
) -> list[Session]:
    """Read one transcript file into sessions (a table may hold several), with roles assigned.

    Raises:
        TranscriptError: naming the file, the line where it applies, and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise TranscriptError(path, "no such file; check the path.")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise TranscriptError(path, f"unknown transcript type {path.suffix!r}; expected one of {', '.join(SUFFIXES)}.")
    sessions = reader(path, columns=columns, max_bytes=max_bytes)
    roles = roles or RoleMap()
    for session in sessions:
        for utterance in session.utterances:
            utterance.role = roles.role(utterance.speaker, utterance.role)
    return sessions

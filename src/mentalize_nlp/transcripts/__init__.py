"""Reading transcripts into :class:`Session` objects, whatever the file format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import TranscriptError
from .decode import MAX_BYTES
from .roles import ROLES, RoleMap, infer_role
from .session import Session, Utterance, speech_text
from .tabular import Columns, read_csv
from .txt import read_txt

__all__ = [
    "Columns",
    "ROLES",
    "RoleMap",
    "Session",
    "Utterance",
    "find_inputs",
    "infer_role",
    "read_transcript",
    "speech_text",
    "SUFFIXES",
]

READERS = {".txt": read_txt, ".csv": read_csv, ".tsv": read_csv}
"""Reader per file extension; each is ``reader(path, *, columns, max_bytes) -> list[Session]``."""
SUFFIXES: tuple[str, ...] = tuple(READERS)


def find_inputs(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand folders recursively into transcript files (by extension), in a stable order.

    A path that does not exist is yielded as it is, so the caller reports it with the rest.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in READERS and not p.name.startswith("."))
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

"""Reading transcripts into :class:`Session` objects, whatever the file format."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator
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


def find_inputs(
    paths: Iterable[str | Path],
    *,
    exclude: Iterable[str | Path] = (),
    on_skip: Callable[[Path, str], None] | None = None,
    on_error: Callable[[Path, str], None] | None = None,
    marker: str | None = None,
) -> Iterator[Path]:
    """Expand folders recursively into transcript files (by extension), in a stable order.

    A folder yields the files whose extension has a reader in ``READERS`` (see ``SUFFIXES``:
    .txt, .csv, .tsv, .xlsx, .vtt, .srt, .docx, .json, .cha), sorted by path. A path given
    directly is yielded as it is, whatever its extension or whether it exists, so the caller
    reports any problem with it. Each file is yielded once, however often it is given or
    linked to.

    Args:
        paths: Files and folders.
        exclude: Folders never read, such as the output folder, when found inside a folder.
        on_skip: Called once with each path deliberately left out and why: hidden files and
            folders, Word's ``~$`` lock files, files with no reader, excluded folders, files
            given twice and links back to a folder already read.
        on_error: Called with each folder that cannot be listed (permission denied, say) and
            each broken link to a transcript file; when ``None`` a :class:`TranscriptError`
            is raised instead.
        marker: A file name that marks an earlier run's output folder (``.mentalize-output``):
            a folder holding it, found inside a folder, is left out like the output folder.
    """
    excluded = {os.path.realpath(p) for p in exclude}
    seen_files: dict[str, Path] = {}
    seen_dirs: set[str] = set()

    def skip(path: Path, reason: str) -> None:
        if on_skip is not None:
            on_skip(path, reason)

    def fail(path: Path, reason: str) -> None:
        if on_error is None:
            raise TranscriptError(path, reason)
        on_error(path, reason)

    def once(path: Path) -> Iterator[Path]:
        real = os.path.realpath(path)
        if real in seen_files:
            first = seen_files[real]
            skip(path, "given twice; read once" if first == path else f"the same file as {first}; read once")
            return
        seen_files[real] = path
        yield path

    def walk(folder: Path) -> Iterator[Path]:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            fail(folder, f"the folder cannot be read ({exc.strerror or exc}); check its permissions. Nothing in it was scored.")
            return
        for entry in entries:
            path = folder / entry.name
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError as exc:
                fail(path, f"cannot be read ({exc.strerror or exc}).")
                continue
            if entry.name.startswith("."):
                skip(path, f"hidden {'folder' if is_dir else 'file'}; give it by name to read it")
            elif is_dir and marker is not None and (path / marker).is_file():
                skip(path, "an earlier run's output folder; results are never read as transcripts")
            elif is_dir:
                yield from enter(path, "a link to a folder already read")
            elif is_file:
                if entry.name.startswith("~$"):
                    skip(path, "a Word lock file")
                elif path.suffix.lower() not in READERS:
                    kind = f"{path.suffix!r} files" if path.suffix else "files without an extension"
                    skip(path, f"not a transcript type ({kind} are not read; expected {', '.join(SUFFIXES)})")
                else:
                    yield from once(path)
            elif entry.is_symlink() and path.suffix.lower() in READERS:
                fail(path, "is a link to a file that does not exist; fix or remove the link.")
            else:
                skip(path, "not a regular file")

    def enter(folder: Path, repeated: str) -> Iterator[Path]:
        real = os.path.realpath(folder)
        if real in excluded:
            skip(folder, "the output folder; results are never read as transcripts")
        elif real in seen_dirs:
            skip(folder, repeated)
        else:
            seen_dirs.add(real)
            yield from walk(folder)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from enter(path, "given twice; read once")
        else:
            yield from once(path)


def read_transcript(
    path: str | Path,
    *,
    columns: Columns = Columns(),
    roles: RoleMap | None = None,
    max_bytes: int = MAX_BYTES,
    encoding: str | None = None,
) -> list[Session]:
    """Read one transcript file into sessions (a table may hold several), with roles assigned.

    Args:
        path: The transcript.
        columns: Which table columns hold which fields (``.csv``, ``.tsv``, ``.xlsx``).
        roles: Names given the therapist or client role (``--therapist``, ``--client``,
            ``--roles``); they win over the roles inferred from names.
        max_bytes: The largest file read; a ``.docx`` or ``.xlsx`` may unpack to no more.
        encoding: The file's text encoding, such as ``"cp1252"``, when it is known; by
            default it is chosen as docs/transcripts.md describes. Recorded on each session
            as ``Session.encoding`` either way (``""`` for ``.docx`` and ``.xlsx``).

    Roles follow :class:`RoleMap` (see ``RoleMap.assign``): speakers left ``other`` are named,
    with the options that fix it, in ``Session.warnings``. Stray control characters are
    removed from speakers and text; a file with many of them is refused as binary.

    Only regular files are read: a folder, a named pipe, a socket or a device is refused at
    once, without being opened.

    Raises:
        TranscriptError: naming the file, the line where it applies, and the fix; whatever
            goes wrong while the file is read comes as one.
    """
    from .decode import check_regular, clean

    path = Path(path)
    check_regular(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise TranscriptError(path, f"unknown transcript type {path.suffix!r}; expected one of {', '.join(SUFFIXES)}.")
    roles = roles or RoleMap()
    try:
        sessions = reader(path, columns=columns, max_bytes=max_bytes, encoding=encoding, roles=roles)
    except TranscriptError:
        raise
    except Exception as exc:  # a parsing library failing in a way no reader foresaw: still this file's failure
        raise TranscriptError(
            path,
            f"could not be read ({type(exc).__name__}: {str(exc)[:160]}); check that it opens in the program that "
            "wrote it and export it again, and please report the file's shape if it does.",
        ) from exc
    for session in sessions:
        session.header = [line for line in (clean(h).strip() for h in session.header) if line]
        for utterance in session.utterances:
            utterance.speaker = unicodedata.normalize("NFC", clean(utterance.speaker).strip())  # "Zoë" typed either way is one speaker
            utterance.text = clean(utterance.text)
        roles.assign(session)
    return sessions

"""Bytes to text: byte-order marks, UTF-8, then charset detection (cp1252 and friends)."""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import TranscriptError

MAX_BYTES = 50 * 1024 * 1024
"""Largest transcript read; a real session is well under 1 MB."""


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """Read a file's bytes, refusing unreadable, empty and oversized files with a fix to try."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TranscriptError(
                path,
                f"the file is {size / 1e6:.0f} MB, larger than the {max_bytes / 1e6:.0f} MB a transcript can be; "
                "split it into one file per session, or pass --max-size-mb to raise the limit.",
            )
        data = path.read_bytes()
    except PermissionError as exc:
        raise TranscriptError(path, "cannot be read (permission denied); check the file's permissions.") from exc
    except IsADirectoryError as exc:
        raise TranscriptError(path, "is a folder, not a file.") from exc
    except OSError as exc:
        raise TranscriptError(path, f"cannot be read ({exc.strerror or exc}); check the path.") from exc
    if not data.strip():
        raise TranscriptError(path, "the file is empty; export the transcript again.")
    return data


def decode(data: bytes, path: Path) -> str:
    """Decode transcript bytes, with newlines normalised to ``\\n``.

    Raises:
        TranscriptError: the bytes look binary, or no text encoding fits them.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return _newlines(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise TranscriptError(path, f"starts with a {encoding} byte-order mark but is not valid {encoding}; re-save it as UTF-8.") from exc
    if b"\x00" in data[:8192]:
        raise TranscriptError(path, "looks like a binary file, not a transcript; export it as .txt, .csv, .vtt, .srt, .docx or .json.")
    try:
        return _newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise TranscriptError(path, "is not text in any encoding recognised; re-save it as UTF-8.")
    return _newlines(str(best))


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """Read and decode a text transcript."""
    return decode(read_bytes(path, max_bytes), path)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")

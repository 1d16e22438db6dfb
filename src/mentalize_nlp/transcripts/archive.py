"""Word (``.docx``) and Excel (``.xlsx``) files are zip archives: what they unpack to is
checked before any parser opens them, so that a small file cannot fill the memory.

The sizes checked are those the archive declares for its members. They bound what a parser
can be given: ``zipfile`` never unpacks a member past its declared size (it stops there and
the checksum fails).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..errors import TranscriptError

MAX_RATIO = 200
"""How many times smaller than it unpacks a large member may be packed. Text and XML pack
5 to 30 times smaller; a zip bomb, about 1,000 times."""
_LARGE = 1_000_000
"""Members unpacking to less than this are not checked for their ratio."""


def check_archive(data: bytes, path: Path, max_bytes: int) -> None:
    """Refuse an archive that unpacks to more than ``max_bytes`` in all, or that holds a large
    member packed more than :data:`MAX_RATIO` times smaller (a zip bomb).

    Bytes that are not a zip archive are left to the parser, whose error says what they are.

    Raises:
        TranscriptError: naming the sizes, the limit and the fix.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return
    total = sum(member.file_size for member in members)
    if total > max_bytes:
        raise TranscriptError(
            path,
            f"unpacks to {_size(total)}, more than the {_size(max_bytes)} a transcript can be; "
            "export it as .csv or .txt, or pass --max-size-mb to raise the limit if it really is that large.",
        )
    for member in members:
        if member.file_size > _LARGE and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise TranscriptError(
                path,
                f"holds {member.filename!r}, which unpacks to {_size(member.file_size)} from {_size(member.compress_size)} "
                f"({member.file_size // max(member.compress_size, 1):,} times smaller, where a document is at most "
                f"{MAX_RATIO} times): not a document but a zip bomb; open the original in Word or Excel and save it again.",
            )


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 100_000 else f"{count / 1e3:,.1f} KB"

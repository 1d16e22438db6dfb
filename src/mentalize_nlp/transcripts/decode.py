"""Bytes to text: how a transcript's encoding is chosen, and what is done with control bytes.

The order, first match wins (see docs/transcripts.md):

1. the encoding the caller names (``encoding=``, ``--encoding``), strictly;
2. a byte-order mark: UTF-8 (``utf-8-sig``), UTF-32, UTF-16 (recorded as ``utf-16-le``/``-be``);
3. UTF-16 without a byte-order mark, recognised by its NUL bytes: mostly-English text in
   UTF-16 has a NUL in every other byte, odd positions for little-endian, even for big-endian;
4. valid UTF-8 (``utf-8``);
5. Windows-1252 (``cp1252``), when the text reads as English
   (mostly ASCII letters; accents, curly quotes, dashes and ellipses where English puts
   them). cp1252 is Latin-1 with printable characters in 0x80-0x9F, so Latin-1 files read
   the same way; the five bytes cp1252 leaves undefined are read as Latin-1 controls,
   stray bytes like any other;
6. statistical detection (charset-normalizer), recording the encoding it chose.

Steps 3 and 4 cannot both match: valid UTF-8 text without NUL bytes never has the NUL
pattern of step 3. Control characters (C0 and C1, other than tab, newline, carriage return,
form feed and vertical tab) are counted in the decoded text, wherever they are: more than
one of them, and more than one in a hundred characters, makes the file binary and it is
refused; fewer are stray bytes and are removed (see :func:`clean`).
"""

from __future__ import annotations

import codecs
import re
import stat
from pathlib import Path
from typing import NamedTuple

from ..errors import TranscriptError

MAX_BYTES = 50 * 1024 * 1024
"""Largest transcript read; a real session is well under 1 MB."""

_BINARY_FIX = "looks like a binary file, not a transcript; export it as .txt, .csv, .vtt, .srt, .docx or .json."
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufeff]")
"""Characters that are never part of a turn's text: C0/C1 controls (not tab, newlines,
vertical tab, form feed) and a byte-order mark left in the middle of a file."""
_BLANK = re.compile("[\x0b\x0c]")


class Decoded(NamedTuple):
    """A transcript's text, newlines normalised to ``\\n``, and the encoding it was read with."""

    text: str
    encoding: str


def check_regular(path: Path) -> None:
    """Refuse anything but a regular file (or a link to one), without opening it: a named
    pipe or a device such as ``/dev/zero`` would hang the run or never end.

    Raises:
        TranscriptError: the path is missing, a folder, a pipe, a socket or a device.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise TranscriptError(path, "no such file; check the path.") from exc
    except OSError as exc:
        raise TranscriptError(path, f"cannot be read ({exc.strerror or exc}); check the path and its permissions.") from exc
    if stat.S_ISDIR(mode):
        raise TranscriptError(path, "is a folder, not a file.")
    if not stat.S_ISREG(mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise TranscriptError(path, f"is {kind}, not a file; save the transcript to a file and give that file.")


def _megabytes(size: int) -> str:
    """``size`` in MB, to four significant figures below 1,000 ("0.0015", "1.5", "250"), so a small limit never reads "0"."""
    value = size / 1e6
    return f"{value:,.0f}" if value >= 1000 else f"{value:.4g}"


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """Read a file's bytes, refusing unreadable, empty and oversized files with a fix to try.

    Only regular files are read (see :func:`check_regular`), and never more than
    ``max_bytes`` of them, even if the file grows while it is read.
    """
    too_large = (
        f"larger than the {_megabytes(max_bytes)} MB a transcript can be; "
        "split it into one file per session, or pass --max-size-mb to raise the limit."
    )
    check_regular(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TranscriptError(path, f"the file is {_megabytes(size)} MB, {too_large}")
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except PermissionError as exc:
        raise TranscriptError(path, "cannot be read (permission denied); check the file's permissions.") from exc
    except OSError as exc:
        raise TranscriptError(path, f"cannot be read ({exc.strerror or exc}); check the path.") from exc
    if len(data) > max_bytes:
        raise TranscriptError(path, f"the file is {too_large}")
    if not data.strip():
        raise TranscriptError(path, "the file is empty; export the transcript again.")
    return data


def encoding_name(encoding: str) -> str:
    """The canonical Python name of an encoding (``"CP-1252"`` -> ``"cp1252"``).

    Raises:
        LookupError: no such encoding.
    """
    name = codecs.lookup(encoding).name
    return {"iso8859-1": "latin-1", "mbcs": "cp1252"}.get(name, name)


def decode_bytes(data: bytes, path: Path, encoding: str | None = None, *, keep: str = "") -> Decoded:
    """Decode transcript bytes (see the module notes for the order tried).

    Args:
        data: The file's bytes.
        path: The file, for errors.
        encoding: Decode with this encoding and no other (a byte-order mark is still skipped).
        keep: Control characters the format uses itself (CHAT's media bullets, ``\\x15``),
            left in and not counted towards "binary".

    Raises:
        TranscriptError: the bytes look binary, are not valid in the encoding named, or fit
            no text encoding.
    """
    if encoding:
        text, used = _forced(data, path, encoding)
    else:
        text, used = _guess(data, path, keep)
    refuse_binary(text, path, keep)
    return Decoded(_newlines(text), used)


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """The text of :func:`decode_bytes` alone."""
    return decode_bytes(data, path, encoding).text


def read_decoded(path: Path, max_bytes: int = MAX_BYTES, encoding: str | None = None, *, keep: str = "") -> Decoded:
    """Read and decode a text transcript, with the encoding used."""
    return decode_bytes(read_bytes(path, max_bytes), path, encoding, keep=keep)


def read_text(path: Path, max_bytes: int = MAX_BYTES, encoding: str | None = None) -> str:
    """Read and decode a text transcript."""
    return read_decoded(path, max_bytes, encoding).text


def refuse_binary(text: str, path: Path, keep: str = "") -> None:
    """Refuse text with more than one control character and more than one per hundred characters."""
    found = len(_CONTROL.findall(text))
    if keep:
        found -= sum(text.count(c) for c in keep)
    if found > 1 and found * 100 > len(text):
        raise TranscriptError(path, _BINARY_FIX)


def clean(text: str, keep: str = "") -> str:
    """``text`` without stray control characters; vertical tab and form feed become spaces."""
    if keep:
        return _BLANK.sub(" ", "".join(c for c in text if c in keep or not _CONTROL.match(c)))
    return _BLANK.sub(" ", _CONTROL.sub("", text))


def _forced(data: bytes, path: Path, encoding: str) -> tuple[str, str]:
    try:
        name = encoding_name(encoding)
    except LookupError as exc:
        raise TranscriptError(path, f"--encoding {encoding!r} is not an encoding Python knows; use a name such as utf-8, cp1252, latin-1 or utf-16.") from exc
    if name in ("utf-8", "utf-8-sig"):
        name = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    elif name == "utf-16":
        name = _utf16_order(data) or "utf-16-le"
        data = data[2:] if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else data
    elif data.startswith(codecs.BOM_UTF8):  # a UTF-8 mark read as cp1252 would be "ï»¿" glued to the first speaker
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptError(
            path,
            f"is not valid {name} (byte 0x{data[exc.start:exc.start + 1].hex() or 'end'} cannot be read); check the encoding named with --encoding, "
            "or leave it out to have it detected.",
            line=line if name.startswith(("utf-8", "cp", "latin", "iso", "ascii")) else None,
        ) from exc
    return text.lstrip("\ufeff") if name != "utf-8-sig" else text, name


def _utf16_order(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` from a byte-order mark or from where the NUL bytes fall, else ``None``."""
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    sample = data[: 1 << 16]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd >= 0.3 and nul_even <= 0.02:
        return "utf-16-le"
    if nul_even >= 0.3 and nul_odd <= 0.02:
        return "utf-16-be"
    return None


def _guess(data: bytes, path: Path, keep: str) -> tuple[str, str]:
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32")):
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise TranscriptError(path, f"starts with a {name} byte-order mark but is not valid {name}; re-save it as UTF-8.") from exc
    order = _utf16_order(data)
    if order is not None:
        bom = data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        body = data[2:] if bom else data
        if bom or len(body) % 2 == 0:
            try:
                return body.decode(order), order
            except UnicodeDecodeError as exc:
                if bom:
                    raise TranscriptError(path, "starts with a utf-16 byte-order mark but is not valid utf-16; re-save it as UTF-8.") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Binary files stop here, before any single-byte reading or detection is tried: control
    # bytes are the same bytes in UTF-8, cp1252, Latin-1 and their relatives.
    refuse_binary(data[: 1 << 20].decode("latin-1").translate(_C1_AS_TEXT), path, keep)
    text = data.decode("latin-1").translate(_CP1252)
    if reads_as_english(text):
        return text, "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise TranscriptError(path, "is not text in any encoding recognised; re-save it as UTF-8, or name its encoding with --encoding.")
    return str(best), encoding_name(best.encoding)


_C1_AS_TEXT = {code: "x" for code in range(0x80, 0xA0)}
_CP1252 = {code: bytes([code]).decode("cp1252", "ignore") or chr(code) for code in range(0x80, 0xA0)}
"""Latin-1 to Windows-1252: the five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90,
0x9D) stay C1 control characters, stray bytes to be removed like any other."""
"""For the byte-level binary check: bytes 0x80-0x9F are letters in most code pages."""

_WORD = re.compile(r"[^\W\d_]+")
_ENGLISH_MARKS = set("‘’“”–—…•€£¢¥°±½¼¾²×÷©®™\u00a0\u00ad§¶·«»¿¡´ºªµ")
"""Non-ASCII characters English (and European names in English text) uses outside words."""
_GLUED = re.compile(r"[^\W\d_][¿¡«»§¶°±×÷µºª¢¥£][^\W\d_]")
"""A mark inside a word, as when Polish "może" is read as cp1252 "mo¿e"."""
_LATIN_LETTERS = set("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿŒœŠšŽžŸ")


def reads_as_english(text: str) -> bool:
    """Whether text decoded as Windows-1252 reads as English (or English with European words).

    Mostly ASCII letters (four in five, or two in three in a text under 200 letters); every other character an accented Latin letter inside a word or a
    typographic mark (curly quotes, dashes, ellipsis, currency); no word with three accented
    letters in a row or a capital after a small letter, as mis-decoded Cyrillic, Greek or
    Central European text has ("Ïðèâåò", "trŠs").
    """
    if not text.isascii() and any(ord(c) > 0x9F and not (c in _ENGLISH_MARKS or c in _LATIN_LETTERS) for c in text):
        return False
    words = _WORD.findall(text)
    letters = sum(len(w) for w in words)
    if not letters:
        return True
    foreign = 0
    for word in words:
        if word.isascii():
            continue
        run = 0
        for index, char in enumerate(word):
            run = run + 1 if ord(char) > 0x7F else 0
            if run >= 3 or (index and char.isupper() and ord(char) > 0x7F and word[index - 1].islower()):
                return False
        foreign += sum(ord(c) > 0x7F for c in word)
    if _GLUED.search(text):
        return False
    return foreign * (5 if letters >= 200 else 3) <= letters


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")

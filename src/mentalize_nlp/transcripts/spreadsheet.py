"""Excel workbooks (``.xlsx``): one row per turn, columns mapped by name exactly as for CSV.

The first visible sheet is read unless another is named. Every cell is read as text, so "None" or
"NA" stay words and a turn number stays a number; blank rows are skipped. Row numbers in
errors are the sheet's row numbers (``line`` 2 is the first row under the header).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from ..errors import TranscriptError
from .archive import check_archive
from .decode import MAX_BYTES, read_bytes
from .session import Session
from .tabular import Columns, frame_sessions

_CELL_OR_ROW = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*)>")
_REF = re.compile(rb'\sr="([A-Z]*)([0-9]+)"')


def _reach(sheet: bytes) -> tuple[int, int, str]:
    """The last row and the last column holding a value in a worksheet's XML, and that cell's
    name, found in one pass over the tags (as openpyxl places them: a row or cell without
    ``r=`` follows the one before)."""
    last_row = last_col = row = col = 0
    for tag in _CELL_OR_ROW.finditer(sheet):
        ref = _REF.search(tag[2])
        if tag[1] == b"row":
            row, col = (int(ref[2]) if ref else row + 1), 0
            continue
        col = _column(ref[1]) if ref and ref[1] else col + 1
        if not tag[2].endswith(b"/"):  # a cell with content (a value, a formula or inline text)
            last_row, last_col = max(last_row, int(ref[2]) if ref else row), max(last_col, col)
    return last_row, last_col, f"{_letters(last_col)}{last_row}"


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters[:4]:  # Excel's last column is XFD
        number = number * 26 + letter - 64
    return number


def _letters(column: int) -> str:
    name = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        name = chr(65 + rest) + name
    return name


def check_grid(data: bytes, path: Path, max_bytes: int) -> None:
    """Refuse a workbook with a sheet whose cells span more of a grid than :data:`MAX_BYTES`
    allows, counting 8 bytes a cell: the sheet is read into a table of every row up to its
    last value times every column up to its last, so one value in cell XFD1048576 of a
    tiny file would take 17 billion cells (and all the memory).

    Raises:
        TranscriptError: naming the sheet, its last cell, and the fix.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        return  # not a workbook at all: the parser says so
    with archive:
        for name in archive.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            try:
                rows, columns, corner = _reach(archive.read(name))
            except (zipfile.BadZipFile, ValueError, EOFError, OSError):
                return  # damaged: the parser says how
            if rows * columns * 8 > max_bytes:
                raise TranscriptError(
                    path,
                    f"the sheet stored as {name} has a value in cell {corner}, making a table of {rows:,} rows by "
                    f"{columns:,} columns, more than a transcript can be; delete the cells past the transcript "
                    "(Ctrl+End in Excel goes to the last one), export the sheet as .csv, or pass --max-size-mb "
                    "to raise the limit.",
                )


def _workbook(data: bytes, path: Path) -> pd.ExcelFile:
    try:
        return pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    # openpyxl and zipfile raise a dozen exception types for a damaged or foreign file; all mean the same.
    except Exception as exc:
        hint = " (an old .xls workbook must be saved as .xlsx first)" if data[:4] == b"\xd0\xcf\x11\xe0" else ""
        raise TranscriptError(
            path,
            f"is not a readable Excel workbook{hint} ({type(exc).__name__}: {str(exc)[:120]}); open it in Excel and save it as .xlsx again, or export it as .csv.",
        ) from exc


def read_xlsx(
    path: Path,
    *,
    columns: Columns = Columns(),
    max_bytes: int = MAX_BYTES,
    sheet: str | int | None = None,
    encoding: str | None = None,
    roles: object = None,
) -> list[Session]:
    """Read one sheet of an ``.xlsx`` workbook (the first by default).

    Args:
        path: The workbook.
        columns: Which columns hold which fields, as for CSV.
        max_bytes: The largest file read.
        sheet: The sheet's name, or its 0-based position; ``columns.sheet``, else the first visible one, when omitted.
        encoding: Ignored: a workbook stores Unicode itself (``Session.encoding`` stays ``""``).
        roles: Ignored: rows name their speakers.
    """
    if sheet is None:
        sheet = columns.sheet
    chosen = sheet is not None  # else the first visible sheet
    data = read_bytes(path, max_bytes)
    check_archive(data, path, max_bytes)
    check_grid(data, path, max_bytes)
    workbook = _workbook(data, path)
    with workbook:
        names = [str(name) for name in workbook.sheet_names]
        if isinstance(sheet, str) and sheet not in names and sheet.isascii() and sheet.isdigit() and len(sheet) <= 9:
            sheet = int(sheet)  # a position, unless a sheet has that name
        if not chosen:  # the first sheet a person sees: a hidden lookup sheet placed first is not the transcript
            states = [getattr(ws, "sheet_state", "visible") for ws in getattr(workbook.book, "worksheets", [])]
            sheet = next((k for k, state in enumerate(states[:len(names)]) if state == "visible"), 0)
        if isinstance(sheet, str) and sheet not in names or isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise TranscriptError(path, f"has no sheet {sheet!r}; its sheets are: {', '.join(names)}.")
        name = sheet if isinstance(sheet, str) else names[sheet]
        try:
            frame = pd.read_excel(workbook, sheet_name=name, dtype=str, keep_default_na=False, na_filter=False, header=0)
        except Exception as exc:  # as above: a damaged sheet fails in many ways inside openpyxl
            raise TranscriptError(path, f"sheet {name!r} cannot be read ({type(exc).__name__}: {str(exc)[:120]}); save the workbook again.") from exc
    if frame.columns.empty:
        raise TranscriptError(path, f"sheet {name!r} is empty; put one turn per row under a header row such as speaker, text.")
    frame.columns = [str(c).strip() for c in frame.columns]
    filled = [any(str(cell).strip() for cell in row) for row in frame.itertuples(index=False)]
    rows = [index + 2 for index, keep in enumerate(filled) if keep]
    frame = frame.loc[filled].reset_index(drop=True)
    try:
        sessions = frame_sessions(frame, path, columns, lines=rows)
    except TranscriptError as exc:
        others = [n for n in names if n != name]
        if not others:
            raise
        raise TranscriptError(
            path,
            f"{exc.reason} (Read sheet {name!r}; the workbook also has {', '.join(map(repr, others))}: "
            "if the transcript is on another sheet, move that sheet first.)",
            line=exc.line,
        ) from exc
    others = [n for n in names if n != name]
    if others and not chosen:  # a workbook of several sessions, one per sheet, would lose all but the first
        for session in sessions:
            session.warnings.append(f"read the first visible sheet, {name!r}, only; the workbook also has "
                                    f"{', '.join(map(repr, others))}: pass --sheet NAME to read another.")
    return sessions

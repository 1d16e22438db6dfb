"""Excel workbooks (``.xlsx``): one row per turn, columns mapped by name exactly as for CSV.

The first sheet is read unless another is named. Every cell is read as text, so "None" or
"NA" stay words and a turn number stays a number; blank rows are skipped. Row numbers in
errors are the sheet's row numbers (``line`` 2 is the first row under the header).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..errors import TranscriptError
from .decode import MAX_BYTES, read_bytes
from .session import Session
from .tabular import Columns, frame_sessions


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
        sheet: The sheet's name, or its 0-based position; ``columns.sheet``, else the first, when omitted.
        encoding: Ignored: a workbook stores Unicode itself (``Session.encoding`` stays ``""``).
        roles: Ignored: rows name their speakers.
    """
    if sheet is None:
        sheet = columns.sheet if columns.sheet is not None else 0
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    workbook = _workbook(read_bytes(path, max_bytes), path)
    with workbook:
        names = [str(name) for name in workbook.sheet_names]
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
        return frame_sessions(frame, path, columns, lines=rows)
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

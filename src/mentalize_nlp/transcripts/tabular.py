"""Spreadsheet transcripts (``.csv``, ``.tsv``): one row per turn, columns mapped by name."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import TranscriptError
from .decode import MAX_BYTES, decode_bytes, read_bytes
from .roles import UNKNOWN, RoleMap, some
from .session import Session, Utterance


@dataclass(frozen=True)
class Columns:
    """Which input columns hold which fields; ``None`` means "use the standard name if present"."""

    text: str = "text"
    speaker: str | None = None
    """``None``: the ``speaker`` column if there is one; a table without one (forum posts,
    written thoughts) is read with every turn's speaker ``UNKNOWN``, and a warning."""
    session: str | None = None
    turn: str | None = None
    role: str | None = None
    start: str | None = None
    end: str | None = None
    sheet: str | None = None
    """Workbook sheet to read (a name, or a 0-based position as digits); the first by default."""


def _resolve(frame: pd.DataFrame, path: Path, columns: Columns) -> dict[str, str | None]:
    found = list(frame.columns)
    lowered = {c.strip().lower(): c for c in found}

    def pick(wanted: str | None, default: str, required: bool, option: str) -> str | None:
        name = wanted or default
        if name in frame.columns:
            return name
        if name.strip().lower() in lowered:
            return lowered[name.strip().lower()]
        hint = next((c for c in found if " ".join(c.lower().replace("_", " ").split()) in _ALIASES.get(default, ())), None)
        if required or wanted or hint:
            fix = f"Pass {option} {hint}." if hint else f"Pass {option} NAME to say which column it is."
            if hint is None and any(str(c).startswith("Unnamed:") for c in found):
                fix = ("The header must be the first row: delete any title rows above it and start the table in the "
                       f"first column, or pass {option} NAME.")
            raise TranscriptError(path, f"has no {name!r} column; found: {', '.join(map(str, found))}. {fix}", line=1)
        return None

    return {
        "text": pick(columns.text, "text", True, "--text-column"),
        "speaker": pick(columns.speaker, "speaker", False, "--speaker-column"),
        "session": pick(columns.session, "session", False, "--session-column"),
        "turn": pick(columns.turn, "turn", False, "--turn-column"),
        "role": pick(columns.role, "role", False, "--role-column"),
        "start": pick(columns.start, "start", False, "--start-column"),
        "end": pick(columns.end, "end", False, "--end-column"),
    }


_ALIASES = {
    "text": ("utterance", "utterance text", "transcript", "content", "words", "line", "message"),
    "speaker": ("interlocutor", "name", "who", "participant", "role", "speaker name", "speaker id", "speaker label", "spk",
                "person", "talker", "voice"),
}
"""Column names, lower-cased with ``_`` as a space, that look like the standard column's:
a table with one but not the standard column is refused, naming the option to pass."""


def frame_sessions(
    frame: pd.DataFrame, path: Path, columns: Columns = Columns(), lines: Sequence[int] | None = None, encoding: str = ""
) -> list[Session]:
    """Sessions from a table whose cells are all strings; row numbers in errors are file lines.

    ``lines`` gives the file line (or sheet row) of each row where rows were skipped; by
    default row ``i`` is line ``i + 2``, under a one-line header. A row that repeats a session's turn number with the same speaker and text (one row per
    annotator, as in AnnoMI) is the same utterance and is read once.
    """
    names = _resolve(frame, path, columns)
    if names["session"]:
        blank = [lines[i] if lines is not None else i + 2 for i, v in enumerate(frame[names["session"]]) if not str(v).strip()]
        if blank and len(blank) < len(frame):  # cells merged or filled down in a spreadsheet: guessing would mix two sessions
            raise TranscriptError(
                path,
                f"has no session in the '{names['session']}' column on {_lines(blank)}, while other rows name theirs; "
                "fill in the session on every row "
                "(cells merged down a column keep the name in their first row only: unmerge them and fill down).",
                line=blank[0],
            )
    after = list(frame.columns)[list(frame.columns).index(names["text"]) + 1:]
    spilled = {  # a cell right of the text that opens with a space and a word: "I went, and then I left" cut at its comma
        index for column in after for index, v in enumerate(frame[column]) if isinstance(v, str) and v[:1] == " " and v[1:2].isalpha()
    }
    sessions: dict[str, Session] = {}
    seen: set[tuple[str, str, str, str]] = set()
    unnamed: dict[str, list[int]] = {}
    repeated: dict[str, list[int]] = {}
    unnumbered: dict[str, list[int]] = {}
    cut: dict[str, list[int]] = {}
    blank: dict[str, list[int]] = {}
    for index, row in enumerate(frame.itertuples(index=False)):
        record = dict(zip(frame.columns, row))
        line = lines[index] if lines is not None else index + 2
        session_name = str(record[names["session"]]).strip() if names["session"] else path.stem
        session = sessions.setdefault(session_name, Session(name=session_name or path.stem, source=str(path), encoding=encoding))
        turn_value = record[names["turn"]].strip() if names["turn"] else ""
        speaker = str(record[names["speaker"]]).strip() if names["speaker"] else ""
        if turn_value:
            key = (session_name, turn_value, speaker, str(record[names["text"]]))
            if key in seen:
                repeated.setdefault(session_name, []).append(line)
                continue
            seen.add(key)
        turn: int | str = _turn_number(turn_value, path, line) if turn_value else len(session.utterances)
        if not turn_value and names["turn"]:
            unnumbered.setdefault(session_name, []).append(line)
        if index in spilled:
            cut.setdefault(session_name, []).append(line)
        if not str(record[names["text"]]).strip():
            blank.setdefault(session_name, []).append(line)
        if not speaker and names["speaker"]:
            unnamed.setdefault(session_name, []).append(line)
        session.utterances.append(
            Utterance(
                turn=turn,
                speaker=speaker or UNKNOWN,
                text=str(record[names["text"]]),
                role=record[names["role"]] if names["role"] else None,
                start=record[names["start"]] or None if names["start"] else None,
                end=record[names["end"]] or None if names["end"] else None,
                line=line,
            )
        )
    if not sessions:
        raise TranscriptError(path, "has a header but no rows; export the transcript again.", line=2)
    if not names["speaker"]:
        for session in sessions.values():
            session.warnings.append(
                f"no speaker column: every turn tagged as {UNKNOWN}, role other; for per-speaker figures, add a "
                "'speaker' column or pass --speaker-column NAME."
            )
    said = (  # rows read other than written, each kind named with its lines
        (repeated, lambda n: f"{_lines(n)} repeat{'' if len(n) > 1 else 's'} an earlier row's turn, speaker and text "
                             f"(one row per coder, say) and {'were' if len(n) > 1 else 'was'} read once; give the rows "
                             "different turn numbers to keep each."),
        (blank, lambda n: f"no text on {_lines(n)}: kept as {'empty turns' if len(n) > 1 else 'an empty turn'}. In a "
                          "workbook, a formula's value is there only once Excel has saved it: open and save the "
                          "workbook, or paste the values."),
        (cut, lambda n: f"on {_lines(n)} a column after '{names['text']}' starts with a space and a word, as if the text "
                        "held a comma not in double quotes and its end went into that column; check those rows, and put "
                        "such texts in double quotes."),
        (unnumbered, lambda n: f"no turn number on {_lines(n)}: numbered by position in the session, which may repeat "
                               f"another row's; fill in the '{names['turn']}' column there."),
        (unnamed, lambda n: f"no speaker on {_lines(n)}: tagged as {UNKNOWN}, role other; fill in the "
                            f"'{names['speaker']}' column there."),
    )
    for found, say in said:
        for session_name, numbers in found.items():
            sessions[session_name].warnings.append(say(numbers))
    return list(sessions.values())


def _lines(numbers: list[int]) -> str:
    """"line 4", or "lines 3, 4" (the first ten, and how many more)."""
    return f"line{'s' if len(numbers) > 1 else ''} {some([str(n) for n in numbers])}"


def _turn_number(value: str, path: Path, line: int) -> int | str:
    """A turn column's value: a whole number as a number, any other text as it is.

    Raises:
        TranscriptError: a number of more than 18 digits, longer than any count of turns
            (and than a table's whole-number column holds).
    """
    digits = value.removeprefix("-")
    if not digits.isdecimal():  # "²" and "³" are digits but not decimal, and not numbers int() reads
        return value
    if len(digits) > 18:
        raise TranscriptError(
            path,
            f"has a turn number {len(digits):,} digits long ({value[:12]}...); number the turns 0, 1, 2, ... "
            "or leave the turn column out of the file.",
            line=line,
        )
    return int(value)


MAX_COLUMNS = 1000
"""More columns than any transcript table has: a file with more is refused before it is parsed."""


def read_csv(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a ``.csv`` or ``.tsv`` transcript. Cells are kept as text: "None" or "NA" stay words."""
    text, used = decode_bytes(read_bytes(path, max_bytes), path, encoding)
    header = text[: text.find("\n")] if "\n" in text else text
    sep = "\t" if path.suffix.lower() == ".tsv" else separator(header)
    if header.count(sep) >= MAX_COLUMNS:
        raise TranscriptError(
            path,
            f"has {header.count(sep) + 1:,} columns in its first line, more than the {MAX_COLUMNS:,} a transcript "
            f"table can have; check that the file is {'tab' if sep == chr(9) else 'comma'}-separated with one header line.",
            line=1,
        )
    try:
        # dtype=object: cells as Python strings, as they are read from the table anyway; with
        # dtype=str, reading a 200,000-row table peaked 75 MB higher (Arrow strings, then copies)
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=object, keep_default_na=False, na_filter=False, skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        rows = _row_lines(text, sep)
        width = rows[0][1] if rows else 0
        line, fields = next(((n, f) for n, f in rows[1:] if f > width), (0, 0))
        if line:
            raise TranscriptError(path, _too_many(fields, width, sep), line=line) from exc
        if "EOF inside string" in str(exc) and rows:
            raise TranscriptError(path, "has a double quote opened in the row starting on this line and never closed; "
                                  "close the quote, or remove it.", line=rows[-1][0]) from exc
        raise TranscriptError(path, f"is not a well-formed table ({' '.join(str(exc).split())}); check its quoting.") from exc
    except (pd.errors.EmptyDataError, csv.Error) as exc:
        raise TranscriptError(path, f"is not a readable table ({exc}).") from exc
    if sep == "\t" and any("\t" in str(v) for column in frame.columns for v in frame[column]):
        # a tab inside a cell: a text opening with a quotation mark ('"Go away," she said.') was taken for a
        # quoted cell and ran on over the rows after it. Tab-separated exports rarely quote: read the marks as text.
        try:
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=object, keep_default_na=False, na_filter=False,
                                skip_blank_lines=True, quoting=csv.QUOTE_NONE)
        except pd.errors.ParserError as exc:
            raise TranscriptError(path, f"is not a well-formed table ({' '.join(str(exc).split())}); check its tabs.") from exc
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took a first field with no header for row names
        line, fields = _overlong_row(text, sep, len(frame.columns))
        if line:
            raise TranscriptError(path, _too_many(fields, len(frame.columns), sep), line=line)
        frame = frame.reset_index(drop=True)  # every row has one: row names, as R's write.table writes them
    frame.columns = [str(c).strip() for c in frame.columns]
    lines = None
    if text.count("\n", 0, len(text) - 1) + 1 != len(frame) + 1:  # a text over several lines, or blank lines
        lines = [n for n, _ in _row_lines(text, sep)[1:]]
        lines = lines if len(lines) == len(frame) else None
    return frame_sessions(frame, path, columns, lines=lines, encoding=used)


def _too_many(fields: int, width: int, sep: str) -> str:
    return (f"has {fields} fields in the row starting on this line, where its header has {width}: a "
            f"{ {chr(9): 'tab', ';': 'semicolon'}.get(sep, 'comma')} in a text that is not in double quotes, or a quote "
            "left open. Put the text in double quotes, or close the quote.")


def _row_lines(text: str, sep: str) -> list[tuple[int, int]]:
    """``(file line where the row starts, number of fields)`` of each row that is not blank, header included."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows, start = [], 1
    for record in reader:
        if record:
            rows.append((start, len(record)))
        start = reader.line_num + 1
    return rows


def separator(header: str) -> str:
    """A CSV file's field separator, from its header line: a tab where the header has tabs and
    no comma (a tab-separated file named ``.csv``), a semicolon where it has semicolons and no
    comma (Excel's CSV in locales whose decimal mark is a comma), else a comma."""
    if "," in header:
        return ","
    return "\t" if "\t" in header else ";" if ";" in header else ","


def _overlong_row(text: str, sep: str, width: int) -> tuple[int, int]:
    """Where the header has ``width`` fields and the first data row one more: ``(0, 0)`` when
    every data row (two or more) has ``width + 1`` (row names with no header of their own),
    else the file line where the first row with more than ``width`` fields starts, and its
    field count."""
    rows = _row_lines(text, sep)[1:]
    if len(rows) > 1 and all(fields == width + 1 for _, fields in rows):
        return 0, 0
    return next((row for row in rows if row[1] > width), (2, width + 1))

"""Scoring many transcripts into one output folder, without losing anything to a bad file.

Each input is read, tagged and profiled on its own terms: whatever goes wrong with one file
(a reader's error, a library's, a file slower than ``timeout``) is that file's failure,
recorded in ``errors.csv``, and the rest go on. Sessions are tagged in chunks, in this
process, in ``jobs`` worker processes, or on a Dask cluster, and written in input order as
each chunk comes back; a long table is tagged a slice of utterances at a time, so memory
stays flat however many sessions or rows there are.

The results are written as one set: into a temporary folder beside the output folder,
which then replaces it in one step, while a lock keeps other runs out. A reader of the
output folder sees the previous complete set or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import stat
import threading
import traceback
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import MentalizeError, OutputError, TranscriptError
from .output import (  # MARKER and raw_cells are part of this module's API too
    IN_PYTHON,
    MARKER,
    MODEL_LINE,
    atomic_folder,
    folder_lock,
    leftovers,
    link_own_files,
    link_tree,
    original_text_frame,
    raw_cells,
    remove_leftovers,
    spreadsheet_safe_frame,
    worker_init,
    write_csv_rows,
)
from .profiles import profile
from .tagging import JoinedSessionsWarning, Tagger, load, tag_columns
from .transcripts import Columns, RoleMap, Session, find_inputs, read_transcript
from .transcripts.decode import MAX_BYTES, check_regular

"""Marks a folder that ``mentalize score`` wrote, the only kind ``--force`` writes over."""

FORMATS = ("csv", "parquet", "jsonl")
SESSIONS_NAME = "sessions.csv"
"""Per session read: file, encoding, speakers with their roles, and what to check."""
ENGINES = ("local", "dask")
SLICE = 2_000
"""Utterances tagged in one pass: small files are gathered up to this, a long table is cut into slices of it."""


@dataclass
class Failure:
    """One input that could not be scored."""

    path: str
    line: int | None
    message: str
    detail: str = ""
    """The traceback, where the failure was not a transcript error (shown with ``--debug``)."""


@dataclass
class BatchResult:
    """What a batch run did: sessions and utterances scored, and the inputs that failed."""

    out: Path
    files: int = 0
    sessions: int = 0
    utterances: int = 0
    scored_files: int = 0
    failures: list[Failure] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(path, reason)`` for each path deliberately not read (hidden, not a transcript, the output folder)."""
    joined: dict[str, list[str]] = field(default_factory=dict)
    """Sessions made from more than one file (a shared ``session`` column value, or ``join_files``)."""
    notes: list[SessionNote] = field(default_factory=list)
    """Per session: the encoding it was read with, its speakers and roles, the reader's warnings."""

    @property
    def ok(self) -> bool:
        return not self.failures


def output_names(fmt: str = "csv") -> tuple[str, str, str]:
    """The utterance, profile and error file names for an output format (errors are always CSV)."""
    return f"utterances.{fmt}", f"profiles.{fmt}", "errors.csv"


def _all_output_names(fmt: str) -> list[str]:
    names = list(output_names(fmt))
    for other in FORMATS:
        if other != fmt:
            names += output_names(other)[:2]
    return names


def written_by_mentalize(out: Path) -> bool:
    """True for a folder ``mentalize score`` wrote: it holds the marker file, or (written by a
    version before the marker) an ``errors.csv`` with mentalize-nlp's header."""
    if (out / MARKER).is_file():
        return True
    try:
        with open(out / "errors.csv", encoding="utf-8") as handle:
            return handle.readline().strip() == "file,line,error"
    except (OSError, UnicodeError):
        return False


def check_output_dir(out: Path, force: bool, fmt: str = "csv", inputs: Iterable[str | Path] = ()) -> None:
    """Refuse to mix new results with old ones unless ``force`` is given, to write over a
    folder mentalize-nlp did not write even with it, and to write over an input.

    Raises:
        OutputError: naming the folder or file and what to do instead.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; choose another --out.")
    real_out = os.path.realpath(out)
    targets = {os.path.realpath(out / name) for name in (*_all_output_names(fmt), MARKER)}
    for raw in inputs:
        given = os.path.realpath(raw)
        if given == real_out:
            raise OutputError(
                f"--out {out} is also an input: its results would be read as transcripts the next time. "
                f"Choose an output folder of its own, e.g. --out {Path(out) / 'results'}."
            )
        if given in targets:
            raise OutputError(f"{raw} is an input, and scoring into --out {out} would write over it; choose another --out.")
    existing = [name for name in _all_output_names(fmt) if (out / name).exists()]
    if existing and not force:
        raise OutputError(f"{out} already holds {', '.join(existing)}; pass --force to overwrite, or choose another --out.")
    if existing and not written_by_mentalize(out):
        raise OutputError(
            f"{out} holds {', '.join(existing)} but was not written by mentalize-nlp (it has no {MARKER} file), "
            "so --force will not write over it; choose another --out."
        )


@dataclass
class Inputs:
    """The transcript files of a batch, with their session names, and what was left out.

    ``names`` maps each file (as a string) to the name its sessions get; ``skipped`` holds
    ``(path, reason)`` for every path deliberately not read; ``failures`` the folders that
    could not be listed, which go into ``errors.csv``.
    """

    files: list[Path] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def list_inputs(inputs: Iterable[str | Path], out: str | Path | None = None, *, join_files: bool = False) -> Inputs:
    """Expand files and folders into the batch's transcript files, never reading ``out``.

    Every path found but not read is recorded in ``skipped`` (hidden, not a transcript type,
    the output folder or an earlier run's, given twice) or, when it could not be read, in ``failures``. Only
    regular files are read: a pipe, device or socket named as an input is a failure, and is
    never opened.
    """
    found = Inputs()
    ours = _run_files(out)

    def skip(path: Path, reason: str) -> None:
        if os.path.realpath(path) not in ours:
            found.skipped.append((str(path), reason))

    def fail(path: Path, reason: str) -> None:
        found.failures.append(Failure(str(path), None, _not_regular(path) or reason))

    for path in find_inputs(inputs, exclude=[out] if out is not None else [], on_skip=skip, on_error=fail, marker=MARKER):
        reason = _not_regular(path)
        if reason:
            fail(path, reason)
        else:
            found.files.append(path)
    found.names = session_names(found.files, join_files=join_files)
    return found


def _run_files(out: str | Path | None) -> set[str]:
    """The lock file and leftovers that runs keep beside ``out``: part of the output, never inputs."""
    if out is None:
        return set()
    out = Path(out)
    return {os.path.realpath(p) for p in (out.parent / f".{out.name}.lock", *leftovers(out))}


def _not_regular(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a transcript without opening it (a pipe, a device), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # missing or unreadable: the reader says so
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    try:
        check_regular(Path(path))  # the reader's own check, and its words
    except TranscriptError as exc:
        return exc.reason
    return None


def _tail(parts: tuple[str, ...], k: int) -> tuple[str, ...]:
    """The last ``k`` of ``parts`` (all of them when there are fewer, none when ``k`` is 0)."""
    return parts[len(parts) - min(k, len(parts)):]


def session_names(files: Iterable[str | Path], *, join_files: bool = False) -> dict[str, str]:
    """The session name of each file: its stem, unless another file of the batch shares it.

    Files that share a stem are named by as many of their parent folders as it takes to
    tell them apart (``clinicA/session-01``, ``clinicB/session-01``); files that share a stem
    in one folder keep their extension (``x.csv``, ``x.txt``); should two names still be
    equal, the later gets ``~2``, ``~3`` …. With ``join_files`` every file is named by its
    stem, so same-named files form one session. A table's ``session`` column, where it has
    one, names its sessions instead (a value equal to the file's stem counts as the file's
    own name and gets the name given here).
    """
    files = [Path(f) for f in files]
    by_stem: dict[str, list[Path]] = {}
    for path in files:
        by_stem.setdefault(path.stem, []).append(path)
    names: dict[str, str] = {}
    for stem, members in by_stem.items():
        if join_files or len(members) == 1:
            names.update((str(m), stem) for m in members)
            continue
        parents = {str(m): Path(os.path.abspath(m)).parent.parts[1:] for m in members}
        per_folder = Counter(parents.values())
        base = {str(m): (m.name if per_folder[parents[str(m)]] > 1 else stem) for m in members}
        depth = max(len(p) for p in parents.values())
        start = 1 if len(per_folder) > 1 else 0
        for k in range(start, depth + 1):
            candidates = {key: "/".join([*_tail(parents[key], k), base[key]]) for key in base}
            if len(set(candidates.values())) == len(candidates):
                break
        names.update(candidates)
    counts = Counter(names.values())
    if not join_files and any(n > 1 for n in counts.values()):  # only the same file under two spellings, or a name like "x.txt" as a stem
        seen: Counter[str] = Counter()
        for key, name in names.items():
            if counts[name] > 1:
                seen[name] += 1
                if seen[name] > 1:
                    names[key] = f"{name}~{seen[name]}"
    return names


def encode(frame: pd.DataFrame, fmt: str, raw_cells: bool = False) -> Any:
    """A frame in its output form, without a header: CSV or JSON Lines text, or an Arrow table.

    Workers encode what they tagged, so the parent only appends; that keeps the parent,
    which shares the cores with the workers, nearly idle. CSV text cells are made
    spreadsheet-safe (see :func:`~mentalize_nlp.output.spreadsheet_safe`) unless
    ``raw_cells``; Parquet and JSON Lines always hold the text as it is.
    """
    if fmt == "parquet":
        import pyarrow as pa

        if "turn" in frame and frame["turn"].dtype == object:  # a column of one type: text where some turns are text
            frame = frame.assign(turn=frame["turn"].astype(str))
        return pa.Table.from_pandas(frame, preserve_index=False)
    if fmt == "csv":
        safe = frame if raw_cells else spreadsheet_safe_frame(frame)
        return safe.to_csv(header=False, index=False, lineterminator="\n")
    return frame.to_json(orient="records", lines=True, force_ascii=False) if len(frame) else ""


class _TableWriter:
    """Append encoded chunks to one CSV, JSON Lines or Parquet file, streaming."""

    def __init__(self, path: Path, fmt: str, columns: list[str]) -> None:
        self.path, self.fmt, self.columns = path, fmt, columns
        self._handle: Any = None
        self._parquet: Any = None

    def write(self, encoded: Any) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, encoded.schema)
            schema = self._parquet.schema
            if "turn" in encoded.column_names and encoded.schema.field("turn").type != schema.field("turn").type:
                schema = self._text_turns(schema)
            self._parquet.write_table(encoded.cast(schema))
            return
        if self._handle is None:
            self._handle = open(self.path, "w", encoding="utf-8", newline="")
            if self.fmt == "csv":
                pd.DataFrame(columns=self.columns).to_csv(self._handle, index=False, lineterminator="\n")
        self._handle.write(encoded)
        if encoded and not encoded.endswith("\n"):
            self._handle.write("\n")

    def _text_turns(self, schema: Any) -> Any:
        """The schema with text turns, the rows written so far rewritten to it: a chunk whose
        turns are text (a ``turn`` column holding "u1") after chunks whose turns were numbers."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        text = schema.set(schema.get_field_index("turn"), pa.field("turn", pa.string()))
        if schema.field("turn").type == pa.string():
            return text
        meta = dict(schema.metadata or {})
        if b"pandas" in meta:  # read back as text too, not as pandas's whole-number type
            info = json.loads(meta[b"pandas"])
            for column in info.get("columns", []):
                if column.get("name") == "turn":
                    column.update(pandas_type="unicode", numpy_type="object", metadata=None)
            meta[b"pandas"] = json.dumps(info).encode()
        text = text.with_metadata(meta)
        self._parquet.close()
        written = pq.read_table(self.path).cast(text)
        self._parquet = pq.ParquetWriter(self.path, text)
        self._parquet.write_table(written)
        return text

    def close(self) -> None:
        if self._handle is None and self._parquet is None:
            self.write(encode(pd.DataFrame(columns=self.columns), self.fmt))
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()


def _utterance_columns(labels: tuple[str, ...]) -> list[str]:
    return ["session", "turn", "speaker", "role", "text", "start", "end", *tag_columns(labels)]


@dataclass(frozen=True)
class ReadOptions:
    """How to read inputs: travels with each chunk to the worker that reads it."""

    columns: Columns = Columns()
    roles: RoleMap | None = None
    max_bytes: int = MAX_BYTES
    encoding: str | None = None
    """Text encoding of every input (``--encoding``); detected per file when ``None``."""


@dataclass
class ChunkResult:
    """What scoring one chunk of files gave: utterance rows, profile rows, failures."""

    paths: list[str]
    rows: list[Any] = field(default_factory=list)
    """Encoded utterance rows (see :func:`encode`), one piece per slice tagged, in input order."""
    utterances: int = 0
    profiles: pd.DataFrame | None = None
    failures: list[Failure] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    """The files each session of the chunk came from."""
    notes: list[SessionNote] = field(default_factory=list)
    """Per session read: encoding, speakers and the reader's warnings."""
    split: set[str] = field(default_factory=set)
    """Sessions tagged in more than one slice: their rows in ``profiles`` are partial."""


@dataclass(frozen=True)
class SessionNote:
    """What a reader learnt about one session that the user should be able to check."""

    session: str
    file: str
    encoding: str
    speakers: str
    warnings: tuple[str, ...]


def _read(path: str, options: ReadOptions, name: str | None) -> list[Session]:
    extra: dict[str, Any] = {} if options.encoding is None else {"encoding": options.encoding}
    sessions = read_transcript(path, columns=options.columns, roles=options.roles, max_bytes=options.max_bytes, **extra)
    if name is not None:
        stem = Path(path).stem
        for session in sessions:
            if session.name == stem:  # named after the file, not by a session column
                session.name = name
    return sessions


class _TimeUp(BaseException):
    """A file ran past its time limit. Not an ``Exception``, so that no reader's or library's
    ``except Exception`` can swallow it on its way out."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block with :class:`_TimeUp` after ``seconds`` (a SIGALRM timer).

    Signals reach only the main thread of a process, so elsewhere (a Dask worker's thread, a
    caller's thread) the block runs without a limit. Workers of ``jobs`` are processes that
    run their work on their main thread, so the limit holds there.
    """
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _failure(path: str, exc: BaseException, doing: str, timeout: float | None) -> Failure:
    """One file's failure, in one line: what went wrong and what to do."""
    if isinstance(exc, TranscriptError):
        return Failure(exc.path, exc.line, exc.reason)
    if isinstance(exc, _TimeUp):
        return Failure(path, None, f"took longer than {timeout:g} s; raise --timeout or split the file.")
    if isinstance(exc, MentalizeError):
        return Failure(path, None, f"could not be {doing}: {exc}")
    said = " ".join(str(exc).split())
    said = f": {said[:300]}{'…' if len(said) > 300 else ''}" if said else ""
    return Failure(
        path, None,
        f"could not be {doing} ({type(exc).__name__}{said}); the file may be damaged: open it and save or export it again. "
        "If it opens correctly, please report this with the output of --debug.",
        detail="".join(traceback.format_exception(exc)),
    )


def _slices(sessions: list[Session], size: int) -> Iterator[list[Session]]:
    """The sessions cut into consecutive slices of at most ``size`` utterances (a long session
    becomes several partial copies of itself)."""
    part: list[Session] = []
    room = size
    for session in sessions:
        turns = session.utterances
        start = 0
        while len(turns) - start > room:
            part.append(dataclasses.replace(session, utterances=turns[start:start + room]))
            yield part
            start += room
            part, room = [], size
        part.append(session if start == 0 else dataclasses.replace(session, utterances=turns[start:]))
        room -= len(turns) - start
    if part:
        yield part


def _units(read: list[tuple[str, list[Session]]], size: int) -> Iterator[list[tuple[str, list[Session]]]]:
    """Consecutive files gathered until they hold ``size`` utterances: each unit is tagged in one
    go (one slice, or for a long file, its slices one after the other)."""
    unit: list[tuple[str, list[Session]]] = []
    count = 0
    for path, sessions in read:
        n = sum(len(s.utterances) for s in sessions)
        if unit and count + n > size:
            yield unit
            unit, count = [], 0
        unit.append((path, sessions))
        count += n
    if unit:
        yield unit


@dataclass
class _Tagged:
    rows: list[Any]
    profiles: list[pd.DataFrame]
    slices: Counter[str]
    utterances: int


def _tag(tagger: Tagger, sessions: list[Session], fmt: str, raw_cells: bool, size: int) -> _Tagged:
    """Tag and profile sessions a slice at a time, encoding each slice's rows as it is done."""
    columns = _utterance_columns(tagger.labels)
    done = _Tagged([], [], Counter(), 0)
    for part in _slices(sessions, size):
        with warnings.catch_warnings():  # a batch joins files on purpose (--join-files, a session column), and says so
            warnings.simplefilter("ignore", JoinedSessionsWarning)
            frame = tagger.tag_sessions(part)[columns]
        done.rows.append(encode(frame, fmt, raw_cells))
        done.profiles.append(profile(frame, tagger.labels))
        done.slices.update({s.name for s in part if s.utterances})
        done.utterances += len(frame)
    return done


def score_chunk(paths: list[str], tagger: Tagger, options: ReadOptions, fmt: str = "csv",
                names: dict[str, str] | None = None, *, timeout: float | None = None, raw_cells: bool = False,
                size: int | None = None) -> ChunkResult:
    """Read, tag and profile consecutive files; a file that fails, whatever the reason, is named
    and the rest go on.

    Each file is read within ``timeout`` seconds. Files are then tagged a unit at a time:
    consecutive files up to ``size`` utterances (:data:`SLICE` by default) within ``timeout``
    seconds, or one long file in slices of ``size``, within ``timeout`` seconds per slice.
    Should a unit fail, its files are tagged one by one, so only the file at fault is lost.
    """
    size = size or SLICE
    result = ChunkResult(paths=paths)
    read: list[tuple[str, list[Session]]] = []
    for path in paths:
        try:
            with _time_limit(timeout):
                read.append((path, _read(path, options, (names or {}).get(path))))
        except (Exception, _TimeUp) as exc:  # noqa: BLE001 - whatever fails is this file's failure, not the batch's
            result.failures.append(_failure(path, exc, "read", timeout))
    _number_on(read, names or {})
    profiles: list[pd.DataFrame] = []
    slices: Counter[str] = Counter()

    def tag(files: list[tuple[str, list[Session]]]) -> _Tagged:
        sessions = [s for _, file_sessions in files for s in file_sessions]
        slices = -(-sum(len(s.utterances) for s in sessions) // size)
        with _time_limit(timeout * max(slices, 1) if timeout else None):
            return _tag(tagger, sessions, fmt, raw_cells, size)

    def keep(files: list[tuple[str, list[Session]]], tagged: _Tagged) -> None:
        result.rows.extend(tagged.rows)
        profiles.extend(tagged.profiles)
        slices.update(tagged.slices)
        result.utterances += tagged.utterances
        for path, file_sessions in files:
            for session in file_sessions:
                result.sources.setdefault(session.name, []).append(path)
                speakers = dict.fromkeys(f"{u.speaker} ({u.role or 'other'})" for u in session.utterances)
                result.notes.append(SessionNote(session.name, path, session.encoding, "; ".join(speakers), tuple(session.warnings)))

    for unit in _units(read, size):
        try:
            tagged = tag(unit)
        except (Exception, _TimeUp) as exc:  # noqa: BLE001 - as above
            if len(unit) == 1:
                result.failures.append(_failure(unit[0][0], exc, "tagged", timeout))
                continue
            for file in unit:  # find the file at fault
                try:
                    alone = tag([file])
                except (Exception, _TimeUp) as exc_alone:  # noqa: BLE001 - as above
                    result.failures.append(_failure(file[0], exc_alone, "tagged", timeout))
                else:
                    keep([file], alone)
        else:
            keep(unit, tagged)
    if profiles:
        result.profiles = pd.concat(profiles, ignore_index=True) if len(profiles) > 1 else profiles[0]
    result.split = {name for name, n in slices.items() if n > 1}
    return result


_WORKER: dict[str | None, Tagger] = {}


@dataclass(frozen=True)
class _Work:
    """How every chunk of a run is scored; travels with each chunk to the worker that scores it."""

    model: str | None
    options: ReadOptions
    fmt: str
    timeout: float | None
    raw_cells: bool


def _worker_score(work: _Work, paths: list[str], names: dict[str, str] | None = None) -> ChunkResult:
    """Score a chunk in a worker process, loading the tagger once per process and model."""
    if work.model not in _WORKER:
        _WORKER[work.model] = load(work.model)
    return score_chunk(paths, _WORKER[work.model], work.options, work.fmt, names, timeout=work.timeout, raw_cells=work.raw_cells)


def _chunks(paths: Iterable[Path], size: int, names: dict[str, str] | None = None) -> Iterator[list[str]]:
    """Consecutive paths, grouped until their files reach ``size`` bytes; with ``names``, the
    files of one session name (``--join-files``) are gathered, in the order of the first, into
    one chunk, so their turns can be numbered on across files."""
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(names.get(str(path), str(path)) if names else str(path), []).append(path)
    chunk: list[str] = []
    total = 0
    for group in groups.values():
        for path in group:
            chunk.append(str(path))
            try:
                total += path.stat().st_size
            except OSError:
                pass  # the reader reports it
        if total >= size:
            yield chunk
            chunk, total = [], 0
    if chunk:
        yield chunk


def _number_on(read: list[tuple[str, list[Session]]], names: dict[str, str]) -> None:
    """Turns of a session joined from several files by their name (``--join-files``, which
    puts them in one chunk), numbered by position in each file, carry on from the files
    before (0, 1, 2 and then 3, 4 …), so that a session's turns stay distinct; turns from a
    table's turn column, and sessions a table's session column names, are left as they are."""
    count: dict[str, int] = {}
    for path, sessions in read:
        for session in sessions:
            if session.name != names.get(path):
                continue
            turns = session.utterances
            before = count.get(session.name, 0)
            if before and all(u.turn == k for k, u in enumerate(turns)):
                for u in turns:
                    u.turn = int(u.turn) + before
            count[session.name] = before + len(turns)


def score_inputs(
    inputs: Iterable[str | Path] | Inputs,
    out: str | Path,
    tagger: Tagger | None = None,
    *,
    model: str | None = None,
    columns: Columns = Columns(),
    roles: RoleMap | None = None,
    max_bytes: int = MAX_BYTES,
    encoding: str | None = None,
    force: bool = False,
    join_files: bool = False,
    fmt: str = "csv",
    jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    chunk_bytes: int | None = None,
    timeout: float | None = None,
    raw_cells: bool = False,
    finish: Callable[[Path, BatchResult], None] | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> BatchResult:
    """Score transcript files and folders into ``out``: utterances, profiles and ``errors.csv``.

    Each file is its own session (or sessions, by a table's ``session`` column), named by
    :func:`session_names`: the file's stem, qualified by its folders or extension only where
    two files of the batch share a stem. The output folder is never read as input, and is
    marked with a ``.mentalize-output`` file so that a later ``force`` may write over it.

    The results are one set: ``out`` is locked for the run (a second run into it is refused
    at once), what an interrupted run left beside it is removed, everything is written into a
    temporary folder beside it, and that folder replaces ``out`` in one step once complete.
    Files in ``out`` that are not results of ``mentalize score`` (the report, your own notes)
    are carried into the new set. Should the run fail or be stopped, ``out`` is as it was.

    Args:
        inputs: Files or folders (read recursively), or the :class:`Inputs` of
            :func:`list_inputs`.
        out: The output folder, created if missing.
        tagger: A loaded tagger for in-process scoring; loaded from ``model`` when omitted.
        model: Model folder (the shipped model when ``None``); what workers load.
        columns: Column mapping for tabular inputs.
        roles: Role overrides.
        max_bytes: Largest input file read.
        encoding: Text encoding of every input; detected per file when ``None``.
        force: Overwrite outputs already in ``out`` (only if mentalize-nlp wrote them).
        join_files: Name every file by its stem alone, so same-named files form one session.
        fmt: ``csv``, ``parquet`` or ``jsonl`` for the utterance and profile tables.
        jobs: Worker processes (``local`` engine); 1 scores in this process.
        engine: ``local``, or ``dask`` to score on the cluster at ``scheduler``.
        scheduler: Address of a running Dask scheduler (``dask`` engine).
        chunk_bytes: Input bytes gathered from consecutive files into one chunk, read and
            tagged together (by one worker): bounds memory while amortising the per-call
            cost. A file is never split between workers, so parallelism is across files; a
            long file is tagged in slices of :data:`SLICE` utterances.
        timeout: Seconds a file may take to be read, and again to be tagged (a long file:
            per :data:`SLICE` utterances), before it becomes a failure; no limit when
            ``None`` or 0. Enforced where the work runs on a process's main thread (this
            process, or the ``jobs`` workers), not on Dask.
        raw_cells: Write CSV text cells as they are, even those a spreadsheet would run as
            formulas (by default they get a ``'`` in front; see
            :func:`~mentalize_nlp.output.spreadsheet_safe`).
        finish: Called with the temporary folder and the result once the tables are
            written, before the folder is put in place: to add a report to the set, say.
            Should it raise, nothing is put in place.
        on_file: Called after each input file is scored, for progress display.

    Raises:
        OutputError: ``out`` cannot be written as asked (see :func:`check_output_dir`), or
            another run holds it (:class:`~mentalize_nlp.output.FolderLocked`).
    """
    if fmt not in FORMATS:
        raise OutputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if engine not in ENGINES:
        raise OutputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    out = Path(out)
    target = Path(os.path.realpath(out)) if out.is_symlink() else out  # replace the folder, not the link to it
    with folder_lock(target):
        remove_leftovers(target)
        if isinstance(inputs, Inputs):
            found = inputs
        else:
            inputs = list(inputs)
            check_output_dir(out, force, fmt, inputs)
            found = list_inputs(inputs, out, join_files=join_files)
        check_output_dir(out, force, fmt, found.files)
        work = _Work(model, ReadOptions(columns=columns, roles=roles, max_bytes=max_bytes, encoding=encoding), fmt,
                     timeout or None, raw_cells)
        with atomic_folder(target) as tmp:
            _carry_over(target, tmp, fmt)
            _mark(tmp, raw_cells, _model_name(model, tagger))
            result = BatchResult(out=tmp, skipped=list(found.skipped), failures=list(found.failures))
            _score(found, tmp, tagger, work, result, jobs=jobs, engine=engine, scheduler=scheduler, join_files=join_files,
                   chunk_bytes=chunk_bytes, on_file=on_file)
            if finish is not None:
                finish(tmp, result)
        result.out = out
    return result


def _score(found: Inputs, tmp: Path, tagger: Tagger | None, work: _Work, result: BatchResult, *, jobs: int, engine: str,
           scheduler: str | None, join_files: bool, chunk_bytes: int | None, on_file: Callable[[Path], None] | None) -> None:
    parallel = engine == "dask" or jobs > 1
    names = found.names or session_names(found.files, join_files=join_files)
    chunks = ((c, {p: names[p] for p in c if p in names})
              for c in _chunks(found.files, chunk_bytes or (64_000 if parallel else 256_000), names if join_files else None))
    write = partial(_write, tmp, work.fmt, result=result, on_file=on_file, raw_cells=work.raw_cells)
    if not parallel:
        local = tagger or load(work.model)
        write(local.labels, (score_chunk(c, local, work.options, work.fmt, n, timeout=work.timeout, raw_cells=work.raw_cells)
                             for c, n in chunks))
        return
    if engine == "dask":
        from .classifier import load as load_classifier

        labels = tagger.labels if tagger else tuple(load_classifier(work.model).labels)
        _run_dask(scheduler, work, chunks, partial(write, labels))
        return
    # Load once here: where workers are forked they inherit the loaded tagger instead of each building one.
    cached = _WORKER.get(work.model)
    _WORKER[work.model] = tagger or cached or load(work.model)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=worker_init, initargs=(os.getpid(),))
    try:
        write(_WORKER[work.model].labels, _in_order(pool.submit, work, chunks, 2 * jobs))
    except BaseException:
        _stop(pool)
        raise
    finally:
        pool.shutdown()
        if tagger is not None:  # a caller's own tagger is lent to this run's workers only
            del _WORKER[work.model]
            if cached is not None:
                _WORKER[work.model] = cached


def _stop(pool: ProcessPoolExecutor) -> None:
    """End a pool's workers now, mid-task: the run is failing or was stopped, and waiting for
    their chunks would keep it (and them) alive for nothing."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)  # shutdown() forgets it
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(5)
    # A worker ended half-way through sending its result leaves the pool's manager thread
    # waiting for the rest of the message, and the interpreter waits for that thread at
    # exit: the run would hang after its clean-up. This process holds the last write end of
    # the result pipe once every worker is gone; closing it ends that wait with end-of-file.
    if writer is not None and not any(process.is_alive() for process in processes):
        writer.close()


def _carry_over(old: Path, new: Path, fmt: str) -> None:
    """Link everything in ``old`` that is not a result of ``mentalize score`` (the user's own
    files, in the report folder too) into ``new``; results of every format, report pages
    and leftovers stay behind, as the report would describe results no longer there."""
    if not old.is_dir():
        return
    results = {*_all_output_names(fmt), SESSIONS_NAME, MARKER}
    for entry in os.scandir(old):
        if entry.name in results or (entry.name.startswith(".") and entry.name.endswith(".part")):
            continue
        if entry.name == "report" and entry.is_dir(follow_symlinks=False):
            link_own_files(old / entry.name, new / entry.name)
            continue
        link_tree(old / entry.name, new / entry.name)


def _model_name(model: str | Path | None, tagger: Tagger | None) -> str:
    """What the marker says tagged a batch: ``shipped``, a model folder, or :data:`IN_PYTHON`."""
    from .classifier import default_model_dir

    folder = Path(model) if model is not None else default_model_dir() if tagger is None else tagger.classifier.folder
    if folder is None:
        return IN_PYTHON
    return "shipped" if os.path.realpath(folder) == os.path.realpath(default_model_dir()) else os.path.abspath(folder)


def _mark(out: Path, raw_cells: bool, model: str = "shipped") -> None:
    """Mark ``out`` as written by mentalize-nlp, so that ``--force`` may later write over it, and
    say how its CSV cells were written and which model tagged it (:func:`~mentalize_nlp.output.model_used`)."""
    from . import __version__

    cells = ("CSV cells are written as they are (--raw-cells)." if raw_cells else
             "CSV text cells that begin with = + - @, a tab or a carriage return have a ' in front, so that a "
             "spreadsheet shows them as text; --raw-cells, --format parquet or --format jsonl give the text as it is.")
    (out / MARKER).write_text(
        f"Written by mentalize-nlp {__version__}. 'mentalize score --force' may write over the results in this folder.\n"
        f"{cells}\n"
        f"{MODEL_LINE}{model}\n",
        encoding="utf-8",
    )


def _in_order(submit: Callable[..., Future], work: _Work, chunks: Iterator[tuple[list[str], dict[str, str]]], window: int):
    """Submit chunks keeping at most ``window`` in flight, and yield their results in input order."""
    pending: deque[Future] = deque()
    for chunk, names in chunks:
        pending.append(submit(_worker_score, work, chunk, names))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _run_dask(scheduler: str | None, work: _Work, chunks: Iterator[tuple[list[str], dict[str, str]]],
              write: Callable[[Iterable[ChunkResult]], BatchResult]) -> None:
    if not scheduler:
        raise OutputError("--engine dask needs --scheduler ADDRESS of a running Dask scheduler (e.g. tcp://10.0.0.5:8786).")
    try:
        from distributed import Client
    except ImportError as exc:
        raise OutputError("--engine dask needs the Dask extra: pip install 'mentalize-nlp[dask]'.") from exc
    with Client(scheduler) as client:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        submit = partial(client.submit, pure=False)
        write(_in_order(submit, work, chunks, 2 * workers))


def _read_back(path: Path, fmt: str, sessions: set[str], labels: tuple[str, ...], raw_cells: bool = False) -> pd.DataFrame:
    """The written utterance rows of ``sessions``, typed as the tagger gave them: only the
    columns a profile needs, read a part of the file at a time, so memory stays with the rows
    of those sessions whatever the size of the file."""
    wanted = ["session", "turn", "speaker", "role", *labels, *(f"p_{l}" for l in labels), "needs_review",
              *(f"evidence_{l}" for l in labels)]
    if fmt == "parquet":
        frame = pd.read_parquet(path, columns=wanted, filters=[("session", "in", sorted(sessions))])
    else:
        if fmt == "csv":
            parts = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=lambda c: c in wanted, chunksize=50_000)
        else:
            parts = pd.read_json(path, lines=True, dtype=False, chunksize=50_000) if path.stat().st_size else iter(())
        kept = []
        for part in parts:
            part = part[[c for c in wanted if c in part.columns]]
            if fmt == "csv" and not raw_cells:
                part = original_text_frame(part)
            kept.append(part[part["session"].astype(str).isin(sessions)])
        frame = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=wanted)
    frame = frame.copy()
    frame["session"] = frame["session"].astype(str)
    for column in (*labels, *(f"p_{l}" for l in labels), "needs_review"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for label in labels:
        frame[label] = frame[label].fillna(0).astype(int)
    return frame


def _write(out: Path, fmt: str, labels: tuple[str, ...], scored: Iterable[ChunkResult], result: BatchResult,
           on_file: Callable[[Path], None] | None, raw_cells: bool = False) -> BatchResult:
    """Write the tables of a run into ``out`` (the run's temporary folder) as the chunks come back."""
    utterances_name, profiles_name, errors_name = output_names(fmt)
    profiles: list[pd.DataFrame] = []
    sources: dict[str, list[str]] = {}
    chunk_of: dict[str, int] = {}
    split: set[str] = set()  # sessions whose rows came back in more than one chunk or slice
    writer = _TableWriter(out / utterances_name, fmt, _utterance_columns(labels))
    try:
        for number, chunk in enumerate(scored):
            result.files += len(chunk.paths)
            result.scored_files += len(chunk.paths) - len({f.path for f in chunk.failures})
            result.failures.extend(chunk.failures)
            result.notes.extend(chunk.notes)
            split |= chunk.split
            for name, paths in chunk.sources.items():
                sources.setdefault(name, []).extend(paths)
                if chunk_of.setdefault(name, number) != number:
                    split.add(name)
            for rows in chunk.rows:
                writer.write(rows)
            if chunk.profiles is not None:
                profiles.append(chunk.profiles)
            result.utterances += chunk.utterances
            if on_file is not None:
                for path in chunk.paths:
                    on_file(Path(path))
    finally:
        writer.close()
    result.joined = {name: paths for name, paths in sources.items() if len(set(paths)) > 1}
    table = pd.concat(profiles, ignore_index=True) if profiles else profile(pd.DataFrame(), labels)
    if split:  # a session spread over chunks or slices is profiled again from all its rows
        order = {name: k for k, name in enumerate(pd.unique(table["session"].astype(str)))}
        again = profile(_read_back(out / utterances_name, fmt, split, labels, raw_cells), labels)
        table = pd.concat([table[~table["session"].astype(str).isin(split)], again], ignore_index=True)
        table = table.iloc[sorted(range(len(table)), key=lambda i: order[str(table["session"].iat[i])])].reset_index(drop=True)
    result.sessions = table["session"].nunique()
    profile_writer = _TableWriter(out / profiles_name, fmt, list(table.columns))
    profile_writer.write(encode(table, fmt, raw_cells))
    profile_writer.close()
    with open(out / SESSIONS_NAME, "w", encoding="utf-8", newline="") as handle:
        write_csv_rows(handle, [["session", "file", "encoding", "speakers", "warnings"]], raw=True)
        write_csv_rows(handle, ([n.session, n.file, n.encoding, n.speakers, " | ".join(n.warnings)] for n in result.notes),
                       raw=raw_cells)
    with open(out / errors_name, "w", encoding="utf-8", newline="") as handle:
        write_csv_rows(handle, [["file", "line", "error"]], raw=True)
        write_csv_rows(handle, ([f.path, "" if f.line is None else f.line, f.message] for f in result.failures), raw=raw_cells)
    return result

"""Scoring many transcripts into one output folder, without losing anything to a bad file.

Each input is read on its own; a file that fails is recorded in ``errors.csv`` and the
rest go on. Sessions are tagged in chunks, in this process, in ``jobs`` worker processes,
or on a Dask cluster, and written in input order as each chunk comes back, so memory
stays flat however many sessions there are. Every output file appears only once it is
complete.
"""

from __future__ import annotations

import csv
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import MentalizeError, OutputError, TranscriptError
from .output import atomic_path
from .profiles import profile
from .tagging import Tagger, load, tag_columns
from .transcripts import Columns, RoleMap, Session, find_inputs, read_transcript
from .transcripts.decode import MAX_BYTES

MARKER = ".mentalize-output"
"""Marks a folder that ``mentalize score`` wrote, the only kind ``--force`` writes over."""

FORMATS = ("csv", "parquet", "jsonl")
SESSIONS_NAME = "sessions.csv"
"""Per session read: file, encoding, speakers with their roles, and what to check."""
ENGINES = ("local", "dask")


@dataclass
class Failure:
    """One input that could not be scored."""

    path: str
    line: int | None
    message: str


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
    the output folder, given twice) or, when it could not be read, in ``failures``.
    """
    found = Inputs()
    found.files = list(find_inputs(
        inputs,
        exclude=[out] if out is not None else [],
        on_skip=lambda path, reason: found.skipped.append((str(path), reason)),
        on_error=lambda path, reason: found.failures.append(Failure(str(path), None, reason)),
    ))
    found.names = session_names(found.files, join_files=join_files)
    return found


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


def encode(frame: pd.DataFrame, fmt: str) -> Any:
    """A frame in its output form, without a header: CSV or JSON Lines text, or an Arrow table.

    Workers encode what they tagged, so the parent only appends; that keeps the parent,
    which shares the cores with the workers, nearly idle.
    """
    if fmt == "parquet":
        import pyarrow as pa

        return pa.Table.from_pandas(frame, preserve_index=False)
    if fmt == "csv":
        return frame.to_csv(header=False, index=False, lineterminator="\n")
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
            self._parquet.write_table(encoded.cast(self._parquet.schema))
            return
        if self._handle is None:
            self._handle = open(self.path, "w", encoding="utf-8", newline="")
            if self.fmt == "csv":
                pd.DataFrame(columns=self.columns).to_csv(self._handle, index=False, lineterminator="\n")
        self._handle.write(encoded)
        if encoded and not encoded.endswith("\n"):
            self._handle.write("\n")

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
    rows: Any = None
    utterances: int = 0
    profiles: pd.DataFrame | None = None
    failures: list[Failure] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    """The files each session of the chunk came from."""
    notes: list[SessionNote] = field(default_factory=list)
    """Per session read: encoding, speakers and the reader's warnings."""


@dataclass(frozen=True)
class SessionNote:
    """What a reader learnt about one session that the user should be able to check."""

    session: str
    file: str
    encoding: str
    speakers: str
    warnings: tuple[str, ...]


def _read(path: str, options: ReadOptions, name: str | None) -> list[Session]:
    if os.path.isdir(path):
        raise TranscriptError(path, "is a folder, not a file (was it a file when the inputs were listed, and replaced since?).")
    extra: dict[str, Any] = {} if options.encoding is None else {"encoding": options.encoding}
    sessions = read_transcript(path, columns=options.columns, roles=options.roles, max_bytes=options.max_bytes, **extra)
    if name is not None:
        stem = Path(path).stem
        for session in sessions:
            if session.name == stem:  # named after the file, not by a session column
                session.name = name
    return sessions


def score_chunk(paths: list[str], tagger: Tagger, options: ReadOptions, fmt: str = "csv",
                names: dict[str, str] | None = None) -> ChunkResult:
    """Read, tag and profile consecutive files; a file that fails is named and the rest go on.

    All sessions of the chunk are tagged in one pass; should that fail, they are tagged
    file by file so only the file at fault is lost.
    """
    result = ChunkResult(paths=paths)
    read: list[tuple[str, list[Session]]] = []
    for path in paths:
        try:
            sessions = _read(path, options, (names or {}).get(path))
        except TranscriptError as exc:
            result.failures.append(Failure(exc.path, exc.line, exc.reason))
            continue
        read.append((path, sessions))
        for session in sessions:
            result.sources.setdefault(session.name, []).append(path)
            speakers = dict.fromkeys(f"{u.speaker} ({u.role or 'other'})" for u in session.utterances)
            result.notes.append(SessionNote(session.name, path, session.encoding, "; ".join(speakers), tuple(session.warnings)))
    columns = _utterance_columns(tagger.labels)
    frames: list[pd.DataFrame] = []
    try:
        frames = [tagger.tag_sessions([s for _, sessions in read for s in sessions])[columns]] if read else []
    except (MentalizeError, ValueError, UnicodeError):
        for path, sessions in read:
            try:
                frames.append(tagger.tag_sessions(sessions)[columns])
            except (MentalizeError, ValueError, UnicodeError) as exc:
                result.failures.append(Failure(path, None, f"could not be tagged ({type(exc).__name__}: {exc})."))
                for session in sessions:
                    if path in result.sources.get(session.name, []):
                        result.sources[session.name].remove(path)
    if frames:
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        result.rows, result.utterances = encode(frame, fmt), len(frame)
        result.profiles = profile(frame, tagger.labels)
    return result


_WORKER: dict[str | None, Tagger] = {}


def _worker_score(model: str | None, paths: list[str], options: ReadOptions, fmt: str,
                  names: dict[str, str] | None = None) -> ChunkResult:
    """Score a chunk in a worker process, loading the tagger once per process and model."""
    if model not in _WORKER:
        _WORKER[model] = load(model)
    return score_chunk(paths, _WORKER[model], options, fmt, names)


def _chunks(paths: Iterable[Path], size: int) -> Iterator[list[str]]:
    """Consecutive paths, grouped until their files reach ``size`` bytes."""
    chunk: list[str] = []
    total = 0
    for path in paths:
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
    on_file: Callable[[Path], None] | None = None,
) -> BatchResult:
    """Score transcript files and folders into ``out``: utterances, profiles and ``errors.csv``.

    Each file is its own session (or sessions, by a table's ``session`` column), named by
    :func:`session_names`: the file's stem, qualified by its folders or extension only where
    two files of the batch share a stem. The output folder is never read as input, and is
    marked with a ``.mentalize-output`` file so that a later ``force`` may write over it.

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
            cost. A file is never split, so parallelism is across files.
        on_file: Called after each input file is scored, for progress display.
    """
    if fmt not in FORMATS:
        raise OutputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if engine not in ENGINES:
        raise OutputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    out = Path(out)
    if isinstance(inputs, Inputs):
        found = inputs
    else:
        inputs = list(inputs)
        check_output_dir(out, force, fmt, inputs)
        found = list_inputs(inputs, out, join_files=join_files)
    check_output_dir(out, force, fmt, found.files)
    out.mkdir(parents=True, exist_ok=True)
    _mark(out)
    result = BatchResult(out=out, skipped=list(found.skipped), failures=list(found.failures))
    options = ReadOptions(columns=columns, roles=roles, max_bytes=max_bytes, encoding=encoding)
    parallel = engine == "dask" or jobs > 1
    names = found.names or session_names(found.files, join_files=join_files)
    chunks = ((c, {p: names[p] for p in c if p in names})
              for c in _chunks(found.files, chunk_bytes or (64_000 if parallel else 256_000)))
    if not parallel:
        local = tagger or load(model)
        return _write(out, fmt, local.labels, (score_chunk(c, local, options, fmt, n) for c, n in chunks), result, on_file)
    if engine == "dask":
        from .classifier import load as load_classifier

        labels = tagger.labels if tagger else tuple(load_classifier(model).labels)
        return _run_dask(scheduler, model, options, chunks, out, fmt, labels, result, on_file)
    # Load once here: where workers are forked they inherit the loaded tagger instead of each building one.
    cached = _WORKER.get(model)
    _WORKER[model] = tagger or cached or load(model)
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            scored = _in_order(pool.submit, model, options, fmt, chunks, 2 * jobs)
            return _write(out, fmt, _WORKER[model].labels, scored, result, on_file)
    finally:
        if tagger is not None:  # a caller's own tagger is lent to this run's workers only
            del _WORKER[model]
            if cached is not None:
                _WORKER[model] = cached


def _mark(out: Path) -> None:
    """Mark ``out`` as written by mentalize-nlp, so that ``--force`` may later write over it."""
    from . import __version__

    marker = out / MARKER
    if not marker.exists():
        marker.write_text(
            f"Written by mentalize-nlp {__version__}. 'mentalize score --force' may write over the results in this folder.\n",
            encoding="utf-8",
        )


def _in_order(submit: Callable[..., Future], model: str | None, options: ReadOptions, fmt: str,
              chunks: Iterator[tuple[list[str], dict[str, str]]], window: int):
    """Submit chunks keeping at most ``window`` in flight, and yield their results in input order."""
    pending: deque[Future] = deque()
    for chunk, names in chunks:
        pending.append(submit(_worker_score, model, chunk, options, fmt, names))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _run_dask(scheduler: str | None, model: str | None, options: ReadOptions, chunks: Iterator[tuple[list[str], dict[str, str]]],
              out: Path, fmt: str, labels: tuple[str, ...], result: BatchResult, on_file: Callable[[Path], None] | None) -> BatchResult:
    if not scheduler:
        raise OutputError("--engine dask needs --scheduler ADDRESS of a running Dask scheduler (e.g. tcp://10.0.0.5:8786).")
    try:
        from distributed import Client
    except ImportError as exc:
        raise OutputError("--engine dask needs the Dask extra: pip install 'mentalize-nlp[dask]'.") from exc
    with Client(scheduler) as client:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        submit = partial(client.submit, pure=False)
        return _write(out, fmt, labels, _in_order(submit, model, options, fmt, chunks, 2 * workers), result, on_file)


def _read_back(path: Path, fmt: str, sessions: set[str], labels: tuple[str, ...]) -> pd.DataFrame:
    """The written utterance rows of ``sessions``, typed as the tagger gave them."""
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elif fmt == "jsonl":
        frame = pd.read_json(path, lines=True, dtype=False) if path.stat().st_size else pd.DataFrame()
    else:
        frame = pd.read_parquet(path)
    frame = frame[frame["session"].astype(str).isin(sessions)].copy()
    frame["session"] = frame["session"].astype(str)
    for column in (*labels, *(f"p_{l}" for l in labels), "needs_review"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for label in labels:
        frame[label] = frame[label].fillna(0).astype(int)
    return frame


def _write(out: Path, fmt: str, labels: tuple[str, ...], scored: Iterable[ChunkResult], result: BatchResult,
           on_file: Callable[[Path], None] | None) -> BatchResult:
    utterances_name, profiles_name, errors_name = output_names(fmt)
    profiles: list[pd.DataFrame] = []
    sources: dict[str, list[str]] = {}
    chunk_of: dict[str, int] = {}
    split: set[str] = set()  # sessions whose rows came back in more than one chunk
    with atomic_path(out / utterances_name) as utterances_tmp:
        writer = _TableWriter(utterances_tmp, fmt, _utterance_columns(labels))
        try:
            for number, chunk in enumerate(scored):
                result.files += len(chunk.paths)
                result.scored_files += len(chunk.paths) - len({f.path for f in chunk.failures})
                result.failures.extend(chunk.failures)
                result.notes.extend(chunk.notes)
                for name, paths in chunk.sources.items():
                    sources.setdefault(name, []).extend(paths)
                    if chunk_of.setdefault(name, number) != number:
                        split.add(name)
                if chunk.profiles is not None:
                    writer.write(chunk.rows)
                    profiles.append(chunk.profiles)
                    result.utterances += chunk.utterances
                if on_file is not None:
                    for path in chunk.paths:
                        on_file(Path(path))
        finally:
            writer.close()
        result.joined = {name: paths for name, paths in sources.items() if len(set(paths)) > 1}
        table = pd.concat(profiles, ignore_index=True) if profiles else profile(pd.DataFrame(), labels)
        if split:  # a session spread over chunks is profiled again from all its rows
            order = {name: k for k, name in enumerate(pd.unique(table["session"].astype(str)))}
            again = profile(_read_back(utterances_tmp, fmt, split, labels), labels)
            table = pd.concat([table[~table["session"].astype(str).isin(split)], again], ignore_index=True)
            table = table.iloc[sorted(range(len(table)), key=lambda i: order[str(table["session"].iat[i])])].reset_index(drop=True)
        result.sessions = table["session"].nunique()
        with atomic_path(out / profiles_name) as tmp:
            profile_writer = _TableWriter(tmp, fmt, list(table.columns))
            profile_writer.write(encode(table, fmt))
            profile_writer.close()
        with atomic_path(out / SESSIONS_NAME) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                rows = csv.writer(handle)
                rows.writerow(["session", "file", "encoding", "speakers", "warnings"])
                for note in result.notes:
                    rows.writerow([note.session, note.file, note.encoding, note.speakers, " | ".join(note.warnings)])
        with atomic_path(out / errors_name) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                rows = csv.writer(handle)
                rows.writerow(["file", "line", "error"])
                for failure in result.failures:
                    rows.writerow([failure.path, "" if failure.line is None else failure.line, failure.message])
    for other in FORMATS:  # results of another format, from an earlier run, would be read in place of these
        if other != fmt:
            for name in output_names(other)[:2]:
                (out / name).unlink(missing_ok=True)
    return result

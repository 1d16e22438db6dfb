"""Scoring many transcripts into one output folder, without losing anything to a bad file.

Each input is read on its own; a file that fails is recorded in ``errors.csv`` and the
rest go on. Sessions are tagged in chunks, in this process, in ``jobs`` worker processes,
or on a Dask cluster, and written in input order as each chunk comes back, so memory
stays flat however many sessions there are. Every output file appears only once it is
complete.
"""

from __future__ import annotations

import csv
from collections import deque
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

FORMATS = ("csv", "parquet", "jsonl")
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
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def output_names(fmt: str = "csv") -> tuple[str, str, str]:
    """The utterance, profile and error file names for an output format (errors are always CSV)."""
    return f"utterances.{fmt}", f"profiles.{fmt}", "errors.csv"


def check_output_dir(out: Path, force: bool, fmt: str = "csv") -> None:
    """Refuse to mix new results with old ones unless ``force`` is given."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; choose another --out.")
    existing = [name for name in output_names(fmt) if (out / name).exists()]
    if existing and not force:
        raise OutputError(f"{out} already holds {', '.join(existing)}; pass --force to overwrite, or choose another --out.")


def encode(frame: pd.DataFrame, fmt: str) -> Any:
    """A frame in its output form, without a header: CSV or JSON Lines text, or an Arrow table.

    Workers encode what they tagged, so the parent only appends; that keeps the parent,
    which shares the cores with the workers, nearly idle.
    """
    if fmt == "parquet":
        import pyarrow as pa

        return pa.Table.from_pandas(frame.astype({c: str for c in ("turn", "start", "end") if c in frame}), preserve_index=False)
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


@dataclass
class ChunkResult:
    """What scoring one chunk of files gave: utterance rows, profile rows, failures."""

    paths: list[str]
    rows: Any = None
    utterances: int = 0
    profiles: pd.DataFrame | None = None
    failures: list[Failure] = field(default_factory=list)


def score_chunk(paths: list[str], tagger: Tagger, options: ReadOptions, fmt: str = "csv") -> ChunkResult:
    """Read, tag and profile consecutive files; a file that fails is named and the rest go on.

    All sessions of the chunk are tagged in one pass; should that fail, they are tagged
    file by file so only the file at fault is lost.
    """
    result = ChunkResult(paths=paths)
    read: list[tuple[str, list[Session]]] = []
    for path in paths:
        try:
            read.append((path, read_transcript(path, columns=options.columns, roles=options.roles, max_bytes=options.max_bytes)))
        except TranscriptError as exc:
            result.failures.append(Failure(exc.path, exc.line, exc.reason))
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
    if frames:
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        result.rows, result.utterances = encode(frame, fmt), len(frame)
        result.profiles = profile(frame, tagger.labels)
    return result


_WORKER: dict[str | None, Tagger] = {}


def _worker_score(model: str | None, paths: list[str], options: ReadOptions, fmt: str) -> ChunkResult:
    """Score a chunk in a worker process, loading the tagger once per process and model."""
    if model not in _WORKER:
        _WORKER[model] = load(model)
    return score_chunk(paths, _WORKER[model], options, fmt)


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
    inputs: Iterable[str | Path],
    out: str | Path,
    tagger: Tagger | None = None,
    *,
    model: str | None = None,
    columns: Columns = Columns(),
    roles: RoleMap | None = None,
    max_bytes: int = MAX_BYTES,
    force: bool = False,
    fmt: str = "csv",
    jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    chunk_bytes: int | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> BatchResult:
    """Score transcript files and folders into ``out``: utterances, profiles and ``errors.csv``.

    Args:
        inputs: Files or folders (read recursively).
        out: The output folder, created if missing.
        tagger: A loaded tagger for in-process scoring; loaded from ``model`` when omitted.
        model: Model folder (the shipped model when ``None``); what workers load.
        columns: Column mapping for tabular inputs.
        roles: Role overrides.
        max_bytes: Largest input file read.
        force: Overwrite outputs already in ``out``.
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
    check_output_dir(out, force, fmt)
    out.mkdir(parents=True, exist_ok=True)
    result = BatchResult(out=out)
    options = ReadOptions(columns=columns, roles=roles, max_bytes=max_bytes)
    parallel = engine == "dask" or jobs > 1
    chunks = _chunks(find_inputs(inputs), chunk_bytes or (64_000 if parallel else 256_000))
    if not parallel:
        local = tagger or load(model)
        return _write(out, fmt, local.labels, (score_chunk(c, local, options, fmt) for c in chunks), result, on_file)
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


def _in_order(submit: Callable[..., Future], model: str | None, options: ReadOptions, fmt: str, chunks: Iterator[list[str]],
              window: int):
    """Submit chunks keeping at most ``window`` in flight, and yield their results in input order."""
    pending: deque[Future] = deque()
    for chunk in chunks:
        pending.append(submit(_worker_score, model, chunk, options, fmt))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _run_dask(scheduler: str | None, model: str | None, options: ReadOptions, chunks: Iterator[list[str]], out: Path,
              fmt: str, labels: tuple[str, ...], result: BatchResult, on_file: Callable[[Path], None] | None) -> BatchResult:
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


def _write(out: Path, fmt: str, labels: tuple[str, ...], scored: Iterable[ChunkResult], result: BatchResult,
           on_file: Callable[[Path], None] | None) -> BatchResult:
    utterances_name, profiles_name, errors_name = output_names(fmt)
    profiles: list[pd.DataFrame] = []
    with atomic_path(out / utterances_name) as utterances_tmp:
        writer = _TableWriter(utterances_tmp, fmt, _utterance_columns(labels))
        try:
            for chunk in scored:
                result.files += len(chunk.paths)
                result.failures.extend(chunk.failures)
                if chunk.profiles is not None:
                    writer.write(chunk.rows)
                    profiles.append(chunk.profiles)
                    result.sessions += chunk.profiles["session"].nunique()
                    result.utterances += chunk.utterances
                if on_file is not None:
                    for path in chunk.paths:
                        on_file(Path(path))
        finally:
            writer.close()
        with atomic_path(out / profiles_name) as tmp:
            table = pd.concat(profiles, ignore_index=True) if profiles else profile(pd.DataFrame(), labels)
            profile_writer = _TableWriter(tmp, fmt, list(table.columns))
            profile_writer.write(encode(table, fmt))
            profile_writer.close()
        with atomic_path(out / errors_name) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                rows = csv.writer(handle)
                rows.writerow(["file", "line", "error"])
                for failure in result.failures:
                    rows.writerow([failure.path, "" if failure.line is None else failure.line, failure.message])
    return result

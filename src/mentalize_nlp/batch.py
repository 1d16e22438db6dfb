"""Scoring many transcripts into one output folder, without losing anything to a bad file.

Each input is read and tagged on its own; a file that fails is recorded in
``errors.csv`` and the rest go on. Utterance rows are streamed to a temporary file, so
memory stays flat however many sessions there are, and every output appears only once it
is complete.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import MentalizeError, OutputError, TranscriptError
from .output import atomic_path
from .profiles import profile
from .tagging import Tagger
from .transcripts import Columns, RoleMap, Session, find_inputs, read_transcript
from .transcripts.decode import MAX_BYTES

OUTPUTS = ("utterances.csv", "profiles.csv", "errors.csv")


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


def check_output_dir(out: Path, force: bool) -> None:
    """Refuse to mix new results with old ones unless ``force`` is given."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; choose another --out.")
    existing = [name for name in OUTPUTS if (out / name).exists()]
    if existing and not force:
        raise OutputError(f"{out} already holds {', '.join(existing)}; pass --force to overwrite, or choose another --out.")


def score_inputs(
    inputs: Iterable[str | Path],
    out: str | Path,
    tagger: Tagger,
    *,
    columns: Columns = Columns(),
    roles: RoleMap | None = None,
    max_bytes: int = MAX_BYTES,
    force: bool = False,
    on_file: Callable[[Path], None] | None = None,
    chunk_size: int = 4000,
) -> BatchResult:
    """Score transcript files and folders into ``out`` (``utterances.csv``, ``profiles.csv``, ``errors.csv``).

    Args:
        inputs: Files or folders (read recursively).
        out: The output folder, created if missing.
        tagger: A loaded :class:`~mentalize_nlp.tagging.Tagger`.
        columns: Column mapping for tabular inputs.
        roles: Role overrides.
        max_bytes: Largest input file read.
        force: Overwrite outputs already in ``out``.
        on_file: Called after each input file, for progress display.
        chunk_size: Utterances gathered from consecutive files before they are tagged
            together; bounds memory while amortising the per-call cost.
    """
    out = Path(out)
    check_output_dir(out, force)
    out.mkdir(parents=True, exist_ok=True)
    result = BatchResult(out=out)
    profiles: list[pd.DataFrame] = []
    with atomic_path(out / "utterances.csv") as utterances_tmp:
        with open(utterances_tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(_utterance_columns(tagger)) + "\n")
            pending: list[tuple[Path, list[Session]]] = []

            def flush() -> None:
                for frame in _tag_chunk(pending, tagger, result):
                    frame.to_csv(handle, header=False, index=False)
                    profiles.append(profile(frame))
                    result.sessions += frame["session"].nunique()
                    result.utterances += len(frame)
                pending.clear()

            for path in find_inputs(inputs):
                result.files += 1
                try:
                    pending.append((path, read_transcript(path, columns=columns, roles=roles, max_bytes=max_bytes)))
                except TranscriptError as exc:
                    result.failures.append(Failure(exc.path, exc.line, exc.reason))
                if sum(len(s) for _, sessions in pending for s in sessions) >= chunk_size:
                    flush()
                if on_file is not None:
                    on_file(path)
            flush()
        with atomic_path(out / "profiles.csv") as tmp:
            table = pd.concat(profiles, ignore_index=True) if profiles else profile(pd.DataFrame())
            table.to_csv(tmp, index=False)
        with atomic_path(out / "errors.csv") as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["file", "line", "error"])
                for failure in result.failures:
                    writer.writerow([failure.path, "" if failure.line is None else failure.line, failure.message])
    return result


def _tag_chunk(pending: list[tuple[Path, list[Session]]], tagger: Tagger, result: BatchResult) -> list[pd.DataFrame]:
    """Tag the sessions of several files in one pass; if that fails, file by file, so only the culprit is lost."""
    if not pending:
        return []
    if len(pending) > 1:
        try:
            return [tagger.tag_sessions([s for _, sessions in pending for s in sessions])[_utterance_columns(tagger)]]
        except (MentalizeError, ValueError, UnicodeError):
            pass  # retried file by file below, to name the file at fault
    frames = []
    for path, sessions in pending:
        try:
            frames.append(tagger.tag_sessions(sessions)[_utterance_columns(tagger)])
        except (MentalizeError, ValueError, UnicodeError) as exc:
            result.failures.append(Failure(str(path), None, f"could not be tagged ({type(exc).__name__}: {exc})."))
    return frames


def _utterance_columns(tagger: Tagger) -> list[str]:
    labels = tagger.labels
    return [
        "session", "turn", "speaker", "role", "text", "start", "end",
        *labels, *(f"p_{l}" for l in labels), "evidence", *(f"evidence_{l}" for l in labels),
    ]

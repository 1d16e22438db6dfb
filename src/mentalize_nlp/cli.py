"""The ``mentalize`` command: parse options, call one library function, write the result.

Exit status of ``mentalize score``: 0 when every input was scored, 1 when some input failed
(the rest are still written, and each failure is named on stderr and in ``errors.csv``), 2
for a usage error, 3 when the run itself failed (the output folder could not be written or
is in use by another run, the model could not be loaded, the run was stopped): then nothing
was written, and the output folder is as it was.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click

from . import __version__
from .errors import MentalizeError, Terminated
from .labels import LABELS

RUN_FAILED = 3
"""Exit status of a run that failed as a whole, as opposed to 1, some inputs failed."""
DEFAULT_TIMEOUT = 600.0
"""Seconds a file may take to be read, and again to be tagged (per 2,000 turns), in ``mentalize score``."""


class UsageError(click.UsageError):
    """A usage error that the user fixes by changing the command line (exit status 2)."""


class RunError(click.ClickException):
    """The run itself failed, not one of its inputs (exit status 3)."""

    exit_code = RUN_FAILED


def _tagger(model: str | None, error: type[click.ClickException] = click.ClickException):
    from .tagging import load

    try:
        return load(model)
    except MentalizeError as exc:
        raise error(str(exc)) from exc


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` for the block, so that the run unwinds as after
    Ctrl-C: workers ended, the temporary folder removed, the lock released."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: object) -> None:
        raise Terminated("stopped by SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _run_failures(out: Path, debug: bool) -> Iterator[None]:
    """Whatever stops the run as a whole becomes one message and exit status 3 (with the
    traceback under ``--debug`` for what is not a known error)."""
    kept = f"nothing was written; {out} is as it was"
    try:
        yield
    except click.ClickException:
        raise
    except MentalizeError as exc:
        raise RunError(f"{exc} ({kept}).") from exc
    except (Terminated, KeyboardInterrupt) as exc:
        raise RunError(f"stopped before the end ({kept}).") from exc
    except OSError as exc:  # the disk is full, a folder cannot be written
        raise RunError(f"{exc} ({kept}).") from exc
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        hint = "" if debug else " Run again with --debug to see where, and please report it."
        raise RunError(f"the run failed ({type(exc).__name__}: {exc}); {kept}.{hint}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mentalize")
def main() -> None:
    """Tag mentalizing in psychotherapy transcripts: certainty-laden labelling, feeling-naming and
    perspective-taking. Everything runs on this machine; nothing is sent anywhere."""


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder (created if missing).")
@click.option("--model", type=click.Path(path_type=Path, file_okay=False), help="A model folder; the shipped model by default.")
@click.option("--therapist", "therapists", multiple=True, help="Speaker name to treat as the therapist (repeatable).")
@click.option("--client", "clients", multiple=True, help="Speaker name to treat as the client (repeatable).")
@click.option("--roles", "roles_file", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="CSV mapping file with columns speaker,role.")
@click.option("--text-column", default=None, help="Column holding the utterance text (tables; default 'text').")
@click.option("--speaker-column", default=None, help="Column holding the speaker (tables; default 'speaker').")
@click.option("--session-column", default=None, help="Column naming the session (tables; default 'session' if present).")
@click.option("--turn-column", default=None, help="Column numbering the turns (tables; default 'turn' if present).")
@click.option("--role-column", default=None, help="Column holding the role (tables; default 'role' if present).")
@click.option("--sheet", default=None, help="Workbook sheet to read from .xlsx inputs: a name or a 0-based position (default: the first).")
@click.option("--max-size-mb", default=50.0, show_default=True, type=click.FloatRange(min=0.001), help="Largest input file read.")
@click.option("--encoding", default=None, metavar="NAME",
              help="Text encoding of every input (e.g. cp1252, utf-16); detected per file by default.")
@click.option("--join-files", is_flag=True,
              help="Join files that share a name (clinicA/s1.txt and clinicB/s1.txt) into one session. "
                   "By default every file is its own session.")
@click.option("--force", is_flag=True, help="Overwrite results already in the output folder (only a folder mentalize-nlp wrote).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "jsonl"]), default="csv", show_default=True,
              help="Format of the utterance and profile tables (errors.csv is always CSV).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes; sessions are scored in parallel, output stays in input order.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True, help="'dask' scores on an existing Dask cluster.")
@click.option("--scheduler", default=None, help="Dask scheduler address, with --engine dask (e.g. tcp://10.0.0.5:8786).")
@click.option("--html", is_flag=True, help="Also write the HTML supervision report into OUT/report/ (see 'mentalize report').")
@click.option("--redact", is_flag=True, help="De-identify the outputs and reports: speaker names become roles (Therapist, Client, Speaker 3).")
@click.option("--redact-names", "redact_names", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Text file with one name per line to remove from the text, session names and headings (implies --redact).")
@click.option("--timeout", type=click.FloatRange(min=0), default=DEFAULT_TIMEOUT, show_default=True, metavar="SECONDS",
              help="A file that takes longer than this to be read, or to be tagged (a long table: per 2,000 turns), "
                   "is a failure and the batch goes on; a real session takes a second or two. 0: no limit.")
@click.option("--raw-cells", is_flag=True,
              help="Write CSV text cells as they are. By default a cell that begins with = + - @, a tab or a carriage "
                   "return gets a ' in front, so that a spreadsheet cannot run it as a formula.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error (a file's, or the run's).")
def score(inputs, out, model, therapists, clients, roles_file, text_column, speaker_column, session_column, turn_column,
          role_column, sheet, max_size_mb, encoding, join_files, force, fmt, jobs, engine, scheduler, html, redact,
          redact_names, timeout, raw_cells, debug) -> None:
    """Score transcripts (files or folders) into OUT/utterances.csv, OUT/profiles.csv, OUT/sessions.csv and OUT/errors.csv.

    Each file is its own session, named by its file name without the extension; where two
    files share that name, by their folders too (clinicA/session-01), or, in one folder, with
    the extension kept (x.csv, x.txt). A table's 'session' column names its sessions. The
    output folder is never read as input; files not read are named on stderr.

    The results are replaced as a whole: they are written beside OUT and put in its place in
    one step, so OUT holds the previous complete results or the new ones, never a mix; a
    second run into the same OUT is refused while this one writes.

    \b
    Exit status:
      0  every input was scored
      1  some inputs failed; the rest were scored, each failure is in OUT/errors.csv
      2  usage error (nothing was written)
      3  the run itself failed (output not writable or in use, model broken, stopped):
         nothing was written and OUT is as it was
    """
    from .batch import BatchResult, check_output_dir, list_inputs, score_inputs
    from .output import folder_lock
    from .transcripts import SUFFIXES, Columns, RoleMap

    columns = Columns(
        text=text_column or "text", speaker=speaker_column, session=session_column,
        turn=turn_column, role=role_column, sheet=sheet,
    )
    if engine == "dask" and not scheduler:
        raise UsageError("--engine dask needs --scheduler ADDRESS of a running Dask scheduler.")
    if encoding is not None:
        import codecs

        try:
            encoding = codecs.lookup(encoding).name
        except LookupError as exc:
            raise UsageError(f"--encoding {encoding!r} is not a text encoding Python knows; try utf-8, cp1252, latin-1 or utf-16.") from exc
    with _stop_on_sigterm(), _run_failures(out, debug), folder_lock(out):
        try:
            check_output_dir(out, force, fmt, inputs)
            roles = RoleMap.from_file(roles_file, therapists, clients) if roles_file else RoleMap(therapists, clients)
        except MentalizeError as exc:
            raise UsageError(str(exc)) from exc
        names = _redact_names(redact_names, UsageError)
        found = list_inputs(inputs, out, join_files=join_files)
        for path, reason in found.skipped:
            click.echo(f"skipped: {path}: {reason}.", err=True)
        if not found.files and not found.failures:
            raise UsageError(f"no transcript files found in the inputs given; expected files ending {', '.join(SUFFIXES)} or folders holding them.")
        model_dir = str(model) if model else None
        tagger = _tagger(model_dir, RunError) if jobs == 1 and engine == "local" else None
        gc.freeze()  # modules and model live as long as the process: the collector need not scan them on every pass
        private = redact or bool(redact_names)

        def finish(tmp: Path, result: BatchResult) -> None:  # redaction and the report belong to the set written
            if private and result.sessions:
                from .report.redact import redact_folder

                redact_folder(tmp, names)
            if html:
                _write_reports(tmp, error=RunError, redact=private, redact_names=names, shown=out)

        with click.progressbar(length=len(found.files), label="Scoring", file=sys.stderr, hidden=not sys.stderr.isatty()) as bar:
            result = score_inputs(
                found, out, tagger, model=model_dir, columns=columns, roles=roles, max_bytes=int(max_size_mb * 1e6),
                encoding=encoding, force=force, join_files=join_files, fmt=fmt, jobs=jobs, engine=engine,
                scheduler=scheduler, timeout=timeout, raw_cells=raw_cells, finish=finish, on_file=lambda _path: bar.update(1),
            )
    click.echo(
        f"Scored {result.sessions} session(s), {result.utterances} utterance(s) from {result.scored_files} "
        f"of {result.files} file(s) into {out}.",
        err=True,
    )
    for name, paths in result.joined.items():
        why = "--join-files" if join_files else "their file names or session column"
        click.echo(f"note: session {name!r} joins {len(set(paths))} files ({', '.join(dict.fromkeys(paths))}), as {why} says.", err=True)
    for note in result.notes:
        for warning in note.warnings:
            click.echo(f"warning: session {note.session!r} ({note.file}): {warning}", err=True)
    for failure in result.failures:
        where = f"{failure.path}, line {failure.line}" if failure.line is not None else failure.path
        click.echo(f"error: {where}: {failure.message}", err=True)
        if debug and failure.detail:
            click.echo(failure.detail.rstrip("\n"), err=True)
    if not result.ok:
        click.echo(f"{len(result.failures)} input(s) failed; see {out / 'errors.csv'}.", err=True)
        sys.exit(1)


def _redact_names(path: Path | None, error: type[click.ClickException]) -> list[str]:
    if path is None:
        return []
    from .report.redact import read_names

    try:
        return read_names(path)
    except MentalizeError as exc:
        raise error(str(exc)) from exc


def _write_reports(out: Path, groups_file: Path | None = None, pattern: str | None = None,
                   error: type[click.ClickException] = click.ClickException, redact: bool = False,
                   redact_names: list[str] | None = None, shown: Path | None = None) -> None:
    """Write the HTML reports of ``out``; ``shown`` is the folder to name in messages (the folder
    the results are put in, when ``out`` is the run's temporary folder)."""
    from .report import read_groups, write_reports

    bar = None

    def progress(_name: str, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Reports", file=sys.stderr, hidden=not sys.stderr.isatty())
            bar.__enter__()
        bar.update(1)

    try:
        groups = read_groups(groups_file) if groups_file else None
        pages = write_reports(out, groups=groups, pattern=pattern, redact=redact, redact_names=redact_names or (), on_page=progress)
    except MentalizeError as exc:
        raise error(str(exc)) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    index = pages[-1] if shown is None else shown / pages[-1].relative_to(out)
    click.echo(f"Wrote {len(pages) - 1} session report(s) and the index {index}.", err=True)


@main.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--groups", "groups_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="CSV file with columns session,group: sessions that share a client or trainee, for the trends.")
@click.option("--group-pattern", default=None, metavar="REGEX",
              help="Regular expression with a named group 'group', applied to session names (default: NAME-01, NAME_session_2 …).")
@click.option("--redact", is_flag=True, help="De-identify the pages: speaker names become roles (Therapist, Client, Speaker 3), page files are numbered.")
@click.option("--redact-names", "redact_names", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Text file with one name per line to remove from the text, session names and headings (implies --redact).")
def report(directory, groups_file, group_pattern, redact, redact_names) -> None:
    """Write self-contained HTML supervision reports for the scored sessions in DIR into DIR/report/."""
    from .errors import OutputError
    from .output import FolderLocked, folder_lock, remove_leftovers

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(directory))  # no 'mentalize score' replaces DIR meanwhile
        except FolderLocked as exc:
            raise RunError(str(exc)) from exc
        except OutputError:
            pass  # the lock cannot be put beside DIR: write the report without it, as before
        else:
            remove_leftovers(directory / "report")  # what a killed report run left beside DIR/report
        _write_reports(directory, groups_file, group_pattern, error=UsageError, redact=redact or bool(redact_names),
                       redact_names=_redact_names(redact_names, UsageError))


WEAK_F1 = 0.4
"""A label whose cross-validated F1 is below this gets a warning after training."""


@main.command()
@click.option("--corpus", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Annotated CSV (text, a 0/1 column per label, optional group/session/register/split). Default: corpora/mentalizing/corpus.csv")
@click.option("--real", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Real-talk corpus (sentences of real sessions, with session and turn) that calibration, thresholds and "
                   "the reported figures come from. Default: corpora/real/corpus.csv when training the default corpus.")
@click.option("--no-real", is_flag=True, help="Train and calibrate on --corpus alone.")
@click.option("--shared", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The shared corpora folder, for real rows whose text stays there (default: ../shared/corpora).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("models"), show_default=True,
              help="Folder to write the model into.")
@click.option("--with-shipped", is_flag=True,
              help="Train on --corpus together with the shipped corpora (written, and the real-talk training "
                   "sessions); calibration and the reported figures still come from your rows (cross-validated by session).")
@click.option("--text-column", default=None, help="Column holding the utterance text in --corpus (default 'text').")
@click.option("--session-column", default=None, help="Column naming the session in --corpus (default 'session' if present).")
@click.option("--turn-column", default=None, help="Column numbering the turns in --corpus (default 'turn' if present).")
@click.option("--role-column", default=None, help="Column holding the role in --corpus (default 'role' if present).")
@click.option("-C", "C", type=float, default=0.5, show_default=True, help="Inverse regularisation strength.")
@click.option("--force", is_flag=True, help="Overwrite the model already in --out (only a model folder mentalize-nlp wrote).")
def train(corpus, real, no_real, shared, with_shipped, text_column, session_column, turn_column, role_column, out, C, force) -> None:
    """Train the classifier, calibrate it on held-out sessions, and measure it on the test splits.

    With no --corpus, rebuilds the shipped model from the shipped corpora. With --corpus
    MY.csv (your own codes: text and a 0/1 column per label), trains on it alone, or with
    --with-shipped on it and the shipped corpora together (the written corpus and the
    real-talk training sessions), calibrated on your rows.
    """
    from .corpus import DEFAULT_CORPUS, DEFAULT_REAL_CORPUS, DEFAULT_SHARED
    from .training import train as train_model

    rename = {k: v for k, v in (("text", text_column), ("session", session_column), ("turn", turn_column), ("role", role_column)) if v}
    if with_shipped and corpus is None:
        raise UsageError("--with-shipped adds the shipped corpora to yours: pass --corpus MY.csv too.")
    if with_shipped and (real is not None or no_real):
        raise UsageError("--with-shipped calibrates on --corpus itself, with the shipped real-talk corpus in training; "
                         "leave out --real and --no-real.")
    if rename and corpus is None:
        raise UsageError("--text-column and the other column options describe --corpus: pass --corpus MY.csv too.")
    if real is None and corpus is None and not no_real:
        real = DEFAULT_REAL_CORPUS
    also = None
    if with_shipped:
        corpus, real, also, columns = DEFAULT_CORPUS, corpus, DEFAULT_REAL_CORPUS, {"real": rename}
    else:
        columns = {"corpus": rename}
    _check_model_out(out, force, [p for p in (corpus or DEFAULT_CORPUS, None if no_real else real, also) if p is not None])
    try:
        model = train_model(corpus or DEFAULT_CORPUS, out, real=None if no_real else real, also=also, shared=shared or DEFAULT_SHARED,
                            C=C, columns=columns)
    except MentalizeError as exc:
        raise click.ClickException(str(exc)) from exc
    from .models import ARTEFACT

    click.echo(f"Wrote {out / ARTEFACT} (sha256 {model.metadata['sha256'][:12]}…).", err=True)
    scores = model.metadata.get("scores", {})
    real_test = scores.get("real_test")
    if real_test:
        click.echo(f"real talk, held-out sessions: {real_test['turns']} turns in {real_test['sessions']} sessions, "
                   f"macro-F1 {real_test['macro_f1']:.3f} (95% CI {real_test['macro_f1_low']:.3f}-{real_test['macro_f1_high']:.3f})")
        for label, s in real_test["labels"].items():
            click.echo(f"  {label:22s} F1 {s['f1']:.3f} [{s['f1_low']:.3f}-{s['f1_high']:.3f}]  P {s['precision']:.3f}  R {s['recall']:.3f}")
    cv = scores.get("cross_validation")
    if cv:
        click.echo(f"cross-validated on {cv['n']} turns held out by session: macro-F1 {cv['macro_f1']:.3f} (thresholds chosen "
                   "on the same scores, so a little high)")
        for label, s in cv["labels"].items():
            click.echo(f"  {label:22s} F1 {s['f1']:.3f}  P {s['precision']:.3f}  R {s['recall']:.3f}")
            if s["f1"] < WEAK_F1:
                click.echo(f"warning: {label} reads F1 {s['f1']:.2f} cross-validated: most of its tags or most of its "
                           "cases will be wrong; code more rows of it before relying on this model's figures for it.", err=True)
    written = scores.get("written_test")
    if written:
        click.echo(f"written test split: n={written['n']}, macro-F1 {written['macro_f1']:.3f}")
        for label, s in written["labels"].items():
            click.echo(f"  {label:22s} F1 {s['f1']:.3f}  P {s['precision']:.3f}  R {s['recall']:.3f}  kappa {s['kappa']:.3f}")
        for register, s in written.get("registers", {}).items():
            click.echo(f"  register {register:13s} n={s['n']:4d} macro-F1 {s['macro_f1']:.3f}")


def _check_model_out(out: Path, force: bool, inputs: list[Path]) -> None:
    """Refuse to write a model over an existing one without --force, over a folder that holds
    no mentalize-nlp model even with it, and over an input."""
    import json

    from .classifier import ARTEFACT, METADATA

    targets = [out / ARTEFACT, out / METADATA]
    for given in inputs:
        if any(_same_path(given, target) for target in targets):
            raise UsageError(f"{given} is an input, and training into --out {out} would write over it; choose another --out.")
    existing = [t.name for t in targets if t.exists()]
    if not existing:
        return
    if not force:
        raise UsageError(f"{out} already holds a model ({', '.join(existing)}); pass --force to overwrite it, or choose another --out.")
    try:
        ours = "sha256" in json.loads((out / METADATA).read_text("utf-8"))
    except (OSError, ValueError, TypeError):
        ours = False
    if not ours:
        raise UsageError(
            f"{out} holds {', '.join(existing)} but no model metadata written by mentalize-nlp, "
            "so --force will not write over it; choose another --out."
        )


def _same_path(a: Path, b: Path) -> bool:
    import os

    return os.path.realpath(a) == os.path.realpath(b)


def _check_predictions(predictions: Path, gold: Path, force: bool) -> None:
    """Refuse to write predictions over the gold file ever, and over an existing file without
    --force or, with it, over a file that is not a predictions file."""
    if _same_path(predictions, gold):
        raise UsageError(f"--predictions {predictions} is the gold file; it would be overwritten. Choose another file, e.g. predictions.csv.")
    if predictions.is_dir():
        raise UsageError(f"--predictions {predictions} is a folder; name a CSV file.")
    if not predictions.exists():
        return
    if not force:
        raise UsageError(f"--predictions {predictions} already exists; pass --force to overwrite it, or choose another file.")
    try:
        with open(predictions, encoding="utf-8") as handle:
            header = handle.readline()
    except (OSError, UnicodeError):
        header = ""
    if not all(f"pred_{label}" in header for label in LABELS):
        raise UsageError(
            f"--predictions {predictions} is not a predictions file written by 'mentalize evaluate' (it has no pred_ columns), "
            "so --force will not write over it; choose another file."
        )


@main.command()
@click.argument("gold", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--model", type=click.Path(path_type=Path, file_okay=False), help="A model folder; the shipped model by default.")
@click.option("--by", "by", multiple=True, help="Also report every figure within each value of this column (default: register, if present).")
@click.option("--split", default=None, help="Only rows whose 'split' column has this value (e.g. test).")
@click.option("--predictions", type=click.Path(path_type=Path, dir_okay=False), help="Also write the gold rows with predictions to this CSV.")
@click.option("--force", is_flag=True, help="Overwrite an existing --predictions file (never the gold file).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the figures as CSV.")
def evaluate(gold, model, by, split, predictions, force, as_json, as_csv) -> None:
    """Compare the model's tags with human codes in GOLD.csv: precision, recall, F1, Cohen's kappa
    and Krippendorff's alpha per label and overall, each with a 95% interval from resampling
    whole sessions (a 'session' column; rows otherwise). Undefined figures are "n/a"."""
    import pandas as pd

    from .cli_annotate import emit_table, few_sessions_note
    from .corpus import read_corpus
    from .evaluation import agreement
    from .output import atomic_path

    if predictions is not None:
        _check_predictions(predictions, gold, force)
    try:
        frame = read_corpus(gold)
    except MentalizeError as exc:
        raise UsageError(str(exc)) from exc
    if split is not None:
        if "split" not in frame.columns:
            raise UsageError(f"{gold} has no 'split' column; drop --split or add the column.")
        frame = frame[frame["split"] == split].reset_index(drop=True)
    if not len(frame):
        where = f" with split {split!r}" if split is not None else ""
        raise UsageError(f"{gold} has no coded rows{where} to evaluate.")
    groupings = list(by) or (["register"] if "register" in frame.columns else [])
    for column in groupings:
        if column not in frame.columns:
            raise UsageError(f"{gold} has no {column!r} column to group by; found: {', '.join(frame.columns)}.")
    tagger = _tagger(str(model) if model else None)
    tags = tagger.tag_texts(frame["text"].tolist())
    sessions = frame["session"] if "session" in frame.columns else None
    few_sessions_note(sessions)
    tables = [agreement(frame, tags, sessions).assign(group="all", value="")]
    few: list[str] = []
    for column in groupings:
        for value, rows in frame.groupby(column, sort=True).groups.items():
            part = agreement(frame.loc[rows], tags.loc[rows], sessions.loc[rows] if sessions is not None else None)
            count = sessions.loc[rows].nunique() if sessions is not None else None
            if count is not None and count < 2:  # resampling one session gives the same figure every time: no interval
                part[[c for c in part.columns if c.endswith(("_low", "_high"))]] = float("nan")
            if count is not None and count < 10:
                few.append(f"{column} = {value}")
            tables.append(part.assign(group=column, value=str(value)))
    if few:
        click.echo(f"note: in {len(few)} group(s) ({', '.join(few[:5])}{', …' if len(few) > 5 else ''}) the intervals "
                   "come from fewer than 10 sessions, so they are rough; a group of one session has none (n/a).", err=True)
    if as_json or as_csv:
        emit_table(pd.concat(tables, ignore_index=True), "", as_json, as_csv)
    else:
        emit_table(tables[0], f"{gold}: {len(frame)} utterances, model vs coders", False, False)
        for table in tables[1:]:
            click.echo("")
            emit_table(table, f"{table['group'].iat[0]} = {table['value'].iat[0]}: {table['n'].iat[0]} utterances", False, False)
    if predictions:
        with atomic_path(predictions) as tmp:
            merged = frame.copy()
            for label in LABELS:
                merged[f"pred_{label}"] = tags[label].to_numpy()
                merged[f"p_{label}"] = tags[f"p_{label}"].to_numpy()
            merged["evidence"] = tags["evidence"].to_numpy()
            merged.to_csv(tmp, index=False)


def _register_research_commands() -> None:
    from .cli_annotate import agree, export, import_

    for command in (export, import_, agree):
        main.add_command(command)


_register_research_commands()

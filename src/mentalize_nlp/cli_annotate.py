"""The researcher's commands: ``mentalize export``, ``mentalize import`` and ``mentalize agree``.

Registered on the ``mentalize`` group by :mod:`mentalize_nlp.cli`; heavy imports happen
inside the commands, so ``--help`` stays quick.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .errors import MentalizeError
from .labels import LABELS

FORMATS = ("label-studio", "jsonl")


def _read_utterances(directory: Path):
    import pandas as pd

    for name in ("utterances.csv", "utterances.parquet", "utterances.jsonl"):
        path = directory / name
        if path.is_file():
            if path.suffix == ".csv":
                from .output import original_text_frame, raw_cells

                frame = pd.read_csv(path, keep_default_na=False, dtype={"text": str, "evidence_spans": str, "session": str})
                return frame if raw_cells(directory) else original_text_frame(frame)
            if path.suffix == ".parquet":
                return pd.read_parquet(path)
            return pd.read_json(path, lines=True, dtype=False)
    raise click.UsageError(f"{directory} holds no utterances.csv/.parquet/.jsonl; run 'mentalize score INPUT --out {directory}' first.")


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists; pass --force to write over it, or choose another file.")


@click.command("export")
@click.argument("scored", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="label-studio", show_default=True,
              help="label-studio: tasks JSON with predictions; jsonl: spaCy-style text/cats/spans/meta (Prodigy, doccano).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.option("--force", is_flag=True, help="Write over an existing file.")
def export(scored: Path, fmt: str, out: Path, force: bool) -> None:
    """Write the pre-codes of a scored folder (SCORED, from 'mentalize score') for an annotation tool."""
    from .annotation import LABEL_STUDIO_CONFIG, to_label_studio, to_spacy_jsonl
    from .output import atomic_path

    _refuse_overwrite(out, force)
    utterances = _read_utterances(scored)
    with atomic_path(out) as tmp:
        if fmt == "label-studio":
            tmp.write_text(json.dumps(to_label_studio(utterances), ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in to_spacy_jsonl(utterances)), encoding="utf-8")
    if fmt == "label-studio":
        config = out.with_name(out.stem + "-config.xml")
        with atomic_path(config) as tmp:
            tmp.write_text(LABEL_STUDIO_CONFIG, encoding="utf-8")
        click.echo(f"Wrote {len(utterances)} tasks to {out}; paste {config} into the project's labelling interface.", err=True)
    else:
        click.echo(f"Wrote {len(utterances)} records to {out}.", err=True)


@click.command("import")
@click.argument("export_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Gold CSV to write (the shape 'mentalize evaluate' and 'mentalize train --corpus' take).")
@click.option("--force", is_flag=True, help="Write over an existing file.")
def import_(export_file: Path, out: Path, force: bool) -> None:
    """Read coders' codes back from a Label Studio JSON export or a JSONL file into a gold CSV."""
    from .annotation import read_annotations
    from .output import atomic_path

    if out.resolve() == export_file.resolve():
        raise click.UsageError(f"--out {out} is the export itself; choose another file.")
    _refuse_overwrite(out, force)
    try:
        gold = read_annotations(export_file)
    except MentalizeError as exc:
        raise click.UsageError(str(exc)) from exc
    with atomic_path(out) as tmp:
        gold.to_csv(tmp, index=False)
    coders = sorted({c for c in gold["coder"] if c})
    click.echo(f"Wrote {len(gold)} coded utterances to {out}" + (f" (coders: {', '.join(coders)})." if coders else "."), err=True)
    if gold.attrs.get("uncoded"):
        click.echo(f"note: {gold.attrs['uncoded']} task(s) of {export_file} had no codes (not coded yet, skipped, cancelled "
                   "or rejected) and are not in the file.", err=True)


def _codes(path: Path):
    from .corpus import read_corpus

    try:
        return read_corpus(path)
    except MentalizeError as exc:
        raise click.UsageError(str(exc)) from exc


def _keys(frame) -> list[str]:
    """What identifies an utterance: session and turn, and the sentence in codes made sentence by sentence."""
    keys = [c for c in ("session", "turn") if c in frame.columns]
    return keys + ["sentence"] * ("sentence" in frame.columns) if keys else ["text"]


@click.command("agree")
@click.argument("first", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("second", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the table as CSV.")
def agree(first: Path, second: Path, as_json: bool, as_csv: bool) -> None:
    """Agreement between two coders' CSVs (matched on session and turn, and sentence where the codes have one; or on
    text): precision, recall, F1, Cohen's kappa and Krippendorff's alpha per label, with 95% session-bootstrap intervals."""
    import pandas as pd

    from .evaluation import agreement

    a, b = _codes(first), _codes(second)
    keys = _keys(a)
    if _keys(b) != keys:
        raise click.UsageError(
            f"{first} matches rows on {', '.join(keys)} and {second} on {', '.join(_keys(b))}; give both files the same "
            "'session' and 'turn' columns, numbered the same way."
        )
    for path, frame in ((first, a), (second, b)):
        repeated = frame.index[frame.duplicated(keys, keep="first")]
        if len(repeated):
            row = int(repeated[0])
            raise click.UsageError(
                f"{path}, line {row + 2}: a second row for {', '.join(f'{k} {frame.at[row, k]}' for k in keys)}; "
                "each utterance must be coded once per file (remove the repeat, or number the turns apart)."
            )
    merged = a.astype({k: str for k in keys}).merge(b.astype({k: str for k in keys}), on=keys, suffixes=("_a", "_b"))
    if merged.empty:
        raise click.UsageError(f"{first} and {second} share no rows on {', '.join(keys)}; they must code the same utterances.")
    _check_same_texts(merged, keys, first, second)
    for path, frame in ((first, a), (second, b)):
        if len(frame) > len(merged):
            alone = ""
            if "session" in keys:
                matched = set(merged["session"].astype(str))
                lost = [str(v) for v in pd.unique(frame["session"].astype(str)) if v not in matched]
                alone = f" Sessions with no partner at all: {', '.join(lost[:5])}{', …' if len(lost) > 5 else ''}." if lost else ""
            click.echo(f"note: {len(frame) - len(merged)} row(s) of {path} have no partner in the other file and are left out.{alone}",
                       err=True)
    few_sessions_note(merged["session"] if "session" in merged.columns else None)
    table = agreement(
        merged[[f"{l}_a" for l in LABELS]].set_axis(list(LABELS), axis=1),
        merged[[f"{l}_b" for l in LABELS]].set_axis(list(LABELS), axis=1),
        merged["session"] if "session" in merged.columns else None,
    )
    emit_table(table, f"{first} vs {second}: {len(merged)} utterances coded by both", as_json, as_csv)


def _check_same_texts(merged, keys: list[str], first: Path, second: Path) -> None:
    """Refuse to compare rows matched on session and turn whose texts differ (turns numbered
    apart, say); a few differing texts (a corrected typo) are only named."""
    from .corpus import normalise

    if "text" in keys or not {"text_a", "text_b"} <= set(merged.columns):
        return
    differ = [normalise(str(x)) != normalise(str(y)) for x, y in zip(merged["text_a"], merged["text_b"])]
    if not any(differ):
        return
    k = differ.index(True)
    where = ", ".join(f"{key} {merged.at[k, key]}" for key in keys)
    example = f"{where}: {str(merged.at[k, 'text_a'])[:40]!r} against {str(merged.at[k, 'text_b'])[:40]!r}"
    if sum(differ) > 0.05 * len(differ):
        raise click.UsageError(
            f"{first} and {second} have different texts in {sum(differ)} of the {len(differ)} rows they share ({example}); "
            "are the turns numbered the same way in both files?"
        )
    click.echo(f"note: {sum(differ)} row(s) have different texts in the two files ({example}).", err=True)


def few_sessions_note(sessions) -> None:
    """Say on stderr when the bootstrap intervals rest on too few sessions to mean much."""
    if sessions is None:
        click.echo("note: no 'session' column, so the intervals resample single rows; rows of one session are not "
                   "independent, so they read too narrow.", err=True)
    elif sessions.nunique() < 10:
        click.echo(f"note: the intervals come from resampling {sessions.nunique()} session(s); with fewer than 10 "
                   "they are rough.", err=True)


def emit_table(table, title: str, as_json: bool, as_csv: bool) -> None:
    """Print an agreement table as text (undefined figures as "n/a"), JSON or CSV."""
    from .evaluation import format_agreement

    if as_json:
        records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in table.to_dict("records")]
        click.echo(json.dumps(records, indent=1))
    elif as_csv:
        click.echo(table.to_csv(index=False, na_rep="n/a", float_format="%.4f"), nl=False)
    else:
        click.echo(title)
        click.echo(format_agreement(table))

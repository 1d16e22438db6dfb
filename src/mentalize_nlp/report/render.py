"""Writing the supervision report: one self-contained HTML page per session, and an index.

Each page carries its own CSS, its charts (inline SVG) and a small filter script; it loads
nothing, and its Content-Security-Policy forbids loading anything: ``default-src 'none'``,
the one ``<style>`` and the one ``<script>`` allowed by their SHA-256 hashes (the same in
every page, since they are package files), images only as ``data:`` URLs. Text from the
transcripts goes through Jinja2 with autoescaping on.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..labels import LABELS
from ..output import atomic_folder, link_own_files, model_used, original_text_frame, raw_cells, worker_init
from ..profiles import NO_CUE
from . import charts
from .data import (
    ABBREVIATIONS,
    DEFAULT_WINDOW,
    NAMES,
    SessionFigures,
    assign_groups,
    is_missing,
    kind_counts,
    real_talk_agreement,
    read_outputs,
    response_rules,
    session_figures,
    session_names,
    session_roles,
    shared_groups,
)
from .highlight import highlight
from .reading import reading

SYMBOLS: dict[str, str] = {"certainty_labelling": "▲", "feeling_naming": "●", "perspective_taking": "◆"}
UNDERLINES: dict[str, str] = {"certainty_labelling": "wavy", "feeling_naming": "solid", "perspective_taking": "dashed"}
REPORT_DIR = "report"
_QUOTE_CHARS = 220


@dataclass(frozen=True)
class _Assets:
    css: Markup
    js: Markup
    session_csp: str
    index_csp: str


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(css: str, js: str | None) -> str:
    """The page's policy: nothing loads; only this exact inline style and script run."""
    script = _hash(js) if js else "'none'"
    return (
        f"default-src 'none'; style-src {_hash(css)}; script-src {script}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


@cache
def _assets() -> _Assets:
    folder = files("mentalize_nlp.report") / "templates"
    css = (folder / "report.css").read_text(encoding="utf-8")
    js = (folder / "report.js").read_text(encoding="utf-8")
    return _Assets(Markup(css), Markup(js), content_security_policy(css, js), content_security_policy(css, None))


def _fmt(value: object, spec: str = "{:.0f}") -> str:
    """Jinja filter: a number formatted with ``spec``, or ``n/a`` when missing."""
    return "n/a" if is_missing(value) else spec.format(value)


def _signed(value: object, digits: int = 2) -> str:
    """Jinja filter: a signed number with a true minus sign, or ``n/a`` when missing."""
    return "n/a" if is_missing(value) else charts.signed(float(value), digits)  # type: ignore[arg-type]


@cache
def _environment() -> Environment:
    from .. import __version__

    env = Environment(
        loader=PackageLoader("mentalize_nlp.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["signed"] = _signed
    env.filters["fmt"] = _fmt
    env.globals.update(
        labels=LABELS, abbr=ABBREVIATIONS, names=NAMES, symbols=SYMBOLS, underline=UNDERLINES, version=__version__,
    )
    return env


_RESERVED = {"con", "prn", "aux", "nul", *(f"{d}{k}" for d in ("com", "lpt") for k in range(10))}
"""Names Windows refuses for a file, whatever its extension."""


def _slug(name: str) -> str:
    """ASCII letters, digits, ``.``, ``_`` and ``-`` only, at most 80 of them: a file name any system takes."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)[:400]).strip("-.")[:80].strip("-.") or "session"
    return f"{slug}-session" if slug.split(".")[0].lower() in _RESERVED else slug


def page_names(sessions: list[str]) -> dict[str, str]:
    """A distinct, file-system-safe ``.html`` file name for each session (never ``index.html``)."""
    used = {"index"}
    names: dict[str, str] = {}
    for session in sessions:
        base = _slug(session)
        slug, k = base, 2
        while slug.lower() in used:
            slug, k = f"{base}-{k}", k + 1
        used.add(slug.lower())
        names[session] = f"{slug}.html"
    return names


def _quote(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1].rsplit(" ", 1)[0] + " …"


def _number(value: object) -> float | None:
    return None if is_missing(value) else float(value)  # type: ignore[arg-type]


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, object]]:
    """The rows of ``frame`` as dicts of those ``columns`` it has (``to_dict("records")`` of a few columns, faster)."""
    keys = [c for c in columns if c in frame.columns]
    return [dict(zip(keys, values)) for values in zip(*(frame[c].tolist() for c in keys))]


def session_context(figures: SessionFigures, *, group: str | None = None, index_href: str = "index.html",
                    model: str | None = None) -> dict[str, object]:
    """The template variables of one session page; ``model`` is the model folder that tagged
    it (:func:`~mentalize_nlp.output.model_used`), the shipped model when None."""
    frame = figures.utterances
    ids = [f"u{pos}" for pos in range(len(frame))]
    turns = frame["turn"].astype(str).tolist()
    speakers = [
        {"speaker": s, "role": r, "label": charts.speaker_label(s, r)}
        for s, r in frame[["speaker", "role"]].astype(str).drop_duplicates("speaker").itertuples(index=False)
    ]
    utterances = []
    read = ["speaker", "role", "start", "needs_review", "text", "evidence_spans", *LABELS, *(f"{k}_{l}" for k in ("p", "evidence") for l in LABELS)]
    for pos, row in enumerate(_records(frame, read)):
        labels = [l for l in LABELS if row[l] == 1]
        utterances.append({
            "id": ids[pos], "turn": turns[pos], "speaker": str(row["speaker"]), "role": str(row["role"]),
            "start": str(row.get("start", "")), "labels": labels, "review": int(row.get("needs_review", 0) or 0) == 1,
            "probs": {l: _number(row.get(f"p_{l}")) for l in LABELS},
            "html": highlight(str(row["text"]), {l: row.get(f"evidence_{l}", "") for l in labels}, str(row.get("evidence_spans", "") or "")),
            "no_cue": {l: str(row.get(f"evidence_{l}")) for l in labels if str(row.get(f"evidence_{l}", "")).startswith(NO_CUE)},
        })
    profile_rows = [
        {
            "speaker": str(r["speaker"]), "role": str(r["role"]), "utterances": int(r["utterances"]),
            "counts": {l: int(r[f"{l}_count"]) for l in LABELS},
            "per_100": {l: _number(r[f"{l}_per_100"]) for l in LABELS},
            "low": {l: _number(r.get(f"{l}_per_100_low")) for l in LABELS},
            "high": {l: _number(r.get(f"{l}_per_100_high")) for l in LABELS},
            "adjusted": {l: _number(r.get(f"{l}_adjusted_per_100")) for l in LABELS},
            "balance": _number(r["mentalizing_balance"]),
        }
        for r in _records(figures.profiles, [
            "speaker", "role", "utterances", "mentalizing_balance",
            *(f"{l}_{k}" for l in LABELS for k in ("count", "per_100", "adjusted_per_100", "per_100_low", "per_100_high")),
        ])
    ]
    spikes = [
        {
            "number": s.number, "start_id": ids[s.start], "start_turn": turns[s.start], "end_turn": turns[s.end],
            "peak_id": ids[s.peak], "peak_turn": turns[s.peak], "peak_rate": s.peak_rate,
            "tagged": [(turns[t], ids[t]) for t in s.tagged],
        }
        for s in figures.spikes
    ]
    responses = [
        {
            "client_id": ids[r["client_pos"]], "client_turn": r["client_turn"], "client_text": _quote(r["client_text"]),
            "client_evidence": r["client_evidence"],
            "therapist_id": ids[r["therapist_pos"]] if r["therapist_pos"] >= 0 else "",
            "therapist_turn": r["therapist_turn"], "therapist_text": _quote(r["therapist_text"]),
            "invited": None if is_missing(r["invited"]) else bool(r["invited"]), "invited_labels": r["invited_labels"],
            "kind": r["kind"], "kind_name": r["kind_name"],
        }
        for r in figures.responses.to_dict("records")
    ]
    moments = [
        {"id": ids[m["pos"]], "turn": m["turn"], "text": _quote(m["text"]), "kind": m["kind"], "kind_name": m["kind_name"],
         "tagged": bool(m["tagged"]), "evidence": m["evidence"]}
        for m in figures.moments.to_dict("records")
    ]
    answered_kinds = [r["kind"] for r in responses if r["kind"]]
    return {
        "session": figures.name, "group": group, "index_href": index_href, "n_utterances": len(frame),
        "speakers": speakers, "reading": reading(figures, model), "profile_rows": profile_rows,
        "profile_svg": charts.profile_chart(figures), "timeline_svg": charts.timeline_chart(figures),
        "window": figures.window, "threshold": figures.threshold, "spikes": spikes, "responses": responses,
        "kind_counts": [(rule, n) for rule, n in kind_counts(answered_kinds)],
        "moments": moments, "own_certainty": sum(m["kind"] == "certainty" for m in moments),
        "repairs": sum(m["kind"] == "repair" for m in moments), "n_review": sum(u["review"] for u in utterances),
        "invited": figures.invited, "answered": figures.answered, "rate": figures.rate,
        "has_roles": figures.client is not None and figures.therapist is not None, "utterances": utterances,
        "client": figures.client, "therapist": figures.therapist,
    }


def _short_label(session: str, group: str) -> str:
    rest = str(session)[len(group):] if str(session).lower().startswith(group.lower()) else str(session)
    digits = re.findall(r"\d+", rest)
    return (digits[-1].lstrip("0") or "0") if digits else str(session)


def write_reports(
    out_dir: str | Path,
    *,
    groups: Mapping[str, str] | None = None,
    pattern: str | None = None,
    window: int = DEFAULT_WINDOW,
    redact: bool = False,
    redact_names: Sequence[str] = (),
    jobs: int | None = None,
    on_page: Callable[[str, int], None] | None = None,
) -> list[Path]:
    """Write ``OUT/report/<session>.html`` for each session and ``OUT/report/index.html``.

    The pages and the index are written into a temporary folder beside ``OUT/report``, which
    then replaces it in one step: a reader finds the old report or the new one, whole, never
    pages without their index; pages of sessions no longer in the folder go with the old
    one. Files of one's own in ``OUT/report`` (notes, say) are kept.

    Args:
        out_dir: A ``mentalize score`` output folder (``utterances.csv``, ``profiles.csv``).
        groups: Session -> group (client or trainee) for the trends on the index page;
            when given, ``pattern`` is ignored.
        pattern: A regular expression with a named group ``group`` applied to session names;
            :data:`~mentalize_nlp.report.data.DEFAULT_GROUP_PATTERN` when None.
        window: Turns in the timeline's rolling window.
        redact: De-identify the pages: speaker names become roles (Therapist, Client,
            Speaker 3), and page file names are numbered (``session-001.html``).
        redact_names: Names to replace in the text, the evidence, the session names and
            the headings (implies ``redact``).
        jobs: Worker processes for the session pages; all cores when None. Batches of
            fewer than 8 sessions per worker are written in this process.
        on_page: Called with each session's name and the number of sessions once its page
            is written (for a progress bar).

    Returns:
        The pages written, the session pages in natural order and ``index.html`` last.

    Raises:
        ReportError: the folder holds no ``utterances.csv``, or ``pattern`` is unusable.
        OSError: the report cannot be written; ``OUT/report`` is then as it was.
    """
    out_dir = Path(out_dir)
    utterances, profiles = read_outputs(out_dir)
    table = _sessions_table(out_dir)
    redact = redact or bool(redact_names)
    assigned = assign_groups(session_names(utterances), groups, pattern)
    if redact:
        from .redact import Redactor, redact_tables

        before = utterances["session"].astype(str).tolist()
        utterances, profiles, table = redact_tables(utterances, profiles, list(redact_names), table)
        renamed = dict(zip(before, utterances["session"].astype(str)))
        hide = Redactor(list(redact_names), {}).names_in
        assigned = {renamed[s]: (hide(g) if g else None) for s, g in assigned.items()}
    sessions = session_names(utterances)
    pages = {s: f"session-{k:03d}.html" for k, s in enumerate(sessions, 1)} if redact else page_names(sessions)
    by_session = dict(tuple(utterances.groupby("session", sort=False)))
    profile_groups = dict(tuple(profiles.groupby(profiles["session"].astype(str), sort=False))) if len(profiles) else {}
    empty_profile = profiles.iloc[0:0]
    notes = _session_warnings(table)
    model = model_used(out_dir)
    target = out_dir / REPORT_DIR
    with atomic_folder(target) as folder:
        link_own_files(target, folder)
        tasks = [
            (name, by_session[name], profile_groups.get(name, empty_profile), window, assigned.get(name), notes.get(name, []),
             str(folder / pages[name]), pages[name], model)
            for name in sessions
        ]
        summaries: dict[str, dict[str, object]] = {}
        with _rendered(tasks, jobs) as done:
            trends = [  # drawn here while the workers write the pages
                (group, members, charts.group_chart(
                    group, [_short_label(s, group) for s in members],
                    [session_roles(by_session[s], profile_groups.get(s, empty_profile)) for s in members],
                    chart_id=f"group-{k}-chart",
                ))
                for k, (group, members) in enumerate(shared_groups(assigned).items())
            ]
            for summary in done:
                summaries[summary["name"]] = summary
                if on_page is not None:
                    on_page(summary["name"], len(tasks))
        env, assets = _environment(), _assets()
        index = env.get_template("index.html").render(
            css=assets.css, js=None, csp=assets.index_csp, sessions=[summaries[s] for s in sessions],
            groups=[{"id": f"group-{k}", "name": group, "sessions": [summaries[s] for s in members], "svg": svg}
                    for k, (group, members, svg) in enumerate(trends)],
            any_group=any(assigned.values()), n_utterances=len(utterances),
            group_source="from the group mapping file" if groups is not None else "by session name",
        )
        (folder / "index.html").write_text(index, encoding="utf-8")
    return [target / pages[s] for s in sessions] + [target / "index.html"]


def _sessions_table(out_dir: Path) -> pd.DataFrame | None:
    """``sessions.csv`` of 'mentalize score', its text as it was, or None when the folder has none."""
    path = out_dir / "sessions.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return table if raw_cells(out_dir) else original_text_frame(table)


_MIN_PER_WORKER = 8
"""Batches smaller than this many sessions per worker are written in this process."""


@contextlib.contextmanager
def _rendered(tasks: list[tuple], jobs: int | None) -> Iterator[Iterator[dict[str, object]]]:  # type: ignore[type-arg]
    """Write the session pages, in worker processes for big batches; yields their summaries, in order, as they are done.

    The workers start on entering the block, so that this process can do other work before
    reading the summaries.
    """
    workers = min(jobs if jobs is not None else (os.cpu_count() or 1), len(tasks) // _MIN_PER_WORKER)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield (_render_session(task) for task in tasks)
        return
    real_talk_agreement(tasks[0][-1])  # read once, before the workers fork
    response_rules()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=worker_init,
                             initargs=(os.getpid(),)) as pool:
        # small chunks, so that both workers stay busy to the end
        yield pool.map(_render_session, tasks, chunksize=max(1, len(tasks) // (workers * 16)))


def _render_session(task: tuple) -> dict[str, object]:  # type: ignore[type-arg]
    """Write one session page; returns the index's summary of it (run in a worker for big batches)."""
    name, frame, profile_rows, window, group, warnings, path, href, model = task
    env, assets = _environment(), _assets()
    figures = session_figures(name, frame, profile_rows, window)
    context = session_context(figures, group=group, model=model)
    html = env.get_template("session.html").render(css=assets.css, js=assets.js, csp=assets.session_csp, warnings=warnings, **context)
    Path(path).write_text(html, encoding="utf-8")
    return {
        "name": name, "href": href, "group": group, "utterances": len(figures.utterances),
        "client": figures.client, "therapist": figures.therapist, "invited": figures.invited,
        "answered": figures.answered, "rate": figures.rate, "spikes": len(figures.spikes),
        "warnings": warnings, "review": int(figures.utterances["needs_review"].sum()),
        "has_roles": figures.client is not None and figures.therapist is not None,
    }


def _session_warnings(table: pd.DataFrame | None) -> dict[str, list[str]]:
    """Per session, what the reader asked the user to check (``sessions.csv`` of 'mentalize score')."""
    if table is None:
        return {}
    notes: dict[str, list[str]] = {}
    for name, cell in zip(table.get("session", []), table.get("warnings", [])):
        notes.setdefault(str(name), []).extend(w.strip() for w in str(cell).split(" | ") if w.strip())
    return notes



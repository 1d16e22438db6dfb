"""The figures behind the supervision report: pure pandas over ``utterances.csv`` and ``profiles.csv``.

Nothing here draws or writes HTML; every function takes plain frames and returns plain
frames or small dataclasses, so each figure can be tested on a hand-built table.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import MentalizeError
from ..jsonl import jsonl_objects
from ..labels import LABELS
from ..output import IN_PYTHON, original_text_frame, raw_cells
from ..profiles import balance, profile

ABBREVIATIONS: dict[str, str] = {"certainty_labelling": "CL", "feeling_naming": "FN", "perspective_taking": "PT"}
"""Short forms used as text markers wherever colour alone would carry a label."""

NAMES: dict[str, str] = {
    "certainty_labelling": "certainty labelling",
    "feeling_naming": "feeling naming",
    "perspective_taking": "perspective taking",
}

MENTALIZING: tuple[str, ...] = ("feeling_naming", "perspective_taking")
"""The labels that count as mentalizing (the certainty label is the non-mentalizing one)."""

DEFAULT_WINDOW = 10
"""Turns in the rolling window of the session timeline."""

DEFAULT_GROUP_PATTERN = r"(?i)^(?P<group>.*?[^\W\d_])(?:[-_ /]++(?:session[-_ ]*+)?|session[-_ ]*+)\d++$"
"""Session names such as ``maria-03``, ``maria_session_3`` or ``Maria Session 3`` share the group ``maria``;
so do ``maria/session-01`` and ``maria/session-02``, the names of same-named files in a folder per client.
Digits joined to a word (``utf16``, ``notes-cp1252``) are part of a name, not a session number.

The group must end with a letter, so that purely numeric names (``12``) are never split into
a bogus group ``1`` and session ``2``. The separators and digits are matched possessively, so
the time to match grows with the length of the name, not with its square.
"""

_TEXT_COLUMNS = ("session", "turn", "speaker", "role", "text", "start", "end", "evidence", "evidence_spans", *(f"evidence_{l}" for l in LABELS))
_FORMATS = ("csv", "parquet", "jsonl")
_REQUIRED = ("session", "turn", "speaker", "role", "text", *LABELS)


class ReportError(MentalizeError, ValueError):
    """An output folder, a group mapping or a group pattern cannot be turned into reports."""


# ----------------------------------------------------------------------------- reading


@cache
def real_talk_agreement(model: str | None = None) -> dict[str, float | str] | None:
    """A model's agreement with human coders (``macro_f1``, with its interval where measured on
    held-out real talk), and ``kind``: ``real_test``, or ``cross_validation`` for a model
    trained on a researcher's codes without a test split. ``model`` is a model folder (see
    :func:`~mentalize_nlp.output.model_used`), the shipped model when None; None when unknown."""
    try:
        from ..models import METADATA

        # the model's metadata, as classifier.load() reads it, without importing scikit-learn
        if model is None:
            text = resources.files("mentalize_nlp.models").joinpath(METADATA).read_text("utf-8")
        elif model == IN_PYTHON:
            return None
        else:
            text = (Path(model) / METADATA).read_text("utf-8")
        scores = json.loads(text)["scores"]
        kind = "real_test" if "real_test" in scores else "cross_validation"
        part = scores[kind]
        found = {k: float(part[k]) for k in ("macro_f1", "macro_f1_low", "macro_f1_high") if k in part}
        return found | {f"f1_{label}": float(v["f1"]) for label, v in part.get("labels", {}).items()} | {
            "kind": kind, "shipped": model is None}
    except Exception:  # noqa: BLE001 - a report without this sentence beats no report
        return None


def read_outputs(out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ``utterances.csv`` and ``profiles.csv`` from a ``mentalize score`` output folder.

    Text is read with ``keep_default_na=False`` so that an utterance such as "NA" or "null"
    stays text, and as it was before 'mentalize score' made the CSV cells spreadsheet-safe
    (see :func:`~mentalize_nlp.output.raw_cells`). Folders scored with ``--format parquet`` or ``jsonl`` are
    read too. When the profile table is missing the profiles are computed from the utterances.

    Raises:
        ReportError: the folder has no ``utterances.csv``, or it lacks a contract column.
    """
    out_dir = Path(out_dir)
    path = next((out_dir / f"utterances.{fmt}" for fmt in _FORMATS if (out_dir / f"utterances.{fmt}").is_file()), None)
    if path is None:
        raise ReportError(
            f"{out_dir} has no utterances.csv; expected the output folder of 'mentalize score'. "
            f"Run 'mentalize score INPUT --out {out_dir}' first, or pass that folder."
        )
    raw = raw_cells(out_dir)
    utterances = _read_table(path, _TEXT_COLUMNS, raw=raw)
    missing = [c for c in _REQUIRED if c not in utterances.columns]
    if missing:
        raise ReportError(
            f"{path} has no {', '.join(map(repr, missing))} column(s); found: {', '.join(map(str, utterances.columns))}. "
            "Re-run 'mentalize score' to rebuild it."
        )
    utterances = _normalise_utterances(utterances)
    profiles_path = out_dir / f"profiles{path.suffix}"
    if profiles_path.is_file():
        profiles = _read_table(profiles_path, ("session", "speaker", "role"), text_suffixes=("_turns", "_evidence"), raw=raw)
        for column in profiles.columns:
            if column not in ("session", "speaker", "role") and not str(column).endswith(("_turns", "_evidence")):
                profiles[column] = pd.to_numeric(profiles[column], errors="coerce")
    else:
        profiles = profile(utterances)
    return utterances, profiles


def _read_table(path: Path, text: Iterable[str], text_suffixes: tuple[str, ...] = (), *, raw: bool = True) -> pd.DataFrame:
    """One output table, its text columns as ``str`` with empty cells as ``""`` (never NaN);
    a CSV file's spreadsheet-safe cells as they were unless ``raw``."""
    names = set(text)

    def is_text(column: object) -> bool:
        return column in names or (bool(text_suffixes) and str(column).endswith(text_suffixes))

    if path.suffix == ".csv":
        header = pd.read_csv(path, nrows=0).columns
        frame = pd.read_csv(path, keep_default_na=False, dtype={c: str for c in header if is_text(c)})
    elif path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
    for column in frame.columns:
        if is_text(column):
            frame[column] = frame[column].fillna("").astype(str).astype(object)  # Python strings: faster row by row
    return frame if raw or path.suffix != ".csv" else original_text_frame(frame)


def _normalise_utterances(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for label in LABELS:
        frame[label] = pd.to_numeric(frame[label], errors="coerce").fillna(0).astype(int).clip(0, 1)
        p = f"p_{label}"
        frame[p] = pd.to_numeric(frame[p], errors="coerce") if p in frame else np.nan
        ev = f"evidence_{label}"
        if ev not in frame:
            frame[ev] = [_evidence_for(cell, label) for cell in frame.get("evidence", pd.Series([""] * len(frame)))]
    review = frame["needs_review"] if "needs_review" in frame else pd.Series(0, index=frame.index)
    frame["needs_review"] = pd.to_numeric(review, errors="coerce").fillna(0).astype(int).clip(0, 1)
    for column in ("start", "end", "evidence"):
        if column not in frame:
            frame[column] = ""
    frame["role"] = frame["role"].replace("", "other")
    return frame


def _evidence_for(cell: str, label: str) -> str:
    """The words of one label from the combined ``evidence`` cell (``label: words; label: words``)."""
    for part in str(cell).split(";"):
        name, _, words = part.partition(":")
        if name.strip() == label:
            return words.strip()
    return ""


def evidence_terms(cell: str) -> list[str]:
    """The comma-separated evidence words of one ``evidence_<label>`` cell."""
    return [w.strip() for w in str(cell).split(",") if w.strip()]


# ----------------------------------------------------------------------------- sessions


def natural_key(name: str) -> list[tuple[int, int, str]]:
    """Sort key that puts ``s2`` before ``s10``, for any name.

    Runs of decimal digits, in any script, compare by their value however long they are;
    other characters (``²`` among them: a superscript, not a decimal digit) compare as text.
    """
    key = []
    for k, part in enumerate(re.split(r"(\d+)", str(name))):
        if k % 2:  # a digit run: the split's captured separator
            digits = "".join(str(unicodedata.decimal(c)) for c in part).lstrip("0")
            key.append((0, len(digits), digits))
        elif part:
            key.append((1, 0, part.lower()))
    return key


def session_names(utterances: pd.DataFrame) -> list[str]:
    """Every session in the utterance table, in natural order."""
    return sorted(pd.unique(utterances["session"]).tolist(), key=natural_key)


def rolling_rates(frame: pd.DataFrame, window: int = DEFAULT_WINDOW, labels: Iterable[str] = LABELS) -> pd.DataFrame:
    """Each label's share of utterances in a centred window of ``window`` turns, one row per utterance (0..1).

    Near the start and end of a session the window runs past it, and the turns it does not
    hold count as untagged: two tags in the first five turns are 20% of a 10-turn window, not
    40% of the five turns it holds, so the session's edges do not look like clusters."""
    labels = list(labels)
    if frame.empty:
        return pd.DataFrame(columns=labels, dtype=float)
    window = max(1, min(window, len(frame)))
    values = frame[labels].astype(float).reset_index(drop=True)
    return values.rolling(window, center=True, min_periods=1).sum() / window


@dataclass
class Spike:
    """A stretch of the session where certainty labelling runs well above its usual rate.

    Positions are 0-based row positions within the session (not turn numbers).
    """

    number: int
    start: int
    end: int
    peak: int
    peak_rate: float
    tagged: list[int] = field(default_factory=list)


def certainty_spikes(frame: pd.DataFrame, window: int = DEFAULT_WINDOW, *, minimum: float = 0.3) -> tuple[list[Spike], float]:
    """Stretches where the rolling certainty-labelling rate stands out, and the threshold used.

    A spike is a run of turns whose rolling rate (see :func:`rolling_rates`) reaches the
    session's overall rate plus one standard deviation of the rolling rate, and at least
    ``minimum`` (so a session with almost no certainty has no spikes). Each spike lists the
    certainty-tagged utterances that its windows cover, so the report can link to them.
    """
    label = "certainty_labelling"
    if len(frame) < window or frame[label].sum() == 0:  # a session shorter than the window has no stretches to compare
        return [], float("nan")
    rate = rolling_rates(frame, window, [label])[label].fillna(0.0).to_numpy()
    overall = float(frame[label].mean())
    threshold = max(overall + float(np.std(rate)), minimum)
    above = rate >= threshold - 1e-9
    tagged = np.flatnonzero(frame[label].to_numpy() == 1)
    half = max(1, min(window, len(frame)) // 2)
    spikes: list[Spike] = []
    i = 0
    while i < len(above):
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(above) and above[j + 1]:
            j += 1
        inside = [int(t) for t in tagged if i - half <= t <= j + half]
        if inside:
            peak = i + int(np.argmax(rate[i : j + 1]))
            if spikes and inside[0] <= spikes[-1].end:
                previous = spikes[-1]
                previous.tagged = sorted(set(previous.tagged) | set(inside))
                previous.end = previous.tagged[-1]
                if rate[peak] > previous.peak_rate:
                    previous.peak, previous.peak_rate = peak, float(rate[peak])
            else:
                spikes.append(Spike(len(spikes) + 1, inside[0], inside[-1], peak, float(rate[peak]), inside))
        i = j + 1
    return spikes, threshold


# ----------------------------------------------------------------------------- response kinds


@dataclass(frozen=True)
class ResponseRule:
    """One kind of therapist turn, in MBT terms, read from ``pipeline/resources/report/responses.jsonl``.

    A turn is of this kind when one of ``patterns`` (regular expressions, case-insensitive)
    matches its text or it is tagged with one of ``labels``; when ``require`` is
    ``"question"`` the turn must also ask something (a ``?``). Rules are tried in file
    order; the last rule, with no patterns and no labels, catches every other turn.
    """

    kind: str
    name: str
    helpful: bool
    description: str
    patterns: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    require: str | None = None

    def __post_init__(self) -> None:
        if not self.kind or not self.name:
            raise ReportError("a response rule needs a 'kind' and a 'name'")
        unknown = [l for l in self.labels if l not in LABELS]
        if unknown:
            raise ReportError(f"response rule {self.kind!r}: unknown label(s) {', '.join(unknown)}; expected {', '.join(LABELS)}")
        if self.require not in (None, "question"):
            raise ReportError(f"response rule {self.kind!r}: 'require' must be null or \"question\", not {self.require!r}")
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ReportError(f"response rule {self.kind!r}: pattern {pattern!r} is not a valid regular expression: {exc}") from exc

    @property
    def regex(self) -> re.Pattern[str] | None:
        return _compiled(self.patterns)

    def matches(self, text: str, tagged: Iterable[str]) -> bool:
        if not self.patterns and not self.labels:
            return True
        if self.require == "question" and "?" not in text:
            return False
        regex = self.regex
        return bool((regex is not None and regex.search(text)) or set(self.labels) & set(tagged))


@cache
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None


def parse_response_rules(lines: Iterable[str], source: str = "responses.jsonl") -> tuple[ResponseRule, ...]:
    """Response rules from JSONL lines; raises :class:`ReportError` naming the line on any fault."""
    rules: list[ResponseRule] = []
    for where, data in jsonl_objects(lines, source, ReportError):
        try:
            rule = ResponseRule(
                kind=str(data["kind"]), name=str(data["name"]), helpful=bool(data.get("helpful", False)),
                description=str(data.get("description", "")), patterns=tuple(map(str, data.get("patterns", []))),
                labels=tuple(map(str, data.get("labels", []))), require=data.get("require"),
            )
        except (KeyError, TypeError, ReportError) as exc:
            raise ReportError(f"{where}: {exc}") from exc
        rules.append(rule)
    if not rules or rules[-1].patterns or rules[-1].labels:
        raise ReportError(f"{source}: the last rule must have no patterns and no labels, to catch every other turn")
    return tuple(rules)


@cache
def response_rules() -> tuple[ResponseRule, ...]:
    """The response kinds shipped with the package, in the order they are tried."""
    # found from the top package: importing mentalize_nlp.pipeline would load spaCy
    entry = resources.files("mentalize_nlp") / "pipeline" / "resources" / "report" / "responses.jsonl"
    return parse_response_rules(entry.read_text("utf-8").splitlines(), "responses.jsonl")


def classify_turn(text: str, tagged: Iterable[str] = (), rules: tuple[ResponseRule, ...] | None = None) -> ResponseRule:
    """The kind of one therapist utterance: the first rule that matches it."""
    tagged = tuple(tagged)
    for rule in rules if rules is not None else response_rules():
        if rule.matches(str(text), tagged):
            return rule
    raise ReportError("no response rule matched; the last rule must catch every turn")  # pragma: no cover


def classify_block(texts: Iterable[str], tagged: Iterable[Iterable[str]], rules: tuple[ResponseRule, ...] | None = None) -> ResponseRule:
    """The kind of a run of therapist utterances: the earliest-listed kind that any of them has."""
    rules = rules if rules is not None else response_rules()
    found = [classify_turn(t, g, rules) for t, g in zip(texts, tagged)]
    order = {r.kind: i for i, r in enumerate(rules)}
    return min(found, key=lambda r: order[r.kind]) if found else rules[-1]


def _labels_of(flags: np.ndarray) -> list[str]:
    """The labels set in one row of 0/1 flags (in :data:`LABELS` order)."""
    return [l for l, flag in zip(LABELS, flags) if flag]


def kind_counts(kinds: Iterable[str], rules: tuple[ResponseRule, ...] | None = None) -> list[tuple[ResponseRule, int]]:
    """Every kind with how many times it occurs in ``kinds``, in rule order (zeros kept)."""
    kinds = list(kinds)
    return [(r, kinds.count(r.kind)) for r in (rules if rules is not None else response_rules())]


def therapist_moments(frame: pd.DataFrame) -> pd.DataFrame:
    """The therapist's own certainty and its repair: every therapist utterance of kind ``certainty`` or ``repair``.

    Returns:
        One row per utterance: ``pos``, ``turn``, ``text``, ``kind``, ``kind_name``,
        ``tagged`` (True when the tagger labelled it certainty labelling) and ``evidence``.
    """
    columns = ["pos", "turn", "text", "kind", "kind_name", "tagged", "evidence"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.reset_index(drop=True)
    mine = frame[frame["role"].astype(str).str.lower() == "therapist"]
    evidence = mine["evidence_certainty_labelling"] if "evidence_certainty_labelling" in mine else [""] * len(mine)
    rows = []
    for pos, turn, text, flags, cell in zip(mine.index, mine["turn"], mine["text"], mine[list(LABELS)].to_numpy(), evidence):
        tagged = _labels_of(flags == 1)
        rule = classify_turn(str(text), tagged)
        if rule.kind in ("certainty", "repair"):
            rows.append({
                "pos": int(pos), "turn": str(turn), "text": str(text), "kind": rule.kind, "kind_name": rule.name,
                "tagged": "certainty_labelling" in tagged, "evidence": str(cell),
            })
    return pd.DataFrame(rows, columns=columns)


def therapist_responses(frame: pd.DataFrame) -> pd.DataFrame:
    """For each client utterance tagged certainty labelling, what the therapist's next turn did.

    The response is the run of consecutive therapist utterances that starts at the first
    therapist utterance after the client's; it *invites mentalizing* when any of those
    utterances is tagged feeling naming or perspective taking. A client utterance with no
    therapist turn after it (the session ends) gets no response and stays out of the rate.

    Returns:
        One row per certainty-tagged client utterance: ``client_pos``, ``client_turn``,
        ``client_text``, ``client_evidence``, ``therapist_pos`` (``-1`` when none),
        ``therapist_turn``, ``therapist_text``, ``invited`` (True/False, ``pd.NA`` when no
        response), ``invited_labels`` (e.g. ``"FN+PT"``), and ``kind``, ``kind_name``
        (see :func:`classify_block`; empty when no response).
    """
    columns = ["client_pos", "client_turn", "client_text", "client_evidence", "therapist_pos", "therapist_turn",
               "therapist_text", "invited", "invited_labels", "kind", "kind_name"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    n = len(frame)
    roles = [str(r).lower() for r in frame["role"]]
    turns, texts = frame["turn"].astype(str).tolist(), frame["text"].astype(str).tolist()
    evidence = frame["evidence_certainty_labelling"].astype(str).tolist()
    flags = frame[list(LABELS)].to_numpy() == 1
    # for each position, the first therapist utterance at or after it, and the end of the therapist run it starts (one pass)
    next_therapist, run_end = [-1] * (n + 1), list(range(n))
    for i in range(n - 1, -1, -1):
        if roles[i] == "therapist":
            next_therapist[i] = i
            if i + 1 < n and roles[i + 1] == "therapist":
                run_end[i] = run_end[i + 1]
        else:
            next_therapist[i] = next_therapist[i + 1]
    rows = []
    for pos in range(n):
        if roles[pos] != "client" or not flags[pos, LABELS.index("certainty_labelling")]:
            continue
        row = {
            "client_pos": pos, "client_turn": turns[pos], "client_text": texts[pos], "client_evidence": evidence[pos],
            "therapist_pos": -1, "therapist_turn": "", "therapist_text": "", "invited": pd.NA, "invited_labels": "",
            "kind": "", "kind_name": "",
        }
        start = next_therapist[pos + 1]
        if start >= 0:
            block = range(start, run_end[start] + 1)
            found = [l for l in MENTALIZING if flags[block.start : block.stop, LABELS.index(l)].any()]
            rule = classify_block([texts[i] for i in block], [_labels_of(flags[i]) for i in block])
            row.update(
                therapist_pos=start, therapist_turn=turns[start], therapist_text=" ".join(texts[i] for i in block),
                invited=bool(found), invited_labels="+".join(ABBREVIATIONS[l] for l in found), kind=rule.kind, kind_name=rule.name,
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def not_knowing_rate(responses: pd.DataFrame) -> tuple[int, int, float]:
    """``(invited, answered, rate)`` over :func:`therapist_responses`; the rate is NaN when nothing was answered."""
    answered = responses["invited"].dropna() if len(responses) else pd.Series(dtype=object)
    invited = int(sum(bool(v) for v in answered))
    return invited, len(answered), (invited / len(answered) if len(answered) else float("nan"))


@dataclass
class RoleFigures:
    """One role's figures in one session, summed over its speakers."""

    role: str
    speakers: list[str]
    utterances: int
    counts: dict[str, int]
    per_100: dict[str, float]
    balance: float
    per_100_low: dict[str, float] = field(default_factory=dict)
    per_100_high: dict[str, float] = field(default_factory=dict)
    needs_review: int = 0
    adjusted_per_100: dict[str, float] = field(default_factory=dict)
    """The rate corrected for the tagger's measured error rates, which the interval is around."""

    @property
    def mentalizing_per_100(self) -> float:
        return sum(self.per_100[l] for l in MENTALIZING)


def role_figures(profiles: pd.DataFrame, role: str) -> RoleFigures | None:
    """Sum one session's profile rows for ``role``; None when no speaker has that role."""
    mine = np.array([str(r).lower() == role for r in profiles["role"]], dtype=bool)

    def total(column: str) -> float:
        """The column summed over the role's speakers: NaN when it is missing or any value is."""
        return float(profiles[column].to_numpy(dtype=float)[mine].sum()) if column in profiles else float("nan")

    n = int(np.nansum(profiles["utterances"].to_numpy(dtype=float)[mine]))
    if not n:
        return None
    counts = {l: int(np.nansum(profiles[f"{l}_count"].to_numpy(dtype=float)[mine])) for l in LABELS}
    per_100 = {l: 100.0 * counts[l] / n for l in LABELS}
    value = balance(sum(counts[l] for l in MENTALIZING), counts["certainty_labelling"])
    def rate(name: str, count: str) -> float:
        """One speaker's rate as ``profiles.csv`` gives it; for several, from their counts summed
        (for the 90% interval's ends, conservative)."""
        if int(mine.sum()) == 1 and name in profiles:
            return float(profiles[name].to_numpy(dtype=float)[mine][0])
        return 100.0 * total(count) / n

    low = {l: rate(f"{l}_per_100_low", f"{l}_count_low") for l in LABELS}
    high = {l: rate(f"{l}_per_100_high", f"{l}_count_high") for l in LABELS}
    adjusted = {l: rate(f"{l}_adjusted_per_100", f"{l}_adjusted") for l in LABELS}
    review = int(np.nansum(profiles["needs_review_count"].to_numpy(dtype=float)[mine])) if "needs_review_count" in profiles else 0
    return RoleFigures(role, [str(s) for s in profiles["speaker"].to_numpy()[mine]], n, counts, per_100, float(value), low, high, review, adjusted)


@dataclass
class SessionFigures:
    """Everything the report says about one session."""

    name: str
    utterances: pd.DataFrame
    profiles: pd.DataFrame
    rates: pd.DataFrame
    spikes: list[Spike]
    threshold: float
    responses: pd.DataFrame
    moments: pd.DataFrame
    invited: int
    answered: int
    rate: float
    client: RoleFigures | None
    therapist: RoleFigures | None
    window: int


def session_figures(name: str, utterances: pd.DataFrame, profiles: pd.DataFrame, window: int = DEFAULT_WINDOW) -> SessionFigures:
    """The figures of session ``name`` from the whole batch's tables."""
    frame = utterances[utterances["session"] == name].reset_index(drop=True)
    rows = session_profile(frame, profiles[profiles["session"].astype(str) == name].reset_index(drop=True))
    spikes, threshold = certainty_spikes(frame, window)
    responses = therapist_responses(frame)
    invited, answered, rate = not_knowing_rate(responses)
    return SessionFigures(
        name=name, utterances=frame, profiles=rows, rates=rolling_rates(frame, window), spikes=spikes,
        threshold=threshold, responses=responses, moments=therapist_moments(frame), invited=invited, answered=answered, rate=rate,
        client=role_figures(rows, "client"), therapist=role_figures(rows, "therapist"), window=window,
    )


def session_profile(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """A session's profile rows, computed from its utterances when the folder has none."""
    return profile(frame) if rows.empty and not frame.empty else rows


def session_roles(frame: pd.DataFrame, rows: pd.DataFrame) -> tuple[RoleFigures | None, RoleFigures | None]:
    """A session's ``(client, therapist)`` figures from its utterances and profile rows (see :func:`session_profile`)."""
    rows = session_profile(frame, rows)
    return role_figures(rows, "client"), role_figures(rows, "therapist")


# ----------------------------------------------------------------------------- groups


def read_groups(path: str | Path) -> dict[str, str]:
    """A session -> group mapping from a CSV file with ``session`` and ``group`` columns.

    Raises:
        ReportError: the file is missing or lacks either column.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
        raise ReportError(f"cannot read the group mapping {path}: {exc}. Expected a CSV file with columns session,group.") from exc
    missing = [c for c in ("session", "group") if c not in table.columns]
    if missing:
        raise ReportError(
            f"{path} has no {' or '.join(map(repr, missing))} column; found: {', '.join(table.columns) or 'nothing'}. "
            "Expected a CSV file with a header line 'session,group'."
        )
    return {s.strip(): g.strip() for s, g in zip(table["session"], table["group"]) if s.strip() and g.strip()}


def assign_groups(sessions: Iterable[str], groups: Mapping[str, str] | None = None, pattern: str | None = None) -> dict[str, str | None]:
    """The group of each session: from ``groups`` when given, else from ``pattern``'s ``group`` match.

    Raises:
        ReportError: ``pattern`` is not a valid regular expression or has no ``(?P<group>…)``.
    """
    sessions = list(sessions)
    if groups is not None:
        return {s: (groups.get(s) or None) for s in sessions}
    source = DEFAULT_GROUP_PATTERN if pattern is None else pattern
    try:
        regex = re.compile(source)
    except re.error as exc:
        raise ReportError(f"--group-pattern {source!r} is not a valid regular expression: {exc}.") from exc
    if "group" not in regex.groupindex:
        raise ReportError(
            f"--group-pattern {source!r} has no named group 'group'; wrap the shared part in (?P<group>...), "
            r"e.g. '^(?P<group>[a-z]+)-\d+$'."
        )
    assigned: dict[str, str | None] = {}
    for name in sessions:
        match = regex.search(str(name))
        value = match.group("group") if match else None
        assigned[name] = (value.strip(" -_./") or None) if value else None
    return assigned


def shared_groups(assigned: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Groups holding two sessions or more, each with its sessions in natural order."""
    members: dict[str, list[str]] = {}
    for session, group in assigned.items():
        if group:
            members.setdefault(group, []).append(session)
    return {g: sorted(s, key=natural_key) for g, s in sorted(members.items(), key=lambda kv: natural_key(kv[0])) if len(s) > 1}


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' NA."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))

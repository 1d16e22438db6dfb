"""De-identified outputs and reports: speaker names become roles, listed names disappear.

``--redact`` replaces every speaker name by its role (``Therapist``, ``Client``, ``Speaker 3``)
in the speaker columns and wherever the name occurs in the text; ``--redact-names FILE``
(one name per line) also replaces each listed name, in any case, by ``[name 1]``,
``[name 2]`` … in the text, the evidence, the session names and the warnings. Evidence
offsets are moved with the text, so the highlighting still fits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .data import ReportError

ROLE_WORDS = {"therapist": "Therapist", "client": "Client"}
_MIN_SPEAKER_NAME = 3
"""Shorter speaker names (``T``, ``C``) are replaced in the speaker column but not hunted in the text."""


def read_names(path: str | Path) -> list[str]:
    """Names to redact, one per line; blank lines and lines starting with ``#`` are skipped.

    Raises:
        ReportError: the file cannot be read.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeError) as exc:
        raise ReportError(f"cannot read the names to redact from {path}: {exc}. Expected a text file with one name per line.") from exc
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class Redactor:
    """Replacements for one batch: listed names, and per session its speakers' role labels."""

    names: Sequence[str]
    speakers: Mapping[tuple[str, str], str]

    def __post_init__(self) -> None:
        unique = sorted({n for n in self.names if n}, key=len, reverse=True)
        self._listed = {n.lower(): f"[name {i}]" for i, n in enumerate(dict.fromkeys(self.names), start=1) if n}
        self._names_re = _words(unique)
        self._by_session: dict[str, tuple[re.Pattern[str] | None, dict[str, str]]] = {}
        for (session, speaker), label in self.speakers.items():
            self._by_session.setdefault(session, (None, {}))[1][speaker.lower()] = label
        for session, (_, table) in list(self._by_session.items()):
            hunted = [s for s in table if len(s) >= _MIN_SPEAKER_NAME and s not in ROLE_WORDS and s.lower() != table[s].lower()]
            self._by_session[session] = (_words(sorted(hunted, key=len, reverse=True)), table)

    def names_in(self, text: str) -> str:
        """``text`` with every listed name replaced."""
        return _replace(str(text), self._names_re, lambda m: self._listed[m.group(0).lower()])[0]

    def text(self, text: str, session: str, spans: str = "") -> tuple[str, str]:
        """One utterance's text with speaker and listed names replaced, and its evidence offsets moved to fit."""
        pattern, table = self._by_session.get(session, (None, {}))
        found: list[tuple[int, int, str]] = []
        if self._names_re is not None:
            found += [(m.start(), m.end(), self._listed[m.group(0).lower()]) for m in self._names_re.finditer(text)]
        if pattern is not None:
            found += [(m.start(), m.end(), table[m.group(0).lower()]) for m in pattern.finditer(text)]
        # where a listed name lies inside a speaker's full name ("Maria" in "Maria Lopez"), the longer goes whole
        edits: list[tuple[int, int, str]] = []
        for a, b, new in sorted(found, key=lambda e: (e[0], e[0] - e[1])):
            if not edits or a >= edits[-1][1]:
                edits.append((a, b, new))
        if not edits:
            return text, spans
        return _apply(text, edits), _move_spans(spans, edits)

    def speakers_in(self, text: str, session: str) -> str:
        """``text`` with the session's speaker names replaced by their labels ("Speaker 3")."""
        pattern, table = self._by_session.get(session, (None, {}))
        return _replace(text, pattern, lambda m: table[m.group(0).lower()])[0]

    def speaker(self, session: str, speaker: str) -> str:
        return self.speakers.get((session, speaker), "Speaker")


def _words(names: Sequence[str]) -> re.Pattern[str] | None:
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE)


def _replace(text: str, pattern: re.Pattern[str] | None, repl) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    return (text, 0) if pattern is None else pattern.subn(repl, text)


def _apply(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    out, last = [], 0
    for a, b, new in edits:
        out += [text[last:a], new]
        last = b
    return "".join(out) + text[last:]


def _move(position: int, edits: Sequence[tuple[int, int, str]], end: bool) -> int:
    """Where ``position`` of the old text lands in the new one; inside a replaced name, at its replacement's start (or end)."""
    shift = 0
    for a, b, new in edits:
        if b <= position:
            shift += len(new) - (b - a)
        elif a < position:
            return a + shift + (len(new) if end else 0)
        else:
            break
    return position + shift


def _move_spans(cell: str, edits: Sequence[tuple[int, int, str]]) -> str:
    if not cell:
        return cell
    try:
        items = json.loads(cell)
        for item in items:
            item["start"], item["end"] = _move(int(item["start"]), edits, False), _move(int(item["end"]), edits, True)
        return json.dumps(items, ensure_ascii=False)
    except (ValueError, TypeError, KeyError):
        return ""


def speaker_labels(utterances: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Per ``(session, speaker)``, the role label that replaces the name: Therapist, Client, Speaker 3.

    Speakers are numbered in order of appearance within the session; a second therapist is
    ``Therapist 2``; a speaker with no recognised role is ``Speaker N``.
    """
    labels: dict[tuple[str, str], str] = {}
    for session, frame in utterances.groupby(utterances["session"].astype(str), sort=False):
        seen: dict[str, int] = {}
        for k, (speaker, role) in enumerate(frame[["speaker", "role"]].astype(str).drop_duplicates("speaker").itertuples(index=False), 1):
            word = ROLE_WORDS.get(role.lower())
            if word is None:
                labels[(session, speaker)] = f"Speaker {k}"
                continue
            seen[word] = seen.get(word, 0) + 1
            labels[(session, speaker)] = word if seen[word] == 1 else f"{word} {seen[word]}"
    return labels


def session_labels(sessions: Iterable[str], redactor: Redactor) -> dict[str, str]:
    """Session names with listed names replaced, kept distinct."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for session in sessions:
        base = redactor.names_in(session)
        name, k = base, 2
        while name in used:
            name, k = f"{base} ({k})", k + 1
        used.add(name)
        out[session] = name
    return out


_TEXT_SUFFIXES = ("_evidence",)


def redact_tables(utterances: pd.DataFrame, profiles: pd.DataFrame, names: Sequence[str],
                  sessions: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The utterance, profile and (optional) session tables with names replaced; the inputs are not changed."""
    utterances = utterances.copy()
    profiles = profiles.copy()
    redactor = Redactor(list(names), speaker_labels(utterances))
    renamed = session_labels(pd.unique(utterances["session"].astype(str)).tolist() + (
        [s for s in profiles["session"].astype(str) if s not in set(utterances["session"].astype(str))] if len(profiles) else []), redactor)
    texts, spans = [], []
    has_spans = "evidence_spans" in utterances
    for session, text, cell in zip(utterances["session"].astype(str), utterances["text"].astype(str),
                                   utterances["evidence_spans"].astype(str) if has_spans else [""] * len(utterances)):
        new_text, new_spans = redactor.text(text, session, cell)
        texts.append(new_text)
        spans.append(new_spans)
    utterances["speaker"] = [redactor.speaker(s, p) for s, p in zip(utterances["session"].astype(str), utterances["speaker"].astype(str))]
    utterances["text"] = texts
    if has_spans:
        utterances["evidence_spans"] = spans
    for column in utterances.columns:
        if str(column).startswith("evidence") and column != "evidence_spans":
            utterances[column] = [redactor.names_in(v) for v in utterances[column].astype(str)]
    utterances["session"] = utterances["session"].astype(str).map(renamed)
    if len(profiles):
        profiles["speaker"] = [redactor.speaker(s, p) for s, p in zip(profiles["session"].astype(str), profiles["speaker"].astype(str))]
        for column in profiles.columns:
            if str(column).endswith(_TEXT_SUFFIXES):
                profiles[column] = [redactor.names_in(v) for v in profiles[column].astype(str)]
        profiles["session"] = profiles["session"].astype(str).map(lambda s: renamed.get(s, redactor.names_in(s)))
    if sessions is not None:
        sessions = sessions.copy()
        speakers = sorted({p for _, p in redactor.speakers if len(p) >= _MIN_SPEAKER_NAME and p.lower() not in ROLE_WORDS}, key=len, reverse=True)
        hunt = _words(speakers)
        owners = sessions["session"].astype(str).tolist() if "session" in sessions else [""] * len(sessions)

        for column in sessions.columns:
            values = sessions[column].astype(str)
            if column == "session":
                sessions[column] = values.map(lambda s: renamed.get(s, redactor.names_in(s)))
            elif column == "file":  # a path, not talk: only listed names leave it, so it still names the file
                sessions[column] = [redactor.names_in(v) for v in values]
            else:  # full names first, then listed ones
                sessions[column] = [redactor.names_in(_replace(redactor.speakers_in(v, owner), hunt, "a speaker")[0])
                                    for v, owner in zip(values, owners)]
    return utterances, profiles, sessions


def redact_folder(out_dir: str | Path, names: Sequence[str]) -> None:
    """Rewrite a ``mentalize score`` output folder in place, de-identified (see :func:`redact_tables`).

    ``errors.csv`` and ``sessions.csv`` are redacted too; session file paths lose their listed names.
    """
    from ..output import atomic_path, original_text_frame, raw_cells, spreadsheet_safe_frame
    from .data import _FORMATS, read_outputs

    out_dir = Path(out_dir)
    raw = raw_cells(out_dir)  # the text is read as it was and written back as the folder's CSV files hold it

    def read_csv(path: Path) -> pd.DataFrame:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        return table if raw else original_text_frame(table)

    def write_csv(table: pd.DataFrame, path: Path) -> None:
        with atomic_path(path) as tmp:
            (table if raw else spreadsheet_safe_frame(table)).to_csv(tmp, index=False)

    utterances, profiles = read_outputs(out_dir)
    sessions_path = out_dir / "sessions.csv"
    sessions = read_csv(sessions_path) if sessions_path.is_file() else None
    utterances, profiles, sessions = redact_tables(utterances, profiles, names, sessions)
    fmt = next(f for f in _FORMATS if (out_dir / f"utterances.{f}").is_file())
    for frame, stem in ((utterances, "utterances"), (profiles, "profiles")):
        path = out_dir / f"{stem}.{fmt}"
        if stem == "profiles" and not path.is_file():
            continue
        if fmt == "csv":
            write_csv(frame, path)
            continue
        with atomic_path(path) as tmp:
            if fmt == "parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    if sessions is not None:
        write_csv(sessions, sessions_path)
    errors = out_dir / "errors.csv"
    if errors.is_file() and names:
        table = read_csv(errors)
        redactor = Redactor(list(names), {})
        for column in table.columns:
            table[column] = [redactor.names_in(v) for v in table[column].astype(str)]
        write_csv(table, errors)

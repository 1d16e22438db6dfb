"""Cue rules: the word lists and token patterns the cue detector matches, as package data.

Each JSONL line is one rule with a ``category`` and either ``phrases`` (matched on the
token ``NORM``, so "doesn't", "doesnt" and "does not" meet) or a spaCy ``Matcher``
``pattern``. Rules are validated into frozen dataclasses that reject unknown keys, so a
typo in a user's own rule file fails loudly instead of matching nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import MentalizeError
from ..jsonl import jsonl_objects

CATEGORIES: tuple[str, ...] = (
    "EMOTION",
    "BODILY",
    "FEEL",
    "FEELING_QUESTION",
    "MENTAL_VERB",
    "PERSPECTIVE",
    "CERTAINTY",
    "ABSOLUTE",
    "TRAIT",
    "MOTIVE",
    "STANCE",
    "GENERALISATION",
    "PREDICTION",
    "ROUTINE",
    "GENERIC",
    "HEDGE",
    "WEAK_HEDGE",
    "NEGATION",
    "REPORTED",
    "PSEUDO",
    "TERMINATOR",
    "ENDORSE",
    "QUESTION",
)
"""Every cue category the detector knows; the scope step gives some of them meaning."""

_KEYS = frozenset({"category", "phrases", "pattern", "note"})


class RuleError(MentalizeError, ValueError):
    """A cue rule file holds a line that is not a valid rule."""


@dataclass(frozen=True)
class CueRule:
    """One cue rule: a category with phrases or a token pattern."""

    category: str
    phrases: tuple[str, ...] = ()
    pattern: tuple[dict, ...] = ()
    note: str = field(default="", compare=False)

    @classmethod
    def from_dict(cls, data: dict, where: str = "rule") -> CueRule:
        """Validate one JSON object into a rule, naming ``where`` in any error."""
        unknown = set(data) - _KEYS
        if unknown:
            raise RuleError(f"{where}: unknown key(s) {sorted(unknown)}; expected some of {sorted(_KEYS)}")
        category = data.get("category")
        if category not in CATEGORIES:
            raise RuleError(f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}")
        phrases = tuple(data.get("phrases", ()))
        pattern = tuple(data.get("pattern", ()))
        if bool(phrases) == bool(pattern):
            raise RuleError(f"{where}: give either 'phrases' (a list of strings) or 'pattern' (a Matcher pattern)")
        if not all(isinstance(p, str) and p.strip() for p in phrases):
            raise RuleError(f"{where}: every phrase must be a non-empty string")
        if not all(isinstance(t, dict) for t in pattern):
            raise RuleError(f"{where}: a pattern is a list of token dicts")
        return cls(category=category, phrases=phrases, pattern=pattern, note=str(data.get("note", "")))

    def to_dict(self) -> dict:
        """The JSON form of the rule, as read by :meth:`from_dict`."""
        data: dict = {"category": self.category}
        if self.phrases:
            data["phrases"] = list(self.phrases)
        if self.pattern:
            data["pattern"] = list(self.pattern)
        if self.note:
            data["note"] = self.note
        return data


def parse_rules(lines: Iterable[str], source: str) -> Iterator[CueRule]:
    """Parse JSONL text into rules; blank lines are skipped."""
    for where, data in jsonl_objects(lines, source, RuleError):
        yield CueRule.from_dict(data, where)


def default_rules() -> list[CueRule]:
    """The rules shipped with the package."""
    folder = resources.files("mentalize_nlp.pipeline") / "resources"
    rules: list[CueRule] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".jsonl"):
            rules.extend(parse_rules(entry.read_text("utf-8").splitlines(), entry.name))
    return rules


def read_rules(path: str | Path) -> list[CueRule]:
    """Read rules from one JSONL file, or from every ``*.jsonl`` file in a folder."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    rules: list[CueRule] = []
    for file in files:
        rules.extend(parse_rules(file.read_text("utf-8").splitlines(), str(file)))
    return rules


def write_rules(rules: Iterable[CueRule], path: str | Path) -> None:
    """Write rules as one JSONL file."""
    with open(path, "w", encoding="utf-8") as out:
        for rule in rules:
            out.write(json.dumps(rule.to_dict(), ensure_ascii=False) + "\n")

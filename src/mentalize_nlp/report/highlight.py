"""Evidence words marked in an utterance, with colour *and* a text marker.

The tagger records where each evidence word sits (``evidence_spans``: character offsets
in the text), so the exact words are marked. For an output folder written without
offsets, each word is found again in the text instead: whole words only,
case-insensitively, the longest first and the first occurrence of each. Every run of marked text ends with a bracketed abbreviation (``[CL]``,
``[FN+PT]``), so nothing is lost without colour or in a black-and-white printout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from ..labels import LABELS
from .data import ABBREVIATIONS, NAMES, evidence_terms


def _term_regex(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"\W+", term) if w]
    body = r"\W+".join(words) if words else re.escape(term)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def evidence_spans(text: str, terms: Mapping[str, Sequence[str] | str]) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` for each evidence word found in ``text``.

    Args:
        text: The utterance.
        terms: Per label, its evidence words (a list, or the comma-separated cell).
    """
    spans: list[tuple[int, int, str]] = []
    for label in LABELS:
        words = terms.get(label, ())
        words = evidence_terms(words) if isinstance(words, str) else [w for w in words if w.strip()]
        taken: list[tuple[int, int]] = []
        for word in sorted(dict.fromkeys(words), key=len, reverse=True):
            for match in _term_regex(word).finditer(text):
                a, b = match.span()
                if a < b and all(b <= s or a >= e for s, e in taken):
                    taken.append((a, b))
                    spans.append((a, b, label))
                    break
    return sorted(spans)


def offset_spans(text: str, cell: str, labels: Sequence[str]) -> list[tuple[int, int, str]] | None:
    """``(start, end, label)`` from an ``evidence_spans`` cell, for the given labels; ``None``
    when the cell is missing or does not fit the text (then the words are searched for)."""
    if not cell:
        return None
    try:
        items = json.loads(cell)
        spans = [(int(i["start"]), int(i["end"]), str(i["label"])) for i in items if i["label"] in labels and not i.get("sentence")]
    except (ValueError, TypeError, KeyError):
        return None
    if not all(0 <= a < b <= len(text) for a, b, _ in spans):
        return None
    return sorted(spans)


def highlight(text: str, terms: Mapping[str, Sequence[str] | str], offsets: str = "") -> Markup:
    """The utterance as escaped HTML, evidence words wrapped in ``<mark>`` and followed by a marker.

    Args:
        text: The utterance.
        terms: Per label, its evidence words.
        offsets: The ``evidence_spans`` cell: exact positions, used when it fits ``text``.
    """
    spans = offset_spans(text, offsets, list(terms))
    if spans is None:
        spans = evidence_spans(text, terms)
    if not spans:
        return escape(text)
    cuts = sorted({0, len(text), *(a for a, _, _ in spans), *(b for _, b, _ in spans)})
    pieces: list[tuple[str, tuple[str, ...]]] = []
    for a, b in zip(cuts, cuts[1:]):
        labels = tuple(l for l in LABELS if any(s <= a and b <= e and lab == l for s, e, lab in spans))
        pieces.append((text[a:b], labels))
    out: list[Markup | str] = []
    for i, (piece, labels) in enumerate(pieces):
        if not labels:
            out.append(escape(piece))
            continue
        following = pieces[i + 1][1] if i + 1 < len(pieces) else ()
        classes = " ".join(f"ev-{ABBREVIATIONS[l].lower()}" for l in labels)
        names = " and ".join(NAMES[l] for l in labels)
        marker = Markup('<span class="ev-abbr">[{}]</span>').format("+".join(ABBREVIATIONS[l] for l in labels)) if labels != following else ""
        out.append(Markup('<mark class="ev {}" title="evidence for {}">{}{}</mark>').format(classes, names, piece, marker))
    return Markup("").join(out)

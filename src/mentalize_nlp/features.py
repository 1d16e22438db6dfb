"""Turn a processed ``Doc`` into what the classifier reads, one row per unit.

A *unit* is what a decision is made on: one sentence of a turn when tagging (the spec's
unit is the utterance, or one sentence of it), the whole text when training on a corpus
row that was coded as a whole. Each unit gives two inputs:

- named cue features: counts named ``CATEGORY`` and ``CATEGORY|state`` (``active``,
  ``hedged``, ``negated``, ``reported``, ``quoted``, ``pseudo``, ``endorsed``), plus a few
  interactions a supervisor would recognise (a hedge and a mental-state verb in one
  sentence, an emotion word attached to "I", "you" or a third person, a question);
- content words: the token norms without function words and fillers, so the word
  n-grams can learn "selfish" or "worried" but never "be", "your" or "might" (those
  only count through the cue lists, where the scope step has given them a meaning).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, NORM, SPACY
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span

from .pipeline.cues import SPANS_KEY
from .pipeline.extensions import CUE_STATES
from .pipeline.scope import MODIFIERS, sentence_bounds
from .transcripts.session import speech_mask

FILLERS = frozenset({"um", "uh", "erm", "er", "uhm", "umm", "hmm", "mm", "mmm", "ah", "mm-hmm", "uh-huh", "hm"})
_FUNCTION_WORDS = frozenset(STOP_WORDS) | FILLERS | {"'s", "n't", "'m", "'re", "'ve", "'ll", "'d", "s", "m", "re", "ve", "ll", "d", "gonna", "wanna", "gotta", "like", "yeah", "okay", "ok", "oh"}
_FIRST = frozenset({"i", "me", "my", "myself", "im", "i'm"})
_SECOND = frozenset({"you", "your", "yourself", "ya", "u"})
_THIRD = frozenset({"she", "he", "they", "her", "him", "them", "his", "their", "mum", "mom", "dad", "people", "everyone"})
_LABEL_CUE_SETS = {
    "certainty": frozenset({"TRAIT", "MOTIVE", "STANCE", "GENERALISATION", "ABSOLUTE", "PREDICTION", "CERTAINTY"}),
    "feeling": frozenset({"EMOTION", "FEELING_QUESTION", "FEEL"}),
    "perspective": frozenset({"PERSPECTIVE", "MENTAL_VERB", "HEDGE", "WEAK_HEDGE"}),
}
"""Cue categories that can carry each label; a unit with none of them says so, so that
content words alone ("not my sister") cannot carry a label."""
_CAUSE = frozenset({"because", "cause", "'cause", "cos", "coz", "why", "since", "reason", "made", "makes", "make"})
_WH = frozenset({"what", "how", "why", "who", "which", "where", "when"})
_AUX_Q = frozenset({"do", "did", "does", "are", "were", "was", "is", "could", "can", "would", "have", "had"})
_HEDGEABLE = frozenset({"MENTAL_VERB", "EMOTION", "PERSPECTIVE", "TRAIT", "MOTIVE", "STANCE", "FEEL"})
_VERDICTS = frozenset({"TRAIT", "MOTIVE", "STANCE", "GENERALISATION", "PREDICTION"})
_COPULA = frozenset({"is", "'s", "s", "are", "'re", "re", "am", "'m", "was", "were", "be", "being", "such", "called", "so", "a", "an", "total", "complete", "absolute", "real", "right", "proper", "just", "bloody", "fucking", "effing"})


UNIT_ATTRS = [IS_PUNCT, IS_SPACE, IDX, LENGTH, SPACY, NORM]
"""What :func:`doc_units` and :func:`featurise` read of each token, in one array."""


@dataclass(frozen=True)
class Unit:
    """One decision unit of one doc: token range ``[start, end)`` and its character offsets."""

    doc: int
    start: int
    end: int
    start_char: int
    end_char: int


def _person(norms: list[str]) -> list[str]:
    found = set(norms)
    return [who for who, words in (("other", _THIRD), ("self", _FIRST), ("you", _SECOND)) if found & words]


def _is_question(norms: list[str], punct: list[bool]) -> bool:
    words = [n for n, p in zip(norms, punct) if not p and n not in FILLERS]
    if not words:
        return False
    if "?" in norms[-2:]:
        return True
    first, second = words[0], (words[1] if len(words) > 1 else "")
    return first in _WH or (first in _AUX_Q and second in {"you", "she", "he", "they", "it", "that", "i"})


def cue_states(cue: Span) -> list[str]:
    """The scope states of a cue (``hedged``, ``negated``, …), or ``["active"]`` when none."""
    states = cue._.cue_states
    return [name for name in CUE_STATES if name in states] or ["active"]


def unit_features(
    start: int, end: int, norms: list[str], punct: list[bool], cues: list[Span], bounds: list[tuple[int, int]]
) -> tuple[str, dict[str, float]]:
    """The classifier's two inputs for tokens ``[start, end)`` of a doc.

    Args:
        norms, punct: Token norms and punctuation/space flags of the whole doc.
        cues: The cue spans that start inside the unit.
        bounds: The sentences inside the unit, as token ranges.

    Keys are added in a fixed order, so the fitted vectoriser, and so the saved model, is
    the same byte for byte from run to run.
    """
    text = " ".join(n for n, p in zip(norms[start:end], punct[start:end]) if not p and n not in _FUNCTION_WORDS)
    feats: dict[str, float] = {}

    def add(name: str, value: float = 1.0) -> None:
        feats[name] = feats.get(name, 0.0) + value

    bounds = bounds or [(start, end)]
    listed, cues = cues, []
    for cue in listed:  # a mental verb in a way of talking ("I mean") counts only as that
        if cue.label_ == "MENTAL_VERB" and cue._.pseudo:
            add("MENTAL_VERB|pseudo")
        else:
            cues.append(cue)
    by_sent: list[list[Span]] = [[] for _ in bounds]
    sent_starts = [s for s, _ in bounds]
    active_ids: set[int] = set()
    for cue in cues:
        add(cue.label_)
        k = max(bisect_left(sent_starts, cue.start + 1) - 1, 0)
        by_sent[k].append(cue)
        if cue.label_ in MODIFIERS:
            continue
        states = cue_states(cue)
        if states == ["active"]:
            active_ids.add(id(cue))
        for state in states:
            add(f"{cue.label_}|{state}")
        before = next((norms[i] for i in range(cue.start - 1, max(cue.start - 4, start - 1), -1) if not punct[i]), "^")
        after = next((norms[i] for i in range(cue.end, min(cue.end + 3, end)) if not punct[i]), "$")
        add(f"{cue.label_}<{before}")
        add(f"{cue.label_}>{after}")
        if cue.label_ == "TRAIT" and states == ["active"]:
            if set(norms[max(cue.start - 4, bounds[k][0]): cue.start]) & _COPULA:
                add("TRAIT|verdict")
    for (s, e), in_sent in zip(bounds, by_sent):
        labels = {c.label_ for c in in_sent}
        active = {c.label_ for c in in_sent if id(c) in active_ids}
        person = _person(norms[s:e])
        if _is_question(norms[s:e], punct[s:e]):
            add("question")
            for who in person:
                add(f"question&{who}")
            for label in sorted(labels - MODIFIERS):
                add(f"question&{label}")
        if "HEDGE" in labels:
            for label in sorted(labels & _HEDGEABLE):
                add(f"HEDGE&{label}")
        if "EMOTION" in labels:
            for who in person:
                add(f"EMOTION&{who}")
            if "FEEL" in active:
                add("FEEL&EMOTION")
        if "BODILY" in labels and "EMOTION" not in labels:
            add("BODILY_only")
        if active & _VERDICTS:
            for who in person:
                add(f"verdict&{who}")
            if active & {"CERTAINTY", "ABSOLUTE"}:
                add("verdict&certainty")
            if "WEAK_HEDGE" in labels:
                add("verdict&weak_hedge")
        if labels & {"EMOTION", "MENTAL_VERB", "FEELING_QUESTION"} and _CAUSE.intersection(norms[s:e]):
            for label in sorted(labels & {"EMOTION", "MENTAL_VERB", "FEELING_QUESTION"}):
                add(f"CAUSE&{label}")
        if "ABSOLUTE" in labels and "ROUTINE" in labels:
            add("ABSOLUTE&ROUTINE")
        if "PREDICTION" in labels and "EMOTION" in labels:
            add("EMOTION&PREDICTION")
        if "MENTAL_VERB" in labels:
            for who in person:
                add(f"MENTAL&{who}")
            if "HEDGE" in labels and person:
                add("HEDGE&MENTAL&person")
    active_all = {c.label_ for c in cues if id(c) in active_ids}
    present = {c.label_ for c in cues}
    for name, categories in _LABEL_CUE_SETS.items():
        if not (active_all if name == "certainty" else present) & categories:
            add(f"no_cue:{name}")
    words = sum(1 for p in punct[start:end] if not p)
    feats["length_short"] = float(words <= 3 and not active_all & _VERDICTS)  # "She is selfish." is a verdict all the same
    feats["length_long"] = float(words >= 25)
    return text, feats


def doc_units(doc: Doc, index: int, *, by_sentence: bool, table: np.ndarray | None = None) -> list[Unit]:
    """The decision units of a doc: its sentences, or the whole doc as one unit.

    ``table`` (``doc.to_array(UNIT_ATTRS)``, if the caller has it) spares building ``Token``
    and ``Span`` objects."""
    if not len(doc):
        return [Unit(index, 0, 0, 0, 0)]
    ranges = sentence_bounds(doc) if by_sentence else [(0, len(doc))]
    table = doc.to_array(UNIT_ATTRS) if table is None else table
    whole = Unit(index, 0, len(doc), 0, int(table[-1, 2] + table[-1, 3] + table[-1, 4]))  # len(doc.text), without joining every token
    if len(ranges) == 1:
        return [whole]
    first = table[:, 2].tolist()  # each token's first character, and the one after its text
    after_text = (table[:, 2] + table[:, 3]).tolist()
    punct = (table[:, 0] | table[:, 1]).tolist()
    units = []
    for start, end in ranges:
        if by_sentence and all(punct[start:end]) and units:
            continue  # a lone "..." or stray space is not a sentence of its own
        units.append(Unit(index, start, end, first[start], after_text[end - 1]))
    return units or [whole]


MAX_RUN = 100
"""Longest run of characters without whitespace given to the tokenizer whole (the longest in
the project's corpora is 25)."""
_PIECE = 100_000
"""Characters of a long text tokenized at a time."""
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN + 1}}}")
_RUN = re.compile(r"(\S+)\s*")


def bounded_doc(nlp: Language, text: str) -> str | Doc:
    """``text`` for ``nlp.pipe`` to tokenize; or, for a text longer than ``nlp.max_length``
    or holding a run of more than :data:`MAX_RUN` characters without whitespace, its ``Doc``,
    tokenized a piece at a time.

    spaCy refuses a text longer than ``nlp.max_length`` (a million characters), and its
    tokenizer takes time growing with the square of a run's length when the run is made of
    prefixes or suffixes (a thousand ``[`` take seconds, a million would take days). Pieces
    are cut only where a run of non-whitespace starts, and inside a long run every
    :data:`MAX_RUN` characters, so everything else is tokenized exactly as in the whole text;
    the ``Doc``'s text, so every character offset, is the text given.
    """
    if len(text) <= nlp.max_length and not _LONG_RUN.search(text):
        return text
    pieces, start = [], 0
    for run in _RUN.finditer(text):
        if len(run[1]) > MAX_RUN:
            if run.start() > start:
                pieces.append(text[start : run.start()])
            cuts = list(range(run.start(), run.end(1), MAX_RUN))
            pieces += [text[a:b] for a, b in zip(cuts, [*cuts[1:], run.end()])]  # the last keeps the whitespace after
            start = run.end()
        elif run.start() - start >= _PIECE:
            pieces.append(text[start : run.start()])
            start = run.start()
    if start < len(text):
        pieces.append(text[start:])
    return Doc.from_docs([nlp.tokenizer(piece) for piece in pieces], ensure_whitespace=False)


def featurise(nlp: Language, texts: Iterable[str], batch_size: int = 512, *, by_sentence: bool = True) -> tuple[list[Doc], list[Unit], pd.DataFrame]:
    """Run the pipeline over raw utterance texts and build the classifier's input.

    Transcriber notes such as ``[inaudible]`` are blanked to spaces (not removed), so
    character offsets in the docs are offsets in the original texts.

    Returns:
        The docs, their units (sentences when ``by_sentence``, else one per text), and a
        frame with ``text`` and ``cues`` columns, one row per unit.
    """
    docs = list(nlp.pipe((bounded_doc(nlp, speech_mask(str(t))) for t in texts), batch_size=batch_size))
    units: list[Unit] = []
    rows_text: list[str] = []
    rows_cues: list[dict[str, float]] = []
    for i, doc in enumerate(docs):
        table = doc.to_array(UNIT_ATTRS)
        strings = doc.vocab.strings
        norms = [strings[h] for h in table[:, 5].tolist()]
        punct = (table[:, 0] | table[:, 1]).astype(bool).tolist()
        cues = list(doc.spans.get(SPANS_KEY, []))
        cue_starts = [c.start for c in cues]
        sentences = None if by_sentence else sentence_bounds(doc)  # a whole-text unit's sentences
        for unit in doc_units(doc, i, by_sentence=by_sentence, table=table):
            lo, hi = bisect_left(cue_starts, unit.start), bisect_left(cue_starts, unit.end)
            inside = sentences if sentences is not None else [(unit.start, unit.end)]
            text, feats = unit_features(unit.start, unit.end, norms, punct, cues[lo:hi], inside)
            units.append(unit)
            rows_text.append(text)
            rows_cues.append(feats)
    return docs, units, pd.DataFrame({"text": rows_text, "cues": rows_cues})

"""Turn a processed ``Doc`` into what the classifier reads: named cue features and text.

Cue features are counts named ``CATEGORY`` and ``CATEGORY|state`` (``active``,
``hedged``, ``negated``, ``reported``, ``quoted``, ``pseudo``, ``endorsed``), plus a few
interactions a supervisor would recognise: a hedge and a mental-state verb in one
sentence, an emotion word attached to "I", "you" or a third person, a question.
The text is the token norms with fillers removed, so "dont", "don't" and "do not" meet.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

import pandas as pd

from spacy.attrs import IS_PUNCT, IS_SPACE, NORM
from spacy.language import Language
from spacy.tokens import Doc, Span

from .pipeline.cues import SPANS_KEY
from .pipeline.extensions import SCOPE_MODIFIERS
from .pipeline.scope import MODIFIERS, sentence_bounds
from .transcripts.session import speech_text

FILLERS = frozenset({"um", "uh", "erm", "er", "uhm", "umm", "hmm", "mm", "mmm", "ah"})
_FIRST = frozenset({"i", "me", "my", "myself", "im", "i'm"})
_SECOND = frozenset({"you", "your", "yourself", "ya", "u"})
_THIRD = frozenset({"she", "he", "they", "her", "him", "them", "his", "their", "mum", "mom", "dad", "people", "everyone"})
_WH = frozenset({"what", "how", "why", "who", "which", "where", "when"})
_AUX_Q = frozenset({"do", "did", "does", "are", "were", "was", "is", "could", "can", "would", "have", "had"})
_HEDGEABLE = frozenset({"MENTAL_VERB", "EMOTION", "PERSPECTIVE", "TRAIT", "MOTIVE", "STANCE", "FEEL"})
_VERDICTS = frozenset({"TRAIT", "MOTIVE", "STANCE", "GENERALISATION"})
_COPULA = frozenset({"is", "'s", "s", "are", "'re", "re", "am", "'m", "was", "were", "be", "being", "such", "called", "so", "a", "an", "total", "complete", "absolute", "real", "right", "proper", "just", "bloody", "fucking", "effing"})


def _sentence_of(bounds: list[tuple[int, int]], i: int) -> int:
    return bisect_right([start for start, _ in bounds], i) - 1


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


def doc_features(doc: Doc, spans_key: str = SPANS_KEY) -> tuple[str, dict[str, float]]:
    """The classifier's two inputs for one doc: normalised text and named cue features.

    Cue features are counts of each cue category and of each ``CATEGORY|state``, and a
    few interactions within a sentence. Keys are added in a fixed order (sets are sorted
    before use), so the fitted vectoriser, and so the saved model, is the same byte for
    byte from run to run.
    """
    table = doc.to_array([NORM, IS_PUNCT, IS_SPACE])
    strings = doc.vocab.strings
    norms = [strings[h] for h in table[:, 0].tolist()]
    punct = (table[:, 1] | table[:, 2]).astype(bool).tolist()
    text = " ".join(n for n, p in zip(norms, punct) if not p and n not in FILLERS)
    feats: dict[str, float] = {}

    def add(name: str, value: float = 1.0) -> None:
        feats[name] = feats.get(name, 0.0) + value

    bounds = sentence_bounds(doc)
    by_sent: list[list[Span]] = [[] for _ in bounds]
    for cue in doc.spans.get(spans_key, []):
        add(cue.label_)
        by_sent[_sentence_of(bounds, cue.start)].append(cue)
        if cue.label_ in MODIFIERS:
            continue
        states = [name for name in (*SCOPE_MODIFIERS, "endorsed") if getattr(cue._, name)]
        for state in states or ["active"]:
            add(f"{cue.label_}|{state}")
        if cue.label_ == "TRAIT" and not states:
            sent_start = bounds[_sentence_of(bounds, cue.start)][0]
            if set(norms[max(cue.start - 4, sent_start): cue.start]) & _COPULA:
                add("TRAIT|verdict")
    for (start, end), in_sent in zip(bounds, by_sent):
        labels = {c.label_ for c in in_sent}
        active = {c.label_ for c in in_sent if c.label_ not in MODIFIERS and c._.active}
        person = _person(norms[start:end])
        if _is_question(norms[start:end], punct[start:end]):
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
        if "MENTAL_VERB" in labels:
            for who in person:
                add(f"MENTAL&{who}")
    words = sum(1 for p in punct if not p)
    feats["length_short"] = float(words <= 3)
    feats["length_long"] = float(words >= 25)
    return text, feats


def featurise(nlp: Language, texts: Iterable[str], batch_size: int = 512) -> tuple[list[Doc], pd.DataFrame]:
    """Run the pipeline over raw utterance texts (transcriber notes removed) and build the
    classifier's input: one row per text with ``text`` and ``cues`` columns."""
    docs = list(nlp.pipe((speech_text(str(t)) for t in texts), batch_size=batch_size))
    pairs = [doc_features(doc) for doc in docs]
    return docs, pd.DataFrame({"text": [text for text, _ in pairs], "cues": [feats for _, feats in pairs]})

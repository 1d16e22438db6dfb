"""Turn a processed ``Doc`` into what the classifier reads: named cue features and text.

Cue features are counts named ``CATEGORY`` and ``CATEGORY|state`` (``active``,
``hedged``, ``negated``, ``reported``, ``quoted``, ``pseudo``, ``endorsed``), plus a few
interactions a supervisor would recognise: a hedge and a mental-state verb in one
sentence, an emotion word attached to "I", "you" or a third person, a question.
The text is the token norms with fillers removed, so "dont", "don't" and "do not" meet.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span

from .pipeline.cues import SPANS_KEY
from .pipeline.extensions import SCOPE_MODIFIERS
from .pipeline.scope import MODIFIERS

FILLERS = frozenset({"um", "uh", "erm", "er", "uhm", "umm", "hmm", "mm", "mmm", "ah"})
_FIRST = frozenset({"i", "me", "my", "myself", "im", "i'm"})
_SECOND = frozenset({"you", "your", "yourself", "ya", "u"})
_THIRD = frozenset({"she", "he", "they", "her", "him", "them", "his", "their", "mum", "mom", "dad", "people", "everyone"})
_WH = frozenset({"what", "how", "why", "who", "which", "where", "when"})
_AUX_Q = frozenset({"do", "did", "does", "are", "were", "was", "is", "could", "can", "would", "have", "had"})
_COPULA = frozenset({"is", "'s", "s", "are", "'re", "re", "am", "'m", "was", "were", "be", "being", "such", "called", "so", "a", "an", "total", "complete", "absolute", "real", "right", "proper", "just", "bloody", "fucking", "effing"})


def _person(sent: Span) -> set[str]:
    norms = {t.norm_ for t in sent}
    found = set()
    if norms & _FIRST:
        found.add("self")
    if norms & _SECOND:
        found.add("you")
    if norms & _THIRD:
        found.add("other")
    return found


def _is_question(sent: Span) -> bool:
    words = [t for t in sent if not t.is_punct and t.norm_ not in FILLERS]
    if not words:
        return False
    if sent[-1].text == "?" or (len(sent) > 1 and sent[-2].text == "?"):
        return True
    first = words[0].norm_
    second = words[1].norm_ if len(words) > 1 else ""
    return first in _WH or (first in _AUX_Q and second in {"you", "she", "he", "they", "it", "that", "i"})


def cue_features(doc: Doc, spans_key: str = SPANS_KEY) -> dict[str, float]:
    """Named counts of cues in their scope states, and their interactions.

    Keys are added in a fixed order (sets are sorted before use), so the fitted
    vectoriser, and so the saved model, is the same byte for byte from run to run.
    """
    feats: dict[str, float] = {}

    def add(name: str, value: float = 1.0) -> None:
        feats[name] = feats.get(name, 0.0) + value

    cues = list(doc.spans.get(spans_key, []))
    by_sent: dict[int, list[Span]] = {}
    for cue in cues:
        add(cue.label_)
        if cue.label_ in MODIFIERS:
            by_sent.setdefault(cue.sent.start, []).append(cue)
            continue
        states = [name for name in (*SCOPE_MODIFIERS, "endorsed") if getattr(cue._, name)]
        for state in states or ["active"]:
            add(f"{cue.label_}|{state}")
        by_sent.setdefault(cue.sent.start, []).append(cue)
        if cue.label_ == "TRAIT" and cue._.active:
            window = {t.norm_ for t in doc[max(cue.start - 4, cue.sent.start): cue.start]}
            if window & _COPULA:
                add("TRAIT|verdict")
    for sent in doc.sents:
        in_sent = by_sent.get(sent.start, [])
        labels = {c.label_ for c in in_sent}
        active = {c.label_ for c in in_sent if c.label_ not in MODIFIERS and c._.active}
        person = _person(sent)
        question = _is_question(sent)
        if question:
            add("question")
            for who in sorted(person):
                add(f"question&{who}")
            for label in sorted(labels - MODIFIERS):
                add(f"question&{label}")
        if "HEDGE" in labels:
            for label in sorted(labels & {"MENTAL_VERB", "EMOTION", "PERSPECTIVE", "TRAIT", "MOTIVE", "STANCE", "FEEL"}):
                add(f"HEDGE&{label}")
        if "EMOTION" in labels:
            for who in sorted(person):
                add(f"EMOTION&{who}")
            if "FEEL" in active:
                add("FEEL&EMOTION")
        if "BODILY" in labels and "EMOTION" not in labels:
            add("BODILY_only")
        if active & {"TRAIT", "MOTIVE", "STANCE", "GENERALISATION"}:
            for who in sorted(person):
                add(f"verdict&{who}")
            if active & {"CERTAINTY", "ABSOLUTE"}:
                add("verdict&certainty")
        if "MENTAL_VERB" in labels:
            for who in sorted(person):
                add(f"MENTAL&{who}")
    n = sum(1 for t in doc if not t.is_punct)
    feats["length_short"] = float(n <= 3)
    feats["length_long"] = float(n >= 25)
    return feats


def doc_text(doc: Doc) -> str:
    """Lowercase token norms without fillers or punctuation, for the text vectorisers."""
    return " ".join(t.norm_ for t in doc if not t.is_punct and not t.is_space and t.norm_ not in FILLERS)

"""The scope step: decides what each cue means in its context, in the manner of ConText.

Modifier cues open a scope that runs forward to the end of the sentence or to a
terminator ("but", "though"):

- ``HEDGE`` ("maybe", "I wonder if", "might") marks later cues *hedged*, so a trait
  verdict becomes tentative; a hedge just after a cue ("…selfish, maybe") counts too.
- ``NEGATION`` ("not", "I wouldn't say") marks cues within a few tokens *negated*.
- ``REPORTED`` ("she said", "he goes", "my therapist") marks cues as someone else's words,
  as does a pair of quotation marks (*quoted*); an ``ENDORSE`` cue ("and she's right")
  later in the turn marks them *endorsed*.
- ``PSEUDO`` ("I feel like we should", "feel free") marks an overlapping ``FEEL`` cue
  *pseudo*: an opinion or wish, not a feeling.
- ``WEAK_HEDGE`` ("I guess", "I think", "kind of") softens reasoning about a mind but
  leaves a verdict or standing attitude certain ("I guess he doesn't like me").
- ``GENERIC`` ("people with", "it's normal to") marks a later emotion word *generic*:
  talk about people in general, not a named feeling; so does a fixed prediction in the
  same sentence ("I'll be lonely forever" is a verdict on a life, not a feeling now).
"""

from __future__ import annotations

from bisect import bisect_right

from spacy.attrs import ORTH
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span

from .cues import SPANS_KEY
from .extensions import register_extensions

def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """``(start, end)`` token offsets of each sentence; the whole doc when none are set."""
    return [(sent.start, sent.end) for sent in doc.sents] if doc.has_annotation("SENT_START") else [(0, len(doc))]


MODIFIERS = frozenset({"HEDGE", "WEAK_HEDGE", "NEGATION", "REPORTED", "PSEUDO", "TERMINATOR", "ENDORSE", "GENERIC"})
VERDICTS = frozenset({"TRAIT", "MOTIVE", "STANCE", "GENERALISATION", "PREDICTION"})
"""Cue categories that a weak hedge ("I guess", "I think") leaves certain."""
_QUOTES = frozenset({'"', "“", "”", "‘", "’", "'", "``", "''"})
_QUOTE_IDS = frozenset(get_string_id(q) for q in _QUOTES)


class ScopeResolver:
    """Mark each target cue hedged, negated, reported, quoted or pseudo.

    Args:
        spans_key: Where the cue detector stored its spans.
        negation_window: How many tokens after a negation it still applies.
        post_hedge_window: How many tokens after a cue a trailing hedge still softens it.
    """

    def __init__(self, *, spans_key: str = SPANS_KEY, negation_window: int = 4, post_hedge_window: int = 3) -> None:
        register_extensions()
        self.spans_key = spans_key
        self.negation_window = negation_window
        self.post_hedge_window = post_hedge_window

    def __call__(self, doc: Doc) -> Doc:
        cues = list(doc.spans.get(self.spans_key, []))
        if not cues:
            return doc
        starts = [start for start, _ in sentence_bounds(doc)]
        sentence = [bisect_right(starts, c.start) - 1 for c in cues]
        quoted = self._quoted_tokens(doc)
        labels_of = [c.label_ for c in cues]
        modifiers = [(c, s) for c, s, label in zip(cues, sentence, labels_of) if label in MODIFIERS]
        terminators = [c.start for c, _ in modifiers if c.label_ == "TERMINATOR"]
        endorsements = [c.start for c, _ in modifiers if c.label_ == "ENDORSE"]
        predicted = {s for s, label in zip(sentence, labels_of) if label == "PREDICTION"}
        by_sentence: dict[int, list[Span]] = {}
        for m, s in modifiers:
            by_sentence.setdefault(s, []).append(m)
        for cue, sent, label in zip(cues, sentence, labels_of):
            if label in MODIFIERS:
                continue
            in_sentence = by_sentence.get(sent, [])
            open_scopes = [
                m for m in in_sentence
                if m.end <= cue.start and not any(m.end <= t <= cue.start for t in terminators)
            ]
            scope = {m.label_ for m in open_scopes}
            states = {
                "hedged": "HEDGE" in scope or ("WEAK_HEDGE" in scope and label not in VERDICTS) or any(
                    m.label_ == "HEDGE" and 0 <= m.start - cue.end < self.post_hedge_window
                    and not any(cue.end <= t < m.start for t in terminators)
                    for m in in_sentence
                ),
                "negated": any(m.label_ == "NEGATION" and cue.start - m.end < self.negation_window for m in open_scopes),
                "reported": "REPORTED" in scope and label not in {"FEELING_QUESTION", "PERSPECTIVE"},
                "quoted": bool(quoted) and all(i in quoted for i in range(cue.start, cue.end)),
                "generic": label in {"EMOTION", "FEEL"} and ("GENERIC" in scope or sent in predicted),
                "pseudo": label == "FEEL" and any(m.label_ == "PSEUDO" and m.start <= cue.start < m.end for m, _ in modifiers),
            }
            states["endorsed"] = (states["reported"] or states["quoted"]) and any(e >= cue.end for e in endorsements)
            for name, value in states.items():
                # Set every state, True or False: cues of two categories over the same words share
                # their Span._ values (spaCy keys them by offsets), and the model was trained with
                # the last cue's states winning.
                setattr(cue._, name, value)
        return doc

    @staticmethod
    def _quoted_tokens(doc: Doc) -> set[int]:
        """Token indices between paired quotation marks.

        A lone ``'`` glued to a word ending in "s" ("my parents' house") is a possessive,
        not a quote; contractions never reach here because the tokenizer keeps "'re" whole.
        """
        if _QUOTE_IDS.isdisjoint(doc.to_array(ORTH).tolist()):
            return set()
        marks = [
            t.i for t in doc
            if t.text in _QUOTES
            and not (t.text in {"'", "’"} and t.i > 0 and not doc[t.i - 1].whitespace_ and doc[t.i - 1].lower_.endswith("s")
                     and t.i + 1 < len(doc) and not doc[t.i + 1].is_punct and t.whitespace_)
        ]
        inside: set[int] = set()
        for open_i, close_i in zip(marks[::2], marks[1::2]):
            inside.update(range(open_i + 1, close_i))
        return inside


@Language.factory(
    "mentalize_scope",
    requires=["doc.spans"],
    assigns=["span._.hedged", "span._.negated", "span._.reported", "span._.quoted", "span._.pseudo", "span._.generic", "span._.endorsed"],
    default_config={"spans_key": SPANS_KEY, "negation_window": 4, "post_hedge_window": 3},
)
def make_scope(nlp: Language, name: str, spans_key: str, negation_window: int, post_hedge_window: int) -> ScopeResolver:
    """spaCy factory for :class:`ScopeResolver`."""
    return ScopeResolver(spans_key=spans_key, negation_window=negation_window, post_hedge_window=post_hedge_window)

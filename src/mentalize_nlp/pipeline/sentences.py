"""Sentence boundaries that also work on lowercase, unpunctuated speech-recognition output.

Scope (a "maybe", a "she said") must stop at the end of its sentence. spaCy's
``sentencizer`` only sees punctuation, so a forty-word ASR turn would be one sentence and
one hedge would soften everything in it. This component splits at sentence punctuation
and, inside long unpunctuated runs, before a discourse marker or a fresh subject clause.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

_PUNCT_END = frozenset({".", "!", "?", "...", "..", "!!", "??", "?!", "…"})
_MARKERS = frozenset({"but", "so", "anyway", "and", "cos", "because", "like", "um", "uh", "erm", "well", "then", "yeah", "okay", "ok"})
_SUBJECTS = frozenset({"i", "she", "he", "they", "we", "you", "it", "my", "his", "her", "their", "your", "there", "that"})
_NO_BREAK_AFTER = frozenset(
    {
        "and", "that", "if", "when", "because", "cos", "so", "but", "think", "thought", "guess", "wonder", "know",
        "knew", "said", "says", "like", "what", "why", "how", "where", "who", "whether", "maybe", "perhaps", "feel",
        "felt", "mean", "suppose", "reckon", "whether", "as", "than", "which", "the", "a", "an", "to", "of", "for",
        "with", "about", "at", "in", "on", "by", "from", "or", "is", "was", "are", "were", "be", "been", "do", "did",
        "does", "not", "n't", "just", "really", "tell", "told", "goes", "went", "see", "saw", "believe", "hope",
        "wish", "worry", "worried", "while", "until", "till", "since", "after", "before", "once", "unless", "even",
    }
)


class SentenceSplitter:
    """Set ``Token.is_sent_start`` from punctuation, and from clause starts in unpunctuated runs."""

    def __init__(self, *, min_run: int = 8) -> None:
        self.min_run = min_run

    def __call__(self, doc: Doc) -> Doc:
        run = 0
        for i, token in enumerate(doc):
            if i == 0:
                token.is_sent_start = True
                run = 1
                continue
            prev = doc[i - 1]
            start = prev.text in _PUNCT_END or (prev.is_punct and prev.text[-1:] in ".!?")
            if not start and run >= self.min_run:
                start = self._clause_start(doc, i)
            token.is_sent_start = start
            run = 1 if start else run + (0 if token.is_punct else 1)
        return doc

    @staticmethod
    def _clause_start(doc: Doc, i: int) -> bool:
        word = doc[i].lower_
        nxt = doc[i + 1].lower_ if i + 1 < len(doc) else ""
        prev = doc[i - 1].lower_
        if word in _MARKERS and nxt in _SUBJECTS and prev not in _NO_BREAK_AFTER:
            return True
        return word in {"i", "she", "he", "they", "we"} and nxt not in {"and", "or"} and prev not in _NO_BREAK_AFTER and not doc[i - 1].is_punct


@Language.factory(
    "mentalize_sentences",
    assigns=["token.is_sent_start"],
    default_config={"min_run": 8},
)
def make_sentences(nlp: Language, name: str, min_run: int) -> SentenceSplitter:
    """spaCy factory for :class:`SentenceSplitter`."""
    return SentenceSplitter(min_run=min_run)

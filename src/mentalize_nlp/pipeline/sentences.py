"""Sentence boundaries that also work on lowercase, unpunctuated speech-recognition output.

Scope (a "maybe", a "she said") must stop at the end of its sentence. spaCy's
``sentencizer`` only sees punctuation, so a forty-word ASR turn would be one sentence and
one hedge would soften everything in it. This component splits at sentence punctuation
and, inside long unpunctuated runs, before a discourse marker or a fresh subject clause.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from spacy.attrs import IS_PUNCT, LOWER, SENT_START
from spacy.strings import get_string_id
from spacy.language import Language
from spacy.tokens import Doc

from .batching import BatchComponent, named

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


class SentenceSplitter(BatchComponent):
    """Set ``Token.is_sent_start`` from punctuation, and from clause starts in unpunctuated runs.

    Works on the token hash array (``Doc.to_array``), never creating ``Token`` objects,
    because it runs on every utterance.
    """

    name = "mentalize_sentences"

    def __init__(self, *, min_run: int = 8) -> None:
        self.min_run = min_run

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        table = doc.to_array([LOWER, IS_PUNCT])
        lowers = table[:, 0].tolist()
        punct = table[:, 1].astype(bool).tolist()
        starts = [0]
        run = 1
        for i in range(1, len(lowers)):
            start = lowers[i - 1] in _END_IDS
            if not start and run >= self.min_run:
                start = _clause_start(lowers, punct, i)
            if start:
                starts.append(i)
                run = 1
            elif not punct[i]:
                run += 1
        flags = np.full((len(lowers), 1), -1, dtype=np.int64)
        flags[starts, 0] = 1
        doc.from_array([SENT_START], flags.astype(np.uint64))
        return doc


def _ids(words: Iterable[str]) -> frozenset[int]:
    return frozenset(get_string_id(w) for w in words)


_END_IDS = _ids({*_PUNCT_END, '."', ".'", '?"', '!"', ".”", "?”", "!”", "....", "!!!", "???"})
_MARKER_IDS = _ids(_MARKERS)
_SUBJECT_IDS = _ids(_SUBJECTS)
_NO_BREAK_IDS = _ids(_NO_BREAK_AFTER)
_PRONOUN_IDS = _ids({"i", "she", "he", "they", "we"})
_CONJ_IDS = _ids({"and", "or"})


def _clause_start(lowers: list[int], punct: list[bool], i: int) -> bool:
    word, prev = lowers[i], lowers[i - 1]
    nxt = lowers[i + 1] if i + 1 < len(lowers) else 0
    if prev in _NO_BREAK_IDS:
        return False
    if word in _MARKER_IDS and nxt in _SUBJECT_IDS:
        return True
    return word in _PRONOUN_IDS and nxt not in _CONJ_IDS and not punct[i - 1]


@Language.factory(
    "mentalize_sentences",
    assigns=["token.is_sent_start"],
    default_config={"min_run": 8},
)
def make_sentences(nlp: Language, name: str, min_run: int) -> SentenceSplitter:
    """spaCy factory for :class:`SentenceSplitter`."""
    return named(SentenceSplitter(min_run=min_run), name)

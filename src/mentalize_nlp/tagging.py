"""Tagging: text in, one row per utterance out, with labels, probabilities and evidence.

:class:`Tagger` holds one pipeline and one classifier; load it once and reuse it::

    import mentalize_nlp
    tagger = mentalize_nlp.load()
    tagger.tag_texts(["I felt really hurt", "she's just selfish"])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from spacy.language import Language
from spacy.tokens import Doc

from . import classifier as classifier_module
from .classifier import Classifier
from .features import featurise
from .labels import LABELS
from .pipeline import SPANS_KEY, build_pipeline
from .pipeline.scope import sentence_bounds
from .transcripts import Session

_LABEL_CUES = {
    "certainty_labelling": ("TRAIT", "MOTIVE", "STANCE", "GENERALISATION", "ABSOLUTE"),
    "feeling_naming": ("EMOTION", "FEELING_QUESTION"),
    "perspective_taking": ("PERSPECTIVE",),
}
_SOFT_CERTAINTY = frozenset({"obviously", "clearly", "definitely", "of course", "i know", "i just know", "for sure", "no doubt"})


def cue_evidence(doc: Doc, label: str) -> list[str]:
    """The cue words in ``doc`` that support ``label`` in their context."""
    words: list[str] = []
    cues = list(doc.spans.get(SPANS_KEY, []))
    for cue in cues:
        if cue.label_ not in _LABEL_CUES[label]:
            continue
        if label == "certainty_labelling" and not (cue._.active or cue._.endorsed):
            continue
        if label == "feeling_naming" and (cue._.reported or cue._.quoted):
            continue
        words.append(cue.text)
    if label == "certainty_labelling":
        words += [c.text for c in cues if c.label_ == "CERTAINTY" and c.text.lower() in _SOFT_CERTAINTY and c._.active]
    if label == "perspective_taking":
        for start, end in sentence_bounds(doc):
            in_sent = [c for c in cues if start <= c.start < end]
            hedges = [c.text for c in in_sent if c.label_ == "HEDGE"]
            minds = [c.text for c in in_sent if c.label_ in ("MENTAL_VERB", "EMOTION") and c._.hedged]
            if hedges and minds:
                words += hedges[:1] + minds
    return list(dict.fromkeys(words))


def tag_columns(labels: Sequence[str]) -> list[str]:
    """The columns :meth:`Tagger.tag_texts` returns, in order."""
    return [*labels, *(f"p_{l}" for l in labels), "evidence", *(f"evidence_{l}" for l in labels)]


class Tagger:
    """The spaCy pipeline and the trained classifier, together.

    Args:
        nlp: A pipeline from :func:`~mentalize_nlp.pipeline.build_pipeline`; built when omitted.
        classifier: A loaded :class:`~mentalize_nlp.classifier.Classifier`; the shipped
            model when omitted.
        batch_size: Texts per ``nlp.pipe`` batch.
    """

    def __init__(self, nlp: Language | None = None, classifier: Classifier | None = None, batch_size: int = 512) -> None:
        self.nlp = nlp if nlp is not None else build_pipeline()
        self.classifier = classifier if classifier is not None else classifier_module.load()
        self.batch_size = batch_size
        self.labels: tuple[str, ...] = self.classifier.labels

    def tag_texts(self, texts: Sequence[str]) -> pd.DataFrame:
        """Tag raw utterance texts.

        Returns:
            One row per text: a 0/1 column per label, ``p_<label>`` probabilities,
            ``evidence_<label>`` (the words behind each positive label) and ``evidence``
            (all of them, as ``label: words; …``).
        """
        docs, X = featurise(self.nlp, texts, self.batch_size)
        if not len(X):
            return pd.DataFrame(columns=tag_columns(self.labels))
        proba = self.classifier.predict_proba(X)
        decided = self.classifier.decide(proba)
        table = pd.DataFrame(decided, columns=list(self.labels))
        for j, label in enumerate(self.labels):
            table[f"p_{label}"] = np.round(proba[:, j], 4)
        for j, label in enumerate(self.labels):
            evidence = [", ".join(cue_evidence(doc, label)) if on else "" for doc, on in zip(docs, decided[:, j])]
            missing = np.array([bool(on) and not ev for on, ev in zip(decided[:, j], evidence)])
            if missing.any():
                rows = np.flatnonzero(missing)
                for row, words in zip(rows, self.classifier.word_contributions(X, rows, j)):
                    evidence[row] = ", ".join(words)
            table[f"evidence_{label}"] = evidence
        table["evidence"] = [
            "; ".join(f"{label}: {row[f'evidence_{label}']}" for label in self.labels if row[label] and row[f"evidence_{label}"])
            for row in table.to_dict("records")
        ]
        return table[tag_columns(self.labels)]

    def tag_frame(self, frame: pd.DataFrame, text_column: str = "text") -> pd.DataFrame:
        """A copy of ``frame`` with the tag columns of :meth:`tag_texts` added on the right."""
        if text_column not in frame.columns:
            raise KeyError(f"no {text_column!r} column; found: {', '.join(map(str, frame.columns))}")
        tags = self.tag_texts(frame[text_column].fillna("").astype(str).tolist())
        tags.index = frame.index
        return pd.concat([frame.drop(columns=[c for c in tags.columns if c in frame.columns]), tags], axis=1)

    def tag_session(self, session: Session) -> pd.DataFrame:
        """The utterance table of one session, in turn order (the ``utterances.csv`` rows)."""
        return self.tag_sessions([session])

    def tag_sessions(self, sessions: Sequence[Session]) -> pd.DataFrame:
        """The utterance tables of several sessions, in order, tagged in one pass (faster than one by one)."""
        utterances = [(s.name, u) for s in sessions for u in s.utterances]
        base = pd.DataFrame(
            {
                "session": [name for name, _ in utterances],
                "turn": [u.turn for _, u in utterances],
                "speaker": [u.speaker for _, u in utterances],
                "role": [u.role or "other" for _, u in utterances],
                "text": [u.text for _, u in utterances],
                "start": [u.start or "" for _, u in utterances],
                "end": [u.end or "" for _, u in utterances],
            }
        )
        return self.tag_frame(base)


def load(model: str | None = None, nlp: Language | None = None) -> Tagger:
    """Load the tagger once: the shipped model, or the model folder ``model``."""
    return Tagger(nlp=nlp, classifier=classifier_module.load(model))

"""Tagging: text in, one row per utterance out, with labels, probabilities and evidence.

:class:`Tagger` holds one pipeline and one classifier; load it once and reuse it::

    import mentalize_nlp
    tagger = mentalize_nlp.load()
    tagger.tag_texts(["I felt really hurt", "she's just selfish"])
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from spacy.language import Language
from spacy.tokens import Doc, Span

from . import classifier as classifier_module
from .classifier import TOP_SENTENCES, Classifier, turn_scores
from .features import featurise
from .pipeline import SPANS_KEY, build_pipeline
from .profiles import NO_CUE
from .transcripts import Session
from .transcripts.session import seconds

_LABEL_CUES = {
    "certainty_labelling": ("TRAIT", "MOTIVE", "STANCE", "GENERALISATION", "ABSOLUTE", "PREDICTION"),
    "feeling_naming": ("EMOTION", "FEELING_QUESTION"),
    "perspective_taking": ("PERSPECTIVE",),
}
_SOFT_CERTAINTY = frozenset({"obviously", "clearly", "definitely", "of course", "i know", "i just know", "for sure", "no doubt"})


EVIDENCE_SHARE = 0.9
"""Where the sentence most likely to carry a label names no cue for it, the cue words of
another of the turn's :data:`~mentalize_nlp.classifier.TOP_SENTENCES` whose score is at
least this share of its are shown instead."""


def cue_evidence(doc: Doc, label: str, start: int = 0, end: int | None = None) -> list[Span]:
    """The cue spans in tokens ``[start, end)`` of ``doc`` that support ``label`` in their context."""
    end = len(doc) if end is None else end
    cues = [c for c in doc.spans.get(SPANS_KEY, []) if start <= c.start < end]
    found: list[Span] = []
    for cue in cues:
        if cue.label_ not in _LABEL_CUES[label]:
            continue
        if label == "certainty_labelling" and not (cue._.active or cue._.endorsed):
            continue
        if label == "feeling_naming" and (cue._.reported or cue._.quoted or cue._.generic or cue._.pseudo):
            continue
        found.append(cue)
    if label == "certainty_labelling":
        found += [c for c in cues if c.label_ == "CERTAINTY" and c.text.lower() in _SOFT_CERTAINTY and c._.active]
    if label == "perspective_taking":
        hedges = [c for c in cues if c.label_ == "HEDGE"]
        minds = [c for c in cues if c.label_ in ("MENTAL_VERB", "EMOTION") and not c._.pseudo
                 and (c._.hedged or any(h.start <= c.start and c.end <= h.end for h in hedges))]  # "I wonder" is both
        if hedges and minds:
            found += hedges[:1] + minds
    kept: list[Span] = []
    reach = -1  # where the kept cues end, at the furthest: a cue ending there or before lies inside one
    for cue in sorted(found, key=lambda c: (c.start, -(c.end - c.start))):  # longest first where they overlap
        if cue.end > reach:
            kept.append(cue)
            reach = cue.end
    return kept


class JoinedSessionsWarning(UserWarning):
    """Sessions of one name from different files are tagged as one session."""


def tag_columns(labels: Sequence[str]) -> list[str]:
    """The columns :meth:`Tagger.tag_texts` returns, in order."""
    return [*labels, *(f"p_{l}" for l in labels), "needs_review", "evidence", *(f"evidence_{l}" for l in labels), "evidence_spans"]


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
        """Tag raw utterance texts, deciding sentence by sentence.

        Each sentence of a text is scored on its own; the text's score, per label, is the
        chance that any of its sentences carries the label, calibrated so that
        ``p_<label>`` is the share of such utterances that human coders label so on real
        talk. The evidence comes from the sentence with the highest score and from the others
        of the turn's most likely sentences that would carry the label on their own. A text given more
        than once is tagged once, and gets the same row wherever it stands.

        Returns:
            One row per text: a 0/1 column per label, ``p_<label>`` probabilities,
            ``needs_review`` (a probability in the uncertain band, or a label given at a
            probability under it), ``evidence_<label>``
            (the cue words behind each positive label, or "no cue word; model score …"),
            ``evidence`` (all of them, as ``label: words; …``) and ``evidence_spans`` (JSON:
            each evidence word, or the sentence that carried a cue-less label, with its
            character offsets in the text).
        """
        if isinstance(texts, str):
            raise TypeError("tag_texts takes a list of texts; for one text, pass [text].")
        index = texts.index if isinstance(texts, pd.Series) else None
        texts = ["" if t is None or t is pd.NA or t is pd.NaT or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
        if not texts:
            return pd.DataFrame(columns=tag_columns(self.labels))
        row: dict[str, int] = {}  # each distinct text's row: "Yeah.", "Mm-hmm." and "Okay." are a quarter of some transcripts
        for text in texts:
            row.setdefault(text, len(row))
        table = self._tag_distinct(list(row))
        if len(row) < len(texts):
            table = table.iloc[[row[t] for t in texts]].reset_index(drop=True)
        if index is not None:
            table.index = index
        return table

    def _tag_distinct(self, texts: list[str]) -> pd.DataFrame:
        """The rows of :meth:`tag_texts` for texts that are all different."""
        docs, units, X = featurise(self.nlp, texts, self.batch_size)
        unit_doc = np.fromiter((u.doc for u in units), dtype=int, count=len(units))
        unit_proba = self.classifier.unit_proba(X)
        raw, carrier, lengths = turn_scores(unit_proba, unit_doc, len(docs))
        first = np.searchsorted(unit_doc, np.arange(len(docs)))  # each doc's first unit
        proba = self.classifier.calibrate(raw, lengths)
        decided = self.classifier.decide(raw)
        low, high = self.classifier.review_band
        table = pd.DataFrame(decided, columns=list(self.labels))
        for j, label in enumerate(self.labels):
            table[f"p_{label}"] = np.round(proba[:, j], 4)
        # uncertain: a probability in the band, or a label given at a probability under it
        table["needs_review"] = (((proba >= low) & (proba < high)) | ((decided == 1) & (proba < low))).any(axis=1).astype(int)
        spans: list[list[dict]] = [[] for _ in docs]
        alone = unit_proba >= self.classifier.thresholds  # a sentence that would carry the label on its own
        for j, label in enumerate(self.labels):
            evidence = [""] * len(docs)
            for d in np.flatnonzero(decided[:, j]).tolist():
                unit = units[carrier[d, j]]
                lo, hi = int(first[d]), int(first[d] + lengths[d])
                # the carrying sentence's cues, and those of the other sentences making the turn's
                # score that carry the label on their own (its most likely ones: no sentence that
                # does not pass ranks above one that does), in the order of the text
                passing = lo + np.flatnonzero(alone[lo:hi, j])
                if len(passing) > TOP_SENTENCES:
                    passing = passing[np.argsort(-unit_proba[passing, j], kind="stable")[:TOP_SENTENCES]]
                read = sorted({int(carrier[d, j]), *passing.tolist()}, key=lambda k: units[k].start)
                cues = [c for k in read for c in cue_evidence(docs[d], label, units[k].start, units[k].end)]
                if not cues:  # a sentence nearly as likely may name its cue where the carrier names none
                    top = (lo + np.argsort(-unit_proba[lo:hi, j], kind="stable")[:TOP_SENTENCES]).tolist()
                    for k in (k for k in top if k != carrier[d, j]):
                        if unit_proba[k, j] < EVIDENCE_SHARE * unit_proba[carrier[d, j], j]:
                            break
                        cues = cue_evidence(docs[d], label, units[k].start, units[k].end)
                        if cues:
                            break
                if cues:
                    evidence[d] = ", ".join(dict.fromkeys(c.text for c in cues))
                    spans[d] += [{"label": label, "start": c.start_char, "end": c.end_char, "text": c.text} for c in cues]
                else:
                    evidence[d] = f"{NO_CUE}; model score {proba[d, j]:.2f}"
                    spans[d].append({"label": label, "start": unit.start_char, "end": unit.end_char, "sentence": True})
            table[f"evidence_{label}"] = evidence
        table["evidence"] = [
            "; ".join(f"{label}: {row[f'evidence_{label}']}" for label in self.labels if row[label])
            for row in table.to_dict("records")
        ]
        table["evidence_spans"] = [json.dumps(s, ensure_ascii=False) if s else "" for s in spans]
        return table[tag_columns(self.labels)]

    def tag_frame(self, frame: pd.DataFrame, text_column: str = "text", prefix: str = "pred_") -> pd.DataFrame:
        """A copy of ``frame`` with the tag columns of :meth:`tag_texts` added on the right.

        The caller's columns and index are kept as they are. A tag column whose name is
        already taken (a coder's ``feeling_naming``, say) is added as ``prefix`` + its name
        (``pred_feeling_naming``), so gold codes are never overwritten.

        Raises:
            KeyError: ``text_column`` is not in the frame.
        """
        if text_column not in frame.columns:
            raise KeyError(f"no {text_column!r} column; found: {', '.join(map(str, frame.columns))}. Pass text_column=…")
        if list(frame.columns).count(text_column) > 1:
            raise KeyError(f"the frame has {list(frame.columns).count(text_column)} columns named {text_column!r}; keep one, or pass text_column=…")
        tags = self.tag_texts(frame[text_column].fillna("").astype(str).tolist())
        tags.index = frame.index
        taken = set(map(str, frame.columns))
        renamed = {c: f"{prefix}{c}" for c in tags.columns if c in taken}
        clash = [c for c in renamed.values() if c in taken]
        if clash:
            raise KeyError(f"tag column(s) {', '.join(clash)} would overwrite the frame's; pass another prefix=…")
        return pd.concat([frame, tags.rename(columns=renamed)], axis=1)

    def tag_session(self, session: Session) -> pd.DataFrame:
        """The utterance table of one session, in turn order (the ``utterances.csv`` rows)."""
        if isinstance(session, (list, tuple)):
            raise TypeError("tag_session takes one Session; read_transcript returns a list of them (a table may hold "
                            "several): use tag_sessions(read_transcript(path)).")
        return self.tag_sessions([session])

    def tag_sessions(self, sessions: Sequence[Session]) -> pd.DataFrame:
        """The utterance tables of several sessions, in order, tagged in one pass (faster than one by one)."""
        sources: dict[str, set[str]] = {}
        for s in sessions:
            sources.setdefault(s.name, set()).add(s.source)
        joined = {name: paths for name, paths in sources.items() if len(paths) > 1}
        if joined:  # two files of one name (clinicA/s1.txt, clinicB/s1.txt): mentalize score tells them apart
            name, paths = next(iter(joined.items()))
            warnings.warn(f"session {name!r} comes from {len(paths)} files ({', '.join(sorted(map(str, paths)))}), so their "
                          "turns are one session's; give the sessions different names (session.name = …) to keep them apart.",
                          JoinedSessionsWarning, stacklevel=2)
        utterances = [(s.name, u) for s in sessions for u in s.utterances]
        turns = [u.turn for _, u in utterances]
        names = pd.Series([name for name, _ in utterances], dtype=object)
        # a session's turns are numbers when all of them are (positions, or a turn column's whole numbers;
        # "1e3" stays text), whatever the sessions tagged beside it, so the output does not depend on how a batch was split
        number = pd.Series([isinstance(t, int) and not isinstance(t, bool) and abs(t) < 2**63 for t in turns], dtype=bool)
        whole = number.groupby(names, sort=False).transform("all")
        if whole.all():
            turn_column = pd.Series(turns, dtype="Int64")
        else:
            turn_column = pd.Series([t if w else str(t) for t, w in zip(turns, whole)], dtype=object)
        base = pd.DataFrame(
            {
                "session": names.tolist(),
                "turn": turn_column,
                "speaker": [u.speaker for _, u in utterances],
                "role": [u.role or "other" for _, u in utterances],
                "text": [u.text for _, u in utterances],
                "start": [seconds(u.start) for _, u in utterances],
                "end": [seconds(u.end) for _, u in utterances],
            }
        )
        return self.tag_frame(base)


def load(model: str | None = None, nlp: Language | None = None) -> Tagger:
    """Load the tagger once: the shipped model, or the model folder ``model``."""
    return Tagger(nlp=nlp, classifier=classifier_module.load(model))

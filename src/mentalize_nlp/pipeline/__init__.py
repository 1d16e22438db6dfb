"""The spaCy pipeline: tokens, sentences, cue spans and their scope.

:func:`build_pipeline` is the only place a pipeline is made; everything downstream
receives the ``nlp`` it returns.
"""

from __future__ import annotations

import spacy
from spacy.language import Language

from .cues import SPANS_KEY, CueDetector
from .extensions import register_extensions
from .rules import CueRule, default_rules, read_rules
from .scope import ScopeResolver
from .sentences import SentenceSplitter

__all__ = [
    "SPANS_KEY",
    "CueDetector",
    "CueRule",
    "ScopeResolver",
    "SentenceSplitter",
    "build_pipeline",
    "default_rules",
    "read_rules",
]


def build_pipeline(base: str | Language = "en", *, rules_path: str | None = None) -> Language:
    """Build the mentalize pipeline.

    Args:
        base: A language code for :func:`spacy.blank` (the default, English tokenizer only),
            a name or path for :func:`spacy.load`, or an existing ``Language`` to extend.
            Only the tokenizer's output is used, so a blank pipeline is as good as a trained
            one for tagging and much faster.
        rules_path: A JSONL file or folder of cue rules replacing the shipped lists.

    Returns:
        The pipeline with ``mentalize_sentences`` (unless the base already sets sentence
        boundaries), ``mentalize_cues`` and ``mentalize_scope``.
    """
    register_extensions()
    if isinstance(base, Language):
        nlp = base
    elif len(base) <= 3 and base.isalpha():
        nlp = spacy.blank(base)
    else:
        nlp = spacy.load(base, exclude=["ner", "lemmatizer", "textcat"])
    if not any(name in nlp.pipe_names for name in ("parser", "senter", "sentencizer", "mentalize_sentences")):
        nlp.add_pipe("mentalize_sentences")
    cues = nlp.add_pipe("mentalize_cues", config={"rules_path": rules_path})
    cues._ensure_ready()  # a bad rules file fails here, not on the first utterance
    nlp.add_pipe("mentalize_scope")
    return nlp

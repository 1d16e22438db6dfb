from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "corpora" / "sample"
CORPUS = ROOT / "corpora" / "mentalizing" / "corpus.csv"
ANNOMI = ROOT.parent / "shared" / "corpora" / "annomi" / "AnnoMI-full.csv"


@pytest.fixture(scope="session")
def nlp():
    from mentalize_nlp.pipeline import build_pipeline

    return build_pipeline()


@pytest.fixture(scope="session")
def tagger():
    import mentalize_nlp

    return mentalize_nlp.load()


def cues(doc, category=None):
    """(text, category, states) for each cue in a doc, optionally of one category."""
    from mentalize_nlp.pipeline.extensions import CUE_STATES

    return [
        (c.text.lower(), c.label_, {m for m in CUE_STATES if getattr(c._, m)})
        for c in doc.spans["mentalize_cues"]
        if category is None or c.label_ == category
    ]

"""mentalize-nlp: tag mentalizing in psychotherapy transcripts.

Three labels (see ``spec/labels.md``): certainty-laden labelling, feeling-naming and
perspective-taking. Load once, tag many::

    import mentalize_nlp
    tagger = mentalize_nlp.load()
    frame = tagger.tag_texts(["maybe she felt left out", "he's a narcissist"])

Names are imported on first use, so ``import mentalize_nlp`` (and ``mentalize --help``)
does not pay for spaCy and scikit-learn until they are needed.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .errors import CorpusError, MentalizeError, ModelError, OutputError, TranscriptError
from .labels import LABELS

try:
    __version__ = version("mentalize-nlp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

_LAZY = {
    "build_pipeline": (".pipeline", "build_pipeline"),
    "profile": (".profiles", "profile"),
    "Tagger": (".tagging", "Tagger"),
    "load": (".tagging", "load"),
    "read_transcript": (".transcripts", "read_transcript"),
    "score": (".batch", "score_inputs"),
}

if TYPE_CHECKING:
    from .batch import score_inputs as score
    from .pipeline import build_pipeline
    from .profiles import profile
    from .tagging import Tagger, load
    from .transcripts import read_transcript


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(import_module(module, __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LABELS",
    "CorpusError",
    "MentalizeError",
    "ModelError",
    "OutputError",
    "Tagger",
    "TranscriptError",
    "__version__",
    "build_pipeline",
    "load",
    "profile",
    "read_transcript",
    "score",
]

"""mentalize-nlp: tag mentalizing in psychotherapy transcripts.

Three labels (see ``spec/labels.md``): certainty-laden labelling, feeling-naming and
perspective-taking. Load once, tag many::

    import mentalize_nlp
    tagger = mentalize_nlp.load()
    frame = tagger.tag_texts(["maybe she felt left out", "he's a narcissist"])
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .errors import CorpusError, MentalizeError, ModelError, OutputError, TranscriptError
from .labels import LABELS
from .pipeline import build_pipeline
from .profiles import profile
from .tagging import Tagger, load

try:
    __version__ = version("mentalize-nlp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

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
]

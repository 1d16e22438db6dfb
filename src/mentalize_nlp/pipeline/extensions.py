"""Every custom ``Span._`` attribute of the pipeline, registered here and only here.

The scope step writes the boolean modifiers; ``active`` is derived from them, so it is a
getter and can never disagree with them.
"""

from __future__ import annotations

from spacy.tokens import Span

SCOPE_MODIFIERS: tuple[str, ...] = ("hedged", "negated", "reported", "quoted", "pseudo", "generic")
"""Ways the scope step can change what a cue means."""

CUE_STATES: tuple[str, ...] = (*SCOPE_MODIFIERS, "endorsed")
"""Every state the scope step sets on a cue."""


def _is_active(span: Span) -> bool:
    underscore = span._
    return not any(getattr(underscore, name) for name in SCOPE_MODIFIERS)


def register_extensions() -> None:
    """Register the span attributes once; later calls do nothing."""
    for name in CUE_STATES:
        if not Span.has_extension(name):
            Span.set_extension(name, default=False)
    if not Span.has_extension("active"):
        Span.set_extension("active", getter=_is_active)

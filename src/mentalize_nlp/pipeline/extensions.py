"""Every custom ``Span._`` attribute of the pipeline, registered here and only here.

The scope step writes one attribute per cue, ``cue_states``: the set of ways its context
changes what it means. Each state can also be read, or set, on its own (``cue._.hedged``),
and ``active`` (no modifier at all) is derived, so none of them can disagree.
"""

from __future__ import annotations

from functools import partial

from spacy.tokens import Span

SCOPE_MODIFIERS: tuple[str, ...] = ("hedged", "negated", "reported", "quoted", "pseudo", "generic")
"""Ways the scope step can change what a cue means."""

CUE_STATES: tuple[str, ...] = (*SCOPE_MODIFIERS, "endorsed")
"""Every state the scope step sets on a cue."""

_MODIFIER_SET = frozenset(SCOPE_MODIFIERS)


def _has(name: str, span: Span) -> bool:
    return name in span._.cue_states


def _set(name: str, span: Span, value: bool) -> None:
    states = span._.cue_states
    span._.cue_states = states | {name} if value else states - {name}


def _is_active(span: Span) -> bool:
    return _MODIFIER_SET.isdisjoint(span._.cue_states)


def register_extensions() -> None:
    """Register the span attributes once; later calls do nothing."""
    if not Span.has_extension("cue_states"):
        Span.set_extension("cue_states", default=frozenset())
    for name in CUE_STATES:
        if not Span.has_extension(name):
            Span.set_extension(name, getter=partial(_has, name), setter=partial(_set, name))
    if not Span.has_extension("active"):
        Span.set_extension("active", getter=_is_active)

"""The three mentalizing labels, in the order every table and model uses them."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("certainty_labelling", "feeling_naming", "perspective_taking")
"""Label names, as in ``spec/labels.md`` and the output contract."""

REGISTERS: tuple[str, ...] = ("clean", "disfluent", "asr", "british", "adolescent")
"""Speech registers recorded in the annotated corpus."""

"""The supervision report: self-contained HTML pages built from a ``mentalize score`` output folder.

::

    from mentalize_nlp.report import write_reports
    pages = write_reports(Path("out"))        # out/report/<session>.html and out/report/index.html

Each session page shows the profile per speaker, a timeline with certainty spikes, the
therapist's replies to client certainty described in MBT terms (moments to listen to,
not a grade), the therapist's own certainty and its repair, the tagged
transcript and a plain-language reading; the index lists every session and, where sessions
share a client or trainee, their trend. Pages open from disk and load nothing.
"""

from __future__ import annotations

from .data import DEFAULT_GROUP_PATTERN, DEFAULT_WINDOW, ReportError, assign_groups, read_groups, read_outputs, therapist_responses
from .render import write_reports

__all__ = [
    "DEFAULT_GROUP_PATTERN",
    "DEFAULT_WINDOW",
    "ReportError",
    "assign_groups",
    "read_groups",
    "read_outputs",
    "therapist_responses",
    "write_reports",
]

"""JSON Lines files of rules, read one object per line, any fault named by its line.

The cue rules of the pipeline and the response rules of the report are read this way. The
module imports nothing heavy, so that writing a report never loads spaCy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator


def jsonl_objects(lines: Iterable[str], source: str, error: type[Exception]) -> Iterator[tuple[str, dict]]:
    """``(where, object)`` per non-blank line; raises ``error`` naming the line of any line that
    is not a JSON object (``where`` is ``"<source>, line <n>"``)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}, line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise error(f"{where}: each line must be a JSON object")
        yield where, data

"""Handing pre-codes to annotation tools and reading coders' codes back.

Two formats, each as the tools themselves document it:

- **Label Studio**: a JSON list of tasks, ``{"data": {...}, "predictions": [...]}``, the
  three labels as ``choices`` and the evidence words as ``labels`` spans over the text;
  :data:`LABEL_STUDIO_CONFIG` is the labelling interface to paste into the project. Its
  JSON export (tasks with ``annotations``, each with ``completed_by`` and ``result``) is
  read back.
- **spaCy-style JSONL** (``text``, ``cats``, ``spans``, ``meta``), which Prodigy and
  doccano-style tools read. Read back from the same shape, and from Prodigy's
  ``textcat_multi``/``choice`` answers (``accept`` + ``answer``) and doccano's
  ``label`` lists.

Reading gives the gold table that ``mentalize evaluate`` and ``mentalize train`` take:
``session, turn, speaker, text``, a 0/1 column per label, and ``coder``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import MentalizeError
from .labels import LABELS

LABEL_STUDIO_CONFIG = """<View>
  <Header value="$speaker ($role), $session turn $turn"/>
  <Text name="text" value="$text"/>
  <Choices name="labels" toName="text" choice="multiple" showInline="true">
    <Choice value="certainty_labelling"/>
    <Choice value="feeling_naming"/>
    <Choice value="perspective_taking"/>
  </Choices>
  <Labels name="evidence" toName="text">
    <Label value="certainty_labelling"/>
    <Label value="feeling_naming"/>
    <Label value="perspective_taking"/>
  </Labels>
</View>
"""
"""The Label Studio labelling interface the exported tasks are made for."""

_META = ("session", "turn", "speaker", "role")


class AnnotationError(MentalizeError, ValueError):
    """An annotation export could not be read; the message names the file, the record and the fix."""


def _spans(row: dict[str, Any]) -> list[dict[str, Any]]:
    cell = row.get("evidence_spans") or ""
    try:
        return [s for s in json.loads(cell) if not s.get("sentence")] if cell else []
    except (TypeError, ValueError):
        return []


def _meta(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (int(row[k]) if k == "turn" and str(row[k]).lstrip("-").isdigit() else row[k]) for k in _META if k in row}


def to_label_studio(utterances: pd.DataFrame, model_version: str = "mentalize-nlp") -> list[dict[str, Any]]:
    """Label Studio tasks with the tagger's labels and evidence as predictions."""
    tasks = []
    for row in utterances.to_dict("records"):
        text = str(row["text"])
        chosen = [l for l in LABELS if int(row.get(l, 0) or 0)]
        result: list[dict[str, Any]] = [
            {"from_name": "labels", "to_name": "text", "type": "choices", "value": {"choices": chosen}}
        ]
        for span in _spans(row):
            result.append({
                "from_name": "evidence", "to_name": "text", "type": "labels",
                "value": {"start": span["start"], "end": span["end"], "text": text[span["start"]: span["end"]], "labels": [span["label"]]},
            })
        score = max((float(row.get(f"p_{l}", 0) or 0) for l in chosen), default=0.0)
        tasks.append({"data": {"text": text, **_meta(row)}, "predictions": [{"model_version": model_version, "score": round(score, 4), "result": result}]})
    return tasks


def to_spacy_jsonl(utterances: pd.DataFrame) -> list[dict[str, Any]]:
    """spaCy-style records: ``text``, ``cats`` (0/1 per label), evidence ``spans``, ``meta``."""
    out = []
    for row in utterances.to_dict("records"):
        out.append({
            "text": str(row["text"]),
            "cats": {l: int(row.get(l, 0) or 0) for l in LABELS},
            "spans": [{"start": s["start"], "end": s["end"], "label": s["label"]} for s in _spans(row)],
            "meta": _meta(row),
        })
    return out


def _coder(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("email") or value.get("username") or value.get("id") or "")
    return "" if value is None else str(value)


def read_label_studio(path: str | Path) -> pd.DataFrame:
    """Gold rows from a Label Studio JSON export: one row per task and annotation.

    Skipped or cancelled annotations are left out; a task without annotations gives no row
    (counted in the frame's ``attrs["uncoded"]``).
    """
    path = Path(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AnnotationError(f"{path}: not a Label Studio JSON export ({exc}). Export the project as JSON (not JSON-MIN or CSV).") from exc
    if not isinstance(tasks, list):
        raise AnnotationError(f"{path}: expected a JSON list of tasks; export the project as JSON.")
    rows = []
    uncoded = 0
    for i, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or "text" not in data:
            raise AnnotationError(f"{path}, task {i}: no data.text; the tasks must come from 'mentalize export --format label-studio'.")
        kept = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        uncoded += not kept
        for annotation in kept:
            chosen: set[str] = set()
            for item in annotation.get("result") or []:
                if item.get("type") == "choices":
                    chosen.update(item.get("value", {}).get("choices", []))
            unknown = chosen - set(LABELS)
            if unknown:
                raise AnnotationError(f"{path}, task {i}: unknown choice(s) {sorted(unknown)}; use the labelling config of 'mentalize export'.")
            rows.append({**{k: data.get(k, "") for k in _META}, "text": data["text"],
                         **{l: int(l in chosen) for l in LABELS}, "coder": _coder(annotation.get("completed_by"))})
    return _gold_frame(rows, uncoded)


def read_jsonl(path: str | Path) -> pd.DataFrame:
    """Gold rows from JSONL: spaCy-style ``cats``, Prodigy ``accept``/``answer``, or doccano ``label``."""
    path = Path(path)
    rows = []
    uncoded = 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot be read ({exc}).") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise AnnotationError(f"{path}, line {number}: not JSON ({exc.args[0]}). Each line must be one JSON object.") from exc
        if "text" not in record:
            raise AnnotationError(f"{path}, line {number}: no 'text' field.")
        if record.get("answer") in ("reject", "ignore"):
            uncoded += 1
            continue
        if isinstance(record.get("cats"), dict):
            odd = [(l, v) for l, v in record["cats"].items() if not isinstance(v, (int, float)) or not 0 <= v <= 1]
            if odd:
                raise AnnotationError(
                    f"{path}, line {number}: 'cats' value {odd[0][1]!r} for {odd[0][0]!r} is not a number from 0 to 1; "
                    "give 1 for a label that applies and 0 for one that does not."
                )
            chosen = {l for l, v in record["cats"].items() if v >= 0.5}
        elif "accept" in record or "label" in record:
            given = (record["accept"] or []) if "accept" in record else record["label"]
            given = given if isinstance(given, list) else [given]
            spans = [c for c in given if not isinstance(c, str)]
            if spans:
                raise AnnotationError(f"{path}, line {number}: the codes are spans ({spans[0]!r}), not labels of the whole "
                                      "text; export the project as text classification, one label list per text.")
            chosen = set(given)
        else:
            raise AnnotationError(f"{path}, line {number}: no 'cats', 'accept' or 'label' field holding the codes.")
        unknown = sorted((set(record["cats"]) if isinstance(record.get("cats"), dict) else chosen) - set(LABELS))
        if unknown:
            raise AnnotationError(f"{path}, line {number}: unknown label(s) {', '.join(map(repr, unknown))}; the labels are "
                                  f"{', '.join(LABELS)}. Rename them in the export, or in the labelling project.")
        meta = record.get("meta") or {}
        coder = record.get("_annotator_id") or record.get("_session_id") or record.get("annotator") or meta.get("coder", "")
        rows.append({**{k: meta.get(k, "") for k in _META}, "text": record["text"],
                     **{l: int(l in chosen) for l in LABELS}, "coder": str(coder)})
    return _gold_frame(rows, uncoded)


def _gold_frame(rows: Iterable[dict[str, Any]], uncoded: int = 0) -> pd.DataFrame:
    """The gold rows; ``attrs["uncoded"]`` counts the tasks left out (not coded, skipped, cancelled or rejected)."""
    columns = [*_META, "text", *LABELS, "coder"]
    frame = pd.DataFrame(list(rows), columns=columns)
    frame.attrs["uncoded"] = uncoded
    return frame


def read_annotations(path: str | Path) -> pd.DataFrame:
    """Gold rows from an annotation export, by its extension (``.json`` or ``.jsonl``)."""
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        return read_jsonl(path)
    if path.suffix.lower() == ".json":
        return read_label_studio(path)
    raise AnnotationError(f"{path}: expected a Label Studio .json export or a .jsonl file.")

"""Round trips with annotation tools, on files shaped like the tools' own documented exports."""

import json
import re

import pandas as pd
import pytest

from mentalize_nlp.annotation import AnnotationError, read_annotations, to_label_studio, to_spacy_jsonl
from mentalize_nlp.labels import LABELS


def tagged(tagger):
    base = pd.DataFrame({"session": ["s1", "s1"], "turn": [0, 1], "speaker": ["C", "T"], "role": ["client", "therapist"],
                         "text": ["I felt really hurt when she left.", "Shall we say Tuesday?"]})
    return tagger.tag_frame(base)


def test_label_studio_tasks_carry_labels_and_evidence_spans(tagger):
    tasks = to_label_studio(tagged(tagger))
    first = tasks[0]
    assert first["data"]["text"] == "I felt really hurt when she left." and first["data"]["turn"] == 0
    result = first["predictions"][0]["result"]
    assert result[0]["value"]["choices"] == ["feeling_naming"]
    spans = [r["value"] for r in result if r["type"] == "labels"]
    assert spans and all(first["data"]["text"][s["start"]:s["end"]] == s["text"] for s in spans)
    assert tasks[1]["predictions"][0]["result"][0]["value"]["choices"] == []


def test_a_label_studio_export_reads_back_with_coder_names(tmp_path):
    export = [
        {
            "id": 1, "inner_id": 1, "project": 3, "file_upload": "tasks.json", "drafts": [], "meta": {},
            "data": {"text": "I felt really hurt when she left.", "session": "s1", "turn": 0, "speaker": "C", "role": "client"},
            "annotations": [
                {"id": 11, "completed_by": {"id": 2, "email": "ana@clinic.example", "first_name": "", "last_name": ""},
                 "result": [{"id": "r1", "type": "choices", "from_name": "labels", "to_name": "text", "origin": "manual",
                             "value": {"choices": ["feeling_naming", "perspective_taking"]}}],
                 "was_cancelled": False, "ground_truth": False, "lead_time": 4.2, "task": 1, "project": 3},
                {"id": 12, "completed_by": 5, "result": [], "was_cancelled": False, "task": 1, "project": 3},
                {"id": 13, "completed_by": 6, "result": [], "was_cancelled": True, "task": 1, "project": 3},
            ],
            "predictions": [], "total_annotations": 3, "cancelled_annotations": 1,
        }
    ]
    path = tmp_path / "project-3-at-2026-12-01.json"
    path.write_text(json.dumps(export))
    gold = read_annotations(path)
    assert gold["coder"].tolist() == ["ana@clinic.example", "5"]
    assert gold.loc[0, list(LABELS)].tolist() == [0, 1, 1]
    assert gold.loc[1, list(LABELS)].tolist() == [0, 0, 0]
    assert gold.loc[0, "session"] == "s1" and gold.loc[0, "turn"] == 0


def test_jsonl_round_trip_and_prodigy_and_doccano_answers(tagger, tmp_path):
    records = to_spacy_jsonl(tagged(tagger))
    assert records[0]["cats"]["feeling_naming"] == 1 and records[0]["meta"]["session"] == "s1"
    records[1]["cats"]["certainty_labelling"] = 1  # a coder's correction
    records[1]["meta"]["coder"] = "ben"
    path = tmp_path / "codes.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    gold = read_annotations(path)
    assert gold["certainty_labelling"].tolist() == [0, 1] and gold["coder"].tolist() == ["", "ben"]
    prodigy = {"text": "he's a liar", "options": [{"id": l, "text": l} for l in LABELS], "accept": ["certainty_labelling"],
               "answer": "accept", "_input_hash": 1, "_task_hash": 2, "_view_id": "choice", "_annotator_id": "mentalize-alice",
               "_session_id": "mentalize-alice", "_timestamp": 1764547200}
    rejected = dict(prodigy, answer="reject")
    doccano = {"id": 7, "text": "you sound frustrated", "label": ["feeling_naming"], "Comments": []}
    path.write_text("\n".join(json.dumps(r) for r in (prodigy, rejected, doccano)) + "\n")
    gold = read_annotations(path)
    assert len(gold) == 2 and gold.attrs["uncoded"] == 1  # the rejected answer, counted for import's note
    assert gold.loc[0, "coder"] == "mentalize-alice" and gold.loc[0, "certainty_labelling"] == 1
    assert gold.loc[1, "feeling_naming"] == 1


@pytest.mark.parametrize("value", ['"yes"', "2", "null"])
def test_a_cats_value_that_is_not_a_0_to_1_score_is_named_with_its_line(tmp_path, value):
    path = tmp_path / "codes.jsonl"
    path.write_text('{"text": "I felt hurt", "cats": {"feeling_naming": 1}}\n'
                    f'{{"text": "she is a liar", "cats": {{"certainty_labelling": {value}}}}}\n')
    with pytest.raises(AnnotationError, match=r"codes.jsonl, line 2: 'cats' value .* not a number from 0 to 1"):
        read_annotations(path)


@pytest.mark.parametrize("record, named", [
    ({"text": "I felt hurt", "cats": {"feeling_namimg": 1}}, "unknown label(s) 'feeling_namimg'"),
    ({"text": "maybe she was scared", "accept": ["perspective-taking"], "answer": "accept"}, "unknown label(s) 'perspective-taking'"),
    ({"text": "he is a liar", "label": ["Certainty_labelling"]}, "unknown label(s) 'Certainty_labelling'"),
    ({"text": "I felt hurt", "label": [[2, 6, "feeling_naming"]]}, "the codes are spans"),
])
def test_a_jsonl_label_the_project_does_not_know_is_named_with_its_line(tmp_path, record, named):
    """Such labels were written as 0 without a word ('Wrote 3 coded utterances')."""
    path = tmp_path / "codes.jsonl"
    path.write_text('{"text": "ok", "cats": {"feeling_naming": 0}}\n' + json.dumps(record) + "\n")
    with pytest.raises(AnnotationError, match=rf"codes.jsonl, line 2: {re.escape(named)}"):
        read_annotations(path)

"""De-identified outputs and reports: --redact and --redact-names."""

import json
import re

import pandas as pd
from click.testing import CliRunner

from conftest import SAMPLES
from mentalize_nlp.cli import main
from mentalize_nlp.report import write_reports
from mentalize_nlp.report.redact import Redactor, read_names, redact_tables, speaker_labels

NAMES = ["Sam", "Jade", "Maria", "Danny", "James", "Derek", "Lucia", "Mia", "Tolu"]


def survivors(folder, names):
    found = []
    for path in folder.rglob("*"):
        for name in names:
            if re.search(rf"(?i)(?<![a-z]){name}(?![a-z])", path.name):
                found.append(f"file name {path}")
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.name}: {m.group(0)}" for name in names for m in re.finditer(rf"(?i)(?<![a-z]){name}(?![a-z])", text)]
    return found


def test_no_listed_name_survives_anywhere_in_the_output_folder(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("# clients and the people they talk about\n" + "\n".join(NAMES) + "\n\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["score", str(SAMPLES), "--out", str(out), "--html", "--redact-names", str(names)])
    assert result.exit_code == 0, result.output
    assert survivors(out, NAMES) == []
    pages = sorted(p.name for p in (out / "report").glob("*.html"))
    assert pages == ["index.html", "session-001.html", "session-002.html", "session-003.html"]
    sam = (out / "report" / "session-003.html").read_text(encoding="utf-8")
    assert "<h1>session-03-[name 1]</h1>" in sam and "Hey [name 1]." in sam
    assert 'class="ev ' in sam  # the evidence still highlighted after the text changed


def test_report_redact_writes_pages_without_names_and_leaves_the_outputs(tmp_path):
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["score", str(SAMPLES), "--out", str(out)]).exit_code == 0
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES))
    result = CliRunner().invoke(main, ["report", str(out), "--redact", "--redact-names", str(names)])
    assert result.exit_code == 0, result.output
    assert survivors(out / "report", NAMES) == []
    assert "Jade" in (out / "utterances.csv").read_text(encoding="utf-8")  # the user's own outputs are not touched


def frame():
    rows = [
        ("Anna", "therapist", "Hello Ben, how are you?"),
        ("Ben", "client", "Anna, Carl is always so selfish."),
        ("Carl", "other", "Ben never listens."),
    ]
    table = pd.DataFrame([{"session": "ben-01", "turn": i, "speaker": s, "role": r, "text": t} for i, (s, r, t) in enumerate(rows)])
    for label in ("certainty_labelling", "feeling_naming", "perspective_taking"):
        table[label] = 0
    selfish = rows[1][2].index("selfish")
    table["evidence_spans"] = ["", json.dumps([{"start": selfish, "end": selfish + 7, "label": "certainty_labelling"}]), ""]
    return table


def test_speakers_become_roles_and_their_names_leave_the_text():
    table = frame()
    assert speaker_labels(table) == {("ben-01", "Anna"): "Therapist", ("ben-01", "Ben"): "Client", ("ben-01", "Carl"): "Speaker 3"}
    utterances, _, _ = redact_tables(table, table.iloc[0:0].assign(speaker=[]), [])
    assert utterances["speaker"].tolist() == ["Therapist", "Client", "Speaker 3"]
    assert utterances["text"].tolist() == ["Hello Client, how are you?", "Therapist, Speaker 3 is always so selfish.", "Client never listens."]
    span = json.loads(utterances["evidence_spans"].iloc[1])[0]
    assert utterances["text"].iloc[1][span["start"]:span["end"]] == "selfish"


def test_listed_names_are_numbered_in_text_and_session_names(tmp_path):
    redactor = Redactor(["Jade", "Ben"], {})
    assert redactor.names_in("JADE and jade met Ben; Benjamin stays") == "[name 1] and [name 1] met [name 2]; Benjamin stays"
    utterances, _, _ = redact_tables(frame(), frame().iloc[0:0], ["Ben"])
    assert set(utterances["session"]) == {"[name 1]-01"}
    path = tmp_path / "names.txt"
    path.write_text("\ufeffJade\n  # not a name\n\nBen \n", encoding="utf-8")
    assert read_names(path) == ["Jade", "Ben"]


def test_write_reports_with_redact_numbers_the_pages(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    frame().to_csv(out / "utterances.csv", index=False)
    pages = write_reports(out, redact=True)
    assert [p.name for p in pages] == ["session-001.html", "index.html"]
    html = pages[0].read_text(encoding="utf-8")
    assert "Anna" not in html and "Carl" not in html and ">Ben<" not in html


def test_a_listed_first_name_does_not_leave_the_speakers_surname_behind(tmp_path):
    """Listing "Maria" and "Tom" left "[name 1] Lopez" and "[name 2] BAKER" in pages meant to be shared."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "s.txt").write_text(
        "TOM BAKER: How was the week, Maria Lopez?\nMARIA LOPEZ: Hard. Tom Baker knows why.\n"
        "TOM BAKER: Say more.\nMARIA LOPEZ: He is always so selfish.\n", encoding="utf-8")
    names = tmp_path / "names.txt"
    names.write_text("Maria\nTom\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["score", str(folder), "--out", str(out), "--html", "--redact-names", str(names)])
    assert result.exit_code == 0, result.output
    assert survivors(out, ["Maria", "Tom", "Lopez", "Baker"]) == []
    sessions = (out / "sessions.csv").read_text(encoding="utf-8")
    assert "Therapist" in sessions or "Speaker 1" in sessions  # the speakers as the pages label them
    assert "a speaker" not in sessions

import re
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import ANNOMI, CORPUS, SAMPLES
from mentalize_nlp.cli import main
from mentalize_nlp.labels import LABELS

UTTERANCE_COLUMNS = ["session", "turn", "speaker", "role", "text", *LABELS, *(f"p_{l}" for l in LABELS), "evidence"]
PROFILE_COLUMNS = ["session", "speaker", "role", "utterances", *(f"{l}_{k}" for l in LABELS for k in ("count", "per_100")), "mentalizing_balance"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_score_samples_writes_the_contract_tables(tmp_path):
    result = run("score", SAMPLES, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    utterances = pd.read_csv(tmp_path / "out" / "utterances.csv", keep_default_na=False)
    profiles = pd.read_csv(tmp_path / "out" / "profiles.csv")
    assert set(UTTERANCE_COLUMNS) <= set(utterances.columns)
    assert set(PROFILE_COLUMNS) <= set(profiles.columns)
    assert set(utterances["session"]) == {"session-01-maria", "session-02-james", "session-03-sam"}
    maria = utterances[utterances.session == "session-01-maria"]
    assert list(maria["turn"]) == list(range(len(maria)))
    assert set(utterances["role"]) == {"therapist", "client"}
    for label in LABELS:
        assert utterances[label].sum() > 0
        tagged = utterances[utterances[label] == 1]
        assert (tagged["evidence"] != "").all()
    assert len(profiles) == 6
    assert pd.read_csv(tmp_path / "out" / "errors.csv").empty


def test_a_broken_file_is_named_and_the_rest_is_scored(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.txt").write_text("T: How did that make you feel?\nC: Really hurt.\n", encoding="utf-8")
    (inputs / "empty.csv").write_text("", encoding="utf-8")
    (inputs / "nospeakers.txt").write_text("no speakers here\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    result = run("score", inputs, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "empty.csv" in result.output and "nospeakers.txt, line 1" in result.output
    errors = pd.read_csv(tmp_path / "out" / "errors.csv")
    assert sorted(errors["file"].map(lambda p: p.rsplit("/", 1)[-1])) == ["empty.csv", "nospeakers.txt"]
    utterances = pd.read_csv(tmp_path / "out" / "utterances.csv")
    assert list(utterances["session"].unique()) == ["good"]
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before
    assert not list((tmp_path / "out").glob("*.part"))


def test_usage_errors_exit_2(tmp_path):
    assert run("score", tmp_path, "--out", tmp_path / "out").exit_code == 2  # no transcripts in the folder
    result = run("score", SAMPLES, "--out", tmp_path / "o")
    assert result.exit_code == 0
    again = run("score", SAMPLES, "--out", tmp_path / "o")
    assert again.exit_code == 2 and "--force" in again.output
    assert run("score", SAMPLES, "--out", tmp_path / "o", "--force").exit_code == 0


def test_role_overrides_from_the_command_line(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("Anna: What was going on for you?\nMaria: I was furious.\n", encoding="utf-8")
    run("score", path, "--out", tmp_path / "out", "--therapist", "Anna", "--client", "Maria")
    utterances = pd.read_csv(tmp_path / "out" / "utterances.csv")
    assert list(utterances["role"]) == ["therapist", "client"]


def test_evaluate_prints_each_figure_with_an_interval_and_per_register(tmp_path):
    import json

    test = pd.read_csv(CORPUS)
    gold = tmp_path / "gold.csv"
    test[test.split == "test"].sample(200, random_state=0).to_csv(gold, index=False)
    result = run("evaluate", gold, "--predictions", tmp_path / "pred.csv")
    assert result.exit_code == 0, result.output
    for word in ("precision", "recall", "f1", "kappa", "alpha", "overall", *LABELS, "register = asr", "register = british"):
        assert word in result.output
    assert re.search(r"0\.\d{3} \[0\.\d{3}-[01]\.\d{3}\]", result.output)  # a figure with its interval
    assert len(pd.read_csv(tmp_path / "pred.csv")) == 200
    as_json = json.loads(run("evaluate", gold, "--json").stdout)
    overall = next(r for r in as_json if r["label"] == "overall" and r["group"] == "all")
    assert overall["f1_low"] <= overall["f1"] <= overall["f1_high"]


def test_evaluate_says_n_a_where_a_figure_is_undefined(tmp_path):
    gold = tmp_path / "gold.csv"
    pd.DataFrame({"text": ["Shall we say Tuesday?", "Okay, see you then."], "certainty_labelling": [0, 0],
                  "feeling_naming": [0, 0], "perspective_taking": [0, 0]}).to_csv(gold, index=False)
    result = run("evaluate", gold)
    assert result.exit_code == 0, result.output
    assert "n/a" in result.output and " 0.000 [" not in result.output.split("overall")[0].split("certainty_labelling")[1][:40]


def test_python_dash_m_and_version():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "mentalize_nlp", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("mentalize, version")


@pytest.mark.slow
@pytest.mark.skipif(not ANNOMI.exists(), reason="AnnoMI is read from ../shared")
def test_all_annomi_sessions_score_end_to_end(tmp_path):
    result = run(
        "score", ANNOMI, "--out", tmp_path / "out", "--session-column", "transcript_id", "--turn-column", "utterance_id",
        "--speaker-column", "interlocutor", "--text-column", "utterance_text",
    )
    assert result.exit_code == 0, result.output
    utterances = pd.read_csv(tmp_path / "out" / "utterances.csv", keep_default_na=False)
    assert utterances["session"].nunique() == 133
    assert len(utterances) == 9699
    assert set(utterances["role"]) == {"therapist", "client"}
    profiles = pd.read_csv(tmp_path / "out" / "profiles.csv")
    assert len(profiles) == 266


def test_sheet_option_reads_a_named_workbook_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.active.append(["Session 4, recorded 12 May"])
    transcript = book.create_sheet("Transcript")
    transcript.append(["speaker", "text"])
    transcript.append(["T", "How did that make you feel?"])
    transcript.append(["C", "Honestly? Gutted."])
    book.save(tmp_path / "s4.xlsx")
    assert run("score", tmp_path / "s4.xlsx", "--out", tmp_path / "a").exit_code == 1  # the cover sheet has no columns
    result = run("score", tmp_path / "s4.xlsx", "--out", tmp_path / "b", "--sheet", "Transcript")
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(tmp_path / "b" / "utterances.csv")["feeling_naming"]) == [1, 1]

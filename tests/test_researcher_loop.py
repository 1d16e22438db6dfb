"""The researcher's loop, as a researcher would walk it from an installed package in a fresh folder:
score, export to Label Studio, correct as a coder, import, evaluate, retrain, score again."""

import html
import json
import re
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from mentalize_nlp.cli import main
from mentalize_nlp.corpus import shipped
from mentalize_nlp.labels import LABELS
from mentalize_nlp.models import METADATA

README = Path(__file__).resolve().parent.parent / "README.md"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_score_export_code_import_evaluate_retrain_score(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing of the source tree is needed
    run("score", shipped("sample"), "--out", "results")
    run("export", "results", "--format", "label-studio", "--out", "tasks.json")
    tasks = json.loads(Path("tasks.json").read_text())
    assert Path("tasks-config.xml").exists() and len(tasks) == len(pd.read_csv("results/utterances.csv"))

    # A coder opens the tasks, accepts most pre-codes, changes some, and the project is exported as JSON.
    export = []
    for i, task in enumerate(tasks):
        choices = list(task["predictions"][0]["result"][0]["value"]["choices"])
        if i % 7 == 3:
            choices = [] if choices else ["perspective_taking"]
        export.append({"id": i + 1, "data": task["data"], "predictions": task["predictions"], "annotations": [
            {"id": 100 + i, "completed_by": {"id": 1, "email": "coder@study.example"}, "was_cancelled": False,
             "result": [{"type": "choices", "from_name": "labels", "to_name": "text", "value": {"choices": choices}}]}]})
    Path("project-1.json").write_text(json.dumps(export))
    run("import", "project-1.json", "--out", "gold.csv")
    gold = pd.read_csv("gold.csv")
    assert set(gold["coder"]) == {"coder@study.example"} and len(gold) == len(tasks)

    report = json.loads(run("evaluate", "gold.csv", "--json").stdout)
    overall = next(r for r in report if r["label"] == "overall")
    assert overall["f1"] < 1.0 and overall["f1_low"] <= overall["f1"] <= overall["f1_high"]

    run("train", "--corpus", "gold.csv", "--with-shipped", "--out", "my-model")
    card = Path("my-model", "MODEL_CARD.md").read_text()
    assert "Cross-validated" in card and "gold.csv" in card
    meta = json.loads(Path("my-model", METADATA).read_text())
    written = pd.read_csv(shipped("mentalizing", "corpus.csv"))
    assert meta["real_corpus"] == "gold.csv" and meta["also_corpus"] == "corpus.csv"  # the shipped real talk trains too…
    assert meta["n_train"] > (written["split"] == "train").sum() + len(gold) + 10_000
    assert meta["scores"]["cross_validation"]["n"] <= len(gold)  # …but the thresholds and figures come from the coder's rows
    run("score", shipped("sample"), "--out", "results-2", "--model", "my-model", "--html")
    again = pd.read_csv("results-2/utterances.csv")
    assert len(again) == len(gold) and set(LABELS) <= set(again.columns)
    # the report quotes the retrained model's own agreement with its coders, not the shipped model's
    page = html.unescape(next(Path("results-2", "report").glob("session-01*.html")).read_text(encoding="utf-8"))
    own = meta["scores"]["cross_validation"]["macro_f1"]
    assert "retrained on a researcher's own codes" in page and f"is {own:.2f} on a scale" in page
    run("report", "results")
    shipped_page = html.unescape(next(Path("results", "report").glob("session-01*.html")).read_text(encoding="utf-8"))
    assert "Checked against human coders on real talk" in shipped_page and "retrained" not in shipped_page


def test_too_little_data_is_said_plainly(tmp_path):
    gold = tmp_path / "tiny.csv"
    pd.DataFrame({"text": ["I felt hurt", "ok", "he's a liar", "see you"], "session": ["a", "a", "b", "b"],
                  "certainty_labelling": [0, 0, 1, 0], "feeling_naming": [1, 0, 0, 0], "perspective_taking": [0, 0, 0, 0]}).to_csv(gold, index=False)
    result = CliRunner().invoke(main, ["train", "--corpus", str(gold), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "only 1 training row(s) coded certainty_labelling" in result.output and "Code more rows" in result.output
    assert "Warning" not in result.output


def test_with_shipped_refuses_real_and_no_real_and_writes_nothing(tmp_path):
    gold = tmp_path / "gold.csv"
    gold.write_text("text,certainty_labelling,feeling_naming,perspective_taking\nI felt hurt,0,1,0\n")
    for extra in (["--no-real"], ["--real", str(gold)]):
        result = CliRunner().invoke(main, ["train", "--corpus", str(gold), "--with-shipped", "--out", str(tmp_path / "m"), *extra])
        assert result.exit_code == 2 and "leave out --real and --no-real" in result.output
        assert not (tmp_path / "m").exists()


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = re.search(r"```python\n(import mentalize_nlp\nfrom mentalize_nlp.corpus import shipped\n.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert len(namespace["profiles"]) >= 2 and (tmp_path / "results" / "utterances.csv").exists()


def test_agree_compares_two_coders_on_the_same_turns(tmp_path):
    a = pd.DataFrame({"session": ["s1"] * 6 + ["s2"] * 6, "turn": list(range(6)) * 2, "text": ["x"] * 12,
                      "certainty_labelling": [1, 0, 0, 1, 0, 0] * 2, "feeling_naming": [0, 1, 1, 0, 0, 0] * 2,
                      "perspective_taking": [0] * 12, "coder": "ana"})
    b = a.copy()
    b["coder"] = "ben"
    b.loc[0, "feeling_naming"] = 1
    a.to_csv(tmp_path / "a.csv", index=False)
    b.sample(frac=1, random_state=0).to_csv(tmp_path / "b.csv", index=False)  # row order does not matter
    out = run("agree", tmp_path / "a.csv", tmp_path / "b.csv").output
    assert "12 utterances coded by both" in out and "alpha" in out
    rows = {r["label"]: r for r in json.loads(run("agree", tmp_path / "a.csv", tmp_path / "b.csv", "--json").stdout)}
    assert rows["certainty_labelling"]["kappa"] == 1.0
    assert rows["perspective_taking"]["f1"] is None  # nobody coded it: n/a, not 0
    assert 0 < rows["feeling_naming"]["kappa"] < 1


def test_agree_refuses_a_file_that_codes_one_turn_twice(tmp_path):
    a = pd.DataFrame({"session": ["s1"] * 3, "turn": [0, 1, 1], "text": ["x", "y", "z"],
                      "certainty_labelling": [1, 0, 0], "feeling_naming": [0, 1, 0], "perspective_taking": [0, 0, 1]})
    a.to_csv(tmp_path / "a.csv", index=False)
    a.drop_duplicates(["session", "turn"]).to_csv(tmp_path / "b.csv", index=False)
    result = CliRunner().invoke(main, ["agree", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert result.exit_code == 2
    assert "a.csv, line 4" in result.output and "session s1, turn 1" in result.output


def test_codes_saved_by_excel_in_windows_1252_or_as_parquet_are_read(tmp_path):
    codes = pd.DataFrame({"session": ["s1", "s1"], "turn": [0, 1], "text": ["She\u2019s \u201calways\u201d late \u2013 caf\u00e9", "I felt hurt"],
                          "certainty_labelling": [1, 0], "feeling_naming": [0, 1], "perspective_taking": [0, 0]})
    (tmp_path / "a.csv").write_bytes(codes.to_csv(index=False).encode("cp1252"))
    codes.to_parquet(tmp_path / "b.parquet")
    out = run("agree", tmp_path / "a.csv", tmp_path / "b.parquet").output
    assert "2 utterances coded by both" in out


def test_agree_refuses_turns_numbered_apart_and_names_rows_without_a_partner(tmp_path):
    texts = ["How are you?", "Awful, he's a liar.", "I felt hurt.", "Maybe he was scared.", "Mm.", "Right."] * 2
    a = pd.DataFrame({"session": ["s1"] * 6 + ["s2"] * 6, "turn": list(range(6)) * 2, "text": texts,
                      "certainty_labelling": [0, 1, 0, 0, 0, 0] * 2, "feeling_naming": [0, 0, 1, 1, 0, 0] * 2,
                      "perspective_taking": [0, 0, 0, 1, 0, 0] * 2})
    a.to_csv(tmp_path / "a.csv", index=False)
    a.assign(turn=a["turn"] + 1).to_csv(tmp_path / "b.csv", index=False)  # coder B counted turns from 1
    result = CliRunner().invoke(main, ["agree", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert result.exit_code == 2 and "numbered the same way" in result.output
    a.iloc[:9].to_csv(tmp_path / "c.csv", index=False)
    result = CliRunner().invoke(main, ["agree", str(tmp_path / "a.csv"), str(tmp_path / "c.csv")])
    assert result.exit_code == 0 and "9 utterances coded by both" in result.output
    assert "3 row(s) of" in result.output and "fewer than 10" in result.output
    a.drop(columns="session").to_csv(tmp_path / "d.csv", index=False)
    result = CliRunner().invoke(main, ["agree", str(tmp_path / "a.csv"), str(tmp_path / "d.csv")])
    assert result.exit_code == 2 and "same 'session' and 'turn' columns" in result.output


def test_train_and_evaluate_refuse_what_they_cannot_measure(tmp_path):
    gold = tmp_path / "codes.csv"
    rows = pd.DataFrame({"text": ["I felt hurt", "ok", "he's a liar", "see you"] * 6, "certainty_labelling": [0, 0, 1, 0] * 6,
                         "feeling_naming": [1, 0, 0, 0] * 6, "perspective_taking": [0, 1, 0, 0] * 6, "split": "train"})
    rows.to_csv(gold, index=False)
    result = CliRunner().invoke(main, ["train", "--corpus", str(gold), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1 and "no 'session' column" in result.output and not (tmp_path / "m").exists()
    result = CliRunner().invoke(main, ["evaluate", str(gold), "--split", "test"])
    assert result.exit_code == 2 and "no coded rows with split 'test'" in result.output


def test_codes_with_semicolons_or_padded_headers_are_read_and_an_empty_file_is_named(tmp_path):
    (tmp_path / "a.csv").write_text("session;turn;text; certainty_labelling ;feeling_naming;perspective_taking\n"
                                    "s1;0;I felt hurt, really;0;1;0\ns1;1;He's a liar;1;0;0\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("session,turn,text,certainty_labelling,feeling_naming,perspective_taking\n"
                                    "s1,0,\"I felt hurt, really\",0,1,0\ns1,1,He's a liar,1,0,0\n", encoding="utf-8")
    assert "2 utterances coded by both" in run("agree", tmp_path / "a.csv", tmp_path / "b.csv").output
    (tmp_path / "c.csv").write_bytes(b"")
    result = CliRunner().invoke(main, ["agree", str(tmp_path / "a.csv"), str(tmp_path / "c.csv")])
    assert result.exit_code == 2 and "c.csv: the file is empty; save the codes again" in result.output


def test_train_refuses_codes_of_several_coders_on_the_same_turns(tmp_path):
    """An imported gold.csv holds one row per coder: training merged them, a label where either coder gave it."""
    gold = tmp_path / "gold.csv"
    one = pd.DataFrame({"session": ["a", "a", "b", "b"], "turn": [0, 1, 0, 1], "text": ["I felt hurt", "ok", "he's a liar", "see you"],
                        "certainty_labelling": [0, 0, 1, 0], "feeling_naming": [1, 0, 0, 0], "perspective_taking": [0, 0, 0, 0]})
    pd.concat([one.assign(coder="ana"), one.assign(coder="ben", certainty_labelling=0)]).to_csv(gold, index=False)
    result = CliRunner().invoke(main, ["train", "--corpus", str(gold), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1 and "coded by several coders (ana, ben; first at session a, turn 0)" in result.output
    assert not (tmp_path / "m").exists()


def test_evaluate_by_session_gives_no_interval_for_a_group_of_one_session(tmp_path):
    """Resampling one session gave zero-width '0.833 [0.833-0.833]' intervals, with no note."""
    gold = tmp_path / "gold.csv"
    pd.DataFrame({"session": ["a", "a", "b", "b"], "turn": [0, 1, 0, 1], "text": ["I felt hurt", "ok", "I was so angry", "see you"],
                  "certainty_labelling": 0, "feeling_naming": [1, 0, 1, 0], "perspective_taking": 0}).to_csv(gold, index=False)
    result = CliRunner().invoke(main, ["evaluate", str(gold), "--by", "session"])
    assert result.exit_code == 0, result.output
    group = result.output.split("session = a: ")[1]
    assert "1.000 [n/a]" in group and "[1.000-1.000]" not in group
    assert "a group of one session has none (n/a)" in result.output


def test_agree_matches_sentence_level_codes_and_names_sessions_without_a_partner(tmp_path):
    rows = pd.DataFrame({"session": ["s1", "s1", "s2"], "turn": [0, 0, 0], "sentence": [0, 1, 0],
                         "text": ["I felt hurt.", "She left.", "Okay."], "certainty_labelling": 0,
                         "feeling_naming": [1, 0, 0], "perspective_taking": 0})
    rows.to_csv(tmp_path / "a.csv", index=False)
    rows.assign(session=["s1", "s1", "s-2"]).to_csv(tmp_path / "b.csv", index=False)
    result = CliRunner().invoke(main, ["agree", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert result.exit_code == 0, result.output
    assert "2 utterances coded by both" in result.output
    assert "Sessions with no partner at all: s2." in result.output and "Sessions with no partner at all: s-2." in result.output

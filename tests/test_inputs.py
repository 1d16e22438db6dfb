"""Which files a batch reads, what its sessions are called, and what it refuses to write over.

Each test is shaped like a case of issue 8: sessions identified by where they came from,
the output folder never read as input, nothing overwritten without --force, and nothing
skipped without a word.
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import CORPUS, ROOT, SAMPLES
from mentalize_nlp.batch import MARKER, list_inputs, score_inputs, session_names
from mentalize_nlp.cli import main

SESSION = "T: How did that make you feel?\nC: Really hurt, I guess.\nT: Hurt.\nC: She never called.\n"
OTHER = "T: What was going on for you?\nC: I was furious with him.\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def utterances(out):
    return pd.read_csv(out / "utterances.csv", keep_default_na=False)


def errors(out):
    return pd.read_csv(out / "errors.csv", keep_default_na=False)


# ------------------------------------------------------------------ sessions by where they came from


def test_same_named_files_in_two_clinics_are_two_sessions(tmp_path):
    """clinicA/session-01.txt and clinicB/session-01.txt (two clients) stay two sessions."""
    sess = tmp_path / "sess"
    for clinic, text in (("clinicA", SESSION), ("clinicB", OTHER)):
        (sess / clinic).mkdir(parents=True)
        (sess / clinic / "session-01.txt").write_text(text, encoding="utf-8")
    (sess / "clinicA" / "session-02.txt").write_text(OTHER, encoding="utf-8")
    result = run("score", sess, "--out", tmp_path / "out", "--html")
    assert result.exit_code == 0, result.output
    rows = utterances(tmp_path / "out")
    assert list(pd.unique(rows["session"])) == ["clinicA/session-01", "session-02", "clinicB/session-01"]
    assert (rows.groupby("session").size() == pd.Series({"clinicA/session-01": 4, "clinicB/session-01": 2, "session-02": 2})).all()
    profiles = pd.read_csv(tmp_path / "out" / "profiles.csv")
    assert len(profiles) == 6  # two speakers in each of three sessions
    assert profiles.groupby("session").size().eq(2).all()
    # the report: one page per session, file names without '/', each page its own transcript
    report = tmp_path / "out" / "report"
    pages = sorted(p.name for p in report.iterdir())
    assert pages == ["clinicA-session-01.html", "clinicB-session-01.html", "index.html", "session-02.html"]
    a = (report / "clinicA-session-01.html").read_text(encoding="utf-8")
    assert "She never called" in a and "furious" not in a
    index = (report / "index.html").read_text(encoding="utf-8")
    assert "clinicA/session-01" in index and 'href="clinicB-session-01.html"' in index


def test_a_page_of_a_session_no_longer_in_the_folder_is_removed(tmp_path, tagger):
    """A page left from an earlier run (the merged session-01.html, say) would show stale figures."""
    from mentalize_nlp.report import write_reports

    sess = tmp_path / "sess"
    sess.mkdir()
    (sess / "session-01.txt").write_text(SESSION, encoding="utf-8")
    score_inputs([sess], tmp_path / "out", tagger)
    write_reports(tmp_path / "out")
    report = tmp_path / "out" / "report"
    (report / "mine.html").write_text("<p>my own notes</p>", encoding="utf-8")
    (sess / "session-01.txt").rename(sess / "session-02.txt")
    score_inputs([sess], tmp_path / "out", tagger, force=True)
    write_reports(tmp_path / "out")
    assert sorted(p.name for p in report.iterdir()) == ["index.html", "mine.html", "session-02.html"]


def test_two_folders_given_apart_still_name_their_clinics(tmp_path):
    for clinic in ("clinicA", "clinicB"):
        (tmp_path / clinic).mkdir()
        (tmp_path / clinic / "session-01.txt").write_text(SESSION, encoding="utf-8")
    result = run("score", tmp_path / "clinicA", tmp_path / "clinicB", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["clinicA/session-01", "clinicB/session-01"]


def test_x_csv_and_x_txt_in_one_folder_do_not_merge(tmp_path):
    sess = tmp_path / "sess"
    sess.mkdir()
    (sess / "x.txt").write_text(SESSION, encoding="utf-8")
    (sess / "x.csv").write_text("speaker,text\nT,How are you?\nC,Sad today.\n", encoding="utf-8")
    result = run("score", sess, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = utterances(tmp_path / "out")
    assert rows.groupby("session").size().to_dict() == {"x.csv": 2, "x.txt": 4}
    assert len(pd.read_csv(tmp_path / "out" / "profiles.csv")) == 4


def test_a_unique_stem_stays_the_session_name(tmp_path):
    """The interface contract: ``session`` is the file's stem, or the table's session column."""
    result = run("score", SAMPLES, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert set(utterances(tmp_path / "out")["session"]) == {"session-01-maria", "session-02-james", "session-03-sam"}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "t.csv").write_text("session,speaker,text\nk1,T,Hello.\nk2,C,I feel sad.\n", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "t.csv").write_text("speaker,text\nT,Hello.\nC,I feel sad.\n", encoding="utf-8")
    result = run("score", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "out2")
    assert list(pd.unique(utterances(tmp_path / "out2")["session"])) == ["k1", "k2", "b/t"]


def test_join_files_joins_same_named_files_and_profiles_them_once(tmp_path, tagger):
    sess = tmp_path / "sess"
    for clinic in ("clinicA", "clinicB"):
        (sess / clinic).mkdir(parents=True)
        (sess / clinic / "session-01.txt").write_text(SESSION, encoding="utf-8")
    result = score_inputs([sess], tmp_path / "out", tagger, join_files=True, chunk_bytes=1)  # one file per chunk
    assert result.sessions == 1 and set(result.joined) == {"session-01"}
    profiles = pd.read_csv(tmp_path / "out" / "profiles.csv")
    assert len(profiles) == 2 and list(profiles["utterances"]) == [4, 4]
    assert list(utterances(tmp_path / "out")["turn"]) == list(range(8))  # the second file's turns carry on, not 0-3 again
    score_inputs([sess], tmp_path / "one-chunk", tagger, join_files=True)
    pd.testing.assert_frame_equal(profiles, pd.read_csv(tmp_path / "one-chunk" / "profiles.csv"))
    cli = run("score", sess, "--out", tmp_path / "cli", "--join-files")
    assert cli.exit_code == 0 and "joins 2 files" in cli.output


def test_a_session_column_spread_over_files_is_profiled_once(tmp_path, tagger):
    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text("session,speaker,text\nk,T,Hello.\nk,C,I feel sad.\n", encoding="utf-8")
    result = score_inputs([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "out", tagger, chunk_bytes=1)
    assert result.joined == {"k": [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]}
    profiles = pd.read_csv(tmp_path / "out" / "profiles.csv")
    assert list(profiles["utterances"]) == [2, 2]


def test_folder_qualified_names_group_by_their_folder_in_the_report():
    from mentalize_nlp.report import assign_groups

    names = ["maria/session-01", "maria/session-02", "james/session-01", "clinicA/maria-01", "maria-02", "12"]
    assert assign_groups(names) == {
        "maria/session-01": "maria", "maria/session-02": "maria", "james/session-01": "james",
        "clinicA/maria-01": "clinicA/maria", "maria-02": "maria", "12": None,
    }


def test_session_names_rule():
    assert session_names(["/d/A/s1.txt", "/d/B/s1.txt", "/d/A/s2.txt"]) == {
        "/d/A/s1.txt": "A/s1", "/d/B/s1.txt": "B/s1", "/d/A/s2.txt": "s2"}
    assert session_names(["/d/A/x.csv", "/d/A/x.txt", "/d/B/x.txt"]) == {
        "/d/A/x.csv": "A/x.csv", "/d/A/x.txt": "A/x.txt", "/d/B/x.txt": "B/x"}
    assert session_names(["/1/site/A/s.txt", "/2/site/A/s.txt"]) == {"/1/site/A/s.txt": "1/site/A/s", "/2/site/A/s.txt": "2/site/A/s"}
    assert set(session_names(["/d/A/s1.txt", "/d/B/s1.txt"], join_files=True).values()) == {"s1"}


# ------------------------------------------------------------------ the output folder is never input


def test_scoring_again_with_force_does_not_read_its_own_output(tmp_path):
    """`mentalize score sess --out sess/results`, run again with --force, gives the same rows."""
    sess = tmp_path / "sess"
    sess.mkdir()
    (sess / "s1.txt").write_text(SESSION, encoding="utf-8")
    (sess / "s2.txt").write_text(OTHER, encoding="utf-8")
    first = run("score", sess, "--out", sess / "results", "--html")
    assert first.exit_code == 0, first.output
    before = utterances(sess / "results")
    profiles_before = pd.read_csv(sess / "results" / "profiles.csv")
    again = run("score", sess, "--out", sess / "results", "--force", "--html")
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(utterances(sess / "results"), before)
    pd.testing.assert_frame_equal(pd.read_csv(sess / "results" / "profiles.csv"), profiles_before)
    assert again.stderr.count("results") >= 1
    skipped = [line for line in again.stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 1 and "output folder" in skipped[0]


def test_an_earlier_runs_output_folder_beside_the_sessions_is_not_read(tmp_path):
    """Dated results folders kept among the sessions were read as transcripts: every turn counted twice."""
    sess = tmp_path / "sess"
    sess.mkdir()
    (sess / "s1.txt").write_text(SESSION, encoding="utf-8")
    assert run("score", sess, "--out", sess / "results-march").exit_code == 0
    again = run("score", sess, "--out", sess / "results-april")
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(utterances(sess / "results-april"), utterances(sess / "results-march"))
    assert any(line.startswith("skipped:") and "results-march" in line and "earlier run" in line for line in again.stderr.splitlines())


def test_the_output_folder_cannot_be_the_input_folder(tmp_path):
    (tmp_path / "s1.txt").write_text(SESSION, encoding="utf-8")
    result = run("score", tmp_path, "--out", tmp_path)
    assert result.exit_code == 2 and "also an input" in result.output
    assert not (tmp_path / "utterances.csv").exists()


def test_force_refuses_a_folder_mentalize_did_not_write(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "errors.csv").write_text("my own notes\nkeep me\n", encoding="utf-8")
    result = run("score", SAMPLES, "--out", mine, "--force")
    assert result.exit_code == 2 and "not written by mentalize-nlp" in result.output
    assert (mine / "errors.csv").read_text(encoding="utf-8") == "my own notes\nkeep me\n"
    ours = tmp_path / "ours"
    assert run("score", SAMPLES, "--out", ours).exit_code == 0
    assert (ours / MARKER).is_file()
    assert run("score", SAMPLES, "--out", ours, "--force").exit_code == 0


def test_force_removes_results_of_another_format(tmp_path):
    """A stale utterances.csv would be read by the report in place of a new Parquet run."""
    out = tmp_path / "out"
    assert run("score", SAMPLES, "--out", out).exit_code == 0
    assert run("score", SAMPLES, "--out", out, "--format", "parquet").exit_code == 2
    assert run("score", SAMPLES, "--out", out, "--format", "parquet", "--force").exit_code == 0
    assert not (out / "utterances.csv").exists() and (out / "utterances.parquet").exists()


def test_a_scored_output_file_given_as_input_is_not_overwritten(tmp_path):
    out = tmp_path / "out"
    assert run("score", SAMPLES, "--out", out).exit_code == 0
    before = (out / "utterances.csv").read_bytes()
    result = run("score", out / "utterances.csv", "--out", out, "--force")
    assert result.exit_code == 2 and "write over it" in result.output
    assert (out / "utterances.csv").read_bytes() == before


def test_evaluate_never_writes_predictions_over_the_gold_file(tmp_path):
    """`mentalize evaluate gold.csv --predictions gold.csv` overwrote 7,157 human codes."""
    gold = tmp_path / "gold.csv"
    pd.read_csv(CORPUS).head(30).to_csv(gold, index=False)
    before = gold.read_bytes()
    for extra in ((), ("--force",)):
        result = run("evaluate", gold, "--predictions", gold, *extra)
        assert result.exit_code == 2 and "gold file" in result.output
        assert gold.read_bytes() == before


def test_evaluate_refuses_an_existing_predictions_file_without_force(tmp_path):
    gold = tmp_path / "gold.csv"
    pd.read_csv(CORPUS).head(30).to_csv(gold, index=False)
    notes = tmp_path / "notes.csv"
    notes.write_text("mine\n", encoding="utf-8")
    assert run("evaluate", gold, "--predictions", notes).exit_code == 2
    refused = run("evaluate", gold, "--predictions", notes, "--force")
    assert refused.exit_code == 2 and "not a predictions file" in refused.output
    assert notes.read_text(encoding="utf-8") == "mine\n"
    pred = tmp_path / "pred.csv"
    assert run("evaluate", gold, "--predictions", pred).exit_code == 0
    again = run("evaluate", gold, "--predictions", pred)
    assert again.exit_code == 2 and "--force" in again.output
    assert run("evaluate", gold, "--predictions", pred, "--force").exit_code == 0
    assert len(pd.read_csv(pred)) == 30


def test_train_refuses_an_existing_model_folder_without_force(tmp_path, monkeypatch):
    """`mentalize train --out existing_model` overwrote a model folder."""
    import mentalize_nlp.training as training

    def no_training(*args, **kwargs):
        raise AssertionError("training must not start")

    monkeypatch.setattr(training, "train", no_training)
    model = tmp_path / "model"
    shutil.copytree(ROOT / "models", model)
    before = {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()}  # not a __pycache__ folder
    result = run("train", "--out", model, "--no-real")
    assert result.exit_code == 2 and "--force" in result.output
    assert {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()} == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "mentalize-classifier.json").write_text("not a model\n", encoding="utf-8")
    refused = run("train", "--out", other, "--no-real", "--force")
    assert refused.exit_code == 2 and "no model metadata written by mentalize-nlp" in refused.output
    with pytest.raises(AssertionError, match="training must not start"):
        run("train", "--out", model, "--no-real", "--force")  # a model folder of ours: --force lets training start


# ------------------------------------------------------------------ nothing skipped without a word


def test_an_unreadable_subfolder_is_an_error(tmp_path, monkeypatch):
    """A subfolder that cannot be read was skipped with exit 0 and nothing in errors.csv."""
    sess = tmp_path / "sess"
    (sess / "locked").mkdir(parents=True)
    (sess / "locked" / "s9.txt").write_text(SESSION, encoding="utf-8")
    (sess / "s1.txt").write_text(SESSION, encoding="utf-8")
    os.chmod(sess / "locked", 0)
    scandir = os.scandir

    def denying(path="."):  # root can read any folder: deny this one as the file system would
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denying)
    try:
        result = run("score", sess, "--out", tmp_path / "out")
    finally:
        os.chmod(sess / "locked", 0o755)
    assert result.exit_code == 1
    table = errors(tmp_path / "out")
    assert list(table["file"]) == [str(sess / "locked")]
    assert "permission denied" in table["error"].iat[0].lower()
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["s1"]


def test_a_listed_file_replaced_by_a_folder_is_an_error(tmp_path, monkeypatch):
    """A listed file replaced by a folder mid-run disappeared from the counts."""
    import mentalize_nlp.cli as cli

    sess = tmp_path / "sess"
    sess.mkdir()
    (sess / "s1.txt").write_text(SESSION, encoding="utf-8")
    (sess / "s2.txt").write_text(OTHER, encoding="utf-8")
    load = cli._tagger

    def replace_then_load(model, *rest):  # runs after the inputs are listed, before they are read
        (sess / "s2.txt").unlink()
        (sess / "s2.txt").mkdir()
        (sess / "s2.txt" / "inner.txt").write_text(OTHER, encoding="utf-8")
        return load(model, *rest)

    monkeypatch.setattr(cli, "_tagger", replace_then_load)
    result = run("score", sess, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "of 2 file(s)" in result.stderr
    table = errors(tmp_path / "out")
    assert list(table["file"]) == [str(sess / "s2.txt")] and "folder" in table["error"].iat[0]
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["s1"]


def test_files_left_out_of_a_folder_are_named_once(tmp_path):
    sess = tmp_path / "sess"
    (sess / ".git").mkdir(parents=True)
    (sess / ".git" / "old.txt").write_text(SESSION, encoding="utf-8")
    (sess / "s1.txt").write_text(SESSION, encoding="utf-8")
    (sess / "notes.md").write_text("# notes\n", encoding="utf-8")
    (sess / ".draft.txt").write_text(SESSION, encoding="utf-8")
    (sess / "~$s1.docx").write_bytes(b"lock")
    (sess / "audio.wav").write_bytes(b"RIFF")
    result = run("score", sess, sess / "s1.txt", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    for name in (".git", "notes.md", ".draft.txt", "~$s1.docx", "audio.wav", "s1.txt"):
        assert sum(str(sess / name) + ":" in line for line in skipped) == 1, (name, skipped)
    assert len(skipped) == 6
    assert len(utterances(tmp_path / "out")) == 4  # s1.txt given twice is read once
    assert errors(tmp_path / "out").empty


def test_list_inputs_records_every_path(tmp_path):
    (tmp_path / "a.txt").write_text(SESSION, encoding="utf-8")
    (tmp_path / "b.pdf").write_bytes(b"%PDF")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "utterances.csv").write_text("session,turn,speaker,text\n", encoding="utf-8")
    os.symlink(tmp_path / "missing.txt", tmp_path / "gone.txt")
    os.symlink(tmp_path, tmp_path / "loop")
    os.symlink(tmp_path / "a.txt", tmp_path / "same.txt")
    found = list_inputs([tmp_path], tmp_path / "out")
    assert found.files == [tmp_path / "a.txt"]
    assert dict(found.skipped).keys() == {str(tmp_path / n) for n in ("b.pdf", "out", "loop", "same.txt")}
    assert "the same file as" in dict(found.skipped)[str(tmp_path / "same.txt")]
    assert [f.path for f in found.failures] == [str(tmp_path / "gone.txt")]


# ------------------------------------------------------------------ --encoding


def test_encoding_is_passed_to_the_reader_only_when_given(tmp_path, monkeypatch, tagger):
    import mentalize_nlp.batch as batch

    seen = []
    real = batch.read_transcript

    def spy(path, **kwargs):
        seen.append(kwargs.get("encoding", "absent"))
        kwargs.pop("encoding", None)
        return real(path, **kwargs)

    monkeypatch.setattr(batch, "read_transcript", spy)
    (tmp_path / "s.txt").write_text(SESSION, encoding="cp1252")
    score_inputs([tmp_path / "s.txt"], tmp_path / "a", tagger)
    score_inputs([tmp_path / "s.txt"], tmp_path / "b", tagger, encoding="cp1252")
    assert seen == ["absent", "cp1252"]
    result = run("score", tmp_path / "s.txt", "--out", tmp_path / "c", "--encoding", "Windows-1252")
    assert result.exit_code == 0, result.output
    assert seen[-1] == "cp1252"
    assert run("score", tmp_path / "s.txt", "--out", tmp_path / "d", "--encoding", "klingon").exit_code == 2

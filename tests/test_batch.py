"""Batch scoring: parallel and distributed runs give the single-process results, in every format."""

import pandas as pd
import pytest

from conftest import SAMPLES
from mentalize_nlp.batch import score_inputs


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tagger):
    out = tmp_path_factory.mktemp("ref")
    score_inputs([SAMPLES], out, tagger)
    return out


def read(folder, name="utterances.csv"):
    return pd.read_csv(folder / name, keep_default_na=False)


def test_two_jobs_give_the_single_process_results_in_input_order(reference, tmp_path):
    score_inputs([SAMPLES], tmp_path, jobs=2, chunk_bytes=1)
    pd.testing.assert_frame_equal(read(tmp_path), read(reference))
    pd.testing.assert_frame_equal(read(tmp_path, "profiles.csv"), read(reference, "profiles.csv"))


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_other_formats_hold_the_same_rows(reference, tmp_path, fmt, tagger):
    score_inputs([SAMPLES], tmp_path, tagger, fmt=fmt, chunk_bytes=1)
    loader = pd.read_parquet if fmt == "parquet" else (lambda p: pd.read_json(p, lines=True, dtype=False))
    got = loader(tmp_path / f"utterances.{fmt}")
    want = read(reference)
    assert len(got) == len(want)
    assert list(got["text"]) == list(want["text"])
    assert list(got["feeling_naming"].astype(int)) == list(want["feeling_naming"])
    assert len(loader(tmp_path / f"profiles.{fmt}")) == len(read(reference, "profiles.csv"))


def test_a_dask_cluster_of_two_workers_gives_the_single_process_results(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        score_inputs([SAMPLES], tmp_path, engine="dask", scheduler=cluster.scheduler_address, chunk_bytes=1)
    pd.testing.assert_frame_equal(read(tmp_path), read(reference))
    pd.testing.assert_frame_equal(read(tmp_path, "profiles.csv"), read(reference, "profiles.csv"))


def test_memory_is_bounded_by_the_chunk_not_the_batch(tmp_path, tagger, monkeypatch):
    """Files are read and tagged a chunk at a time, and each chunk is written before the next is read."""
    import mentalize_nlp.batch as batch

    held = []
    original = batch.score_chunk

    def spy(paths, tagger, options, fmt, *rest, **kwargs):
        held.append(len(paths))
        return original(paths, tagger, options, fmt, *rest, **kwargs)

    monkeypatch.setattr(batch, "score_chunk", spy)
    inputs = tmp_path / "in"
    inputs.mkdir()
    text = "T: How was the week?\nC: Fine, I guess.\nT: Mm.\nC: She never called.\n"
    for n in range(12):
        (inputs / f"s{n:02d}.txt").write_text(text, encoding="utf-8")
    result = score_inputs([inputs], tmp_path / "out", tagger, chunk_bytes=3 * len(text))
    assert held == [3] * 4
    assert result.sessions == 12 and result.utterances == 48


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_a_table_with_text_turns_after_numbered_ones_is_written_whatever_the_chunks(tmp_path, tagger, fmt):
    """Parquet took its column types from the first chunk and failed the whole run on a later 'u1'."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.csv").write_text("speaker,text\nT,How are you?\nC,I felt hurt.\n", encoding="utf-8")
    (inputs / "b.csv").write_text("speaker,text,turn\nT,How are you feeling?,u1\nC,Sad.,u2\n", encoding="utf-8")
    loader = pd.read_parquet if fmt == "parquet" else (lambda p: pd.read_json(p, lines=True, dtype=False))
    tables = []
    for chunk_bytes in (1, 10**9):  # each file its own chunk, then both in one
        out = tmp_path / f"out{chunk_bytes}"
        assert score_inputs([inputs], out, tagger, fmt=fmt, chunk_bytes=chunk_bytes).ok
        tables.append(loader(out / f"utterances.{fmt}"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert [str(t) for t in tables[0]["turn"]] == ["0", "1", "u1", "u2"]

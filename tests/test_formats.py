"""One table, three formats: CSV, Parquet and JSON Lines carry the same columns and types."""

import pandas as pd
from click.testing import CliRunner

from conftest import SAMPLES
from mentalize_nlp.cli import main
from mentalize_nlp.labels import LABELS


def test_csv_parquet_and_jsonl_read_back_alike(tmp_path):
    vtt = tmp_path / "in" / "timed.vtt"
    vtt.parent.mkdir()
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n<v Therapist>How did that make you feel?\n\n"
                   "00:00:04.000 --> 00:00:06.250\n<v Client>Honestly, I was furious.\n", encoding="utf-8")
    tables = {}
    for fmt in ("csv", "parquet", "jsonl"):
        out = tmp_path / fmt
        result = CliRunner().invoke(main, ["score", str(SAMPLES), str(vtt.parent), "--out", str(out), "--format", fmt])
        assert result.exit_code == 0, result.output
        path = out / f"utterances.{fmt}"
        tables[fmt] = {"csv": pd.read_csv, "parquet": pd.read_parquet, "jsonl": lambda p: pd.read_json(p, lines=True)}[fmt](path)
    csv, parquet, jsonl = tables["csv"], tables["parquet"], tables["jsonl"]
    assert list(csv.columns) == list(parquet.columns) == list(jsonl.columns)
    for frame in (csv, parquet, jsonl):
        assert pd.api.types.is_integer_dtype(frame["turn"])
        for label in LABELS:
            assert pd.api.types.is_integer_dtype(frame[label])
            assert pd.api.types.is_float_dtype(frame[f"p_{label}"])
        assert pd.api.types.is_float_dtype(frame["start"]) and pd.api.types.is_float_dtype(frame["end"])
        timed = frame[frame["session"] == "timed"]
        assert timed["start"].tolist() == [1.0, 4.0] and timed["end"].tolist() == [3.5, 6.25]
        assert frame[frame["session"] != "timed"]["start"].isna().all()  # no times: nulls, not ""
    for column in ("turn", *LABELS):
        assert csv[column].tolist() == parquet[column].tolist() == jsonl[column].tolist()

"""The annotated corpus: reading it, checking it, and keeping near-duplicates on one side of the split.

A corpus is a CSV with one row per utterance (or per sentence of one): ``text``, one 0/1
column per label, and optionally ``id``, ``group``, ``register``, ``role``, ``source``,
``session``, ``turn`` and ``split`` (``train``/``test``). Researchers retrain on their own
codes with a file of the same shape.

Two corpora ship with the project: the written one (``corpora/mentalizing``), and the
real-talk one (``corpora/real``): sentences of real sessions coded by hand, whose
counselling-forum rows point into the shared corpora instead of copying their text.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CorpusError, TranscriptError
from .labels import LABELS

log = logging.getLogger(__name__)

DEFAULT_SHARED = Path("..") / "shared" / "corpora"


def shipped(*parts: str) -> Path:
    """A file of the corpora shipped with the package (``corpora/`` of the source tree)."""
    return Path(str(resources.files("mentalize_nlp.corpora").joinpath(*parts)))


DEFAULT_CORPUS = shipped("mentalizing", "corpus.csv")
DEFAULT_REAL_CORPUS = shipped("real", "corpus.csv")
_EXTERNAL_TEXT = {"counselchat": ("counselchat", "counselchat.csv")}
"""Sources whose licence keeps their text out of the project: rows refer to it by session,
turn and character offsets, and the text is read from the shared corpora folder."""
_FILLER_RE = re.compile(r"\b(um+|uh+|erm|er|like|you know|i mean|sort of|kind of)\b")
_NON_WORD_RE = re.compile(r"[^a-z0-9 ]+")


def _read_table(path: Path) -> pd.DataFrame:
    """A corpus file's cells as strings: a CSV in any encoding a transcript may come in (read
    by the same rules), or a Parquet file."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own errors for a damaged file
            raise CorpusError(f"{path}: not a Parquet file that can be read ({exc}); save the codes as CSV or Parquet again.") from None
        return frame.astype(object).where(frame.notna(), "").astype(str)
    from .transcripts.decode import read_decoded
    from .transcripts.tabular import separator

    if not path.stat().st_size:
        raise CorpusError(f"{path}: the file is empty; save the codes again, as CSV with a header row.")
    try:
        text = read_decoded(path, max_bytes=1 << 34).text  # a corpus has no size cap of its own (16 GB)
    except TranscriptError as exc:
        raise CorpusError(str(exc)) from None
    sep = separator(text.split("\n", 1)[0])
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = " ".join(str(exc).split())
        raise CorpusError(f"{path}: not a CSV table that can be read ({reason}); save it as CSV with a header row, "
                          "each text that holds a comma in double quotes.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_corpus(path: str | Path, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Read and check an annotated corpus.

    Args:
        path: The CSV (in any encoding a transcript may come in) or Parquet file.
        columns: Our column name -> the file's, for files that name them otherwise
            (``{"text": "utterance"}``).

    Raises:
        CorpusError: the file is missing, or lacks a text or label column, or a label
            column holds something other than 0/1.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(
            f"{path}: no such corpus file. Run from the project folder, or pass --corpus PATH to your own CSV."
        )
    frame = _read_table(path)
    if columns:
        absent = [theirs for theirs in columns.values() if theirs not in frame.columns]
        if absent:
            raise CorpusError(f"{path} has no column(s) {', '.join(absent)}; found: {', '.join(frame.columns)}.")
        frame = frame.drop(columns=[c for c in columns if c in frame.columns and c not in columns.values()])
        frame = frame.rename(columns={theirs: ours for ours, theirs in columns.items()})
    for column in ("turn", "sentence", "start_char", "end_char"):
        if column in frame.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            if numbers.notna().all():
                frame[column] = numbers.astype(int)
    missing = [c for c in ("text", *LABELS) if c not in frame.columns]
    if missing:
        raise CorpusError(
            f"{path} lacks column(s) {', '.join(missing)}; found: {', '.join(frame.columns)}. "
            f"A corpus needs 'text' and a 0/1 column per label: {', '.join(LABELS)}."
        )
    for label in LABELS:
        values = pd.to_numeric(frame[label], errors="coerce")
        bad = frame.index[~values.isin([0, 1])]
        if len(bad):
            row = int(bad[0]) + 2
            raise CorpusError(f"{path}, line {row}: column {label} must be 0 or 1, found {frame.at[bad[0], label]!r}.")
        frame[label] = values.astype(int)
    return frame


def check_one_coder(frame: pd.DataFrame, path: str | Path) -> None:
    """Refuse a corpus in which two coders code the same utterance (an imported ``gold.csv``
    with a ``coder`` column): training on it would merge their codes, a label given where
    either coder gave it.

    Raises:
        CorpusError: the same ``session``, ``turn`` (and ``sentence``) is coded by more than one coder.
    """
    keys = [c for c in ("session", "turn", "sentence") if c in frame.columns]
    if "coder" not in frame.columns or "turn" not in keys or frame["coder"].nunique() < 2:
        return
    coders = frame.groupby(keys, sort=False)["coder"].transform("nunique")
    shared = frame.index[coders.to_numpy() > 1]
    if len(shared):
        first = frame.loc[shared[0]]
        names = ", ".join(map(str, pd.unique(frame.loc[shared, "coder"])))
        where = ", ".join(f"{k} {first[k]}" for k in keys)
        raise CorpusError(
            f"{path}: the same utterances are coded by several coders ({names}; first at {where}), and training "
            "would merge their codes. Train on one coder's rows (e.g. in pandas: gold[gold['coder'] == 'NAME']) "
            "or on codes the coders have agreed."
        )


def resolve_text(frame: pd.DataFrame, shared: str | Path = DEFAULT_SHARED) -> pd.DataFrame:
    """Fill the ``text`` of rows whose source keeps its text outside the project.

    Such rows carry ``source``, ``session`` (``<source>-<id>``), ``turn``, ``start_char``
    and ``end_char``; their text is cut from the source file in ``shared``. Rows whose
    source file is not there are dropped, and the drop is logged.
    """
    if "source" not in frame.columns:
        return frame
    frame = frame.copy()
    keep = pd.Series(True, index=frame.index)
    for source, (folder, name) in _EXTERNAL_TEXT.items():
        rows = frame["source"].eq(source) & frame["text"].eq("")
        if not rows.any():
            continue
        path = Path(shared) / folder / name
        if not path.exists():
            log.warning("%s not found: %d %s rows left out (pass the shared corpora folder).", path, int(rows.sum()), source)
            keep &= ~rows
            continue
        texts = pd.read_csv(path, dtype={"text": str}, keep_default_na=False)
        lookup = {(f"{source}-{s}", int(t)): x for s, t, x in zip(texts["session"], texts["turn"], texts["text"])}
        cut = []
        for session, turn, start, end in frame.loc[rows, ["session", "turn", "start_char", "end_char"]].itertuples(index=False):
            full = lookup.get((str(session), int(turn)), "")
            cut.append(" ".join(full[int(start): int(end)].split()))
        frame.loc[rows, "text"] = cut
    return frame[keep & frame["text"].ne("")].reset_index(drop=True)


def corpus_hash(path: str | Path) -> str:
    """SHA-256 of the corpus file's bytes, recorded in the model metadata."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def normalise(text: str) -> str:
    """Lowercase, strip punctuation and fillers: the form near-duplicates are compared in."""
    text = _NON_WORD_RE.sub(" ", text.lower().replace("'", "").replace("’", ""))
    return " ".join(_FILLER_RE.sub(" ", text).split())


def near_duplicate_groups(texts: list[str], groups: list[str], threshold: float = 0.8) -> list[str]:
    """Merge groups whose texts are near-duplicates, so they can never straddle the split.

    Two utterances are near-duplicates when the cosine similarity of their word 1-3-gram
    TF-IDF vectors (after :func:`normalise`) reaches ``threshold``. Each connected set of
    groups takes the smallest group name in it.
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    names = sorted(set(groups))
    index = {g: i for i, g in enumerate(names)}
    vectors = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True).fit_transform([normalise(t) for t in texts])
    similar = (vectors @ vectors.T).tocoo()
    keep = similar.data >= threshold
    rows = np.array([index[groups[i]] for i in similar.row[keep]], dtype=int)
    cols = np.array([index[groups[j]] for j in similar.col[keep]], dtype=int)
    from scipy.sparse import coo_matrix

    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(names), len(names)))
    _, component = connected_components(graph, directed=False)
    first: dict[int, str] = {}
    for name, comp in zip(names, component):
        first.setdefault(int(comp), name)
    return [first[int(component[index[g]])] for g in groups]


def assign_split(groups: list[str], test_fraction: float = 0.25, salt: str = "mentalize-split-v1") -> list[str]:
    """``train`` or ``test`` per row, from a hash of its group: stable, and whole groups move together."""
    def bucket(group: str) -> float:
        digest = hashlib.sha256(f"{salt}:{group}".encode()).hexdigest()
        return int(digest[:8], 16) / 0xFFFFFFFF

    return ["test" if bucket(g) < test_fraction else "train" for g in groups]

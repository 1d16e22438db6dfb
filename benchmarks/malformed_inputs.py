"""Time and peak memory of every transcript reader on malformed inputs of growing size,
and of the tagger on one long utterance.

Each input is a file of one transcript type holding one kind of damage (a run of digits
where a subtitle time should be, brackets or tags never closed, a turn split over
thousands of lines, JSON nested thousands deep ...), written at 1 KB, 16 KB, 64 KB, 256 KB
and 1 MB. Each input is written first, then read in a fresh process, so the peak memory
is that of reading alone (resident set, ``VmHWM``, imports included); a run slower
than ``--timeout`` is stopped and shown as such. Time should grow with size, never faster: the last column
is time(1 MB) / time(64 KB), which is 16 for a reader linear in its input (less while
start-up costs dominate). Every outcome is either sessions read or a ``TranscriptError``.

    python benchmarks/malformed_inputs.py [--sizes 1,16,64,256,1024] [--timeout 120] [--only .srt]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

KB = 1024


def fill(unit: str, n: int) -> str:
    """``unit`` repeated to ``n`` characters."""
    return (unit * (n // len(unit) + 1))[:n]


def whole(unit: str, n: int) -> str:
    """``unit`` repeated whole, to about ``n`` characters."""
    return unit * max(1, n // len(unit))


JUNK: dict[str, Callable[[int], str]] = {
    "digit run": lambda n: fill("1", n),
    "space run": lambda n: "A" + fill(" ", n) + "x",
    "unclosed [": lambda n: fill("[", n),
    "unclosed <v": lambda n: fill("<v ", n),
    "unclosed <v.": lambda n: fill("<v.", n),
    "unclosed (": lambda n: fill("( ", n),
    "long words": lambda n: fill("maybe she is selfish but I feel sad ", n),
}
"""Text put where a turn's words go."""


def _docx(paragraphs: list[str] = (), rows: list[tuple[str, str]] = ()) -> bytes:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if rows:
        table = document.add_table(rows=0, cols=2)
        for speaker, text in rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = speaker, text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx(rows: list[tuple[str, str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["speaker", "text"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bomb(kind: str, n: int) -> bytes:
    """A ``.docx``/``.xlsx`` of about ``n`` bytes whose main part unpacks to about 1,000 times
    that: valid XML padded with whitespace, packed as tightly as zip can (a zip bomb)."""
    base = _docx(["T: hi", "C: hello"]) if kind == "docx" else _xlsx([("T", "hi"), ("C", "hello")])
    target = "word/document.xml" if kind == "docx" else "xl/worksheets/sheet1.xml"
    source = zipfile.ZipFile(io.BytesIO(base))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for name in source.namelist():
            data = source.read(name)
            if name != target:
                out.writestr(name, data)
                continue
            head, tail = data.split(b">", 1)  # whitespace is valid after the first tag
            with out.open(name, "w", force_zip64=True) as member:
                member.write(head + b">")
                for _ in range(n // 1000 + 1):
                    member.write(b" " * 1_000_000)
                member.write(tail)
    return buffer.getvalue()


def _far_cell(n: int) -> bytes:
    """A workbook of about ``n`` bytes of rows, and one value in its last cell, XFD1048576."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["speaker", "text"])
    for i in range(max(1, n // 12)):
        book.active.append(["T" if i % 2 else "C", "hi"])
    book.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _turn(suffix: str, junk: str) -> bytes:
    """A short valid transcript of type ``suffix`` whose second turn's words are ``junk``."""
    if suffix == ".txt":
        return f"T: hi\nC: so\n{junk}\n".encode()
    if suffix in (".csv", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        return f'speaker{sep}text\nT{sep}hi\nC{sep}"{junk}"\n'.encode()
    if suffix == ".vtt":
        return f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v T>hi\n\n00:00:03.000 --> 00:00:04.000\nC: so\n{junk}\n".encode()
    if suffix == ".srt":
        return f"1\n00:00:01,000 --> 00:00:02,000\nT: hi\n\n2\n00:00:03,000 --> 00:00:04,000\nC: so\n{junk}\n".encode()
    if suffix == ".json":
        return json.dumps({"segments": [{"speaker": "T", "text": "hi"}, {"text": f"C: so\n{junk}"}]}).encode()
    if suffix == ".cha":
        return f"@Begin\n*THE:\thi .\n*CLI:\t{junk}\n@End\n".encode()
    if suffix == ".docx":
        return _docx(["T: hi", "C: so", junk])
    return _xlsx([("T", "hi"), ("C", junk)])


SUFFIXES = (".txt", ".csv", ".tsv", ".xlsx", ".vtt", ".srt", ".docx", ".json", ".cha")

STRUCTURE: dict[str, dict[str, Callable[[int], bytes]]] = {
    ".txt": {
        "one turn, many lines": lambda n: ("T: hi\nC: so\n" + fill("and then\n", n)).encode(),
        "many speakers, one word": lambda n: "".join(f"Speaker {i // 2}: speaker\n" for i in range(n // 20)).encode(),
        "random bytes": lambda n: random.Random(n).randbytes(n),
    },
    ".csv": {
        "unclosed quote": lambda n: ('speaker,text\nT,hi\nC,"' + fill("x", n)).encode(),
        "long turn number": lambda n: f"turn,speaker,text\n{fill('7', n)},T,hi\n1,C,hello\n".encode(),
        "many rows": lambda n: ("speaker,text\n" + fill("T,hi\n,and\n", n)).encode(),
    },
    ".tsv": {
        "many columns": lambda n: ("speaker\ttext" + fill("\tx", n) + "\nT\thi\n").encode(),
    },
    ".xlsx": {
        "many rows": lambda n: _xlsx([("T" if i % 2 else "", "hi") for i in range(n // 12)]),
        "zip bomb": lambda n: _bomb("xlsx", n),
        "a value in the last cell": lambda n: _far_cell(n),
    },
    ".vtt": {
        "digits for a time": lambda n: ("WEBVTT\n\n00:00:01.000 --> " + fill("1", n)).encode(),
        "many cues, one speaker": lambda n: ("WEBVTT\n\n00:00.000 --> 00:01.000\nT: hi\n\n" + whole("00:01.000 --> 00:02.000\nx\n\n", n)).encode(),
    },
    ".srt": {
        "broken time, then digits": lambda n: ("1\n00:00:01,000 --> 00:00:02,000\nT: hi\n\n2\n00:00:03,000 -> 00:0\n" + fill("1", n)).encode(),
        "digits for a time": lambda n: ("1\n00:00:01,000 --> " + fill("1", n)).encode(),
        "many subtitles, one speaker": lambda n: ("1\n00:00:01,000 --> 00:00:02,000\nT: hi\n\n" + whole("2\n00:00:03,000 --> 00:00:04,000\nx\n\n", n)).encode(),
    },
    ".json": {
        "nested lists": lambda n: fill("[", n).encode(),
        "long number": lambda n: ('{"segments": [{"speaker": "A", "text": "hi", "start": ' + fill("9", n) + "}]}").encode(),
        "many segments, no speaker": lambda n: json.dumps({"segments": [{"speaker": "T", "text": "hi"}] + [{"text": "x"}] * (n // 12)}).encode(),
    },
    ".cha": {
        "continuation lines": lambda n: ("@Begin\n*CLI:\thi\n" + fill("\tand .\n", n) + "@End\n").encode(),
        "retracing codes": lambda n: ("@Begin\n*CLI:\tw" + fill(" [x]", n) + " .\n@End\n").encode(),
        "unclosed <": lambda n: ("@Begin\n*CLI:\t" + fill("<a ", n) + " .\n@End\n").encode(),
    },
    ".docx": {
        "one turn, many paragraphs": lambda n: _docx(["T: hi", "C: so", *["and then"] * (n // 60)]),
        "one turn, many table rows": lambda n: _docx(rows=[("T", "hi"), ("C", "so"), *[("", "and")] * (n // 400)]),
        "zip bomb": lambda n: _bomb("docx", n),
    },
}
"""Damage particular to one transcript type."""


def inputs() -> dict[str, dict[str, Callable[[int], bytes]]]:
    """Every suffix's malformed inputs, by name: the text shapes in a turn, then its own."""
    table: dict[str, dict[str, Callable[[int], bytes]]] = {}
    for suffix in SUFFIXES:
        shapes: dict[str, Callable[[int], bytes]] = {}
        for name, junk in JUNK.items():
            if suffix in (".csv", ".tsv", ".xlsx") and name == "space run":
                continue  # same as "long words" for a table cell
            shapes[f"turn: {name}"] = lambda n, s=suffix, j=junk: _turn(s, j(n))
        shapes.update(STRUCTURE.get(suffix, {}))
        table[suffix] = shapes
    return table


def peak_mb() -> float:
    """This process's peak resident memory. Not ``ru_maxrss``: that one survives ``exec``, so a
    fresh process would start from the peak of the one that started it."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def one(path: Path) -> dict:
    """Read one input in this process: seconds, outcome and peak memory."""
    import docx  # noqa: F401  (imported before the clock starts, as pandas imports openpyxl only when first used)
    import openpyxl  # noqa: F401

    from mentalize_nlp.errors import TranscriptError
    from mentalize_nlp.transcripts import read_transcript

    start = time.perf_counter()
    try:
        sessions = read_transcript(path)
        outcome = f"{sum(len(s) for s in sessions)} turns"
    except TranscriptError:
        outcome = "TranscriptError"
    except Exception as exc:  # the contract is broken: say how
        outcome = f"**{type(exc).__name__}**"
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "outcome": outcome, "peak_mb": peak_mb()}


def pipeline(size: int) -> dict:
    """Tag one utterance of ``size`` bytes (sentences of cue words, hedges and negations) in this process."""
    import mentalize_nlp

    tagger = mentalize_nlp.load()
    tagger.tag_texts(["warm up"])
    text = fill("maybe she is just selfish but I don't feel sad, he said I feel like you are angry. ", size)
    start = time.perf_counter()
    tagger.tag_texts([text])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "outcome": "tagged", "peak_mb": peak_mb()}


def measure(args: list[str], timeout: float) -> dict | None:
    """Run one measurement in a fresh process; ``None`` when it ran past ``timeout``."""
    try:
        done = subprocess.run([sys.executable, __file__, "--one", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:  # the process itself died: out of memory, or an exception no handler catches
        return {"seconds": float("nan"), "outcome": f"**process died ({done.stderr.strip().splitlines()[-1][:60] if done.stderr.strip() else done.returncode})**", "peak_mb": float("nan")}
    return json.loads(done.stdout.splitlines()[-1])


def read(suffix: str, shape: str, size: int, timeout: float, folder: Path) -> dict | None:
    """Write one input (in this process, so its making is not measured) and time reading it."""
    path = folder / f"input{suffix}"
    path.write_bytes(inputs()[suffix][shape](size))
    try:
        return measure(["read", str(path)], timeout)
    finally:
        path.unlink()


def cell(result: dict | None, timeout: float) -> str:
    if result is None:
        return f"> {timeout:.0f} s"
    if result["seconds"] != result["seconds"]:
        return "died"
    return f"{result['seconds']:.3f} s / {result['peak_mb']:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,16,64,256,1024", help="input sizes in KB, comma-separated")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a measurement is stopped")
    parser.add_argument("--only", help="one suffix (.srt), or 'pipeline'")
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(pipeline(int(args.one[1])) if args.one[0] == "pipeline" else one(Path(args.one[1]))))
        return
    sizes = [int(s) * KB for s in args.sizes.split(",")]
    print(f"Measured on {dt.date.today()} on {platform.node()}: {os.cpu_count()} cores, {platform.machine()}, "
          f"Python {platform.python_version()}; each cell is seconds / peak resident MB of a fresh process "
          f"(about {measure_baseline():.0f} MB after imports).\n")
    heads = " | ".join(f"{s // KB:,} KB" for s in sizes)
    print(f"| reader | input | outcome (largest) | {heads} | x time, 1 MB / 64 KB |")
    print("| --- | --- | --- |" + " ---: |" * (len(sizes) + 1))
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, shapes in inputs().items():
            if args.only and args.only != suffix:
                continue
            for shape in shapes:
                results = [read(suffix, shape, size, args.timeout, Path(tmp)) for size in sizes]
                print(row(suffix, shape, sizes, results, args.timeout), flush=True)
    if args.only in (None, "pipeline"):
        results = [measure(["pipeline", str(size)], args.timeout * 5) for size in sizes]
        print(row("tagger", "one utterance of cue words", sizes, results, args.timeout * 5), flush=True)


def row(suffix: str, shape: str, sizes: list[int], results: list[dict | None], timeout: float) -> str:
    last = next((r for r in reversed(results) if r is not None), None)
    outcome = last["outcome"] if last else "-"
    by_size = dict(zip(sizes, results))
    small, large = by_size.get(64 * KB), by_size.get(1024 * KB)
    if 64 * KB not in by_size or 1024 * KB not in by_size or small is None:
        ratio = "-"
    else:
        ratio = f"{large['seconds'] / max(small['seconds'], 1e-3):.1f}" if large else "> timeout"
    return f"| `{suffix}` | {shape} | {outcome} | " + " | ".join(cell(r, timeout) for r in results) + f" | {ratio} |"


def measure_baseline() -> float:
    """Peak resident MB of a process that has only imported the readers and their libraries."""
    code = "import sys, docx, openpyxl, mentalize_nlp.transcripts; sys.path.insert(0, sys.argv[1]); import malformed_inputs; print(malformed_inputs.peak_mb())"
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True, text=True, check=True)
    return float(done.stdout)


if __name__ == "__main__":
    main()

"""Writing outputs: whole files and whole folders put in place in one step, one run at a time,
with CSV cells that a spreadsheet cannot run.

A crash, Ctrl-C or SIGTERM never leaves a half-written file or a mix of two runs' results
behind; what an interrupted run did leave (hidden ``.NAME.*.part`` files and folders beside
the target) is removed by the next run while it holds the folder's lock.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd

from .errors import OutputError


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_RENAME_EXCHANGE = 2  # renameat2 flag (Linux): swap two paths in one step


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` in one step where the system can (Linux); False elsewhere."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0


def leftovers(target: str | Path) -> list[Path]:
    """Temporary folders and files that an interrupted run left beside ``target``."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*.part"))


def remove_leftovers(target: str | Path) -> list[Path]:
    """Remove what an interrupted run left beside ``target`` (call only while holding its lock)."""
    removed = leftovers(target)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; on success it replaces ``target`` whole.

    A reader sees the old complete folder or the new complete one, never a mix: on Linux the
    two are exchanged in one step; elsewhere the old folder is moved aside just before the
    new one is moved in. If the block fails, ``target`` is left as it was. The new folder
    gets the old one's permissions.

    Raises:
        OutputError: ``target`` is a mount point, which cannot be replaced by renaming.
    """
    target = Path(target)
    if target.is_dir() and os.path.ismount(target):
        raise OutputError(f"{target} is a mount point, which cannot be replaced in one step; choose a folder inside it, "
                          f"e.g. {target / 'results'}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        mode = stat.S_IMODE(target.stat().st_mode) if target.is_dir() else 0o777 & ~_umask()
        os.chmod(tmp, mode)
        yield tmp
        if not target.exists():
            os.rename(tmp, target)
        elif _exchange(tmp, target):
            shutil.rmtree(tmp, ignore_errors=True)  # now holds the old folder
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
            os.rmdir(old)
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


GENERATOR = '<meta name="generator" content="mentalize-nlp'
"""How the head of every page mentalize-nlp writes begins: such a page is a result, replaced
with the set it belongs to, never carried into a new one."""


def link_own_files(old: Path, new: Path) -> None:
    """Link into ``new`` what the report folder ``old`` holds besides pages mentalize-nlp
    wrote and leftovers of an interrupted write: one's own notes, say. Pages of an earlier
    set are left behind, so they cannot describe results they no longer match. ``new`` is
    made only if something is linked into it."""
    if not old.is_dir():
        return
    for entry in old.iterdir():
        if entry.name.startswith(".") and entry.name.endswith(".part"):
            continue  # an interrupted write
        if entry.suffix == ".html" and entry.is_file() and not entry.is_symlink():
            with open(entry, encoding="utf-8", errors="replace") as handle:
                if GENERATOR in handle.read(4096):
                    continue
        new.mkdir(exist_ok=True)
        link_tree(entry, new / entry.name)


def link_tree(source: Path, target: Path) -> None:
    """Make ``target`` hold what ``source`` holds, by hard links where the file system allows
    (copies elsewhere), so that carrying files from an old result folder into a new one costs
    nothing. Files are only ever replaced whole (see :func:`atomic_path`), never rewritten in
    place, so a link shared with the old folder is never changed under it."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)

    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, copy_function=link)
    else:
        link(str(source), str(target))


class FolderLocked(OutputError):
    """Another run is writing the same folder."""


_HELD: dict[str, list] = {}
"""Lock files this process holds: path -> [open handle, depth], so a run may lock a folder it already holds."""


@contextlib.contextmanager
def folder_lock(target: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``target`` (a lock file beside it) for the block; refuse at once if held.

    The lock is released by the system when the process ends, however it ends. Taking it
    again in the same process, while it is held, is allowed (the outer block keeps it).

    Raises:
        FolderLocked: another process holds the lock.
        OutputError: the lock file cannot be created beside ``target``.
    """
    target = Path(target)
    path = target.parent / f".{target.name}.lock"
    key = os.path.realpath(path)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")
    except OSError as exc:
        raise OutputError(f"cannot write beside {target} ({exc.strerror or exc}): results are built in a temporary folder "
                          f"next to it and put in place in one step; choose an output folder whose parent you can write.") from exc
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock, as before
            pass
        except BlockingIOError as exc:
            raise FolderLocked(f"{target} is being written by another mentalize run (lock {path.name}); "
                               "wait for it to finish or choose another output folder.") from exc
        _HELD[key] = [handle, 1]
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        handle.close()


def forget_locks() -> None:
    """Close the lock files inherited from a parent (call first thing in a forked worker), so
    that only the parent's own handles keep its locks."""
    for handle, _depth in _HELD.values():
        handle.close()
    _HELD.clear()


def worker_init(parent: int) -> None:
    """Prepare a worker process of a run: it ends with its parent, and SIGTERM ends it at once.

    A forked worker inherits the parent's handlers and lock files; it drops both. On Linux
    the kernel kills the worker when the parent dies, however the parent dies.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    forget_locks()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


# ---------------------------------------------------------------- spreadsheet-safe cells

_RISKY = r"'*[=+\-@\t\r]"
"""A cell a spreadsheet could read as a formula begins so (after any quotes we added)."""
_ESCAPED = r"'+[=+\-@\t\r]"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
"""A plain number is a value, never a formula, and stays as it is."""


def spreadsheet_safe(cell: object) -> object:
    """A text cell that a spreadsheet cannot run: one that begins with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return gets a ``'`` in front (OWASP's advice on CSV injection).

    Plain numbers (``-3``, ``+1.5``) are left alone, and so is every other cell. A text that
    already begins with quotes before one of those characters gets one more, so that
    :func:`original_text` gives back exactly the text that was written. Non-text values pass
    through unchanged.
    """
    if isinstance(cell, str) and re.match(_RISKY, cell) and not re.fullmatch(_NUMBER, cell):
        return "'" + cell
    return cell


def original_text(cell: object) -> object:
    """The text :func:`spreadsheet_safe` was given: the ``'`` it added taken off again."""
    if isinstance(cell, str) and re.match(_ESCAPED, cell):
        return cell[1:]
    return cell


def _text_columns(frame: pd.DataFrame) -> Iterator[str]:
    for name, column in frame.items():
        if pd.api.types.is_string_dtype(column.dtype):
            yield name


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`spreadsheet_safe` applied to every text cell (numeric columns untouched)."""
    changed: dict[str, pd.Series] = {}
    for name in _text_columns(frame):
        column = frame[name]
        text = column.astype(str)
        risky = text.str.match(_RISKY) & ~text.str.fullmatch(_NUMBER)
        if risky.any():
            changed[name] = column.mask(risky, "'" + text)
    return frame.assign(**changed) if changed else frame


def original_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` read from a CSV file that mentalize-nlp wrote, with its text as it was before
    :func:`spreadsheet_safe_frame` (use ``dtype=str`` or name the text columns when reading)."""
    changed: dict[str, pd.Series] = {}
    for name in _text_columns(frame):
        text = frame[name].astype(str)
        escaped = text.str.match(_ESCAPED)
        if escaped.any():
            changed[name] = frame[name].mask(escaped, text.str[1:])
    return frame.assign(**changed) if changed else frame


def write_csv_rows(handle: IO[str], rows: Iterator[list[object]] | list[list[object]], *, raw: bool = False) -> None:
    """Write rows to an open CSV file, each text cell spreadsheet-safe unless ``raw``."""
    import csv

    writer = csv.writer(handle)
    for row in rows:
        writer.writerow(row if raw else [spreadsheet_safe(cell) for cell in row])


MARKER = ".mentalize-output"
"""The file that marks a folder as written by ``mentalize score`` and says how its CSV cells were written."""


MODEL_LINE = "Tagged by the model: "
"""The marker's line naming the model folder that tagged the results, ``shipped``, or :data:`IN_PYTHON`."""
IN_PYTHON = "a tagger given in Python"
"""What the marker says of a tagger passed to :func:`~mentalize_nlp.batch.score_inputs` with no model folder."""


def model_used(folder: str | Path) -> str | None:
    """The model folder that tagged the results in ``folder`` (or :data:`IN_PYTHON`), as its
    marker says; None for the shipped model, or a folder whose marker does not say."""
    try:
        lines = (Path(folder) / MARKER).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):
        return None
    named = next((line.removeprefix(MODEL_LINE) for line in lines if line.startswith(MODEL_LINE)), "shipped")
    return None if named == "shipped" else named


def raw_cells(folder: str | Path) -> bool:
    """True when the CSV files in ``folder`` were written with ``--raw-cells`` (their text as it is);
    otherwise pass what is read from them through :func:`original_text_frame`."""
    try:
        return "(--raw-cells)" in (Path(folder) / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        return False

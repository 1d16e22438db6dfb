"""Writing outputs so that a crash or Ctrl-C never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
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
    import shutil

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
    new one is moved in. If the block fails, ``target`` is left as it was.
    """
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
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


class FolderLocked(OSError):
    """Another run is writing the same folder."""


@contextlib.contextmanager
def folder_lock(target: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``target`` (a lock file beside it) for the block; refuse if held.

    The lock is released by the system when the process ends, however it ends.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f".{target.name}.lock"
    handle = open(path, "a+b")
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock, as before
            pass
        except BlockingIOError as exc:
            raise FolderLocked(f"{target} is being written by another mentalize run (lock {path.name}); "
                               "wait for it to finish or choose another output folder.") from exc
        yield
    finally:
        handle.close()

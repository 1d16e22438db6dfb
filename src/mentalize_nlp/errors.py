"""One family of exceptions, so callers can catch everything the library raises."""

from __future__ import annotations


class MentalizeError(Exception):
    """Base class of every error raised by mentalize-nlp."""


class TranscriptError(MentalizeError, ValueError):
    """A transcript could not be read; the message names the file, the line and the fix."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ModelError(MentalizeError, OSError):
    """A model artefact is missing, does not match its metadata, or was built for other labels."""


class CorpusError(MentalizeError, ValueError):
    """An annotated corpus does not have the columns or values training needs."""


class OutputError(MentalizeError, OSError):
    """An output folder cannot be written as asked."""


class Terminated(BaseException):
    """The run was asked to stop (SIGTERM). Like ``KeyboardInterrupt`` it is not an
    ``Exception``, so that no handler meant for one file's failure can swallow it."""

"""Typed errors a person can act on.

The hierarchy is small on purpose; the CLI maps each class to an exit code and
the HTTP API to a problem+json status, in one place each::

    LogLensError            exit 1   something went wrong; the message says what to do
    ├── ConfigError         exit 2   settings or a config file are invalid
    ├── InputError          exit 2   bad user input: a flag, a window, a malformed record
    │   └── MalformedInputError      a record that cannot be read (names file and line)
    ├── SourceError         exit 4   a log source (Loki, a file) could not be read
    │   └── SourceUnavailableError   the source did not answer at all
    └── BackendError        exit 5   an optional backend (LLM, vector store) failed
        ├── RetrievalUnavailableError  the embedder (extra, model, server) is unavailable
        └── StoreUnavailableError      the vector store cannot be opened or reached
"""

from __future__ import annotations


class LogLensError(Exception):
    """Base class: every error loglens raises on purpose."""

    exit_code = 1
    http_status = 500
    title = "loglens error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(LogLensError):
    exit_code = 2
    http_status = 400
    title = "invalid configuration"


class InputError(LogLensError):
    exit_code = 2
    http_status = 400
    title = "invalid input"


class MalformedInputError(InputError):
    """A record that cannot be read; carries where it was found."""

    title = "malformed input"

    def __init__(self, message: str, *, path: str, line_no: int, hint: str | None = None) -> None:
        super().__init__(f"{path}:{line_no}: {message}", hint=hint)
        self.path = path
        self.line_no = line_no


class SourceError(LogLensError):
    exit_code = 4
    http_status = 502
    title = "log source error"


class SourceUnavailableError(SourceError):
    http_status = 503
    title = "log source unavailable"


class BackendError(LogLensError):
    exit_code = 5
    http_status = 502
    title = "backend error"


class RetrievalUnavailableError(BackendError):
    """The embedder cannot run: the retrieval extra or the model files are missing, or the
    embeddings server did not answer. Callers continue without retrieval."""

    http_status = 503
    title = "retrieval unavailable"


class StoreUnavailableError(BackendError):
    """The vector store cannot be opened or used: a locked, unwritable or corrupt dataset,
    or an unreachable Qdrant server. Callers continue without retrieval."""

    http_status = 503
    title = "vector store unavailable"

"""The project's exceptions: each carries where the problem is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class KbError(Exception):
    """A problem the user can fix; the CLI prints it and exits with `exit_code`."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    exit_code: int = 2

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
                if self.column:
                    where += f":{self.column}"
            where += ": "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class LoadError(KbError):
    """A file could not be read or parsed."""


class QueryError(KbError):
    """A SPARQL query is malformed, unknown or lacks a parameter."""


class UsageError(KbError):
    """The command was called with options that do not fit."""


class ExportError(KbError):
    """An export cannot be made or written."""


class FileWriteError(KbError):
    """A file cannot be written."""


class LockTimeout(KbError):
    """Another process held a lock for longer than we may wait."""


class StoreError(KbError):
    """The store cannot be built, opened or published."""


class FormatError(KbError):
    """A file that cannot be put in canonical form without losing something."""


class TimelineError(KbError):
    """The timeline page cannot be written."""


class RemoteError(KbError):
    """The remote store could not be reached or refused a request."""


class RevisionError(KbError):
    """A git revision of the knowledge base cannot be read or built (kb diff, kb release)."""


class ReleaseError(KbError):
    """A release folder or the static site cannot be written."""


class ResultTooLarge(Exception):
    """A query answer grew past the endpoint's size limit (caught inside kb.serve, never shown as such)."""

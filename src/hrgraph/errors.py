"""The one exception tree of hrgraph.

    HrgraphError                  anything hrgraph reports to a user; exit code 2 by default
    ├── ConfigError               a setting has a bad value
    ├── SourceError               a source file cannot be read as RDF (path, line, column)
    ├── NonConformingError        validation found Violations; exit code 1 (carries the report)
    └── ReleaseError              a release cannot be written or read

The CLI maps the tree to exit codes in one place (`cli.py`); nothing else prints tracebacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hrgraph.validation import Report


class HrgraphError(Exception):
    """Base class: a failure that is the user's to fix, with a message that says how."""

    exit_code = 2


class ConfigError(HrgraphError):
    """A setting (flag or HRGRAPH_* variable) has a value hrgraph cannot use."""


class SourceError(HrgraphError):
    """A source file is unreadable or is not valid RDF; carries the location when known."""

    def __init__(
        self, path: Path, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.reason = message
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class NonConformingError(HrgraphError):
    """The sources do not conform to the shapes (at least one Violation)."""

    exit_code = 1

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(
            f"the sources do not conform: {report.count('Violation')} violation(s); "
            "run `hrgraph validate` for the full report"
        )


class ReleaseError(HrgraphError):
    """A release directory cannot be written, found or trusted."""

"""The one exception tree of hrgraph.

    HrgraphError                  anything hrgraph reports to a user; exit code 2 by default
    ├── ConfigError               a setting has a bad value
    ├── SourceError               a source file cannot be read as RDF (path, line, column)
    ├── NonConformingError        validation found Violations; exit code 1 (carries the report)
    ├── ReleaseError              a release cannot be written or read (HTTP 503)
    │   └── DamagedReleaseError   a release's files do not match its checksums; exit code 1
    ├── ServerStartError          the port is taken, or server processes failed to start; exit 1
    ├── NotFoundError             no such resource, file or release (HTTP 404)
    │   └── UnknownResourceError  no such IRI in the release; carries the closest paths
    └── QueryError                a SPARQL request cannot be answered (HTTP 4xx; see `status`)
        ├── BadRequestError       a malformed request (form, encoding, content type) 400/415
        ├── QuerySyntaxError      the query does not parse (line, column)            400
        │   └── UnknownPrefixError  a prefixed name uses an undeclared prefix        400
        ├── QueryRefusedError     SERVICE, LOAD, or a FROM that is not an IRI         400
        ├── UpdateRefusedError    SPARQL Update is refused: the endpoint is read-only 403
        ├── QueryTooLargeError    the query or body is over the size limit            413
        ├── QueryTimeoutError     the query ran past the time limit                   503
        ├── ResultTooLargeError   the result is over the result-size cap              422
        ├── NotAcceptableError    no representation fits the Accept header            406
        ├── QueryMemoryError      the query needed more memory than a query process may 422
        ├── EngineCrashError      the query crashed a fresh query process again       400
        ├── TooManyQueriesError   this client has too many queries under way          429
        └── UnavailableError      the server cannot answer now, not the query's fault  503
            ├── OverloadedError   every query process is busy and the queue is full   503
            ├── BadGatewayError   the remote engine failed or sent a broken answer    502
            └── WorkerLostError   the query process was killed from outside or the
                                  server is shutting down                             503

Each class declares its public `code` (the "error" of an HTTP error body, stable for clients) and
its HTTP `status`; tests/test_errors.py checks that this drawing is the real tree and that no two
classes share a code.
Errors with a 429 or 503 status carry `retry_after` (seconds), sent as the Retry-After header.

The HTTP layer maps the tree to status codes and bodies in one place (`web/app.py`); the CLI maps it
to exit codes in one place (`cli.py`), and nothing else prints tracebacks. `failure_message`
says any failure in one line (the CLI, the server's warnings, the downloads' skipped releases).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol


class Report(Protocol):
    """What an error needs of a validation report (`build.validation.Report` is one): the
    errors sit below every room and import none of them."""

    def count(self, severity: str) -> int: ...


class HrgraphError(Exception):
    """Base class: a failure that is the user's to fix, with a message that says how."""

    code = "internal"
    #: the HTTP status, should the error reach a client (500: an internal error)
    status = 500
    #: the command line's exit status
    exit_code = 2


class ConfigError(HrgraphError):
    """A setting (flag or HRGRAPH_* variable) has a value hrgraph cannot use."""

    code = "config"


class SourceError(HrgraphError):
    """A source file is unreadable or is not valid RDF; carries the location when known."""

    code = "source"

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

    code = "non-conforming"
    exit_code = 1

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(
            f"the sources do not conform: {report.count('Violation')} violation(s); "
            "run `hrgraph validate` for the full report"
        )


class ReleaseError(HrgraphError):
    """A release directory cannot be written, found or trusted."""

    code = "release"
    status = 503


class NotFoundError(HrgraphError):
    """No such resource, file or release."""

    code = "not-found"
    status = 404


class UnknownResourceError(NotFoundError):
    """No such IRI in the release; carries the closest paths that do exist, and their names
    (path -> language -> label) for the page a browser is shown."""

    code = "unknown-resource"

    def __init__(
        self,
        message: str,
        suggestions: Sequence[str],
        names: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)
        self.names = dict(names or {})


class QueryError(HrgraphError):
    """A SPARQL request that cannot be answered; `status` is its HTTP status code."""

    code = "query"
    status = 400
    #: the setting that controls the limit that applied, if any (named in the message too)
    setting: str | None = None
    #: seconds after which the same request may succeed (the Retry-After header), if any
    retry_after: int | None = None


class BadRequestError(QueryError):
    """A malformed request: form body, percent-encoding, content type or charset (400 or 415).
    `page`: the page a browser is shown instead of the error page (a form that was refused,
    with the message, in the page's language)."""

    code = "bad-request"

    def __init__(self, message: str, status: int = 400, page: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.page = page


class QuerySyntaxError(QueryError):
    code = "query-syntax"

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"syntax error at {where}{message}" if where else message)


class UnknownPrefixError(QuerySyntaxError):
    code = "unknown-prefix"

    def __init__(self, prefix: str, line: int, column: int) -> None:
        self.prefix = prefix
        super().__init__(
            f"the prefix '{prefix}:' is not declared; add PREFIX {prefix}: <...> to the query",
            line,
            column,
        )


class QueryRefusedError(QueryError):
    """SERVICE, LOAD, or FROM/FROM NAMED naming a graph outside the store: no outbound requests."""

    code = "query-refused"


class UpdateRefusedError(QueryError):
    code = "update-refused"
    status = 403


class QueryTooLargeError(QueryError):
    code = "query-too-large"
    status = 413


class QueryTimeoutError(QueryError):
    code = "query-timeout"
    status = 503
    retry_after = 10


class ResultTooLargeError(QueryError):
    code = "result-too-large"
    status = 422


class NotAcceptableError(QueryError):
    code = "not-acceptable"
    status = 406


class QueryMemoryError(QueryError):
    """The query process hit its kernel-enforced memory limit on this query."""

    code = "query-memory"
    status = 422


class EngineCrashError(QueryError):
    """The query killed a fresh query process too (for example a pyoxigraph stack overflow)."""

    code = "engine-crash"


class TooManyQueriesError(QueryError):
    code = "too-many-queries"
    status = 429
    retry_after = 2


class UnavailableError(QueryError):
    """The server cannot answer now for reasons that are not the request's: try again."""

    code = "unavailable"
    status = 503
    retry_after = 2


class OverloadedError(UnavailableError):
    """Every query process is busy and the wait queue is full (or the wait ran out)."""

    code = "overloaded"


class BadGatewayError(UnavailableError):
    """The remote SPARQL endpoint could not be reached, failed, or sent a broken answer."""

    code = "bad-gateway"
    status = 502


class WorkerLostError(UnavailableError):
    """The query process died for reasons that are not the query's (killed from outside, the
    out-of-memory killer, the server shutting down)."""

    code = "worker-lost"


class DamagedReleaseError(ReleaseError):
    """A release's files do not match its checksums (SHA256SUMS, store/SHA256SUMS), or a list of
    checksums is missing or malformed: the release is not served, switched to or listed."""

    code = "damaged-release"
    exit_code = 1

    def __init__(self, version: str, problems: list[str]) -> None:
        self.version = version
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"release {version} is damaged: {problems[0]}{more}")


class ServerStartError(HrgraphError):
    """The server could not start: its port is taken, or a server process died before it could
    serve (uvicorn's or that process's own error line comes first)."""

    code = "server-start"
    exit_code = 1


def failure_message(error: BaseException) -> str:
    """One line that says what failed: an HrgraphError's message, an OSError's file and reason,
    else the exception's type and text (an internal error)."""
    if isinstance(error, HrgraphError):
        text = str(error)
    elif isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename is not None else ""
        text = f"{where}{error.strerror}"
    else:
        text = f"internal error: {type(error).__name__}: {error}"
    return " ".join(text.split())

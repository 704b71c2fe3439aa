"""The `hrgraph` command line. Commands are thin: parse options, build Settings, call the library.
Errors are mapped to messages and exit codes here and only here (`main`): every failure is one
`error: ...` line on stderr, never a traceback.

Exit status of every command: 0 done, 1 violations (validate, build) or a damaged release (verify),
2 could not run (a bad setting or option, a source that does not parse, a missing release, a file
that cannot be read or written: a full disk, a read-only folder), 3 internal error (a bug: please
report it), 130 interrupted.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hrgraph import __version__
from hrgraph.config import SETTINGS, Settings, load_settings
from hrgraph.errors import (
    DamagedReleaseError,
    HrgraphError,
    NonConformingError,
    ReleaseError,
    failure_message,
)
from hrgraph.release import read_manifest

F = TypeVar("F", bound=Callable[..., Any])


def exit_codes(one: str = "", zero: str = "done") -> str:
    """The exit status line of a command's help (`one`: what exit status 1 means, if used)."""
    return (
        f"Exit status: 0 {zero}, {f'1 {one}, ' if one else ''}2 could not run (a bad setting, a "
        "file that cannot be read or written: full disk, read-only folder), 3 internal error "
        "(please report)."
    )


def settings_options(*names: str) -> Callable[[F], F]:
    """Add a --flag for each named setting (help and env variable from the SETTINGS table)."""

    def decorate(command: F) -> F:
        for setting in reversed([s for s in SETTINGS if s.name in names]):
            command = click.option(
                setting.flag,
                setting.name,
                default=None,
                metavar="VALUE",
                help=f"{setting.help} [env: {setting.env}]",
            )(command)
        return command

    return decorate


def _settings(options: dict[str, Any]) -> Settings:
    names = {s.name for s in SETTINGS}
    return load_settings({k: v for k, v in options.items() if k in names})


def _echo(message: str) -> None:
    click.echo(message, err=True)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=exit_codes("violations or a damaged release"),
)
@click.version_option(__version__, prog_name="hrgraph")
def cli() -> None:
    """hrgraph: the Learning from Each Other harm reduction knowledge graph as linked data."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="report format",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "fr"]),
    default="en",
    show_default=True,
    help="language of the messages in the text report",
)
@settings_options("sources")
def validate(paths: tuple[Path, ...], fmt: str, lang: str, **options: Any) -> None:
    """Validate the ontology and data (or the given data files) against the shapes.

    Exit status: 0 conforms, 1 violations, 2 could not run, 3 internal error (please report).
    """
    from hrgraph.build.sources import load_sources
    from hrgraph.build.validation import render_json, render_text, render_turtle, validate

    settings = _settings(options)
    report = validate(load_sources(settings, paths))
    render = {"text": lambda r: render_text(r, lang), "json": render_json, "turtle": render_turtle}[
        fmt
    ]
    click.echo(render(report), nl=False)
    sys.exit(0 if report.conforms else 1)


@cli.command(epilog=exit_codes("violations: the release is refused"))
@settings_options("sources", "releases", "base_iri", "version")
def build(**options: Any) -> None:
    """Validate the sources and write an immutable release to releases/<version>/.

    A release that exists and verifies is up to date (nothing is written); a damaged one is
    moved aside to .damaged-<version>-<time> and built again.
    """
    from hrgraph.build.writer import build as build_release

    result = build_release(_settings(options), echo=_echo)
    if result.report is not None and result.report.count("Warning"):
        _echo(f"{result.report.count('Warning')} warning(s); run `hrgraph validate` to see them")
    click.echo(result.path)


@cli.command(
    epilog=exit_codes(
        "the server could not start: its port is taken, or its server processes failed while "
        "starting"
    )
)
@settings_options(*(s.name for s in SETTINGS if s.name != "version"))  # every limit is a flag
def serve(**options: Any) -> None:
    """Serve the current release: SPARQL endpoint, resource pages, downloads.

    Builds the release first when there is none or the sources changed. When that build fails
    (violations, a full disk, a read-only folder) the last good release is served, with a
    warning; a current release that is damaged gives way to the newest one that verifies.
    """
    from hrgraph.web import supervisor

    settings = _settings(options)
    _prepare_apart(settings)
    if settings.workers == 1:
        from hrgraph.web.server import serve_in_process as run
    else:
        run = supervisor.supervise  # never imports the application: see web/supervisor.py
    supervisor.serve(settings, run, echo=_echo)


def _prepare_apart(settings: Settings) -> None:
    """Build the release when the sources changed, in a process of its own: the builder's
    libraries and memory (rdflib, pySHACL; more than the server's own) go when it ends, instead
    of staying in the server or supervisor for as long as it runs. Its errors are printed by it,
    as `main` prints them; its exit status is this command's."""
    import multiprocessing
    import signal

    child = multiprocessing.get_context("spawn").Process(
        target=_prepare, args=(settings,), name="hrgraph-build"
    )
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child answers Ctrl-C
    try:
        child.start()
        child.join()
    finally:
        signal.signal(signal.SIGINT, interrupt)
    if child.exitcode:  # killed by signal N: -N, which a shell shows as 128 + N
        sys.exit(child.exitcode if child.exitcode > 0 else 128 - child.exitcode)


def _prepare(settings: Settings) -> None:
    import signal

    from hrgraph.build.writer import prepare_release
    from hrgraph.web.supervisor import die_with_supervisor

    die_with_supervisor()  # a killed `hrgraph serve` leaves no build running
    signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored by the parent, inherited
    _mapped(lambda: prepare_release(settings, echo=_echo))


@cli.command(epilog=exit_codes("damaged (one line per bad file)", zero="intact"))
@click.argument("version", required=False)
@settings_options("releases")
def verify(version: str | None, **options: Any) -> None:
    """Check a release (default: the current one) against its checksums: SHA256SUMS for the
    downloads, store/SHA256SUMS for the query store. Prints one line per bad file."""
    from hrgraph import integrity

    release = _release(_settings(options).releases, version)
    found = integrity.verify(release)
    for problem in found.problems:
        click.echo(f"damaged: {problem}")
    if not found.intact:
        raise DamagedReleaseError(release.name, list(found.problems))
    click.echo(f"release {release.name} is intact: {found.files} files match their checksums")


@cli.command(epilog=exit_codes())
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("version", required=False)
@settings_options("releases")
def export(file: Path, version: str | None, **options: Any) -> None:
    """Write a release's (default: the current one's) named graphs, every graph the server
    queries under its own name, to FILE as N-Quads: for a remote engine's bulk loader
    (Virtuoso's ld_dir) where --remote-store cannot load it. FILE is whole or as it was."""
    from hrgraph.engine.remote import write_named_graphs

    release = _release(_settings(options).releases, version)
    if not file.parent.is_dir():
        raise OSError(errno.ENOENT, "no such folder to write the file in", str(file.parent))
    quads = write_named_graphs(release, file)
    _echo(f"release {release.name}: {quads:,} quads written to {file}")


@cli.command(epilog=exit_codes())
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="text (a line per resource: + added, - removed, ~ changed), JSON or Turtle (AS2)",
)
@settings_options("releases")
def diff(old: str, new: str, fmt: str, **options: Any) -> None:
    """What release NEW adds, removes and changes against release OLD: the resources (under
    the base IRI's id/), and for a change the properties whose values differ."""
    from hrgraph import changes

    releases = _settings(options).releases
    found = changes.diff(_release(releases, old), _release(releases, new))
    base = str(read_manifest(releases / new)["base_iri"])
    if fmt == "json":
        click.echo(json.dumps(changes.to_json(found, base), indent=2))
    elif fmt == "turtle":
        click.echo(changes.to_turtle(found, base).decode(), nl=False)
    else:
        for line in changes.to_lines(found):
            click.echo(line)
    counts = (len(found.added), len(found.removed), len(found.changed))
    _echo("{} added, {} removed, {} changed".format(*counts))


def _release(releases: Path, version: str | None) -> Path:
    if version is None:
        try:
            version = os.readlink(releases / "current")
        except OSError:
            raise ReleaseError(f"no current release in {releases}: run `hrgraph build`") from None
    if "/" in version or version.startswith(".") or not (releases / version).is_dir():
        raise ReleaseError(f"no release {version!r} in {releases}")
    return releases / version


@cli.command(epilog=exit_codes())
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="how many of the newest releases to keep",
)
@settings_options("releases")
def prune(keep: int, **options: Any) -> None:
    """Remove old releases: keeps the KEEP newest (by issue date, then build time), the current
    one, and any a running server still serves. Also removes what dead builds (.build-*) and
    damaged releases set aside (.damaged-*) left. Prints one line per folder removed or kept
    because it is in use."""
    from hrgraph.build.prune import prune as prune_releases

    prune_releases(_settings(options).releases, keep, echo=click.echo)


def main(argv: list[str] | None = None) -> None:
    _mapped(lambda: cli.main(args=argv, prog_name="hrgraph", standalone_mode=False))


def _mapped(call: Callable[[], Any]) -> None:
    """Run `call`, its errors mapped to one line on stderr and an exit status."""
    try:
        call()
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(2)
    except click.exceptions.Abort:
        _echo("aborted")
        sys.exit(2)
    except NonConformingError as error:
        from hrgraph.build.validation import Report, render_text

        assert isinstance(error.report, Report)  # the builder's, the only one raising this
        _echo(render_text(error.report).rstrip())
        _echo(f"error: {error}")
        sys.exit(error.exit_code)
    except HrgraphError as error:
        _echo(f"error: {failure_message(error)}")
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        _echo("error: interrupted")
        sys.exit(130)
    except OSError as error:
        _echo(f"error: {failure_message(error)}")
        sys.exit(2)
    except Exception as error:
        _echo(f"error: {failure_message(error)} (please report)")
        sys.exit(3)

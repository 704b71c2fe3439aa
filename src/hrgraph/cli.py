"""The `hrgraph` command line. Commands are thin: parse options, build Settings, call the library.
Errors are mapped to messages and exit codes here and only here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hrgraph import __version__
from hrgraph.config import SETTINGS, Settings, load_settings
from hrgraph.errors import HrgraphError, NonConformingError

F = TypeVar("F", bound=Callable[..., Any])


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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

    Exit status: 0 conforms, 1 violations, 2 could not run.
    """
    from hrgraph.sources import load_sources
    from hrgraph.validation import render_json, render_text, render_turtle, validate

    settings = _settings(options)
    report = validate(load_sources(settings, paths))
    render = {"text": lambda r: render_text(r, lang), "json": render_json, "turtle": render_turtle}[
        fmt
    ]
    click.echo(render(report), nl=False)
    sys.exit(0 if report.conforms else 1)


@cli.command()
@settings_options("sources", "releases", "base_iri", "version")
def build(**options: Any) -> None:
    """Validate the sources and write an immutable release to releases/<version>/."""
    from hrgraph.release import build as build_release

    result = build_release(_settings(options), echo=_echo)
    if result.report is not None and result.report.count("Warning"):
        _echo(f"{result.report.count('Warning')} warning(s); run `hrgraph validate` to see them")
    click.echo(result.path)


@cli.command()
@settings_options(
    "sources",
    "releases",
    "base_iri",
    "host",
    "port",
    "workers",
    "query_workers",
    "query_timeout",
    "max_result_bytes",
    "max_query_bytes",
    "max_nesting",
    "remote_endpoint",
    "remote_store",
)
def serve(**options: Any) -> None:
    """Serve the current release: SPARQL endpoint, resource pages, downloads.

    Builds the release first when there is none or the sources changed.
    """
    from hrgraph.server import serve as run_server

    run_server(_settings(options), echo=_echo)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="hrgraph", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(2)
    except click.exceptions.Abort:
        _echo("aborted")
        sys.exit(2)
    except NonConformingError as error:
        from hrgraph.validation import render_text

        _echo(render_text(error.report).rstrip())
        _echo(f"error: {error}")
        sys.exit(error.exit_code)
    except HrgraphError as error:
        _echo(f"error: {error}")
        sys.exit(error.exit_code)

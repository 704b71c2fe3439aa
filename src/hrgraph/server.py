"""Running the server: build the release if needed, then uvicorn over `create_app(settings)`.

With several worker processes uvicorn imports the application itself in each process, so the
settings travel to them as HRGRAPH_* variables (the same ones a user sets) and each process builds
its app with `app_from_environment`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from hrgraph.app import create_app
from hrgraph.config import SETTINGS, Settings, load_settings
from hrgraph.errors import HrgraphError
from hrgraph.release import build, current_release

Echo = Callable[[str], None]


def prepare_release(settings: Settings, echo: Echo) -> None:
    """Build the release when the sources changed (a no-op when up to date).

    If the sources cannot be released (a Violation, a syntax error) but a release exists, the
    server keeps serving that last good release and says so; with no release at all it stops.
    """
    try:
        build(settings, echo=echo)
    except HrgraphError as error:
        if current_release(settings.releases) is None:
            raise
        echo(f"warning: not rebuilt ({error}); serving the current release")


def environment(settings: Settings) -> dict[str, str]:
    return {s.env: str(getattr(settings, s.name)) for s in SETTINGS}


def app_from_environment() -> FastAPI:
    return create_app(load_settings(environ=os.environ))


def serve(settings: Settings, echo: Echo) -> None:
    prepare_release(settings, echo)
    echo(f"serving on http://{settings.host}:{settings.port}/ (SPARQL endpoint: /sparql)")
    if settings.workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
        return
    os.environ.update(environment(settings))
    uvicorn.run(
        "hrgraph.server:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
    )

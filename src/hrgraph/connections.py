"""Limits of the HTTP connections, enforced before the application sees a request.

(Stub: filled in by the connection-limits work; `uvicorn_options` is what server.py passes to
uvicorn.)
"""

from __future__ import annotations

from typing import Any

from hrgraph.config import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run / uvicorn.Config that enforce the connection limits."""
    return {}

"""Reference ASGI apps for bench/http_bench.py: what the Python layers below hrgraph cost alone.

    uvicorn --app-dir bench http_ceiling:constant          # raw ASGI, a constant answer
    uvicorn --app-dir bench --factory http_ceiling:fastapi_async      # or fastapi_constant,
                                                                      # fastapi_middleware
    HTTP_CEILING_STORE=releases/current/store \\
        uvicorn --app-dir bench --factory http_ceiling:oxigraph_route

`constant` imports nothing, so it also runs in the rdflib-endpoint venv (whose uvicorn has
httptools and uvloop). `fastapi_async` is an `async def` FastAPI route returning a constant;
`fastapi_constant` the same as a plain `def` route (run in the thread pool, as hrgraph's /sparql
route is); `fastapi_middleware` adds the GZip and CORS middleware hrgraph's app has.
`oxigraph_route` runs the query of its `query` parameter on the release's pyoxigraph store, in
process, with the default graph as the union of the named graphs (as hrgraph does), and answers
SPARQL JSON.
"""

from __future__ import annotations

from typing import Any

BODY = (
    b'{"head":{"vars":["label"]},"results":{"bindings":[{"label":{"type":"literal",'
    b'"value":"Whitehorse","xml:lang":"en"}}]}}'
)
HEADERS = [(b"content-type", b"application/sparql-results+json")]


async def constant(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def fastapi_async() -> Any:
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.get("/sparql")
    async def sparql() -> Response:
        return Response(BODY, media_type="application/sparql-results+json")

    return app


def fastapi_constant() -> Any:
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.get("/sparql")
    def sparql() -> Response:
        return Response(BODY, media_type="application/sparql-results+json")

    return app


def fastapi_middleware() -> Any:
    """`fastapi_constant` behind the middleware hrgraph's app adds (src/hrgraph/web/app.py)."""
    from fastapi.middleware.cors import CORSMiddleware
    from starlette.middleware.gzip import GZipMiddleware

    app = fastapi_constant()
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Link", "Content-Location", "X-Hrgraph-Release"],
    )
    return app


def oxigraph_route() -> Any:
    import io
    import os

    import pyoxigraph as ox
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    store = ox.Store.read_only(os.environ["HTTP_CEILING_STORE"])
    json = ox.QueryResultsFormat.JSON

    async def sparql(request: Request) -> Response:
        results = store.query(request.query_params["query"], use_default_graph_as_union=True)
        assert isinstance(results, ox.QuerySolutions | ox.QueryBoolean)
        output = io.BytesIO()
        results.serialize(output, format=json)
        return Response(output.getvalue(), media_type="application/sparql-results+json")

    return Starlette(routes=[Route("/sparql", sparql)])

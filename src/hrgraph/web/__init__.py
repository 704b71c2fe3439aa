"""The HTTP layer: every URL the server answers, and the server process itself.

It owns the application and its middleware (`app`: routes, CORS, gzip, the per-client limit, the
one mapping of the error tree to HTTP), what handlers share (`http`: bodies, ETags, answers
streamed), content negotiation (`negotiation`), the SPARQL protocol (`protocol`), the service and
release descriptions (`service`), linked data (`linked_data`), downloads and the sitemap
(`downloads`), the change feed (`feed`), canned-query URLs (`canned`), the routes of the pages, the
replay of identical GETs (`replay`), the limits of HTTP connections (`connections`) and uvicorn's
process lifecycle (`server`). It may import the base, `engine` and `pages`; never the builder.
"""

"""The query engine: answering SPARQL over a release, safely, without the HTTP layer.

It owns the interface every engine implements (`interface`: a query in, an answer or a typed error
out), the one safety gate in front of every engine (`safety`, on the tokens of `lexer`, with the
predeclared `prefixes`), running a query through it with the release's answer cache (`queries`),
the two engines (`embedded`: worker processes over the read-only store; `remote`: a SPARQL 1.1
server), the release being served and the switch to a new one (`publisher`, with its byte-bounded
caches in `lru`) and the canned queries of queries/ (`catalogue`). It may import only the base
(`config`, `errors`, `release`, `integrity`, `kinds`, `vocab`, `changes`, `feed`): no builder (no
pySHACL, no rdflib), no web, no pages, so that a query process loads only what it runs.
"""

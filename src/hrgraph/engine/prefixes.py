"""The prefixes every query may use without declaring them: the common vocabularies, `hr:` for
the ontology and one per kind of resource (`program:` = <{base}id/program/>), for a release
published under a given base IRI."""

from __future__ import annotations

from hrgraph.config import CANONICAL_BASE
from hrgraph.kinds import SEGMENTS


def prefixes_for(base: str) -> dict[str, str]:
    """The predeclared prefixes for a release published under `base`."""
    common = {
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "dct": "http://purl.org/dc/terms/",
        "schema": "https://schema.org/",
        "org": "http://www.w3.org/ns/org#",
        "prov": "http://www.w3.org/ns/prov#",
        "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
        "sh": "http://www.w3.org/ns/shacl#",
        "void": "http://rdfs.org/ns/void#",
        "dcat": "http://www.w3.org/ns/dcat#",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "hr": f"{base}ontology#",
    }
    return common | {kind: f"{base}id/{kind}/" for kind in SEGMENTS}


PREFIXES: dict[str, str] = prefixes_for(CANONICAL_BASE)

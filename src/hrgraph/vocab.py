"""The vocabularies hrgraph speaks, named once: namespace IRIs, the terms used by name in code,
and the authority IRIs the release description and the pages share. Plain strings, no imports:
every room may use them."""

from __future__ import annotations

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDFS_LABEL = RDFS + "label"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
SPDX = "http://spdx.org/rdf/terms#"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
GSP = "http://www.opengis.net/ont/geosparql#"
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
SCHEMA = "https://schema.org/"
#: The ontology's namespace under the canonical base (releases rebase it with their data).
HR = "https://w3id.org/hrgraph/ontology#"
#: Under a release's base IRI: the named graphs the builder derives (build/derived.py).
STATEMENTS_PATH = "graph/statements"
INFERRED_PATH = "graph/inferred"

EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
GEONAMES = "https://sws.geonames.org/"
WIKIDATA = "http://www.wikidata.org/entity/"
#: The languages of the texts, as EU language authority IRIs (the ones DCAT-AP checks).
LANGUAGES = {"en": EU + "language/ENG", "fr": EU + "language/FRA"}

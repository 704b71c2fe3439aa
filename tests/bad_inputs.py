"""Bad source files shared by the validation, CLI and release tests."""

from __future__ import annotations

PREFIXES = """@prefix hr: <https://w3id.org/hrgraph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix city: <https://w3id.org/hrgraph/id/city/> .
@prefix page: <https://w3id.org/hrgraph/id/page/> .
@prefix program: <https://w3id.org/hrgraph/id/program/> .
@prefix figure: <https://w3id.org/hrgraph/id/figure/> .
"""

#: A program with everything but a source (line 11 is where it is defined).
PROGRAM_WITHOUT_SOURCE = (
    PREFIXES
    + """
program:test-unsourced a hr:Program ;
    rdfs:label "Unsourced program"@en , "Programme sans source"@fr ;
    hr:city city:winnipeg .
"""
)

#: A figure whose value is not a number.
WRONG_DATATYPE = (
    PREFIXES
    + """
figure:test-not-a-number a hr:Figure ;
    rdfs:label "Not a number"@en , "Pas un nombre"@fr ;
    hr:value "many" ;
    hr:unit "clients"@en , "clients"@fr ;
    hr:about city:winnipeg ;
    dct:source page:chrn-124 .
"""
)

#: A subject outside the base IRI.
OUTSIDE_BASE = (
    PREFIXES
    + """
<http://example.org/elsewhere> a hr:Program ;
    rdfs:label "Elsewhere"@en , "Ailleurs"@fr ;
    hr:city city:winnipeg ;
    dct:source page:chrn-124 .
"""
)

MALFORMED = (
    PREFIXES
    + """
program:broken a hr:Program ;
    rdfs:label "Broken"@en
    dct:source page:chrn-124 .
"""
)

UNDECLARED_PREFIX = (
    PREFIXES
    + """
nowhere:thing a hr:Program .
"""
)

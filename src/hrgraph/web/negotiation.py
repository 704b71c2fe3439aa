"""Content negotiation: the Accept header (q-values, specificity, wildcards), the `format`
parameter and file extensions, each choosing among the media types a response can have.

The rules follow RFC 9110 §12.5.1: each available type gets the q-value of the most specific
media range that matches it (`type/subtype` over `type/*` over `*/*`); q=0 means "not
acceptable"; the highest q wins and ties go to the server's order (its first type is its
preference). A missing or empty Accept header accepts anything.

`format=` (a name such as `json` or `turtle`, or a media type) wins when it names a type the
response can have. When it names nothing offered, an Accept header that names an offered type
wins instead: clients such as SPARQLWrapper send both, a format name the server may not know
(`n3`, `json-ld`) beside a correct Accept. 406 only when neither fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hrgraph.errors import NotAcceptableError

#: `format=` names and the media types each may mean, in order (json means SPARQL results for a
#: SELECT and JSON-LD for a CONSTRUCT: the first one the response can have wins). Beside our own
#: names, those clients send: SPARQLWrapper's (json-ld, n3, rdf+xml, xml, turtle, csv, tsv), the
#: results formats' file extensions (srj, srx), n-triples spelled out. N3 gets Turtle, its subset.
FORMATS: dict[str, tuple[str, ...]] = {
    "json": ("application/sparql-results+json", "application/ld+json", "application/json"),
    "srj": ("application/sparql-results+json",),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "srx": ("application/sparql-results+xml",),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
    "ttl": ("text/turtle",),
    "turtle": ("text/turtle",),
    "n3": ("text/turtle",),
    "nt": ("application/n-triples",),
    "ntriples": ("application/n-triples",),
    "n-triples": ("application/n-triples",),
    "jsonld": ("application/ld+json",),
    "json-ld": ("application/ld+json",),
    "rdfxml": ("application/rdf+xml",),
    "rdf+xml": ("application/rdf+xml",),
    "rdf": ("application/rdf+xml",),
    "trig": ("application/trig",),
    "nq": ("application/n-quads",),
    "nquads": ("application/n-quads",),
    "n-quads": ("application/n-quads",),
    "html": ("text/html",),
}

#: Resource-page extensions (/id/city/whitehorse.ttl) and the media type each asks for.
EXTENSIONS: dict[str, str] = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
    "trig": "application/trig",
    "html": "text/html",
}

#: Generic types that clients send for a specific one: `Accept: application/json` for SPARQL JSON
#: results, `application/xml` for XML results or RDF/XML. An alias matches with the specificity
#: of an exact match.
ALIASES: dict[str, tuple[str, ...]] = {
    "application/sparql-results+json": ("application/json",),
    "application/sparql-results+xml": ("application/xml", "text/xml"),
    "application/ld+json": ("application/json",),
    "application/rdf+xml": ("application/xml", "text/xml"),
    "text/turtle": ("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3"),
}


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """How specifically this range matches `media_type`: 3 exact, 2 type/*, 1 */*, 0 no."""
        kind = media_type.partition("/")[0]
        exact = f"{self.type}/{self.subtype}"
        if exact == media_type or exact in ALIASES.get(media_type, ()):
            return 3
        if self.subtype == "*" and self.type == kind:
            return 2
        return 1 if (self.type, self.subtype) == ("*", "*") else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped, not fatal."""
    ranges = []
    for entry in (header or "").split(","):
        parsed = _parse_range(entry)
        if parsed is not None:
            ranges.append(parsed)
    return ranges


def _parse_range(entry: str) -> MediaRange | None:
    media, *params = (part.strip() for part in entry.split(";"))
    kind, slash, sub = media.lower().partition("/")
    if not slash or not kind or not sub or (kind == "*" and sub != "*"):
        return None
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            q = _quality(value.strip())
    return MediaRange(kind, sub, q)


def _quality(value: str) -> float:
    try:
        q = float(value)
    except ValueError:
        return 1.0
    return min(max(q, 0.0), 1.0) if q == q else 1.0  # q != q: NaN


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """The q-value the client gives `media_type` (1 when the client sent no Accept header)."""
    if not ranges:
        return 1.0
    best, q = 0, 0.0
    for r in ranges:
        level = r.specificity(media_type)
        if level > best or (level == best and level and r.q > q):
            best, q = level, r.q
    return q


def choose(accept: str | None, available: Sequence[str], format: str | None = None) -> str:
    """The media type to answer with; raises NotAcceptableError when none fits."""
    ranges = parse_accept(accept)
    if format:
        chosen = _by_format(format, available) or _named(ranges, available)
        if chosen is None:
            names = sorted(name for name, types in FORMATS.items() if set(types) & set(available))
            raise NotAcceptableError(
                f"format={format!r} is not available here; use one of: {', '.join(names)}"
            )
        return chosen
    scored = [(quality(ranges, media), -index, media) for index, media in enumerate(available)]
    q, _, media = max(scored, default=(0.0, 0, ""))
    if q <= 0:
        raise NotAcceptableError(
            f"none of the formats this resource has fits the Accept header {accept!r}; "
            f"available: {', '.join(available)} (or use ?format=, e.g. format=json)"
        )
    return media


def _by_format(format: str, available: Sequence[str]) -> str | None:
    """The first offered type `format` names. SPARQLWrapper sends a comma-separated list of
    media types as one value (`application/ld+json,application/x-json+ld`): each is tried."""
    for item in format.split(","):
        name = item.partition(";")[0].strip().lower()
        for media in FORMATS.get(name, (name,)):
            found = next((a for a in available if a == media or media in ALIASES.get(a, ())), None)
            if found is not None:
                return found
    return None


def _named(ranges: Sequence[MediaRange], available: Sequence[str]) -> str | None:
    """The offered type the Accept header prefers among those it names (exactly, by an alias or
    as type/*); None when it names none. `*/*` alone, or no header, names nothing: an explicit
    format= that fits nothing is then an error (406), not silently replaced by a default."""
    best: tuple[float, int, str] | None = None
    for index, media in enumerate(available):
        named = [r for r in ranges if r.specificity(media) >= 2]
        q = quality(named, media) if named else 0.0
        if q > 0 and (best is None or (q, -index) > best[:2]):
            best = (q, -index, media)
    return best[2] if best else None


def accepts_html(accept: str | None) -> bool:
    """Whether a client (a browser) prefers HTML to anything else it accepts."""
    ranges = parse_accept(accept)
    html = max((r.q for r in ranges if (r.type, r.subtype) == ("text", "html")), default=0.0)
    return html > 0 and all(r.q <= html for r in ranges if (r.type, r.subtype) != ("text", "html"))

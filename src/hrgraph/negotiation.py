"""Content negotiation: the Accept header (q-values, specificity, wildcards), the `format`
parameter and file extensions, each choosing among the media types a response can have.

The rules follow RFC 9110 §12.5.1: each available type gets the q-value of the most specific
media range that matches it (`type/subtype` over `type/*` over `*/*`); q=0 means "not
acceptable"; the highest q wins and ties go to the server's order (its first type is its
preference). A missing or empty Accept header accepts anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hrgraph.errors import NotAcceptableError

#: `format=` values and the media types each may mean, in order (json means SPARQL results for a
#: SELECT and JSON-LD for a CONSTRUCT: the first one the response can have wins).
FORMATS: dict[str, tuple[str, ...]] = {
    "json": ("application/sparql-results+json", "application/ld+json", "application/json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
    "ttl": ("text/turtle",),
    "turtle": ("text/turtle",),
    "nt": ("application/n-triples",),
    "ntriples": ("application/n-triples",),
    "jsonld": ("application/ld+json",),
    "rdfxml": ("application/rdf+xml",),
    "rdf": ("application/rdf+xml",),
    "trig": ("application/trig",),
    "html": ("text/html",),
}

#: Resource-page extensions (/id/city/whitehorse.ttl) and the media type each asks for.
EXTENSIONS: dict[str, str] = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
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
    "text/turtle": ("application/x-turtle",),
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
    if format:
        return _by_format(format, available)
    ranges = parse_accept(accept)
    scored = [(quality(ranges, media), -index, media) for index, media in enumerate(available)]
    q, _, media = max(scored, default=(0.0, 0, ""))
    if q <= 0:
        raise NotAcceptableError(
            f"none of the formats this resource has fits the Accept header {accept!r}; "
            f"available: {', '.join(available)} (or use ?format=, e.g. format=json)"
        )
    return media


def _by_format(format: str, available: Sequence[str]) -> str:
    wanted = FORMATS.get(format.strip().lower(), (format.strip().lower(),))
    for media in wanted:
        if media in available:
            return media
    names = sorted(name for name, types in FORMATS.items() if set(types) & set(available))
    raise NotAcceptableError(
        f"format={format!r} is not available here; use one of: {', '.join(names)}"
    )


def accepts_html(accept: str | None) -> bool:
    """Whether a client (a browser) prefers HTML to anything else it accepts."""
    ranges = parse_accept(accept)
    html = max((r.q for r in ranges if (r.type, r.subtype) == ("text", "html")), default=0.0)
    return html > 0 and all(r.q <= html for r in ranges if (r.type, r.subtype) != ("text", "html"))

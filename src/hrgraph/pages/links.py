"""Links as pages show them: a text with an address, the address of one of the release's IRIs on
this server (`local_path`, the one helper for it), links that leave the server, and the RDF
alternates of a page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

#: The RDF alternates a page links to (extension, media type, name): each is the same path with
#: the extension (linked_data serves it).
FORMATS: tuple[tuple[str, str, str], ...] = (
    ("ttl", "text/turtle", "Turtle"),
    ("jsonld", "application/ld+json", "JSON-LD"),
    ("nt", "application/n-triples", "N-Triples"),
    ("rdf", "application/rdf+xml", "RDF/XML"),
)


@dataclass(frozen=True)
class Link:
    """A text, a link when it has an href; `lang` when its language is not the page's."""

    text: str
    href: str = ""
    lang: str = ""
    external: bool = False


def local_path(iri: str, base: str) -> str:
    """The path of one of the release's IRIs on this server ("/" and what follows the base), or
    "" for an IRI of elsewhere: links stay on this server, which may not be the base's host."""
    return "/" + iri[len(base) :] if iri.startswith(base) else ""


def external(iri: str, text: str = "") -> Link:
    """A link that leaves the server, shown as its address without the scheme."""
    parts = urlsplit(iri)
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    shown = text or (parts.netloc + parts.path.rstrip("/") + fragment)
    return Link(shown or iri, iri, external=True)

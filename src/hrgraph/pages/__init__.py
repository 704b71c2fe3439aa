"""Pages for people: the release's knowledge as HTML in English and French.

It owns the templates and their one environment (`templating`), the interface strings and the
language choice (`i18n`), the map of Canada (`canada`), and one module per kind of page (home,
resource, search, documents, the SPARQL workbench). Pages turn what the engine answers into HTML
strings and know nothing of HTTP: they may import the base and `engine`, never `web` (which routes
requests to them).
"""

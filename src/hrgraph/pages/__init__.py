"""Pages for people: the release's knowledge as HTML in English and French.

It owns the templates and their one environment and `render` (`templating`), the interface strings
and the language choice (`i18n`), links and the one local-link helper (`links`), the release-wide
index (`index`), what pages are made of (`parts`), the map of Canada (`canada`), and one module per
kind of page (`home`, `resource`, `search`, `document`, `dataset`, the SPARQL `workbench`). Pages
turn what the engine answers into HTML strings and know nothing of HTTP: they may import the base
and `engine`, never `web` (which routes requests to them).
"""

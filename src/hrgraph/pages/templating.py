"""Rendering HTML: the one Jinja environment (the templates of pages/templates/) and the one
`render`, which gives every page the language chrome base.html needs (the language, its strings,
the link to the same page in the other language, the hreflang alternates)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

from hrgraph.pages import i18n


@cache
def environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("hrgraph.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    # base.html reads these when a page does not pass its own language chrome (errors, downloads).
    environment.globals.update(ui=i18n.strings, other_language=i18n.other)
    return environment


#: A page's query-string parameters: a mapping, or pairs where a name repeats (/compare's filters).
Params = Mapping[str, str] | Sequence[tuple[str, str]]


def chrome(path: str | None, lang: str, params: Params | None = None) -> dict[str, object]:
    """What base.html needs: the language, its strings, and, for a page with an address (`path`
    and its `params`), the link to it in the other language and the hreflang alternates
    (x-default: the negotiated URL). Without one base.html links to `?lang=` of the other."""
    found: dict[str, object] = {"lang": lang, "other": i18n.other(lang), "s": i18n.strings(lang)}
    if path is None:
        return found
    pairs = params.items() if isinstance(params, Mapping) else params or ()
    extra = [(name, value) for name, value in pairs if name != "lang"]  # each URL sets its own

    def url(code: str) -> str:
        return path + "?" + urlencode([*extra, ("lang", code)])

    found["switch"] = url(i18n.other(lang))
    found["hreflang"] = [
        *((code, url(code)) for code in i18n.LANGUAGES),
        ("x-default", path + ("?" + urlencode(extra) if extra else "")),
    ]
    return found


def render(template: str, path: str | None, lang: str, params: Params | None = None,
           /, **context: object) -> str:  # fmt: skip
    """The page `template` at `path` (with `params`) in `lang`; see `chrome`. The arguments are
    positional: `context` may hold any name (document pages pass their own `path`)."""
    return environment().get_template(template).render(**chrome(path, lang, params), **context)

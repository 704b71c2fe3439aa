"""The release notes page (/downloads/<version>/changes): what a release added, removed and
changed against the one before it (`engine.changes`), in English or French."""

from __future__ import annotations

from hrgraph.changes import Changes
from hrgraph.pages import i18n, templating
from hrgraph.pages.links import Link


def render(changes: Changes, lang: str) -> str:
    strings = i18n.strings(lang)
    counts = {"added": len(changes.added), "removed": len(changes.removed)}
    if changes.old is None:
        summary = strings["changes_first"].format(**counts)
    else:
        summary = strings["changes_since"].format(
            old=changes.old, changed=len(changes.changed), **counts
        )
    return templating.render(
        "changes.html",
        f"/downloads/{changes.new}/changes",
        lang,
        None,
        title=strings["changes_title"].format(new=changes.new),
        summary=summary,
        new=changes.new,
        added=[Link(path, "/" + path) for path in changes.added],
        removed=changes.removed,
        changed=[(Link(c.path, "/" + c.path), c.properties) for c in changes.changed],
    )

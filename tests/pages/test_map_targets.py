"""The home map's tap targets (canada.hit_boxes): each city's target holds its dot and its
label, no two targets overlap, and a target is smaller than 24 CSS px on a phone only where a
neighbour's target stops it (the list of cities under the map is the full-size equivalent)."""

from __future__ import annotations

import itertools

import httpx
from bs4 import BeautifulSoup
from test_pages import BROWSER

from hrgraph.pages import canada

Box = tuple[float, float, float, float]


def served_targets(client: httpx.Client) -> list[tuple[str, list[Box], Box]]:
    """Each city link of the served map: its href, its target rects, and its dot's box."""
    page = BeautifulSoup(client.get("/", headers={"Accept": BROWSER}).text, "html.parser")
    found = []
    for link in page.select("figure.map svg a.city"):
        dot = link.find("circle")
        assert dot is not None, link
        rects = []
        for rect in link.find_all("rect", class_="target"):
            x, y, w, h = (float(rect[k]) for k in ("x", "y", "width", "height"))
            rects.append((x, y, x + w, y + h))
        cx, cy, r = (float(dot[k]) for k in ("cx", "cy", "r"))
        found.append((str(link["href"]), rects, (cx - r, cy - r, cx + r, cy + r)))
    return found


def inside(inner: Box, outer: Box) -> bool:
    slack = 0.2  # rounding to one decimal
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def overlap(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.1 and min(a[3], b[3]) - max(a[1], b[1]) > 0.1


def full_size(box: Box) -> bool:
    return min(box[2] - box[0], box[3] - box[1]) >= canada.TARGET - 0.2


def test_each_city_has_its_own_full_size_target(client: httpx.Client) -> None:
    targets = served_targets(client)
    assert len(targets) == 9, "the map shows the nine cities"
    for href, rects, dot in targets:
        assert any(inside(dot, rect) for rect in rects), f"{href}: its dot is not in its target"
        assert rects and all(full_size(rect) for rect in rects), f"{href}: {rects}"
    for (one, a, _), (two, b, _) in itertools.combinations(targets, 2):
        clash = [(x, y) for x in a for y in b if overlap(x, y)]
        assert not clash, f"the targets of {one} and {two} overlap: {clash}"


def test_targets_hold_dots_and_labels_and_stay_apart() -> None:
    box = canada.frame()
    cities = [  # a crowd like the east of the map, closer (dots apart, labels close)
        ("/a", "Alpha", 46.8, -71.2),
        ("/b", "Bravo City", 46.0, -69.0),
        ("/c", "Charlie", 45.5, -71.5),
        ("/d", "Delta", 44.6, -63.6),
    ]
    placed = canada.markers(box, cities)
    targets = canada.hit_boxes(placed, box.height)
    for marker, rects in zip(placed, targets, strict=True):
        dot = (marker.x - canada.DOT, marker.y - canada.DOT, marker.x + canada.DOT,
               marker.y + canada.DOT)  # fmt: skip
        assert any(inside(dot, r) for r in rects), marker
        assert any(inside(canada.label_box(marker), r) for r in rects), marker
    for a, b in itertools.combinations(targets, 2):
        assert not [(x, y) for x in a for y in b if overlap(x, y)]

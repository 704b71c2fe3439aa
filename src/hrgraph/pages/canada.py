"""A map of Canada drawn by hrgraph itself: a hand-simplified outline (longitude, latitude) in a
Lambert conformal conic projection (Statistics Canada's parameters), so the home page needs no
tiles, fonts or scripts from anywhere. Points are projected into an SVG viewBox together with the
city coordinates from the release, so both line up whatever the data says.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

Point = tuple[float, float]

#: The mainland, clockwise from the Yukon-Alaska border on the Arctic coast (about 110 km
#: accuracy: enough to place nine cities, not to navigate).
MAINLAND: tuple[Point, ...] = (
    (-141.0, 69.6), (-141.0, 60.3), (-139.0, 60.0), (-137.6, 59.2), (-135.0, 59.6),
    (-133.5, 58.5), (-131.5, 56.5), (-130.0, 55.9), (-130.4, 54.7), (-128.8, 53.0),
    (-127.5, 51.5), (-125.0, 50.0), (-123.2, 49.1), (-123.0, 49.0), (-110.0, 49.0),
    (-95.15, 49.0), (-95.15, 49.4), (-94.8, 49.3), (-89.6, 48.0), (-88.4, 48.3),
    (-86.5, 48.7), (-84.8, 47.0), (-84.4, 46.5), (-83.5, 46.1), (-82.4, 45.3),
    (-82.4, 43.0), (-83.1, 42.3), (-82.5, 42.0), (-80.0, 42.6), (-79.0, 42.9),
    (-79.2, 43.4), (-76.4, 44.1), (-75.0, 45.0), (-71.5, 45.0), (-70.7, 45.4),
    (-70.0, 46.7), (-69.2, 47.45), (-68.3, 47.35), (-67.8, 47.07), (-67.8, 45.7),
    (-67.2, 45.2), (-66.0, 45.2), (-64.8, 45.6), (-65.9, 44.6), (-66.2, 43.9),
    (-65.3, 43.5), (-63.6, 44.4), (-61.0, 45.2), (-59.8, 45.9), (-60.5, 47.0),
    (-61.5, 46.3), (-62.0, 45.7), (-63.8, 45.8), (-64.5, 46.3), (-64.8, 47.0),
    (-65.2, 47.8), (-66.3, 48.0), (-64.2, 48.8), (-66.4, 49.2), (-68.8, 48.6),
    (-68.2, 49.3), (-66.4, 50.2), (-63.5, 50.2), (-60.0, 50.2), (-57.1, 51.4),
    (-55.7, 52.1), (-56.0, 53.6), (-57.3, 54.6), (-59.5, 55.2), (-61.5, 56.3),
    (-62.5, 57.5), (-63.8, 58.6), (-64.6, 60.3), (-65.5, 59.6), (-67.5, 58.4),
    (-69.5, 58.8), (-69.9, 59.8), (-71.5, 61.1), (-73.0, 62.2), (-77.9, 62.4),
    (-77.5, 60.0), (-77.8, 58.3), (-76.7, 56.5), (-77.5, 55.3), (-79.0, 54.0),
    (-78.9, 52.0), (-79.8, 51.2), (-81.5, 52.5), (-82.2, 52.9), (-82.3, 55.1),
    (-85.0, 55.3), (-88.0, 56.5), (-92.4, 57.0), (-94.2, 58.8), (-94.7, 60.0),
    (-93.8, 61.5), (-92.5, 62.2), (-90.7, 63.2), (-88.5, 64.2), (-86.2, 66.5),
    (-84.5, 67.5), (-82.5, 68.5), (-81.3, 69.3), (-85.5, 69.8), (-87.0, 68.0),
    (-89.0, 68.8), (-94.5, 71.9), (-96.0, 68.0), (-98.0, 67.8), (-102.0, 67.8),
    (-106.0, 68.3), (-108.5, 68.6), (-112.0, 67.8), (-115.5, 67.4), (-117.0, 68.9),
    (-121.0, 69.6), (-124.5, 69.6), (-128.0, 70.2), (-131.0, 69.5), (-134.5, 69.4),
    (-137.5, 69.0),
)  # fmt: skip

ISLANDS: tuple[tuple[Point, ...], ...] = (
    # Vancouver Island
    ((-128.4, 50.8), (-127.0, 50.0), (-125.5, 48.9), (-124.0, 48.4), (-123.3, 48.3),
     (-123.3, 48.8), (-125.0, 50.0), (-127.2, 50.9)),
    # Newfoundland
    ((-59.4, 47.6), (-57.0, 47.6), (-55.4, 46.9), (-54.0, 47.0), (-53.6, 46.6),
     (-52.6, 47.3), (-52.6, 47.8), (-53.2, 48.5), (-53.6, 49.3), (-55.6, 49.7),
     (-55.8, 51.6), (-57.4, 50.6), (-58.6, 49.0), (-59.3, 48.4)),
    # Prince Edward Island
    ((-64.4, 46.7), (-62.0, 46.5), (-62.0, 46.0), (-63.8, 46.1)),
    # Baffin Island
    ((-65.5, 62.0), (-68.5, 62.8), (-72.0, 64.3), (-77.8, 64.6), (-73.5, 67.5),
     (-75.5, 68.4), (-79.0, 69.8), (-84.5, 70.0), (-89.0, 73.5), (-85.0, 73.7),
     (-80.0, 73.7), (-77.0, 72.6), (-71.0, 70.8), (-67.0, 69.5), (-64.5, 67.5),
     (-61.9, 66.6), (-63.0, 65.0), (-64.5, 64.0)),
    # Southampton Island
    ((-80.5, 63.9), (-84.0, 63.6), (-86.5, 64.2), (-86.0, 65.6), (-83.5, 66.0),
     (-81.5, 64.5)),
    # Victoria Island
    ((-119.0, 71.5), (-117.5, 70.6), (-113.0, 70.2), (-107.5, 68.9), (-101.8, 69.0),
     (-102.5, 70.5), (-104.5, 71.0), (-106.0, 73.3), (-114.0, 73.3), (-117.5, 72.9)),
    # Banks Island
    ((-125.3, 71.9), (-123.0, 71.1), (-120.0, 71.6), (-119.6, 73.0), (-115.5, 73.5),
     (-120.5, 74.4), (-124.5, 74.3)),
    # Melville and Bathurst Islands
    ((-116.5, 75.0), (-110.0, 74.9), (-106.0, 75.4), (-108.5, 76.7), (-114.5, 76.5),
     (-117.5, 76.0)),
    ((-101.0, 75.5), (-97.0, 75.2), (-96.7, 76.5), (-100.5, 76.6)),
    # Devon Island
    ((-80.0, 74.5), (-92.0, 74.5), (-92.5, 76.3), (-80.0, 76.2)),
    # Ellesmere Island
    ((-79.0, 76.3), (-89.5, 76.5), (-90.5, 78.0), (-88.0, 80.0), (-77.0, 82.5),
     (-62.0, 82.8), (-64.0, 81.3), (-70.0, 79.4), (-78.0, 77.5)),
    # Axel Heiberg Island
    ((-89.0, 78.2), (-94.5, 78.3), (-96.0, 80.3), (-92.0, 81.2), (-88.5, 80.3)),
)  # fmt: skip

#: Lambert conformal conic: standard parallels 49°N and 77°N, origin 63.390675°N 91.866667°W.
_PHI1, _PHI2 = math.radians(49.0), math.radians(77.0)
_PHI0, _LAMBDA0 = math.radians(63.390675), math.radians(-91.866667)


def _t(phi: float) -> float:
    return math.tan(math.pi / 4 + phi / 2)


_N = math.log(math.cos(_PHI1) / math.cos(_PHI2)) / math.log(_t(_PHI2) / _t(_PHI1))
_F = math.cos(_PHI1) * _t(_PHI1) ** _N / _N
_RHO0 = _F / _t(_PHI0) ** _N


def project(lon: float, lat: float) -> Point:
    """Unit-sphere Lambert conformal conic; y grows northward."""
    rho = _F / _t(math.radians(lat)) ** _N
    theta = _N * (math.radians(lon) - _LAMBDA0)
    return rho * math.sin(theta), _RHO0 - rho * math.cos(theta)


WIDTH = 1000.0
MARGIN = 12.0


@dataclass(frozen=True)
class Frame:
    """Maps projected points into the SVG viewBox (y flipped: SVG y grows downward)."""

    left: float
    top: float
    scale: float
    height: float

    def place(self, lon: float, lat: float) -> Point:
        x, y = project(lon, lat)
        return (
            round(MARGIN + (x - self.left) * self.scale, 1),
            round(MARGIN + (self.top - y) * self.scale, 1),
        )


def frame() -> Frame:
    points = [project(lon, lat) for shape in (MAINLAND, *ISLANDS) for lon, lat in shape]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    scale = (WIDTH - 2 * MARGIN) / (max(xs) - min(xs))
    height = (max(ys) - min(ys)) * scale + 2 * MARGIN
    return Frame(min(xs), max(ys), scale, round(height, 1))


def outline_paths(box: Frame) -> list[str]:
    """One SVG path `d` per land shape."""
    return [_path(box, shape) for shape in (MAINLAND, *ISLANDS)]


def _path(box: Frame, shape: Sequence[Point]) -> str:
    placed = [box.place(lon, lat) for lon, lat in shape]
    return "M" + " L".join(f"{x},{y}" for x, y in placed) + " Z"


@dataclass(frozen=True)
class Marker:
    """A city on the map: its dot, and where its label goes (chosen not to overlap others)."""

    href: str
    label: str
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str  # SVG text-anchor
    #: Where a leader line from the dot ends, when the label had to stand away from it.
    leader: Point | None = None


Box = tuple[float, float, float, float]  # left, top, right, bottom

#: Label box estimate, in viewBox units, for the home map's labels (bold 22px on 8px dots; the
#: workbench's 16px labels on 7px dots fit inside the same boxes): a character is taken as 0.7
#: em wide (DejaVu Sans Bold, the widest usual fallback, averages about 0.65 em), the text from
#: 0.8 em above the baseline to 0.25 em below it, plus the 2-unit white halo around the glyphs.
#: workbench.js repeats these numbers and the algorithm below: keep them in step.
FONT, CHAR, ASCENT, DESCENT, HALO = 22.0, 0.7, 0.8, 0.25, 2.0
#: A dot as an obstacle: half the side of the square kept free around its centre (radius 8 and
#: its white stroke, with a little room).
DOT = 11.0
#: Gap between a dot's centre and its label box; beyond the first ring, a leader line is drawn.
_RINGS = (DOT, DOT + 26.0, DOT + 52.0)
#: Directions tried, in order: right, left, above, below, then the four diagonals.
_DIRECTIONS = ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1))


def markers(box: Frame, cities: Sequence[tuple[str, str, float, float]]) -> list[Marker]:
    """Cities (href, label, lat, long) as markers. Labels are placed west to east, each at the
    first candidate spot (rings of distance out from the dot, eight directions in each) that
    stays inside the viewBox and overlaps no dot and no label placed before it; the spot with
    least overlap when none is free. Deterministic: same cities, same map."""
    dots = [(href, label, *box.place(lon, lat)) for href, label, lat, lon in cities]
    dots.sort(key=lambda d: (d[2], d[3], d[1]))
    obstacles: list[Box] = [(x - DOT, y - DOT, x + DOT, y + DOT) for _, _, x, y in dots]
    found = []
    for href, label, x, y in dots:
        width = len(label) * CHAR * FONT + 2 * HALO
        best: tuple[float, int, Box] | None = None
        for index, rect in enumerate(_candidates(x, y, width)):
            if rect[0] < 0 or rect[1] < 0 or rect[2] > WIDTH or rect[3] > box.height:
                continue
            clash = sum(_overlap_area(rect, other) for other in obstacles)
            if best is None or clash < best[0]:
                best = (clash, index, rect)
            if clash == 0:
                break
        rect = best[2] if best else next(_candidates(x, y, width))
        index = best[1] if best else 0
        obstacles.append(rect)
        found.append(_marker(href, label, x, y, rect, index >= len(_DIRECTIONS)))
    return found


def label_box(marker: Marker) -> Box:
    """The box estimated for a marker's label (what `markers` keeps free of overlaps)."""
    width = len(marker.label) * CHAR * FONT + 2 * HALO
    left = {"start": marker.label_x - HALO, "end": marker.label_x + HALO - width}.get(
        marker.anchor, marker.label_x - width / 2
    )
    top = marker.label_y - ASCENT * FONT - HALO
    return left, top, left + width, marker.label_y + DESCENT * FONT + HALO


#: The least side of a city's tap target on the home map, in viewBox units: 24 CSS px (WCAG 2.2's
#: target size) where the map is narrowest, 358 px wide on a 390 px phone (1000 units).
TARGET = 24 * WIDTH / 358


def hit_boxes(placed: Sequence[Marker], height: float) -> list[list[Box]]:
    """Each marker's tap target, as boxes: one around its dot and one around its label, each
    grown to TARGET on both sides inside the viewBox. Where boxes of two markers meet, they are
    cut apart in the gap between the dots and labels they hold (each then grows back on its far
    side), so that no two markers' targets overlap and none loses its own dot or label."""
    bases = [[_dot_box(m), label_box(m)] for m in placed]
    frame = (0.0, 0.0, WIDTH, height)
    boxes = [[_grow(b, frame) for b in parts] for parts in bases]
    parts = [(i, k) for i, per in enumerate(bases) for k in range(len(per))]
    for grow in (True, False):  # grow back once, then only cut (nothing new can overlap)
        for (i, k), (j, n) in itertools.combinations(parts, 2):
            if i != j:
                boxes[i][k], boxes[j][n] = _separate(
                    (boxes[i][k], bases[i][k]), (boxes[j][n], bases[j][n]), frame, grow
                )
    return [[(round(a, 1), round(b, 1), round(c, 1), round(d, 1)) for a, b, c, d in per]
            for per in boxes]  # fmt: skip


def _dot_box(marker: Marker) -> Box:
    return marker.x - DOT, marker.y - DOT, marker.x + DOT, marker.y + DOT


def _grow(box: Box, frame: Box) -> Box:
    """`box` grown to TARGET on each side, about its centre, then moved inside `frame`."""
    left, top, right, bottom = box
    dx, dy = max(0.0, TARGET - (right - left)) / 2, max(0.0, TARGET - (bottom - top)) / 2
    return _inside((left - dx, top - dy, right + dx, bottom + dy), frame)


def _inside(box: Box, frame: Box) -> Box:
    left, top, right, bottom = box
    shift_x = max(0.0, frame[0] - left) - max(0.0, right - frame[2])
    shift_y = max(0.0, frame[1] - top) - max(0.0, bottom - frame[3])
    return (max(frame[0], left + shift_x), max(frame[1], top + shift_y),
            min(frame[2], right + shift_x), min(frame[3], bottom + shift_y))  # fmt: skip


def _separate(a: tuple[Box, Box], b: tuple[Box, Box], frame: Box, grow: bool) -> tuple[Box, Box]:
    """Two overlapping targets (box, what it must hold) cut apart along an axis where what they
    hold has a gap; unchanged when they do not overlap or their contents overlap too."""
    (box_a, base_a), (box_b, base_b) = a, b
    if not all(min(box_a[i + 2], box_b[i + 2]) > max(box_a[i], box_b[i]) for i in (0, 1)):
        return box_a, box_b
    for axis in sorted(
        (0, 1), key=lambda i: min(box_a[i + 2], box_b[i + 2]) - max(box_a[i], box_b[i])
    ):
        first, second = (a, b) if base_a[axis] <= base_b[axis] else (b, a)
        gap = (first[1][axis + 2], second[1][axis])
        if gap[0] > gap[1]:
            continue  # what they hold overlaps along this axis
        middle = (max(box_a[axis], box_b[axis]) + min(box_a[axis + 2], box_b[axis + 2])) / 2
        cut = min(max(middle, gap[0]), gap[1])
        low, high = list(first[0]), list(second[0])
        lost_low, lost_high = low[axis + 2] - cut, cut - high[axis]
        low[axis + 2], high[axis] = cut, cut
        if grow:  # back to TARGET on the far side, inside the frame
            low[axis] = max(frame[axis], low[axis] - max(0.0, lost_low))
            high[axis + 2] = min(frame[axis + 2], high[axis + 2] + max(0.0, lost_high))
        cut_first, cut_second = (
            (low[0], low[1], low[2], low[3]),
            (high[0], high[1], high[2], high[3]),
        )
        return (cut_first, cut_second) if first is a else (cut_second, cut_first)
    return box_a, box_b


def _candidates(x: float, y: float, width: float) -> Iterator[Box]:
    height = (ASCENT + DESCENT) * FONT + 2 * HALO
    for gap in _RINGS:
        for dx, dy in _DIRECTIONS:
            # Diagonal spots tuck the box's near corner in towards the dot.
            reach = gap * 0.7 if dx and dy else gap
            left = x + reach if dx > 0 else x - reach - width if dx < 0 else x - width / 2
            top = y + reach if dy > 0 else y - reach - height if dy < 0 else y - height / 2
            yield left, top, left + width, top + height


def _marker(href: str, label: str, x: float, y: float, rect: Box, leader: bool) -> Marker:
    left, top, right, bottom = rect
    centre = (left + right) / 2
    anchor = "start" if left > x else "end" if right < x else "middle"
    text_x = left + HALO if anchor == "start" else right - HALO if anchor == "end" else centre
    baseline = top + HALO + ASCENT * FONT
    end = (min(max(x, left), right), min(max(y, top), bottom)) if leader else None
    return Marker(
        href,
        label,
        x,
        y,
        round(text_x, 1),
        round(baseline, 1),
        anchor,
        (round(end[0], 1), round(end[1], 1)) if end else None,
    )


def _overlap_area(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def collisions(placed: Sequence[Marker], height: float) -> list[str]:
    """What is wrong with placed labels (empty when nothing is): a label box outside the viewBox
    (WIDTH by height), over a dot, or over another label. For tests and checks."""
    found = []
    boxes = [label_box(m) for m in placed]
    for m, rect in zip(placed, boxes, strict=True):
        if rect[0] < 0 or rect[1] < 0 or rect[2] > WIDTH or rect[3] > height:
            found.append(f"{m.label}: outside the map")
        found += [
            f"{m.label}: over the dot of {other.label}"
            for other in placed
            if _overlap_area(rect, (other.x - DOT, other.y - DOT, other.x + DOT, other.y + DOT))
        ]
    found += [
        f"{a.label}: over the label of {b.label}"
        for i, (a, ra) in enumerate(zip(placed, boxes, strict=True))
        for b, rb in zip(placed[i + 1 :], boxes[i + 1 :], strict=True)
        if _overlap_area(ra, rb)
    ]
    return found

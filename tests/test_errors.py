"""The one exception tree (src/hrgraph/errors.py): the drawing in its docstring is the real tree,
and every error declares a public code of its own."""

from __future__ import annotations

import re

from hrgraph import errors
from hrgraph.errors import HrgraphError, QueryError

BRANCH = re.compile(r"^[ │├└─]*(?P<name>[A-Z]\w+Error)\b")


def drawn() -> list[tuple[int, str]]:
    """(depth, class name) for each line of the docstring's tree, in order."""
    assert errors.__doc__ is not None
    found = []
    for line in errors.__doc__.splitlines():
        match = BRANCH.match(line.removeprefix("    "))
        if match:
            found.append((match.start("name") // 4, match.group("name")))  # 4 columns a level
    return found


def real(cls: type[HrgraphError] = HrgraphError, depth: int = 0) -> list[tuple[int, str]]:
    found = [(depth, cls.__name__)]
    for sub in cls.__subclasses__():
        if sub.__module__ == errors.__name__:
            found += real(sub, depth + 1)
    return found


def parents(tree: list[tuple[int, str]]) -> set[tuple[str, str]]:
    """(parent, child) pairs of a tree given as (depth, name) in depth-first order."""
    path: list[str] = []
    pairs = set()
    for depth, name in tree:
        del path[depth:]
        if path:
            pairs.add((path[-1], name))
        path.append(name)
    return pairs


def test_the_drawing_is_the_tree() -> None:
    assert len(drawn()) > 20  # the parser read the drawing
    assert parents(drawn()) == parents(real())


def test_every_error_declares_its_own_public_code() -> None:
    classes = [getattr(errors, name) for _, name in real()]
    codes = [cls.__dict__.get("code") for cls in classes]
    assert None not in codes, [c.__name__ for c, code in zip(classes, codes) if code is None]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", code) for code in codes)


def test_statuses_are_http_statuses() -> None:
    for _, name in real():
        cls = getattr(errors, name)
        assert 400 <= cls.status <= 599, name
        if issubclass(cls, QueryError) and cls is not QueryError:
            assert cls.status != 500, f"{name}: a query error is never an internal error"

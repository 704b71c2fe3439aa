"""The release being served, and the switch to a new one without dropping a request.

Each request takes a snapshot (`Publisher.snapshot()`): the release and its engine, held for the
whole request, so every part of a response comes from one release. A new `current` link is
noticed on the next request (one lstat, a single syscall: every switch renames a new link into
place, also when a build rebuilt a damaged release under the same name); the new release is
opened while requests keep being served by the old one, then swapped in. The old engine is closed
when its last request ends.

A release is verified against its checksums when it is opened, and holds a shared lock on its
folder for as long as it is open (`hrgraph prune` leaves such a release alone). A damaged release
is never switched to; at start, a damaged or unopenable `current` falls back to the newest release
that verifies, and with none the server does not start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hrgraph import integrity
from hrgraph.config import Settings
from hrgraph.engine.interface import QueryAnswer, QueryEngine
from hrgraph.engine.lru import SizedLRU
from hrgraph.engine.prefixes import prefixes_for
from hrgraph.errors import ReleaseError, failure_message
from hrgraph.release import (
    CURRENT,
    MANIFEST,
    hold,
    read_manifest,
    release_folders,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class Engine(QueryEngine, Protocol):
    """The engine interface plus the names of the release's graphs (for FROM checks)."""

    @property
    def graphs(self) -> frozenset[str]: ...


EngineFactory = Callable[[Path, Settings], Engine]

#: Bytes of answers kept per release: identical requests are answered without running the query
#: again (an answer never changes within a release).
CACHE_BYTES = 32_000_000
#: Answers larger than this are not cached (they would evict many small ones).
CACHE_ITEM_BYTES = 1_000_000


def answer_cache() -> SizedLRU[str, QueryAnswer]:
    """Query answers of one release, by ETag."""
    return SizedLRU(CACHE_BYTES, lambda answer: len(answer.body), CACHE_ITEM_BYTES)


@dataclass(eq=False)
class Release:
    """One opened release: its folder, manifest, engine and the settings it is served with (what
    a handler or a page needs to answer from it, in one object)."""

    path: Path
    manifest: dict[str, object]
    engine: Engine
    settings: Settings
    cache: SizedLRU[str, QueryAnswer] = field(default_factory=answer_cache)
    users: int = 0
    retired: bool = False
    #: the descriptor of the folder, with its shared lock (-1: not held, or closed)
    held: int = -1
    _memo: dict[str, Any] = field(default_factory=dict)
    _memo_lock: threading.RLock = field(default_factory=threading.RLock)

    def close(self) -> None:
        """Close the engine and let go of the folder (prune may then remove it)."""
        self.engine.close()
        with self._memo_lock:
            held, self.held = self.held, -1
        if held >= 0:
            os.close(held)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A value computed once per release (lists of resources, graph sizes)."""
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = compute()
            value: T = self._memo[key]
            return value

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def base_iri(self) -> str:
        return str(self.manifest["base_iri"])

    @property
    def prefixes(self) -> dict[str, str]:
        """The prefixes a query of this release may use undeclared (its base's)."""
        return self.memo("prefixes", lambda: prefixes_for(self.base_iri))

    @property
    def graphs(self) -> frozenset[str]:
        return self.engine.graphs

    @property
    def triples(self) -> int:
        value = self.manifest.get("triples", 0)
        return value if isinstance(value, int) else 0


def open_release(path: Path, settings: Settings, open_engine: EngineFactory) -> Release:
    """Hold the folder, verify the checksums, then start the engine (DamagedReleaseError, or
    ReleaseError, and nothing started, when the release cannot be trusted)."""
    held = hold(path)
    try:
        manifest = read_manifest(path)
        for key in ("version", "base_iri"):
            if not isinstance(manifest.get(key), str):
                raise ReleaseError(f"{path / MANIFEST}: no {key!r}")
        integrity.check(path)
        engine = open_engine(path, settings)
    except BaseException:
        os.close(held)
        raise
    return Release(path.resolve(), manifest, engine, settings, held=held)


class Publisher:
    """Holds the current release and switches to a new one when `current` moves."""

    def __init__(self, settings: Settings, open_engine: EngineFactory) -> None:
        self.settings = settings
        self.releases = settings.releases
        self._open_engine = open_engine
        self._lock = threading.Lock()
        self._opening = threading.Lock()
        self._inode = self._link_inode()
        try:
            self._target: str | None = os.readlink(self.releases / CURRENT)
        except OSError:
            raise ReleaseError(
                f"no release in {self.releases}: run `hrgraph build` (or `hrgraph serve`, which "
                "builds one first)"
            ) from None
        self._current = self._open_first(self._target)

    @property
    def current(self) -> Release:
        return self._current

    def _open_first(self, target: str) -> Release:
        """The release `current` points at; if it is damaged or cannot be opened, the newest
        release that can (one error line names both); ReleaseError when none can."""
        others = [p.name for p in reversed(release_folders(self.releases)) if p.name != target]
        failure = ""
        for version in [target, *others]:
            try:
                release = open_release(self.releases / version, self.settings, self._open_engine)
            except Exception as error:
                failure = failure or failure_message(error)
                continue
            if version != target:
                log.error(
                    "current release %s cannot be served (%s); serving %s, the newest release "
                    "that verifies",
                    target,
                    failure,
                    version,
                )
            return release
        raise ReleaseError(
            f"no release in {self.releases} can be served: current release {target}: {failure}; "
            f"no other release of {len(others)} could be opened: rebuild with `hrgraph build`"
        )

    def _read_link(self) -> str | None:
        try:
            target = os.readlink(self.releases / CURRENT)
        except OSError:
            return None
        return target if (self.releases / target / MANIFEST).is_file() else None

    def _link_inode(self) -> int | None:
        try:
            return os.lstat(self.releases / CURRENT).st_ino
        except OSError:
            return None

    def moved(self) -> bool:
        """Whether `current` was replaced since it was last read (one lstat: cheap enough for
        the event loop, unlike `refresh`, which may open a release)."""
        return self._replaced(self._link_inode())

    def _replaced(self, inode: int | None) -> bool:
        return inode is not None and inode != self._inode

    def refresh(self) -> None:
        """Open the release `current` points at if the link was replaced; requests go on
        meanwhile. A replaced link is tried once: a release that cannot be opened is not tried
        again on every request. Blocking (it verifies the release and starts its engine, or
        uploads it to a remote store): call it from a worker thread, never the event loop."""
        inode = self._link_inode()  # one lstat per request: refresh runs on every snapshot
        if not self._replaced(inode):
            return
        # One thread opens the new release; the others keep serving the old one.
        if not self._opening.acquire(blocking=False):
            return
        try:
            self._inode = inode
            target = self._read_link()
            if target is not None:
                self._switch(target)
        finally:
            self._opening.release()

    def _switch(self, target: str) -> None:
        try:
            fresh = open_release(self.releases / target, self.settings, self._open_engine)
        except Exception as error:
            # A release that cannot be opened is not switched to: keep serving the old one.
            log.error(
                "not switching to release %s (%s); still serving %s",
                target,
                failure_message(error),
                self._current.version,
            )
            self._target = target
            return
        with self._lock:
            old, self._current, self._target = self._current, fresh, target
            old.retired = True
            idle = old.users == 0
        log.info("now serving release %s", fresh.version)
        if idle:
            old.close()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Release]:
        self.refresh()
        with self._lock:
            release = self._current
            release.users += 1
        try:
            yield release
        finally:
            with self._lock:
                release.users -= 1
                idle = release.retired and release.users == 0
            if idle:
                release.close()

    def close(self) -> None:
        """Close the current release once the requests holding it are done."""
        with self._lock:
            self._current.retired = True
            idle = self._current.users == 0
        if idle:
            self._current.close()

    def stop(self) -> None:
        """Close the current release now, even while requests hold it (the server is going):
        its query processes are killed, and a request waiting on one gets a 503 at once rather
        than at the query's time limit. Closing twice is harmless."""
        with self._lock:
            self._current.retired = True
        self._current.close()

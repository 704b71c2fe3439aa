"""`hrgraph prune`: remove old releases, and what dead builds and damaged releases left behind.

Kept: the `keep` newest releases (by issue date, then build time, then name), the one `current`
points at, and any release a running server holds (each opened release holds a shared lock on its
folder; a release on which an exclusive lock cannot be taken at once is in use). Prune takes the
build lock, renames a release to a dot-name (it leaves every listing at once) and then removes it.
Leftover `.build-*` and `.pruning-*` folders (a build or prune that died) and `.damaged-*` folders
(damaged releases a build set aside) are removed too, unless a server still holds them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hrgraph.errors import ReleaseError
from hrgraph.release import (
    BUILDING,
    CURRENT,
    DAMAGED,
    PRUNING,
    build_lock,
    fsync_dir,
    release_folders,
)

Echo = Callable[[str], None]


@dataclass
class PruneResult:
    removed: list[str] = field(default_factory=list)
    in_use: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def prune(releases: Path, keep: int, echo: Echo = lambda _: None) -> PruneResult:
    """Remove all but the `keep` newest releases (never `current`, nor one in use); one line per
    folder removed or kept because it is in use."""
    if keep < 1:
        raise ReleaseError("--keep must be at least 1")
    if not releases.is_dir():
        raise ReleaseError(f"no releases folder {releases}")
    result = PruneResult()
    with build_lock(releases):
        for leftover in sorted(_leftovers(releases)):
            _remove_or_keep(leftover, result, echo)
        ordered = release_folders(releases)  # oldest first
        kept = {p.name for p in ordered[-keep:]} | {_current(releases)}
        for folder in ordered:
            if folder.name in kept:
                result.kept.append(folder.name)
            else:
                _remove_or_keep(folder, result, echo)
    if not result.removed and not result.in_use:
        echo(f"nothing to remove: {len(result.kept)} release(s), keeping up to {keep}")
    return result


def _leftovers(releases: Path) -> list[Path]:
    return [p for prefix in (BUILDING, PRUNING, DAMAGED) for p in releases.glob(prefix + "*")]


def _current(releases: Path) -> str:
    try:
        return os.readlink(releases / CURRENT)
    except OSError:
        return ""


def _remove_or_keep(folder: Path, result: PruneResult, echo: Echo) -> None:
    if _remove(folder):
        result.removed.append(folder.name)
        echo(f"removed {folder.name}")
    else:
        result.in_use.append(folder.name)
        echo(f"kept {folder.name}: a running server is serving it")


def _remove(folder: Path) -> bool:
    """Rename `folder` to a dot-name and remove it, unless a server holds it (False)."""
    if folder.is_symlink() or not folder.is_dir():
        folder.unlink()
        return True
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # Renamed while locked: a server that opened the folder before sees it moved, and fails.
        doomed = folder
        if not folder.name.startswith(PRUNING):
            doomed = folder.with_name(f"{PRUNING}{folder.name.lstrip('.')}-{os.getpid()}")
            os.rename(folder, doomed)
    finally:
        os.close(fd)
    shutil.rmtree(doomed)
    with contextlib.suppress(OSError):
        fsync_dir(folder.parent)
    return True

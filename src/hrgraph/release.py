"""The release on disk: its layout and names, and how it is found, read, locked and switched.

Both sides share this module: the builder (`hrgraph.build`) writes a release in this layout, the
server (`hrgraph.engine.publisher`) opens the one `current` names. It imports only the base
(`errors`, `integrity`), so that reading a release loads no builder (no rdflib, no pySHACL).

    releases/
      current -> <version>       switched by an atomic rename (switch_current)
      <version>/                 immutable once renamed into place
        release.json             the manifest: version, format, fingerprint, base IRI, date
        SHA256SUMS               checksums of the downloads (integrity.py)
        store/ (+ SHA256SUMS)    the on-disk pyoxigraph store, opened read-only
        feed/                    the change feed up to this release (hrgraph/feed.py)
      .lock                      the one writer (a build or a prune) holds it
      .build-*, .pruning-*, .damaged-*   left by a dead build or prune, or set aside
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from hrgraph import integrity
from hrgraph.errors import ReleaseError

#: Bumped whenever the layout or content of a release changes, so that the same sources build a
#: new release instead of reusing one written by an older builder (2: merged default graph;
#: 3: store/SHA256SUMS, and "format" in release.json; 4: hrgraph.nt and hrgraph.rdf dumps, table
#: titles in French; 6: the change feed in feed/; 7: the statement graph, the inferred graph and
#: the data dictionary; 8: search.sqlite, the search index).
RELEASE_FORMAT = "8"
CURRENT = "current"
MANIFEST = integrity.MANIFEST
SUMS = integrity.SUMS
STORE = integrity.STORE
#: The search index (written by build/search_index.py, read by pages/search.py) and the facets a
#: search can be refined by (query-string parameters; each a kind whose resources are its values).
SEARCH_INDEX = "search.sqlite"
SEARCH_FACETS = ("city", "practice", "population")
#: Prefixes of the folders a build or prune leaves behind when it dies, and of set-aside releases.
BUILDING, PRUNING, DAMAGED = ".build-", ".pruning-", ".damaged-"


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def switch_current(releases: Path, version: str, *, replace: bool = False) -> None:
    """Point `current` at `version` by renaming a new symlink over it (atomic on POSIX); with
    `replace`, also when it already points there (servers then open the folder anew)."""
    link = releases / CURRENT
    if not replace and link.is_symlink() and os.readlink(link) == version:
        return
    temporary = releases / f".{CURRENT}-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(version)
    os.replace(temporary, link)
    fsync_dir(releases)


def current_release(releases: Path) -> Path | None:
    link = releases / CURRENT
    if not link.is_symlink():
        return None
    target = releases / os.readlink(link)
    return target if (target / MANIFEST).is_file() else None


def read_manifest(release: Path) -> dict[str, object]:
    try:
        manifest: dict[str, object] = json.loads((release / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise ReleaseError(f"{release}: not a complete release ({error})") from None
    return manifest


@contextlib.contextmanager
def build_lock(releases: Path) -> Iterator[None]:
    """The one writer of `releases` (a build or a prune): taken only when something is written."""
    with (releases / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReleaseError(
                f"another build or prune is writing to {releases}; wait for it to finish"
            ) from None
        yield


def release_folders(releases: Path) -> list[Path]:
    """Every complete release folder, oldest first: by issue date, then build time, then name
    (dot-folders, `current` and folders without a release.json are not releases)."""
    try:
        entries = [p for p in releases.iterdir() if not p.name.startswith(".")]
    except OSError:
        return []
    found = [p for p in entries if p.name != CURRENT and p.is_dir() and (p / MANIFEST).is_file()]
    return sorted(found, key=_age)


def _age(release: Path) -> tuple[str, float, str]:
    try:
        issued = str(read_manifest(release).get("issued", ""))
        built = (release / MANIFEST).stat().st_mtime
    except (ReleaseError, OSError):
        issued, built = "", 0.0
    return (issued, built, release.name)


def intact_release(releases: Path) -> Path | None:
    """The current release if it verifies, else the newest release that does, else None."""
    current = current_release(releases)
    if current is not None and integrity.verify(current).intact:
        return current
    others = [p for p in reversed(release_folders(releases)) if p != current]
    return next((p for p in others if integrity.verify(p).intact), None)


def writable(folder: Path) -> bool:
    """Whether this process may write in `folder` (False on a read-only file system)."""
    return os.access(folder, os.W_OK)


def hold(release: Path) -> int:
    """Open `release` and take a shared lock on it, held until the returned descriptor is closed:
    `hrgraph prune` never removes a release that is held. Works on read-only folders."""
    fd = os.open(release, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        if not os.path.samestat(os.fstat(fd), os.stat(release)):
            raise BlockingIOError  # renamed away by prune between the open and the lock
    except BlockingIOError:
        os.close(fd)
        raise ReleaseError(f"release {release.name} is being removed (hrgraph prune)") from None
    except BaseException:
        os.close(fd)
        raise
    return fd

"""Checksums of a release, written when it is built and checked whenever it is opened.

A release has two lists, both in the format of `sha256sum` (`<64 hex>  <name>`, one a line):

- `SHA256SUMS`: every file outside `store/`, which are the downloads. Those files, and so this
  list, are byte-identical whenever the same sources are built again.
- `store/SHA256SUMS`: every file of the query store (names relative to `store/`). RocksDB writes
  different bytes on each build, so this list is separate. The store is only ever opened
  read-only, which writes nothing, so any file it does not list is damage too (RocksDB would
  replay a stray `*.log`).

Names are checked when a list is read: relative POSIX paths inside the release, with no empty,
`.` or `..` segment, no backslash and no control character; anything else makes the list damaged.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from hrgraph.errors import DamagedReleaseError

SUMS = "SHA256SUMS"
STORE = "store"
STORE_SUMS = f"{STORE}/{SUMS}"
MANIFEST = "release.json"
_LINE = re.compile(r"([0-9a-fA-F]{64})  (.+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Verification:
    """What checking a release found: how many files were checked, and one line per bad one."""

    files: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def write_sums(folder: Path, skip: str | None = None) -> None:
    """Write `folder/SHA256SUMS` over every file below `folder` except itself and `skip/`."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative == SUMS or (skip is not None and relative.startswith(skip + "/")):
            continue
        lines.append(f"{_digest(path)}  {relative}\n")
    (folder / SUMS).write_text("".join(lines))


def read_sums(listing: Path) -> dict[str, str]:
    """Name → SHA-256 from a list of checksums. OSError when it cannot be read, ValueError (the
    reason, naming the line) when it is malformed or names a file outside its folder."""
    try:
        text = listing.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    if text and not text.endswith("\n"):
        raise ValueError("does not end with a newline (truncated?)")
    sums: dict[str, str] = {}
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"line {number} is not '<sha256>  <name>'")
        digest, name = match.group(1).lower(), match.group(2)
        problem = name_problem(name)
        if problem or name in sums:
            raise ValueError(f"line {number}: {problem or 'a name listed twice'}: {name!r}")
        sums[name] = digest
    return sums


def name_problem(name: str) -> str | None:
    """Why `name` is not a safe relative path inside a release, or None when it is."""
    if name.startswith("/"):
        return "an absolute name"
    if "\\" in name or _CONTROL.search(name):
        return "a backslash or control character in a name"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "an empty, '.' or '..' segment in a name"
    return None


def verify(release: Path) -> Verification:
    """Hash every listed file of `release` once and compare; nothing is written."""
    sealed = _sealed(release)
    files, problems = _check_list(release, SUMS, exhaustive=sealed)
    if sealed or (release / STORE_SUMS).exists():
        store_files, store_problems = _check_list(release, STORE_SUMS, exhaustive=True)
        files += store_files
        problems += store_problems
    return Verification(files, tuple(problems))


def check(release: Path) -> None:
    """DamagedReleaseError (one problem per bad file) unless `release` verifies."""
    found = verify(release)
    if not found.intact:
        raise DamagedReleaseError(release.name, list(found.problems))


def inside(folder: Path, name: str) -> Path | None:
    """`folder/name` resolved (symlinks followed), if that is a regular file within `folder`."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        return None
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return None
    return path if regular else None


def _sealed(release: Path) -> bool:
    """Whether every file of the release must be listed. Releases built before store checksums
    (or written by hand, as some tests do) have no "format" in release.json: only what their
    SHA256SUMS lists is checked."""
    try:
        manifest = json.loads((release / MANIFEST).read_text())
    except (OSError, ValueError):
        return True  # damaged: be strict (the SHA256SUMS check names release.json)
    return not isinstance(manifest, dict) or "format" in manifest


def _check_list(release: Path, label: str, *, exhaustive: bool) -> tuple[int, list[str]]:
    listing = release / label
    folder = listing.parent
    try:
        sums = read_sums(listing)
    except FileNotFoundError:
        return 0, [f"{label}: missing"]
    except OSError as error:
        return 0, [f"{label}: cannot be read ({error.strerror or error})"]
    except ValueError as error:
        return 0, [f"{label}: {error}"]
    prefix = "" if folder == release else f"{folder.name}/"
    problems = [
        f"{prefix}{name}: {problem}"
        for name, digest in sums.items()
        if (problem := _check_file(folder, name, digest))
    ]
    if exhaustive:
        skip = None if prefix else STORE
        problems += [
            f"{prefix}{name}: not listed in {label}" for name in _unlisted(folder, sums, skip)
        ]
    return len(sums), problems


def _check_file(folder: Path, name: str, digest: str) -> str | None:
    if not (folder / name).exists() and not (folder / name).is_symlink():
        return "missing"
    path = inside(folder, name)
    if path is None:
        return "not a file inside the release"
    try:
        actual = _digest(path)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    return None if actual == digest else "does not match its checksum"


def _unlisted(folder: Path, sums: dict[str, str], skip: str | None) -> list[str]:
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}
    if skip is not None:
        present = {name for name in present if not name.startswith(skip + "/")}
    return sorted(present - set(sums) - {SUMS})


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()

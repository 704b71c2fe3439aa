"""Fetch the pinned browser assets of web/assets.lock into the package's static folder.

The workbench's editor (CodeMirror 5) is not on PyPI, so it is pinned here like a lock file: the
npm tarball's URL and its sha512 `integrity` (as the registry publishes it). A tarball whose hash
differs is refused before anything is extracted. Only the listed files are written, and only
inside the target folder. Standard library only: a fresh machine has python3, pip and make.

    python3 scripts/fetch_assets.py [--lock web/assets.lock] [--root .]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60


class AssetError(Exception):
    """An asset cannot be installed (bad hash, missing file, bad lock entry)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "web" / "assets.lock")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    try:
        for package in json.loads(args.lock.read_text(encoding="utf-8"))["packages"]:
            install(package, args.root)
    except (AssetError, OSError) as error:
        print(f"fetch_assets: {error}", file=sys.stderr)
        return 1
    return 0


def install(package: dict[str, Any], root: Path) -> None:
    """Download, verify and extract one package (a no-op when its files are there already)."""
    target = root / package["target"]
    stamp = target / ".version"
    wanted = f"{package['name']}@{package['version']} {package['integrity']}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted:
        return
    data = download(package["tarball"])
    verify(data, package["integrity"], f"{package['name']}@{package['version']}")
    extract(data, package["files"], target)
    stamp.write_text(wanted, encoding="utf-8")
    print(f"fetch_assets: {package['name']}@{package['version']} -> {package['target']}")


def download(url: str) -> bytes:
    if not url.startswith(("https://", "file://")):
        raise AssetError(f"refusing to download {url}: only https:// (or file:// in tests)")
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 - checked above
        data: bytes = response.read()
    return data


def verify(data: bytes, integrity: str, what: str) -> None:
    """Check a Subresource-Integrity string (`sha512-<base64>`, as npm records it)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256") or not expected:
        raise AssetError(f"{what}: unsupported integrity {integrity!r} in the lock file")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise AssetError(
            f"{what}: the download does not match the lock file's hash, refusing it "
            f"(expected {algorithm}-{expected}, got {algorithm}-{actual}); nothing was installed"
        )


def extract(data: bytes, files: list[str], target: Path) -> None:
    """Write the listed files of the tarball (npm puts them under package/) into `target`."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        contents = {}
        for name in files:
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                raise AssetError(f"{name}: a listed file must be a relative path in the package")
            try:
                member = archive.extractfile(f"package/{name}")
            except KeyError:
                member = None
            if member is None:
                raise AssetError(f"{name} is not a file in the tarball")
            contents[relative] = member.read()
    for relative, content in contents.items():
        path = target.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


if __name__ == "__main__":
    raise SystemExit(main())

"""hrgraph: a knowledge graph and linked-data publisher for community-based harm reduction.

The data flows one way, and the package is laid out the same way (ARCHITECTURE.md):

    sources -> build (validate, write a release) -> release on disk -> engine -> web <- pages

The base (`config`, `errors`, `release`, `integrity`, `vocab`) is shared by every room; `cli` is
the edge that calls them. tests/test_layers.py checks which room may import which.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hrgraph")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0"

__all__ = ["__version__"]

"""hrgraph: a knowledge graph and linked-data publisher for community-based harm reduction."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hrgraph")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0"

__all__ = ["__version__"]

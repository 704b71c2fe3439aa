"""The house: which room may import which (ARCHITECTURE.md), no cycles, no hidden imports, and a
serving side that never loads the builder."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrgraph.config import Settings
from hrgraph.engine.embedded import EmbeddedEngine
from hrgraph.release import current_release

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hrgraph"
#: The base every room stands on (imports only itself), the rooms, and the edge (the command
#: line, which may import anything).
BASE = {
    "__init__",
    "changes",
    "config",
    "errors",
    "feed",
    "integrity",
    "kinds",
    "release",
    "vocab",
}
EDGE = {"cli", "__main__"}
ROOMS = ("build", "engine", "pages", "web")
#: room -> the rooms it may import (besides the base and itself).
MAY_IMPORT: dict[str, set[str]] = {
    "base": set(),
    "build": set(),
    "engine": set(),
    "pages": {"engine"},
    "web": {"engine", "pages"},
    "edge": {"build", "engine", "pages", "web"},
}
#: Modules whose functions import lazily on purpose: each command of the command line loads only
#: its own room, so that `hrgraph verify` starts without pySHACL. Nowhere else.
LAZY = {"cli"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = (
            ".".join(parts[:-1]) if parts[-1] == "__init__" and len(parts) > 1 else ".".join(parts)
        )
        found[name] = path
    return found


MODULES = modules()


def room(module: str) -> str:
    head = module.split(".")[0]
    if head in ROOMS:
        return head
    if module in BASE:
        return "base"
    assert module in EDGE, f"{module} is in no room: add it to one (and to ARCHITECTURE.md)"
    return "edge"


def imported(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    """The hrgraph modules an import statement loads (relative to the package)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".")[: -node.level] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            names = ["hrgraph." + target if target else "hrgraph"]
        else:
            names = [node.module or ""]
        names = [f"{n}.{a.name}" for n in names for a in node.names] + names
    for name in names:
        if name.startswith("hrgraph."):
            local = name.removeprefix("hrgraph.")
            if local in MODULES:
                yield local
                if "." in local and isinstance(node, ast.ImportFrom):
                    return  # `from hrgraph.a import b`: b, not also the package a


def imports(module: str) -> tuple[set[str], list[int]]:
    """The hrgraph modules `module` imports, and the lines of imports inside functions."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()
    hidden: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            hidden += [
                n.lineno for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)
            ]
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(m for m in imported(node, module) if m != module)
    return found, hidden


GRAPH = {module: imports(module)[0] for module in MODULES}


def test_every_module_is_in_a_room() -> None:
    rooms = {room(module) for module in MODULES}
    assert rooms == {"base", "edge", *ROOMS}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_room_imports_only_what_it_stands_on(module: str) -> None:
    mine = room(module)
    allowed = {"base", mine, *MAY_IMPORT[mine]}
    wrong = sorted(m for m in GRAPH[module] if room(m) not in allowed)
    assert wrong == [], f"{module} ({mine}) may not import {wrong}"


def test_the_rule_catches_a_wrong_import() -> None:
    """The check above is not vacuous: the engine importing the web would be caught."""
    assert room("engine.embedded") == "engine" and "web" not in MAY_IMPORT["engine"]
    assert "build" not in MAY_IMPORT["web"] and "web" not in MAY_IMPORT["pages"]
    assert GRAPH["web.app"], "the import graph is empty: the parser found no imports"


def test_no_cycles() -> None:
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in sorted(GRAPH[module]):
            if state.get(other) == 1:
                cycle = [*path[path.index(other) :], other] if other in path else [module, other]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if other not in state:
                visit(other, [*path, other])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(set(MODULES) - LAZY))
def test_no_import_hides_inside_a_function(module: str) -> None:
    _, hidden = imports(module)
    assert hidden == [], f"{MODULES[module]}: imports inside functions at lines {hidden}"


SERVING = ("hrgraph.engine.embedded", "hrgraph.engine.remote", "hrgraph.engine.publisher")
BUILDER = ("pyshacl", "rdflib", "hrgraph.build")


def loaded_after(*modules: str) -> set[str]:
    """The modules a fresh interpreter has loaded after importing `modules`."""
    code = "import json, sys\n" + "".join(f"import {m}\n" for m in modules)
    code += "print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_the_engine_loads_no_builder() -> None:
    """A query process imports the engine: neither pySHACL nor rdflib (nor the builder)."""
    loaded = loaded_after(*SERVING)
    assert "pyoxigraph" in loaded  # the probe sees what an import loads
    assert sorted(m for m in loaded if m.startswith(BUILDER)) == []


def test_the_server_loads_no_builder() -> None:
    """A server process of `--workers N` imports web.server: no builder, no pySHACL, and none
    of rdflib's parsers."""
    loaded = loaded_after("hrgraph.web.server")
    assert "fastapi" in loaded
    builder = [m for m in loaded if m.startswith(("pyshacl", "hrgraph.build"))]
    parsers = [m for m in loaded if m.startswith("rdflib.plugins.parsers")]
    assert builder == [] and parsers == []


def test_the_forkserver_has_the_engine_loaded(served_settings: Settings) -> None:
    """Workers fork from a forkserver that preloaded the engine and pyoxigraph (a replaced
    worker then starts in milliseconds)."""
    release = current_release(served_settings.releases)
    assert release is not None
    engine = EmbeddedEngine(release, served_settings)
    try:
        stat = Path(f"/proc/{engine.pids()[0]}/stat").read_text()
        forkserver = int(stat.rsplit(")", 1)[1].split()[1])  # field 4: the parent
        maps = Path(f"/proc/{forkserver}/maps").read_text()
    finally:
        engine.close()
    assert "pyoxigraph" in maps  # its native library is mapped: the module was imported


def test_the_supervisor_loads_neither_the_application_nor_the_engine() -> None:
    """The supervisor of `--workers N` imports web.supervisor: uvicorn and the settings only."""
    loaded = loaded_after("hrgraph.web.supervisor")
    assert "uvicorn" in loaded
    heavy = ("fastapi", "pyoxigraph", "rdflib", "jinja2", "pyshacl", "hrgraph.build")
    assert sorted(m for m in loaded if m.startswith(heavy)) == []
    assert not {"hrgraph.web.app", "hrgraph.engine.embedded"} & loaded

"""Build benchmark: hrgraph's release build against what its two unavoidable parts cost alone.

    python bench/build_bench.py [--sizes 10000,100000,300000,1000000] [--out BENCHMARKS.md]

For each size, synthetic sources of the shipped graph's shape (bench/generate.py) are built by
`hrgraph build` in a fresh process, split into parsing, validation, serialization and store load,
with the process's peak memory. The baseline, measured in the same run on the same files, is what
any publisher must pay: rdflib parsing + pySHACL validation with the same shapes and options, plus a
pyoxigraph bulk load of the same triples. Goal: the build costs at most 1.5x the baseline, and time
grows linearly with size. Results are written to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import write  # noqa: E402

BUILD = """
import json, resource, sys, time
from hrgraph.config import load_settings
from hrgraph.build.writer import build
settings = load_settings({"sources": sys.argv[1], "releases": sys.argv[2]}, environ={})
start = time.perf_counter()
result = build(settings)
total = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"total": total, **result.timings, "peak_mib": peak}))
"""

BASELINE = """
import json, resource, sys, time
from pathlib import Path
import pyoxigraph, pyshacl, rdflib
root = Path(sys.argv[1])
start = time.perf_counter()
data = rdflib.Graph()
for folder in ("ontology", "data"):
    for path in sorted((root / folder).glob("*.ttl")):
        data.parse(path, format="turtle")
shapes = rdflib.Graph()
for path in sorted((root / "shapes").glob("*.ttl")):
    shapes.parse(path, format="turtle")
parsed = time.perf_counter()
pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
validated = time.perf_counter()
store = pyoxigraph.Store(sys.argv[2])
for folder in ("ontology", "shapes", "data"):
    for path in sorted((root / folder).glob("*.ttl")):
        store.bulk_load(path=path, format=pyoxigraph.RdfFormat.TURTLE)
store.flush()
loaded = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"total": loaded - start, "parse": parsed - start,
                  "validate": validated - parsed, "store": loaded - validated,
                  "peak_mib": peak}))
"""


def measure(script: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def count_triples(root: Path) -> int:
    import pyoxigraph

    return sum(
        len(list(pyoxigraph.parse(path=p, format=pyoxigraph.RdfFormat.TURTLE)))
        for folder in ("ontology", "shapes", "data")
        for p in (root / folder).glob("*.ttl")
    )


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{int(memory) / 1024 / 1024:.0f} GiB"
    except OSError:
        memory = "unknown"
    packages = ", ".join(f"{p} {version(p)}" for p in ("rdflib", "pyshacl", "pyoxigraph"))
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"{memory} RAM, Python {platform.python_version()}; {packages}"
    )


def run(sizes: list[int]) -> list[dict[str, object]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="hrgraph-bench-") as tmp:
        for size in sizes:
            sources = write(Path(tmp) / f"src-{size}", size)
            triples = count_triples(sources)
            print(f"{triples} triples: building ...", file=sys.stderr)
            ours = measure(BUILD, str(sources), str(Path(tmp) / f"releases-{size}"))
            print(f"{triples} triples: baseline ...", file=sys.stderr)
            base = measure(BASELINE, str(sources), str(Path(tmp) / f"store-{size}"))
            rows.append({"triples": triples, "build": ours, "baseline": base})
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def report(rows: list[dict[str, object]]) -> str:
    lines = [
        "## Release build",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench` (`bench/build_bench.py`) on: "
        f"{machine()}.",
        "",
        "Synthetic sources of the shipped graph's shape (`bench/generate.py`), built by "
        "`hrgraph build` in a fresh process. The baseline, measured in the same run on the same "
        "files, is the least any publisher of this graph pays: rdflib parsing and pySHACL "
        "validation with the same shapes and options, plus a pyoxigraph bulk load of the same "
        "triples. Times in seconds; memory is the process's peak RSS.",
        "",
        "| triples | build total | parse | validate | serialize | store | build peak MiB "
        "| baseline total | baseline parse | baseline validate | baseline store "
        "| baseline peak MiB | build / baseline | build µs per triple |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        b, a, n = row["build"], row["baseline"], row["triples"]
        assert isinstance(b, dict) and isinstance(a, dict) and isinstance(n, int)
        lines.append(
            f"| {n:,} | {b['total']:.1f} | {b.get('parse', 0):.1f} | {b.get('validate', 0):.1f} "
            f"| {b.get('serialize', 0):.1f} | {b.get('store', 0):.1f} | {b['peak_mib']:.0f} "
            f"| {a['total']:.1f} | {a['parse']:.1f} | {a['validate']:.1f} | {a['store']:.1f} "
            f"| {a['peak_mib']:.0f} | **{b['total'] / a['total']:.2f}x** "
            f"| {b['total'] / n * 1e6:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,300000,1000000")
    parser.add_argument("--out", type=Path, default=HERE.parent / "BENCHMARKS.md")
    args = parser.parse_args()
    rows = run([int(s) for s in args.sizes.split(",")])
    text = report(rows)
    update_section(args.out, "build", text)
    print(text)


def update_section(path: Path, name: str, text: str) -> None:
    """Replace this benchmark's section of BENCHMARKS.md, keeping the others."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{text}{end}\n"
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if start in old and end in old:
        before, rest = old.split(start, 1)
        new = before + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + block
    path.write_text(new)


if __name__ == "__main__":
    main()

"""Query worker benchmark: how fast the embedded engine's worker processes start, what they cost.

    python bench/worker_bench.py [--code DIR] [--label before|after|NAME] [--imports 9] [--runs 9]

The code at DIR (default this checkout; `git worktree add /tmp/hrgraph-before <commit>` for an
older one) runs in fresh interpreters with PYTHONPATH=DIR/src (same venv, same dependencies; the
child checks that it imports hrgraph from there). Measured, as medians:

- the import of the query worker's module (`hrgraph.engine.embedded`, or `hrgraph.embedded`
  before the package had rooms) in a fresh interpreter, and whether it loads pySHACL and rdflib;
- on a release built once by that code's `hrgraph build`: the time from `EmbeddedEngine(...)` to
  the engine being ready, and to the first answer of a COUNT query (a fresh interpreter each run,
  so the forkserver starts too); then the same for a second engine, whose workers are forked by
  the forkserver already running, as a replacement for a killed worker is;
- after that answer, each worker's and the forkserver's RSS, PSS and USS (private memory), from
  /proc/<pid>/smaps_rollup; and whether the forkserver has pyoxigraph mapped (the preload worked).

Results go to bench/results/workers-<label>.json; once `before` and `after` both exist, a run of
either renders them side by side into BENCHMARKS.md between <!-- bench:workers:start --> and
<!-- bench:workers:end -->; any other label only prints its figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean, median
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from build_bench import machine, update_section  # noqa: E402
from reliability_bench import code_state, environment, loadavg  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = HERE / "results"
HEAVY = ("pyshacl", "rdflib", "pyoxigraph")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

IMPORT = """
import importlib, json, sys, time
start = time.perf_counter()
importlib.import_module(sys.argv[1])
took = time.perf_counter() - start
import hrgraph
heavy = [m for m in sys.argv[2:] if m in sys.modules]
print(json.dumps({"file": hrgraph.__file__, "s": took, "modules": len(sys.modules),
                  "heavy": heavy}))
"""

ENGINE = """
import importlib, json, sys, time
from pathlib import Path
embedded, interface, release, count = sys.argv[1:5]
Engine = importlib.import_module(embedded).EmbeddedEngine
face = importlib.import_module(interface)
config = importlib.import_module("hrgraph.config")
settings = config.load_settings({"sources": sys.argv[5]}, environ={})

def memory(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return {"rss": fields["Rss"], "pss": fields["Pss"],
            "uss": fields["Private_Clean"] + fields["Private_Dirty"]}

def warm():  # a second engine, its workers forked by the running forkserver (as a replacement)
    start = time.perf_counter()
    with Engine(Path(release), settings) as again:
        again.run(face.QueryRequest(count, face.QueryForm.SELECT, "text/csv"))
        return time.perf_counter() - start

start = time.perf_counter()
engine = Engine(Path(release), settings)
ready = time.perf_counter() - start
answer = engine.run(face.QueryRequest(count, face.QueryForm.SELECT, "text/csv"))
first = time.perf_counter() - start
workers = list(engine.pids())
server = int(Path(f"/proc/{workers[0]}/stat").read_text().rsplit(")", 1)[1].split()[1])
found = {
    "ready_s": ready, "first_s": first, "answer": answer.body.decode().split()[-1],
    "workers": [memory(pid) for pid in workers], "forkserver": memory(server),
    "preloaded": "pyoxigraph" in Path(f"/proc/{server}/maps").read_text(),
}
engine.close()
print(json.dumps({**found, "warm_s": warm()}))
"""


def child(script: str, args: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(PYTHON), "-c", script, *args], capture_output=True, text=True, env=env, cwd=cwd
    )
    if done.returncode != 0:
        sys.exit(f"the child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def modules(code: Path) -> tuple[str, str]:
    """The worker's module and the one of QueryRequest, in the package's layout at `code`."""
    if (code / "src" / "hrgraph" / "engine" / "embedded.py").exists():
        return "hrgraph.engine.embedded", "hrgraph.engine.interface"
    return "hrgraph.embedded", "hrgraph.engine"


def measure(code: Path, imports: int, runs: int) -> dict[str, Any]:
    env = environment(code)
    worker, interface = modules(code)
    with tempfile.TemporaryDirectory(prefix="hrgraph-workers-") as tmp:
        work = Path(tmp)
        print(f"{code}: {worker}, {imports} imports ...", file=sys.stderr)
        child(IMPORT, [worker, *HEAVY], env, work)  # compiles the .pyc files, not counted
        seen = [child(IMPORT, [worker, *HEAVY], env, work) for _ in range(imports)]
        where = Path(seen[0]["file"]).resolve()
        if not where.is_relative_to((code / "src").resolve()):
            sys.exit(f"the child imported hrgraph from {where}, not from {code}/src")
        print(f"{code}: building a release ...", file=sys.stderr)
        releases = work / "releases"
        build = [str(PYTHON), "-m", "hrgraph", "build", "--sources", str(code)]
        subprocess.run(
            [*build, "--releases", str(releases)], env=env, cwd=work, check=True, stdout=sys.stderr
        )
        release = (releases / "current").resolve()
        print(f"{code}: {runs} engine starts ...", file=sys.stderr)
        args = [worker, interface, str(release), COUNT, str(code)]
        starts = [child(ENGINE, args, env, work) for _ in range(runs)]
    return {
        "worker_module": worker,
        "import_ms": median(1000 * s["s"] for s in seen),
        "modules": median(s["modules"] for s in seen),
        "heavy": seen[0]["heavy"],
        "ready_ms": median(1000 * s["ready_s"] for s in starts),
        "first_ms": median(1000 * s["first_s"] for s in starts),
        "warm_ms": median(1000 * s["warm_s"] for s in starts),
        "answer": starts[0]["answer"],
        "preloaded": all(s["preloaded"] for s in starts),
        "workers": len(starts[0]["workers"]),
        **{k: median(summary(s)[k] for s in starts) for k in summary(starts[0])},
        "raw": {"imports": seen, "starts": starts},
    }


def summary(start: dict[str, Any]) -> dict[str, float]:
    """One run's memory in MiB: a worker's mean, the forkserver's, and the sum of them all."""
    found = {}
    for kind in ("rss", "pss", "uss"):
        workers = [w[kind] for w in start["workers"]]
        found[f"worker_{kind}"] = mean(workers)
        found[f"forkserver_{kind}"] = start["forkserver"][kind]
        found[f"total_{kind}"] = sum(workers) + start["forkserver"][kind]
    return found


ROWS: tuple[tuple[str, str, str], ...] = (
    ("Import of the worker's module (ms)", "import_ms", "{:,.0f}"),
    ("Modules loaded by that import", "modules", "{:,.0f}"),
    ("`EmbeddedEngine(...)` returns, ready (ms)", "ready_ms", "{:,.0f}"),
    ("Engine created to first COUNT answered (ms)", "first_ms", "{:,.0f}"),
    ("Same, second engine, forkserver running (ms)", "warm_ms", "{:,.0f}"),
    ("RSS per worker (mean, MiB)", "worker_rss", "{:,.1f}"),
    ("PSS per worker (mean, MiB)", "worker_pss", "{:,.1f}"),
    ("USS (private) per worker (mean, MiB)", "worker_uss", "{:,.1f}"),
    ("Forkserver RSS (MiB)", "forkserver_rss", "{:,.1f}"),
    ("Forkserver PSS (MiB)", "forkserver_pss", "{:,.1f}"),
    ("Workers + forkserver: RSS (MiB)", "total_rss", "{:,.1f}"),
    ("Workers + forkserver: PSS (MiB)", "total_pss", "{:,.1f}"),
    ("Workers + forkserver: USS (MiB)", "total_uss", "{:,.1f}"),
)


def render(before: dict[str, Any], after: dict[str, Any]) -> str:
    b, a = before["result"], after["result"]
    lines = [
        "## Query workers: start time and memory (issue 8)",
        "",
        f"Run {after['date']} by `make bench-workers` (`bench/worker_bench.py`) on: "
        f"{after['machine']}. Both columns in the same session; load average (1, 5, 15 min) "
        f"{before['load']} before, {after['load']} after.",
        "",
        f"Before: {before['code']['describe']} ({b['worker_module']}); after: "
        f"{after['code']['describe']} ({a['worker_module']}). Medians of fresh "
        f"interpreters ({len(b['raw']['imports'])} imports, {len(b['raw']['starts'])} engine "
        f"starts) with PYTHONPATH set to the code's `src/`, over a release built by that code; "
        f"`--query-workers` at its default ({a['workers'] - 1} general + 1 short-lane worker). "
        "Memory after the first answer, from `/proc/<pid>/smaps_rollup`; ratio is after/before.",
        "",
        "| | before | after | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, key, fmt in ROWS:
        x, y = b[key], a[key]
        lines.append(f"| {name} | {fmt.format(x)} | {fmt.format(y)} | {y / x:.2f} |")
    for name, test in (
        ("pySHACL loaded by the import", lambda r: "pyshacl" in r["heavy"]),
        ("rdflib loaded by the import", lambda r: "rdflib" in r["heavy"]),
        ("Forkserver preloaded the worker's module", lambda r: r["preloaded"]),
    ):
        lines.append(f"| {name} | {'yes' if test(b) else 'no'} | {'yes' if test(a) else 'no'} | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose src/ is measured")
    parser.add_argument("--label", default="after", help="before | after | any other name")
    parser.add_argument("--imports", type=int, default=9, help="fresh interpreters importing")
    parser.add_argument("--runs", type=int, default=9, help="fresh engine starts")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    code = args.code.resolve()
    if not (code / "src" / "hrgraph").is_dir():
        parser.error(f"{code} has no src/hrgraph")
    data = {
        "label": args.label,
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine": f"{machine()}; kernel {platform.release()}",
        "code": code_state(code),
        "load": loadavg(),
        "result": measure(code, args.imports, args.runs),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"workers-{args.label}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    saved = {n: RESULTS / f"workers-{n}.json" for n in ("before", "after")}
    if args.label in saved and all(p.exists() for p in saved.values()):
        text = render(*(json.loads(p.read_text()) for p in saved.values()))
        update_section(args.out, "workers", text)
        print(text)
    else:
        print(json.dumps({k: v for k, v in data["result"].items() if k != "raw"}, indent=1))


if __name__ == "__main__":
    main()

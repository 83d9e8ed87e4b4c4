"""Benchmarks (never tests): `python -m bench [--sizes 1000,10000] [--repeat 3]` and `python -m bench load`.

Each measurement runs the real `kb` command in a fresh process (cold start) and, beside it, the plain
baseline: rdflib parse + rdflib SPARQL for queries, pyoxigraph's own bulk load for builds, pyshacl over
the whole graph for validation. Medians and ratios are printed as Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.synth import generate, new_measures_file

QUERIES = ("measures-by-strength", "measures-by-category", "counts-by-class", "measures")


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def _median(args: list[str], env: dict[str, str], cwd: Path, repeat: int) -> float:
    return statistics.median(_run(args, env, cwd)[0] for _ in range(repeat))


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


BULK_LOAD = """
import sys, tempfile, pyoxigraph as ox, pathlib
store = ox.Store(tempfile.mkdtemp())
for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.ttl')):
    store.bulk_load(path=str(p), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode('urn:g:' + p.name))
store.optimize()
"""
RDFLIB_QUERY = """
import sys, pathlib, rdflib
from kb.namespaces import PREFIXES
g = rdflib.Graph()
for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.ttl')):
    g.parse(p, format='turtle')
list(g.query(pathlib.Path(sys.argv[2]).read_text(), initNs=PREFIXES))
"""
PYSHACL = """
import sys, pathlib, rdflib, pyshacl
g = rdflib.Graph()
for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.ttl')):
    if p.name != 'shapes.ttl':
        g.parse(p, format='turtle')
pyshacl.validate(g, shacl_graph=rdflib.Graph().parse(pathlib.Path(sys.argv[1]) / 'ontology' / 'shapes.ttl'),
                 inference='none', advanced=True, allow_warnings=True)
"""


def bench_size(size: int, repeat: int, baselines: bool) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix=f"kb-bench-{size}-"))
    root = generate(work / "kb", size)
    new_file = new_measures_file(root, work / "new.ttl")
    env = {**os.environ, "KB_ROOT": str(root), "KB_STATE_DIR": str(work / "state")}
    kb = [sys.executable, "-m", "kb"]
    out: dict[str, float] = {"size": size}
    out["build_s"], rss = _run([*kb, "build", "--force"], env, root)
    out["build_peak_mb"] = rss / 1024
    out["bulk_load_s"] = _run([*_python(BULK_LOAD), str(root)], env, root)[0]
    out["python_pass_s"] = _median(_python("pass"), env, root, repeat)
    from kb.query import named_queries

    named = named_queries()
    for name in QUERIES:
        out[f"query_{name}_s"] = _median([*kb, "query", name, "--format", "csv"], env, root, repeat)
        if baselines:
            out[f"rdflib_{name}_s"] = _median([*_python(RDFLIB_QUERY), str(root), str(named[name].path)], env, root, 1)
    out["validate_file_s"] = _median([*kb, "validate", str(new_file)], env, root, repeat)
    out["validate_full_s"] = _run([*kb, "validate"], env, root)[0]
    if baselines:
        out["pyshacl_full_s"] = _run([*_python(PYSHACL), str(root)], env, root)[0]
    return out


def load_test(size: int, clients: int, seconds: float) -> dict[str, float]:
    """`clients` threads send named queries to `kb serve` on loopback for `seconds`, then stop."""
    from kb.project import Project
    from kb.query import named_queries
    from kb.serve import ServeConfig, create_server
    from kb.store import build

    work = Path(tempfile.mkdtemp(prefix="kb-load-"))
    root = generate(work / "kb", size)
    os.environ["KB_STATE_DIR"] = str(work / "state")
    build(Project(root))
    server = create_server(ServeConfig(work / "state" / "store", workers=2, threads=clients), port=0).start_in_thread()
    texts = [named_queries()[name].text for name in QUERIES[:3]]
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client(index: int) -> None:
        n = index
        while time.monotonic() < deadline:
            url = server.url + "sparql?" + urllib.parse.urlencode({"query": texts[n % len(texts)]})
            n += 1
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            with lock:
                latencies.append(time.perf_counter() - start)
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.close()
    latencies.sort()
    return {
        "size": size,
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "errors": errors[0],
        "throughput_rps": len(latencies) / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("mode", nargs="?", default="sizes", choices=["sizes", "load"], help="what to measure")
    parser.add_argument("--sizes", default="1000,10000", help="measures per synthetic KB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per median")
    parser.add_argument("--baseline-max", type=int, default=10000, help="largest size with baselines")
    parser.add_argument("--clients", type=int, default=50, help="load test: concurrent clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="load test: duration")
    args = parser.parse_args()
    if args.mode == "load":
        print(json.dumps(load_test(1000, args.clients, args.seconds), indent=1))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        print(json.dumps(bench_size(size, args.repeat, size <= args.baseline_max), indent=1), flush=True)


if __name__ == "__main__":
    main()

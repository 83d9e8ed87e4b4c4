"""Benchmarks (never tests): `python -m bench [--sizes 1000,10000] [--repeat 3]`, `python -m bench shipped`
and `python -m bench load`; the timeline page is measured by `python -m bench.bench_timeline`.

Each measurement runs the real `kb` command in a fresh process (cold start) and, beside it, the plain
baseline: rdflib parse + rdflib SPARQL for queries, pyoxigraph's own bulk load for builds, pyshacl over
the whole graph for validation. Every named query is also timed warm, in one process with the store
open, which is the query engine's own time. Progress goes to stderr, one JSON object per size to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.synth import generate, new_measures_file, plant_errors

QUERIES = ("measures-by-strength", "measures-by-category", "counts-by-class", "measures")


REPO = Path(__file__).resolve().parent.parent
# Example values for the named queries' required parameters in a synthetic KB (real vocabulary, synthetic things).
SYNTH_PARAMS = {
    "measure": "measure:synth-0000042",
    "subject": "measure:synth-0000042",
    "announcement": "ann:synth-press-conference-000002",
    "document": "doc:synth-doc-00001",
    "source": "src:synth-00000",
}


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


CPU: dict[str, float] = {"last": 0.0}  # CPU seconds (user + system) of the last child process _run ran


def _run(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    stdout: Path | None = None,
    code: Path = REPO,
    stderr: bool = False,
) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB) of one child process (its own peak, read from wait4; its CPU in CPU["last"]).

    The child imports the kb of `code` (this checkout unless told; PYTHONPATH), whatever its working folder and
    whatever is installed. Its stderr is dropped unless `stderr` (then it is this process's)."""
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH", "")]))}
    start = time.perf_counter()
    with open(stdout or os.devnull, "wb") as out:
        errors = None if stderr else subprocess.DEVNULL
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=errors)
        _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    CPU["last"] = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start, usage.ru_maxrss


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
import importlib, sys, pathlib, rdflib
pyshacl = importlib.import_module(sys.argv[3])  # pyshacl, or pyshacl_turbo (same API) over the same rdflib graph
g = rdflib.Graph()
for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.ttl')):
    if p.name != 'shapes.ttl':
        g.parse(p, format='turtle')
shapes = rdflib.Graph().parse(pathlib.Path(sys.argv[1]) / 'ontology' / 'shapes.ttl')
_, results, _ = pyshacl.validate(g, shacl_graph=shapes, inference='none', advanced=True, allow_warnings=True)
results.serialize(sys.argv[2], format='nt', encoding='utf-8')
"""
WARM_QUERIES = """
import json, statistics, sys, time
import pyoxigraph as ox
from pathlib import Path
from kb.query import run_query
from kb.query.catalogue import catalogue
from kb.store import open_snapshot
store = open_snapshot(Path(sys.argv[1]))  # as kb query opens it: the build's summary answers are used
params = json.loads(sys.argv[2])
repeat = int(sys.argv[3])
only = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None  # names to run (None: all)
out = {}
for name, query in catalogue().items():  # every named query: questions, checks, summaries, timeline and export feeds
    if only is not None and name not in only:
        continue
    bindings = {p.name: params[p.name] for p in query.params if p.required}
    times, cpu = [], []
    for _ in range(repeat):
        start, started = time.perf_counter(), time.process_time()
        rows = len(run_query(store, query.text, bindings).rows)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - started)
        if times[-1] > 1:  # far over the 100 ms target: one run says enough
            break
    # the answer once the first one is in (a full table kept by its first answer is read back from then on):
    # the runs after the first, or one more run when the first was the only one
    again, again_cpu = times[1:], cpu[1:]
    if not again:
        start, started = time.perf_counter(), time.process_time()
        run_query(store, query.text, bindings)
        again, again_cpu = [time.perf_counter() - start], [time.process_time() - started]
    out[name] = {
        "median_ms": round(1000 * statistics.median(times), 1),
        "cpu_ms": round(1000 * statistics.median(cpu), 1),
        "runs": len(times),
        "rows": rows,
        "first_ms": round(1000 * times[0], 1),
        "again_ms": round(1000 * statistics.median(again), 1),
        "again_cpu_ms": round(1000 * statistics.median(again_cpu), 1),
    }
    print(name, out[name], file=sys.stderr, flush=True)
print(json.dumps(out))
"""

# Named queries as a git ref had them (run all on the store, as that code did) against this checkout's run_query,
# interleaved query by query on one store: the ratio is the figure, whatever else the machine is doing.
COMPARE_QUERIES = """
import json, statistics, sys, time
from pathlib import Path
import pyoxigraph as ox
from kb.namespaces import PREFIXES
from kb.query import bind_params, parse_term, run_query
from kb.query.catalogue import catalogue
from kb.store import open_snapshot
store = open_snapshot(Path(sys.argv[1]))  # as kb query opens it; the old texts run on it with store.query alone
params, repeat, old_texts = json.loads(sys.argv[2]), int(sys.argv[3]), json.load(open(sys.argv[4]))
def old(text, bindings):
    if bindings:
        text = bind_params(text, {k: parse_term(v) for k, v in bindings.items()})
    result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    if isinstance(result, ox.QuerySolutions):
        return [[solution[v] for v in result.variables] for solution in result]
    return [] if isinstance(result, ox.QueryBoolean) else list(result)
out = {}
for name, query in catalogue().items():
    if name not in old_texts:
        continue
    bindings = {p.name: params[p.name] for p in query.params if p.required}
    runs = {"old": [], "new": []}
    for _ in range(repeat):
        for way in ("old", "new"):
            wall, cpu = time.perf_counter(), time.process_time()
            rows = len(old(old_texts[name], bindings) if way == "old" else run_query(store, query.text, bindings).rows)
            runs[way].append((time.perf_counter() - wall, time.process_time() - cpu, rows))
    out[name] = {
        f"{way}_{what}_ms": round(1000 * statistics.median(r[i] for r in runs[way]), 1)
        for way in runs for i, what in ((0, "wall"), (1, "cpu"))
    } | {"rows": runs["new"][0][2], "old_rows": runs["old"][0][2]}
    print(name, out[name], file=sys.stderr, flush=True)
print(json.dumps(out))
"""


# One answer of a full table, timed in a child of its own (python -c TABLE_ANSWER STORE NAME WAY): `ref`, the code of
# the ref (the store's run, nothing kept); `first`, this checkout with the table's kept file removed (the store's
# run and the writing of the file); `kept`, this checkout again (the rows read back, run_query's QueryResult);
# `stream`, the kept rows written as CSV to /dev/null as kb query streams them.
TABLE_ANSWER = """
import json, os, sys, time
from pathlib import Path
from kb.query import run_query
from kb.query.catalogue import catalogue
from kb.store import open_snapshot
link, name, way = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
store = open_snapshot(link)
text = catalogue()[name].text
if way == "first":
    from kb.query.tables import _path
    _path(link.resolve(), text).unlink(missing_ok=True)
wall, cpu = time.perf_counter(), time.process_time()
if way == "stream":
    from kb.query.results import select_chunks
    from kb.query.tables import kept_stream
    table = kept_stream(store, text)
    with open(os.devnull, "w") as sink:
        for chunk in select_chunks(table.variables, table.rows(), "csv"):
            sink.write(chunk)
    rows = table.count
else:
    rows = len(run_query(store, text).rows)
out = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall, "rows": rows}
if way == "first":
    from kb.query.tables import _path
    kept = _path(link.resolve(), text)
    out["kept_mb"] = round(kept.stat().st_size / 1e6, 2) if kept.exists() else None
print(json.dumps(out))
"""
TABLE_WAYS = ("ref", "first", "kept", "stream")


def compare_tables(work: Path, ref: str, repeat: int, names: tuple[str, ...]) -> dict[str, object]:
    """On the built synthetic KB that `--work` holds (kb/, state/): each full table answered by the code of `ref`
    (on the store), by this checkout's first answer (kept file removed) and kept answer, and streamed, a child
    process each, interleaved round by round; CPU medians and rows per CPU second of each way."""
    root, state = work / "kb", work / "state"
    if not (state / "store").exists():
        raise SystemExit(f"{work}: no built store at state/store (python -m bench compare --work {work} builds one)")
    old_code = Path(tempfile.mkdtemp(prefix="kb-ref-"))
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old_code)], input=archive, check=True)
    env = {**os.environ, "KB_ROOT": str(root), "KB_STATE_DIR": str(state)}
    out: dict[str, object] = {"work": str(work), "ref": ref, "load_before": os.getloadavg()}
    for name in names:
        runs: dict[str, list[dict[str, float]]] = {way: [] for way in TABLE_WAYS}
        for number in range(repeat):
            for way in TABLE_WAYS:
                answer = Path(tempfile.mkstemp(prefix="kb-table-")[1])
                code = old_code if way == "ref" else REPO
                _run([*_python(TABLE_ANSWER), str(state / "store"), name, way], env, root, answer, code=code)
                runs[way].append(json.loads(answer.read_text() or "{}"))
                answer.unlink()
            _log(f"{name} round {number + 1}: " + ", ".join(f"{w} {runs[w][-1].get('cpu_s', 0):.2f} s" for w in runs))
        figures: dict[str, object] = {"rows": runs["first"][0].get("rows"), "kept_mb": runs["first"][0].get("kept_mb")}
        for way, measured in runs.items():
            cpu = statistics.median(r["cpu_s"] for r in measured)
            figures[f"{way}_cpu_s"] = round(cpu, 3)
            figures[f"{way}_rows_per_s"] = round(measured[0]["rows"] / cpu) if cpu else None
        out[name] = figures
    out["load_after"] = os.getloadavg()
    return out


def _ref_texts(ref: str) -> dict[str, str]:
    """The text each named query of this checkout had at git `ref` (queries the ref did not have are left out)."""
    from kb.query.catalogue import catalogue

    texts = {}
    for name, query in catalogue().items():
        relative = query.path.relative_to(REPO).as_posix()
        shown = subprocess.run(["git", "show", f"{ref}:{relative}"], cwd=REPO, capture_output=True, text=True)
        if shown.returncode == 0:
            texts[name] = shown.stdout
    return texts


def compare_queries(
    size: int, ref: str, repeat: int, only: tuple[str, ...] = (), reuse: Path | None = None
) -> dict[str, object]:
    """At `size` measures: every named query (or those in `only`) as `ref` had it against this checkout's,
    interleaved on one store. With `reuse`, a folder where an earlier run (or `--work`) left `kb/` and its built
    `state/`: they are used as they are (nothing generated, nothing built)."""
    work = reuse or Path(tempfile.mkdtemp(prefix=f"kb-compare-{size}-"))
    root = work / "kb"
    env = {**os.environ, "KB_ROOT": str(root), "KB_STATE_DIR": str(work / "state")}
    if reuse is None or not (work / "state" / "store").exists():
        _log(f"{size}: generating in {work}")
        generate(root, size)
        _run([sys.executable, "-m", "kb", "build", "--force"], env, root)
    texts = work / "old-texts.json"
    old_texts = {name: text for name, text in _ref_texts(ref).items() if not only or name in only}
    texts.write_text(json.dumps(old_texts), "utf-8")
    out_file = work / "compare.json"
    store = str(work / "state" / "store")
    _run([*_python(COMPARE_QUERIES), store, json.dumps(_synth_params()), str(repeat), str(texts)], env, root, out_file)
    return {"size": size, "ref": ref, "queries": json.loads(out_file.read_text() or "{}")}


def small_queries(results: Path) -> set[str]:
    """The named queries whose answer had at most report.SMALL rows in a bench result file (`python -m bench`'s
    JSON, or bench/results/latest.json): at its smallest size, so that a query that grows with the KB is left out
    there already. A size below 10k says little (most full tables are small there): say which file you mean."""
    from bench.report import SMALL

    loaded = json.loads(results.read_text("utf-8"))
    sized = [r for r in (loaded if isinstance(loaded, list) else [loaded]) if r.get("warm_queries_ms")]
    if not sized:
        raise SystemExit(f"{results}: no warm_queries_ms in it; give a result of `python -m bench --parts warm`")
    smallest = min(sized, key=lambda r: int(r["size"]))
    return {name for name, q in smallest["warm_queries_ms"].items() if q["rows"] <= SMALL}


def warm_on(kb_dir: Path, repeat: int, only: tuple[str, ...] = (), small_from: Path | None = None) -> dict[str, object]:
    """Every named query (or those in `only`; with `small_from`, only those that answered at most report.SMALL rows
    there) timed warm on an existing folder's `kb/` and its built `state/store` (as `--work` leaves them; nothing is
    generated or built). Wall and CPU medians of `repeat` runs, one run once a query takes over 1 s; the rows each
    gave here, so that a query that has grown past the small answers shows. Progress per query on stderr."""
    from kb.query.catalogue import catalogue

    store = kb_dir / "state" / "store"
    if not store.is_dir():
        raise SystemExit(f"{kb_dir}: no built store at state/store; build it first (KB_STATE_DIR={kb_dir}/state)")
    names = set(only or catalogue())
    if small_from is not None:
        small = small_queries(small_from)
        names = {name for name in names if name in small or name not in _warm_names(small_from)}
    env = {**os.environ, "KB_ROOT": str(kb_dir / "kb"), "KB_STATE_DIR": str(kb_dir / "state")}
    out_file = Path(tempfile.mkdtemp(prefix="kb-warm-")) / "warm.json"  # one per run: two runs may share the folder
    started, load = time.time(), os.getloadavg()
    _run(
        [*_python(WARM_QUERIES), str(store), json.dumps(_synth_params()), str(repeat), json.dumps(sorted(names))],
        env,
        kb_dir,
        out_file,
        stderr=True,
    )
    return {
        "kb_dir": str(kb_dir),
        "load_before": load,
        "load_after": os.getloadavg(),
        "seconds": round(time.time() - started, 1),
        "warm_queries_ms": json.loads(out_file.read_text() or "{}"),
    }


def _warm_names(results: Path) -> set[str]:
    """Every query a bench result file timed warm (a query it did not time is run: nothing is known of it)."""
    loaded = json.loads(results.read_text("utf-8"))
    return {name for r in (loaded if isinstance(loaded, list) else [loaded]) for name in r.get("warm_queries_ms", {})}


def compare_builds(size: int, refs: list[str], repeat: int, work: Path | None = None) -> dict[str, object]:
    """At `size` measures: `kb build --force` with the code of each git ref in `refs` and with this checkout's, and
    pyoxigraph's own bulk load, interleaved round by round (baseline, each ref, this checkout) on one synthetic KB;
    CPU seconds and peak RSS of each child, and their ratios to the baseline of the same round. With `work`, the KB
    is generated there once (`kb-SIZE/`) and reused by later runs; the refs' code and the stores go there too."""
    work = work or Path(tempfile.mkdtemp(prefix=f"kb-compare-build-{size}-"))
    work.mkdir(parents=True, exist_ok=True)
    codes: dict[str, Path] = {}
    for ref in refs:
        codes[ref] = work / f"ref-{len(codes)}"
        shutil.rmtree(codes[ref], ignore_errors=True)
        codes[ref].mkdir()
        archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(codes[ref])], input=archive, check=True)
    root, done = work / f"kb-{size}", work / f"kb-{size}.generated"
    if done.exists():
        _log(f"{size}: reusing {root}")
    else:
        _log(f"{size}: generating in {root}")
        generate(root, size)
        done.touch()
    ways = [("bulk_load", REPO), *codes.items(), ("new", REPO)]
    rounds: list[dict[str, float]] = []
    for number in range(repeat):
        figures: dict[str, float] = {}
        for way, code in ways:
            state = work / f"state-{size}-{codes[way].name if way in codes else way}"
            env = {**os.environ, "KB_ROOT": str(root), "KB_STATE_DIR": str(state)}
            if way == "bulk_load":  # its store in a folder of the work folder (the round before's removed first)
                shutil.rmtree(state, ignore_errors=True)
                state.mkdir()
                env["TMPDIR"] = str(state)
            args = (
                [*_python(BULK_LOAD), str(root)]
                if way == "bulk_load"
                else [sys.executable, "-m", "kb", "build", "--force"]
            )
            wall, rss = _run(args, env, root, code=code)
            figures |= {
                f"{way}_cpu_s": round(CPU["last"], 2),
                f"{way}_wall_s": round(wall, 2),
                f"{way}_peak_mb": rss // 1024,
            }
        for way, _ in ways[1:]:
            figures[f"{way}_cpu_ratio"] = round(figures[f"{way}_cpu_s"] / figures["bulk_load_cpu_s"], 3)
            figures[f"{way}_rss_ratio"] = round(figures[f"{way}_peak_mb"] / figures["bulk_load_peak_mb"], 2)
        _log(f"{size}: round {number + 1}: {figures}")
        rounds.append(figures)
    new_store = work / f"state-{size}-new" / "store"
    same = {
        ref: same_builds(work / f"state-{size}-{codes[ref].name}" / "store", new_store, quads=size <= QUADS_MAX)
        for ref in refs
    }
    _log(f"{size}: each ref's build against this checkout's: {same}")
    return {"size": size, "refs": refs, "rounds": rounds, "same": same}


KEPT = ("manifest.json", "index.json", "summary.json", "search.txt", "days.txt", "announced.txt")
QUADS_MAX = 20000  # largest size whose stores compare-build compares quad by quad (in memory, canonicalised)


def same_builds(old: Path, new: Path, quads: bool) -> dict[str, bool]:
    """Whether two published store folders hold the same: each kept file byte for byte (absent in both counts as
    the same), and, with `quads`, the same dataset once both are canonicalised (blank nodes relabelled)."""
    import pyoxigraph as ox

    same = {}
    for name in KEPT:
        a, b = old / name, new / name
        same[name] = (a.read_bytes() if a.exists() else None) == (b.read_bytes() if b.exists() else None)
    if quads:
        datasets = []
        for folder in (old, new):
            dataset = ox.Dataset(ox.Store.read_only(str(folder)))
            dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
            datasets.append({str(quad) for quad in dataset})
        same["quads"] = datasets[0] == datasets[1] and len(datasets[0]) > 0
    return same


def _result_keys(path: Path) -> list[tuple[str, str, str, str]]:
    """(focus node, path, severity, source shape) of each SHACL result in a report, sorted; blank nodes as _."""
    import rdflib
    from rdflib.namespace import RDF, SH

    graph = rdflib.Graph().parse(path, format="nt" if path.suffix == ".nt" else "turtle")

    def key(term: object) -> str:
        return "_" if isinstance(term, rdflib.BNode) or term is None else str(term)

    keys = []
    for result in graph.subjects(RDF.type, SH.ValidationResult):
        shape = graph.value(result, SH.sourceShape)
        if shape is None:  # kb's own evidence/query findings carry sh:sourceConstraint only
            continue
        focus, path_, severity = (key(graph.value(result, p)) for p in (SH.focusNode, SH.resultPath, SH.resultSeverity))
        keys.append((focus, path_, severity, key(shape)))
    return sorted(keys)


DERIVE = """
import json, sys, time
import pyoxigraph as ox
from kb.derive import compute_periods, period_lines
store = ox.Store.read_only(sys.argv[1])
start = time.perf_counter()
periods, windows = compute_periods(store)
computed = time.perf_counter()
quads = sum(1 for _ in period_lines(periods, windows))
print(json.dumps({"derive_compute_s": computed - start, "derive_total_s": time.perf_counter() - start, "quads": quads}))
"""


def _synth_params() -> dict[str, str]:
    """A value for every required parameter: the query's own example (real vocabulary) or a synthetic thing."""
    from kb.query.catalogue import catalogue

    params = dict(SYNTH_PARAMS)
    for query in catalogue().values():
        for param in query.params:
            example = re.search(r"e\.g\. (\S+)", param.description) or re.search(r"\b(\w+:[\w-]+)", param.description)
            if param.name not in params:
                params[param.name] = example.group(1).rstrip(",;") if example else "核酸"
    return params


PARTS = ("build", "periods", "queries", "warm", "validate-file", "full")


def bench_size(
    size: int, repeat: int, baselines: bool, pyshacl: bool, parts: tuple[str, ...] = PARTS
) -> dict[str, object]:
    """At `size` measures: build vs bulk load, cold and warm queries, file and full validation (the `parts` asked)."""
    from kb.query.catalogue import catalogue

    work = Path(tempfile.mkdtemp(prefix=f"kb-bench-{size}-"))
    _log(f"{size}: generating in {work}")
    root = generate(work / "kb", size)
    new_file = new_measures_file(root, work / "new.ttl")
    env = {**os.environ, "KB_ROOT": str(root), "KB_STATE_DIR": str(work / "state")}
    kb = [sys.executable, "-m", "kb"]
    out: dict[str, object] = {
        "size": size,
        "input_mb": round(sum(p.stat().st_size for p in root.rglob("*.ttl")) / 1e6, 1),
    }

    def note(key: str, value: object) -> None:
        out[key] = round(value, 3) if isinstance(value, float) else value
        _log(f"{size}: {key} = {out[key] if not isinstance(value, dict) else f'{len(value)} entries'}")

    build_s, rss = _run([*kb, "build", "--force"], env, root)
    note("build_s", build_s)
    note("build_cpu_s", CPU["last"])
    note("build_peak_mb", rss / 1024)
    if "build" in parts:
        bulk_s, rss = _run([*_python(BULK_LOAD), str(root)], env, root)
        note("bulk_load_s", bulk_s)
        note("bulk_load_cpu_s", CPU["last"])
        note("bulk_load_peak_mb", rss / 1024)
    if "periods" in parts:  # the effective-period derivation inside the build, timed on its own
        derived = work / "derive.json"
        _run([*_python(DERIVE), str(work / "state" / "store")], env, root, derived)
        for key, value in json.loads(derived.read_text() or "{}").items():
            note(key, value)
        derive_total = out.get("derive_total_s")
        if isinstance(derive_total, int | float):
            note("derive_share_of_build", derive_total / build_s)
    note("python_pass_s", _median(_python("pass"), env, root, repeat))
    named = catalogue()
    for name in QUERIES if "queries" in parts else ():
        note(f"query_{name}_s", _median([*kb, "query", name, "--format", "csv"], env, root, repeat))
        if baselines:
            note(f"rdflib_{name}_s", _median([*_python(RDFLIB_QUERY), str(root), str(named[name].path)], env, root, 1))
    if "warm" in parts:
        warm = work / "warm.json"
        _run(
            [*_python(WARM_QUERIES), str(work / "state" / "store"), json.dumps(_synth_params()), str(repeat)],
            env,
            root,
            warm,
        )
        note("warm_queries_ms", json.loads(warm.read_text() or "{}"))
    if "validate-file" in parts:
        validate_s, rss = _run([*kb, "validate", str(new_file)], env, root)
        times = [validate_s] + [_run([*kb, "validate", str(new_file)], env, root)[0] for _ in range(repeat - 1)]
        note("validate_file_s", statistics.median(times))
        note("validate_file_peak_mb", rss / 1024)
    if "full" not in parts:
        return out
    # Full validation on a KB with planted errors, so that the findings compared are not an empty set.
    plant_errors(root / "facts" / "synth" / "article-00000.ttl")
    kb_report, shacl_report = work / "kb-report.ttl", work / "pyshacl-report.nt"
    _run([*kb, "build"], env, root)  # the rebuild after planting is a build, not part of the validation
    from kb.validate.shacl import resolve_engine

    full_s, rss = _run([*kb, "validate", "--format", "ttl"], env, root, kb_report)
    note("validate_full_engine", resolve_engine("auto"))  # the default engine's SHACL evaluation
    note("validate_full_s", full_s)
    note("validate_full_cpu_s", CPU["last"])
    note("validate_full_peak_mb", rss / 1024)
    if pyshacl:
        shacl_s, rss = _run([*_python(PYSHACL), str(root), str(shacl_report), "pyshacl"], env, root)
        note("pyshacl_full_s", shacl_s)
        note("pyshacl_full_cpu_s", CPU["last"])
        note("pyshacl_full_peak_mb", rss / 1024)
        turbo_report = work / "turbo-report.nt"
        turbo_s, rss = _run([*_python(PYSHACL), str(root), str(turbo_report), "pyshacl_turbo"], env, root)
        note("pyshacl_turbo_full_s", turbo_s)
        note("pyshacl_turbo_full_cpu_s", CPU["last"])
        kb_keys, shacl_keys = _result_keys(kb_report), _result_keys(shacl_report)
        note("shacl_results", len(shacl_keys))
        note("findings_identical", kb_keys == shacl_keys)
        note("turbo_findings_identical", _result_keys(turbo_report) == shacl_keys)
    return out


def bench_shipped(repeat: int) -> dict[str, object]:
    """Cold `kb query` of named queries on the shipped knowledge base, against `python -c pass`."""
    work = Path(tempfile.mkdtemp(prefix="kb-bench-shipped-"))
    env = {**os.environ, "KB_ROOT": str(REPO), "KB_STATE_DIR": str(work / "state")}
    kb = [sys.executable, "-m", "kb"]
    _run([*kb, "build"], env, REPO)
    out: dict[str, object] = {"size": "shipped"}
    # Interleaved, so that a burst of load elsewhere hits the baseline and the queries alike.
    runs: dict[str, list[float]] = {"python_pass_s": []}
    for _ in range(repeat):
        runs["python_pass_s"].append(_run(_python("pass"), env, REPO)[0])
        for name in QUERIES:
            runs.setdefault(f"query_{name}_s", []).append(_run([*kb, "query", name, "--format", "csv"], env, REPO)[0])
    medians = {key: round(statistics.median(values), 3) for key, values in runs.items()}
    out.update(medians)
    base = medians["python_pass_s"]
    out["ratios"] = {name: round(medians[f"query_{name}_s"] / base, 2) for name in QUERIES}
    return out


def load_test(size: int, clients: int, seconds: float) -> dict[str, float]:
    """`clients` threads send named queries to `kb serve` on loopback for `seconds`, then stop."""
    from kb.project import Project
    from kb.query.catalogue import catalogue
    from kb.serve import ServeConfig, create_server
    from kb.store import build

    work = Path(tempfile.mkdtemp(prefix="kb-load-"))
    root = generate(work / "kb", size)
    os.environ["KB_STATE_DIR"] = str(work / "state")
    build(Project(root))
    server = create_server(ServeConfig(work / "state" / "store", workers=2, threads=clients), port=0).start_in_thread()
    texts = [catalogue()[name].text for name in QUERIES[:3]]
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
    parser.add_argument(
        "mode",
        nargs="?",
        default="sizes",
        choices=["sizes", "shipped", "load", "report", "compare", "compare-build", "compare-tables", "warm"],
        help="what to measure (report: every part at each size, judged against the targets in docs/bench-report.md; "
        "compare: every named query as --ref had it against this checkout's, interleaved on one store; "
        "compare-build: kb build of --ref, of this checkout and pyoxigraph's bulk load, interleaved; "
        "compare-tables: the full tables --queries on the built KB of --work: --ref's answer, this checkout's first "
        "answer, kept answer and streamed CSV, interleaved; "
        "warm: every named query timed warm on the built KB of --kb-dir)",
    )
    parser.add_argument("--sizes", default="1000,10000", help="measures per synthetic KB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per median")
    parser.add_argument("--baseline-max", type=int, default=10000, help="largest size with the rdflib query baselines")
    parser.add_argument("--pyshacl-max", type=int, default=100000, help="largest size with the pyshacl baseline")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"what to measure, comma-separated from {','.join(PARTS)}"
    )
    parser.add_argument(
        "--ref",
        default="main",
        help="compare: the git ref whose code is the baseline; compare-build: one or more, comma-separated",
    )
    parser.add_argument("--queries", default="", help="compare, warm: only these named queries, comma-separated")
    parser.add_argument(
        "--work",
        default="",
        help="compare, compare-build: a folder to keep the synthetic KB (and its store) in, reused when there",
    )
    parser.add_argument(
        "--kb-dir", default="", help="warm: a folder with kb/ and its built state/store (as --work leaves them)"
    )
    parser.add_argument(
        "--only-small",
        nargs="?",
        const=str(REPO / "bench" / "results" / "latest.json"),
        default=None,
        metavar="RESULTS",
        help="warm: only the queries that answered at most 100 rows at the smallest size of a bench result file "
        "(default bench/results/latest.json), and any it did not time",
    )
    parser.add_argument("--clients", type=int, default=50, help="load test: concurrent clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="load test: duration")
    args = parser.parse_args()
    if args.mode == "load":
        print(json.dumps(load_test(1000, args.clients, args.seconds), indent=1))
        return
    if args.mode == "compare":
        for size in (int(s) for s in args.sizes.split(",")):
            only = tuple(filter(None, args.queries.split(",")))
            reuse = Path(args.work) if args.work else None
            print(json.dumps(compare_queries(size, args.ref, args.repeat, only, reuse), indent=1), flush=True)
        return
    if args.mode == "warm":
        if not args.kb_dir:
            parser.error("warm needs --kb-dir (a folder with kb/ and state/store)")
        only = tuple(filter(None, args.queries.split(",")))
        small = Path(args.only_small) if args.only_small else None
        print(json.dumps(warm_on(Path(args.kb_dir), args.repeat, only, small), indent=1, ensure_ascii=False))
        return
    if args.mode == "compare-tables":
        if not args.work or not args.queries:
            parser.error("compare-tables needs --work (a folder with kb/ and state/) and --queries")
        names = tuple(filter(None, args.queries.split(",")))
        print(json.dumps(compare_tables(Path(args.work), args.ref, args.repeat, names), indent=1), flush=True)
        return
    if args.mode == "compare-build":
        for size in (int(s) for s in args.sizes.split(",")):
            refs = [ref for ref in args.ref.split(",") if ref]
            work = Path(args.work) if args.work else None
            print(json.dumps(compare_builds(size, refs, args.repeat, work), indent=1), flush=True)
        return
    if args.mode == "shipped":
        print(json.dumps(bench_shipped(max(args.repeat, 5)), indent=1))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        parts = PARTS if args.mode == "report" else tuple(args.parts.split(","))
        result = bench_size(size, args.repeat, size <= args.baseline_max, size <= args.pyshacl_max, parts)
        results.append(result)
        print(json.dumps(result, indent=1, ensure_ascii=False), flush=True)
    if args.mode == "report":
        from bench.report import write

        _log(f"report written: {write(results)}")


if __name__ == "__main__":
    main()

"""`python -m conformance [--parts sparql,shacl,owl] [--root PATH] [--json]`: run the harness, print each outcome.

Exit 0 when every comparison agrees or differs as known, 1 when one does not (a new difference, or a known one
that went away), 2 when a reference engine is not installed. One JVM runs Jena and the OWL API for every query,
validation and profile check while the Python engines run beside it; HermiT runs after it in a JVM of its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from kb.project import find_project

from . import engines, owl, shacl, sparql
from .outcome import Outcome, ToolMissing

PARTS = ("sparql", "shacl", "owl")


def _log(message: str) -> None:
    print(f"[conformance {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(
    root: Path | None = None,
    parts: tuple[str, ...] = PARTS,
    work: Path | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> list[Outcome]:
    """Every comparison of the chosen parts, over the knowledge base at `root`."""
    engines.check_tools()
    from kb.store import open_store

    # rdflib logs every ill-typed literal of the planted faults it parses; the engines report them
    logging.getLogger("rdflib").setLevel(logging.CRITICAL)
    project = find_project(root)
    with tempfile.TemporaryDirectory(prefix="conformance-") as temporary:
        folder = work or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        store = open_store(project)
        log("store open")
        batch: list[str] = []
        if "sparql" in parts:
            sparql_lines, queries = sparql.prepare(store, folder / "sparql")
            batch += sparql_lines
        if "shacl" in parts:
            graphs = shacl.data_graphs(project, store)
            batch += shacl.prepare(project, graphs, folder / "shacl")
        if "owl" in parts:
            owl_graphs = owl.inputs(project)
            batch += owl.prepare(owl_graphs, folder / "owl")
        (folder / "batch.tsv").write_text("\n".join(batch) + "\n", encoding="utf-8")
        # owlrl, the slowest Python engine, in a process of its own beside the JVM and the other engines
        reasoning = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        rl = reasoning.submit(owl.rl_outcomes, project.root) if "owl" in parts else None
        log(f"inputs ready; starting the JVM ({len(batch)} jobs)")
        jvm = engines.start_batch(folder / "batch.tsv")
        outcomes: list[Outcome] = []
        # the Python engines while the JVM works
        if "sparql" in parts:
            fast = sparql.run_oxigraph(store, queries)
            log("pyoxigraph done")
        if "shacl" in parts:
            reports = shacl.run_python_engines(project, graphs)
            log("pyshacl and pyshacl-turbo done")
        engines.finish(jvm, "Jena and the OWL API")
        log("Jena and the OWL API done")
        if "sparql" in parts:
            outcomes += sparql.compare(folder / "sparql", queries, fast)
        if "shacl" in parts:
            found, reference = shacl.compare(folder / "shacl", graphs, reports)
            outcomes += found + shacl.compare_kb_validate(project, folder / "shacl", graphs, reference)
            log("kb validate done")
        if "owl" in parts:
            outcomes += owl.compare_profile(folder / "owl")
            outcomes += owl.compare_hermit(folder / "owl", owl.run_hermit(folder / "owl"))
            log("HermiT done")
        if rl is not None:
            outcomes += rl.result()
            log("owlrl done")
        reasoning.shutdown()
        return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: sparql, shacl, owl")
    parser.add_argument("--root", type=Path, default=None, help="the knowledge base (default: found from here)")
    parser.add_argument("--json", action="store_true", help="one JSON object per outcome")
    parser.add_argument("--work", type=Path, default=None, help="keep the engines' inputs and answers in this folder")
    args = parser.parse_args(argv)
    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    if unknown := set(parts) - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    start = time.perf_counter()
    try:
        outcomes = run(args.root, parts, args.work, _log)
    except ToolMissing as exc:
        print(f"conformance: {exc}\n  hint: {exc.hint}", file=sys.stderr)
        return 2
    for item in outcomes:
        if args.json:
            print(json.dumps({**item.__dict__, "status": item.status, "ok": item.ok}, ensure_ascii=False))
        else:
            print(
                f"{item.status:<18} {item.part:<6} {item.name}  —  {item.detail}"
                + (f"\n{'':25}known: {item.known}" if item.known else "")
            )
    bad = [o for o in outcomes if not o.ok]
    print(
        f"{len(outcomes)} comparisons: {sum(o.same for o in outcomes)} same, "
        f"{sum(bool(o.known) and not o.same for o in outcomes)} known differences, {len(bad)} unexpected "
        f"({time.perf_counter() - start:.0f} s)",
        file=sys.stderr,
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

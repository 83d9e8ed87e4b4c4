"""pyshacl (the reference), pyshacl-turbo and Jena SHACL on the knowledge base and on planted faults; and what
`kb validate` reports beside them.

Every engine gets the same data graph (the set of the store's triples, or the ontology and shared facts with one
planted fault) with the same blank node labels, and ontology/shapes.ttl, with no inference. A validation
result is compared by its focus node, path, constraint component and severity (SHACL §3.6.2); the results
are the report's sh:result values (a result nested in another's sh:detail is not one of the report's results,
§3.6.2.6), compared as multisets. A focus node that is a blank node (a parameter) is shown by the subject and
property that lead to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

import kb
from kb.loader import load_file
from kb.namespaces import PREFIXES, shorten
from kb.project import Project

from .faults import SHACL_FAULTS, planted
from .outcome import Outcome, outcome

SH = PREFIXES["sh"]
RDF_TYPE = PREFIXES["rdf"] + "type"
ENGINES = ("pyshacl-turbo", "jena")  # each compared with pyshacl, the reference
SHARED_FACTS = ("sources.ttl", "agents.ttl", "documents.ttl")
# kb validate FILE beside the engines, on the faults where its report once differed (fixed in the validate package:
# blank-node results placed and kept, sh:detail not listed, ill-typed values typed in the Turtle report).
KB_FAULTS = ("bad-parameters", "category-from-another-scheme", "ill-typed-date")
_ILL_TYPED = (
    "pyshacl 0.40 gives no sh:lessThanOrEquals result when one of the two values is an ill-typed literal "
    '(cq:inForceUntil "2022-13-45"^^xsd:date); SHACL §4.4.4 wants one where the values cannot be compared '
    "(SPARQL's <= raises an error), as Jena and pyshacl-turbo give. kb reports the ill-typed literal itself "
    "(kb/queries/checks/ill-typed-literal-violation.rq)"
)
KNOWN = {
    "ill-typed-date: pyshacl-turbo": _ILL_TYPED,
    "ill-typed-date: jena": _ILL_TYPED,
}

Key = tuple[str, str, str, str]


def context_triples(project: Project) -> list[ox.Triple]:
    """The ontology and the shared facts: what a planted fault is validated with."""
    paths = [*project.ontology_files(), *(project.facts_dir / name for name in SHARED_FACTS)]
    paths += sorted((project.facts_dir / "reference").glob("*.ttl"))
    return [t for path in paths for t in load_file(path).triples]


def fault_triples(text: str) -> list[ox.Triple]:
    return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))


def data_graphs(project: Project, store: ox.Store) -> dict[str, list[ox.Triple]]:
    """The data each engine validates: the knowledge base, and every planted fault (each with subjects of its
    own) in the context of the ontology and the shared facts."""
    kb = list({ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, None)})
    faults = context_triples(project)
    for name in SHACL_FAULTS:
        faults += fault_triples(planted(name))
    return {"kb": kb, "faults": faults}


def fault_of(owner: str) -> str:
    """The planted fault a result is about, from the subject that owns its focus node ("" for the context)."""
    for prefix in ("measure:planted-", "obs:planted-"):
        if owner.startswith(prefix):
            return owner[len(prefix) :]
    return ""


def _rdflib(term):
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def to_rdflib(triples: list[ox.Triple]):
    """An rdflib graph with the same blank node labels as the N-Triples the other engines read."""
    import rdflib

    graph = rdflib.Graph()
    for triple in triples:
        graph.add((_rdflib(triple.subject), _rdflib(triple.predicate), _rdflib(triple.object)))
    return graph


def prepare(project: Project, graphs: dict[str, list[ox.Triple]], folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, triples in graphs.items():
        data = folder / f"{name}.nt"
        data.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
        lines.append(f"shacl\t{data}\t{project.shapes_file}\t{folder / name}.jena.nt")
    return lines


def run_python_engines(project: Project, graphs: dict[str, list[ox.Triple]]) -> dict[tuple[str, str], object]:
    """pyshacl and pyshacl-turbo reports (rdflib graphs), by (data name, engine)."""
    import pyshacl
    import pyshacl_turbo
    import rdflib

    shapes = rdflib.Graph().parse(project.shapes_file, format="turtle")
    reports: dict[tuple[str, str], object] = {}
    for name, triples in graphs.items():
        data = to_rdflib(triples)
        for engine, module in (("pyshacl", pyshacl), ("pyshacl-turbo", pyshacl_turbo)):
            _, report, _ = module.validate(
                data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
            )
            reports[(name, engine)] = report
    return reports


def _path(graph, node) -> str:
    """A property path as text: an IRI, or sh:alternativePath/sh:inversePath/a sequence of them."""
    import rdflib
    from rdflib.collection import Collection

    if isinstance(node, rdflib.URIRef):
        return shorten(str(node))
    sh = rdflib.Namespace(SH)
    for kind in ("alternativePath", "inversePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath"):
        inner = graph.value(node, sh[kind])
        if inner is not None:
            if kind == "alternativePath":
                return "alt(" + " | ".join(_path(graph, n) for n in Collection(graph, inner)) + ")"
            return f"{kind}({_path(graph, inner)})"
    if graph.value(node, rdflib.RDF.first) is not None:
        return "seq(" + " / ".join(_path(graph, n) for n in Collection(graph, node)) + ")"
    return "?"


def _node(node) -> str:
    import rdflib

    if isinstance(node, rdflib.BNode):
        return f"_:{node}"
    if isinstance(node, rdflib.URIRef):
        return shorten(str(node))
    return node.n3()


def results(report) -> tuple[Counter[Key], int]:
    """The report's results as (focus, path, component, severity), and how many results are nested (sh:detail)."""
    import rdflib

    sh = rdflib.Namespace(SH)
    keys: Counter[Key] = Counter()
    for top in report.subjects(rdflib.RDF.type, sh.ValidationReport):
        for result in report.objects(top, sh.result):
            path = report.value(result, sh.resultPath)
            keys[
                (
                    _node(report.value(result, sh.focusNode)),
                    _path(report, path) if path is not None else "",
                    _node(report.value(result, sh.sourceConstraintComponent)),
                    _node(report.value(result, sh.resultSeverity)),
                )
            ] += 1
    nested = len(set(report.objects(None, sh.detail)))
    return keys, nested


def _jena_report(folder: Path, name: str):
    out = folder / f"{name}.jena.nt"
    error = out.with_name(out.name + ".err")
    if error.exists():
        raise RuntimeError("Jena SHACL: " + error.read_text("utf-8")[:500])
    # pyoxigraph's parser keeps the blank node labels (rdflib's N-Triples parser renames them)
    return to_rdflib(list(ox.parse(path=out, format=ox.RdfFormat.N_TRIPLES)))


def _difference(reference: Counter[Key], other: Counter[Key]) -> str:
    missing, extra = reference - other, other - reference
    parts = []
    if missing:
        parts.append(f"{sum(missing.values())} missing, e.g. {next(iter(missing))}")
    if extra:
        parts.append(f"{sum(extra.values())} extra, e.g. {next(iter(extra))}")
    return "; ".join(parts)


def _by_fault(found: Counter[Key], owners: dict[str, str]) -> dict[str, Counter[Key]]:
    parts: dict[str, Counter[Key]] = {name: Counter() for name in ("", *SHACL_FAULTS)}
    for key, n in found.items():
        parts.setdefault(fault_of(owners.get(key[0], key[0])), Counter())[key] += n
    return parts


def compare(
    folder: Path, graphs: dict[str, list[ox.Triple]], reports: dict[tuple[str, str], object]
) -> tuple[list[Outcome], dict[str, Counter[Key]]]:
    """Each engine's results against pyshacl's: on the knowledge base, and per planted fault; and Jena's results
    by fault (what kb validate is compared with: Jena follows the spec where pyshacl does not, see KNOWN)."""
    outcomes = []
    owners = _owners(graphs["faults"])
    found = {
        (name, engine): results(_jena_report(folder, name) if engine == "jena" else reports[(name, engine)])[0]
        for name in graphs
        for engine in ("pyshacl", *ENGINES)
    }
    for engine in ENGINES:
        reference, other = found[("kb", "pyshacl")], found[("kb", engine)]
        detail = f"{sum(reference.values())} results" if reference == other else _difference(reference, other)
        outcomes.append(outcome("shacl", f"kb: {engine}", reference == other, detail, KNOWN))
    by_fault = {engine: _by_fault(found[("faults", engine)], owners) for engine in ("pyshacl", *ENGINES)}
    reference_results = by_fault["pyshacl"]
    for name in ("", *SHACL_FAULTS):
        reference = reference_results[name]
        caught = bool(reference) == (name not in ("", "valid"))
        label = name or "context (ontology and shared facts)"
        wanted = "no result" if name in ("", "valid") else "caught"
        outcomes.append(
            outcome("shacl", f"{label}: {wanted} (pyshacl)", caught, f"{sum(reference.values())} results", KNOWN)
        )
        for engine in ENGINES:
            other = by_fault[engine][name]
            same = other == reference
            detail = f"{sum(reference.values())} results" if same else _difference(reference, other)
            outcomes.append(outcome("shacl", f"{label}: {engine}", same, detail, KNOWN))
    return outcomes, by_fault["jena"]


# ---------------------------------------------------------------- kb validate beside the engines


def mini_project(project: Project, root: Path) -> Project:
    """A copy of the ontology, the shared facts and the source texts: the context the faults are validated in."""
    shutil.copytree(project.ontology_dir, root / "ontology")
    (root / "facts").mkdir(parents=True)
    for name in SHARED_FACTS:
        shutil.copy(project.facts_dir / name, root / "facts" / name)
    shutil.copytree(project.facts_dir / "reference", root / "facts" / "reference")
    shutil.copytree(project.sources_dir, root / "facts" / "sources")
    return Project(root)


def _kb(root: Path, state: Path, *args: str) -> str:
    # the kb this harness imported, whether installed or not
    code = str(Path(kb.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "KB_STATE_DIR": str(state),
        "PYTHONPATH": os.pathsep.join([code, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kb", "--root", str(root), *args], capture_output=True, env=env, check=False
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"kb {' '.join(args)} failed: {done.stderr.decode(errors='replace')[-800:]}")
    return done.stdout.decode("utf-8")


def _owners(triples: list[ox.Triple]) -> dict[str, str]:
    """Each blank node's nearest IRI subject (the measure of a parameter), as kb names a finding's subject."""
    parent = {f"_:{t.object.value}": t.subject for t in triples if isinstance(t.object, ox.BlankNode)}
    owners = {}
    for label, subject in parent.items():
        seen = set()
        while isinstance(subject, ox.BlankNode) and subject.value not in seen:
            seen.add(subject.value)
            subject = parent.get(f"_:{subject.value}", subject)
        owners[label] = shorten(subject.value) if isinstance(subject, ox.NamedNode) else label
    return owners


def compare_kb_validate(
    project: Project, folder: Path, graphs: dict[str, list[ox.Triple]], reference: dict[str, Counter[Key]]
) -> list[Outcome]:
    """`kb validate FILE…` and `kb validate` (the whole knowledge base) with planted faults: each engine result
    listed at a file:line, and no finding that no engine reports at the top level (a nested sh:detail one)."""
    root = folder / "mini"
    mini = mini_project(project, root)
    state = folder / "mini-state"
    paths = []
    for name in KB_FAULTS:
        paths.append(mini.facts_dir / f"{name}.ttl")
        paths[-1].write_text(planted(name), encoding="utf-8")
    runs = {
        "kb validate FILE": _kb(root, state, "validate", "--format", "json", *map(str, paths)),
        "kb validate": _kb(root, state, "validate", "--format", "json"),
    }
    for path in paths:
        path.unlink()
    owners = _owners(graphs["faults"])
    outcomes = []
    for command, output in runs.items():
        findings = json.loads(output)["findings"]
        for name in KB_FAULTS:
            # kb names a result by the subject that owns its focus node (a parameter's measure), its property
            # and severity, and lists results that say the same once: compared as sets
            expected = {
                (owners.get(focus, focus), result_path, severity.removeprefix("sh:").lower())
                for focus, result_path, _component, severity in reference[name]
            }
            mine = [f for f in findings if fault_of(f["subject"]) == name or f["file"].endswith(f"/{name}.ttl")]
            placed = {(f["subject"], f["property"], f["severity"]) for f in mine if f["line"] > 0}
            listed = {(f["subject"], f["property"], f["severity"]) for f in mine if f["check"] == "shacl"}
            missing, extra = expected - placed, listed - expected
            detail = f"{len(expected)} distinct engine results, kb lists {len(listed)}"
            if missing:
                detail += f"; {len(missing)} not at a file:line, e.g. {sorted(missing)[0]}"
            if extra:
                detail += f"; {len(extra)} that no engine reports at the top level, e.g. {sorted(extra)[0]}"
            outcomes.append(outcome("shacl", f"{command}: {name}", not missing and not extra, detail, KNOWN))
    outcomes.append(_ttl_value(root, state, mini))
    return outcomes


def _ttl_value(root: Path, state: Path, mini: Project) -> Outcome:
    """`kb validate --format ttl`: an ill-typed literal is reported as the data has it ("2022-13-45"^^xsd:date)."""
    import rdflib

    path = mini.facts_dir / "ill-typed-date.ttl"
    path.write_text(planted("ill-typed-date"), encoding="utf-8")
    report = rdflib.Graph().parse(data=_kb(root, state, "validate", "--format", "ttl", str(path)), format="turtle")
    path.unlink()
    sh = rdflib.Namespace(SH)
    values = {
        report.value(r, sh.value)
        for r in report.subjects(sh.resultPath, rdflib.URIRef(PREFIXES["cq"] + "inForceUntil"))
    } - {None}
    wanted = rdflib.Literal("2022-13-45", datatype=rdflib.XSD.date)
    # compared by lexical form and datatype (rdflib's == on an ill-typed literal compares values it has not got)
    same = bool(values) and all(
        (str(v), getattr(v, "datatype", None)) == ("2022-13-45", rdflib.XSD.date) for v in values
    )
    detail = f"sh:value {', '.join(v.n3() for v in values if v is not None) or 'missing'}; the data has {wanted.n3()}"
    return outcome("shacl", "kb validate --format ttl: ill-typed value", same, detail, KNOWN)

"""Validating new or changed files in the context of the knowledge base in the store.

The files are parsed here; what their subjects and references need from the rest of the knowledge base is read
from the store (never re-parsed, and the store is never rebuilt by force: it is built, as by any reader, only
when a file other than those being validated has changed since the last build).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from .. import store as kb_store
from ..derive import DERIVED_GRAPH, EFFECTS, MEASURE_INPUTS, SHARED_INPUTS, derive
from ..loader import Dataset, ParsedFile, load_file
from ..namespaces import PREFIXES
from ..project import Project
from ..query import select
from .checks import declared_terms
from .places import Locator, ParsedFiles
from .report import Report
from .run import run_checks

# What the shapes and checks follow from a new file's subjects into the rest of the knowledge base.
# (cq:source: the articles a cited document lists; cq:speaker: who spoke at an announcement; cq:script: a source's
# script, for quotes in traditional characters.)
_CONTEXT_PROPERTIES = (
    "rdf:type",
    "skos:inScheme",
    "cq:fileName",
    "cq:coversFrom",
    "cq:coversUntil",
    "cq:script",
    "cq:source",
    "cq:speaker",
)
# The measures of the new files' sources: a sibling from the same sentence may be in another file.
_SIBLING_PROPERTIES = ("rdf:type", "cq:source", "cq:quote", "cq:announcedAt")
_CONTEXT_QUERY = """
SELECT ?g ?s ?p ?o WHERE {{
  {{ VALUES ?s {{ {referenced} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(?p IN ({properties})) }}
  UNION {{ VALUES ?s {{ {subjects} }} GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ VALUES ?x {{ {subjects} }} ?x ?link ?s . GRAPH ?g {{ ?s ?p ?o }}
          FILTER(isBlank(?s) || ?p IN ({properties})) }}
  UNION {{ VALUES ?start {{ {replaced} }} ?start cq:replaces* ?s .
          GRAPH ?g {{ ?s cq:replaces ?o }} BIND(cq:replaces AS ?p) }}
  UNION {{ GRAPH ?g {{ ?s rdfs:subClassOf ?o }} BIND(rdfs:subClassOf AS ?p) }}
  UNION {{ VALUES ?src {{ {sources} }} ?s cq:source ?src ; a cq:Measure . GRAPH ?g {{ ?s ?p ?o }}
          FILTER(?p IN ({siblings})) }}
}}"""


def _open_context(project: Project, ignored: set[str]) -> ox.Store:
    """The store, built first only when a file other than those being validated changed since the last build."""
    if not kb_store.is_fresh(project, frozenset(ignored)):
        kb_store.build(project)
    return kb_store.open_snapshot(kb_store.store_link(project))


def _values(terms: Iterable[str]) -> str:
    return " ".join(f"<{t}>" for t in sorted(terms)) or "<urn:kb:none>"


def _context_quads(
    kb: ox.Store, files: list[ParsedFile], exclude_graphs: set[str], derived: list[ox.Quad]
) -> list[ox.Quad]:
    """From the knowledge base: what the new files' subjects and references (and the concepts their derived periods
    name: bases, statuses) need to be checked."""
    subjects: set[str] = set()
    referenced = {q.object.value for q in derived if isinstance(q.object, ox.NamedNode)}
    replaced: set[str] = set()
    sources: set[str] = set()
    replaces, source = PREFIXES["cq"] + "replaces", PREFIXES["cq"] + "source"
    for parsed in files:
        for triple in parsed.triples:
            for term in (triple.subject, triple.object):
                if isinstance(term, ox.NamedNode):
                    referenced.add(term.value)
            if isinstance(triple.subject, ox.NamedNode):
                subjects.add(triple.subject.value)
            if triple.predicate.value == replaces and isinstance(triple.object, ox.NamedNode):
                replaced.add(triple.object.value)
            if triple.predicate.value == source and isinstance(triple.object, ox.NamedNode):
                sources.add(triple.object.value)
    text = _CONTEXT_QUERY.format(
        referenced=_values(referenced),
        subjects=_values(subjects),
        replaced=_values(replaced),
        sources=_values(sources),
        properties=", ".join(_CONTEXT_PROPERTIES),
        siblings=", ".join(_SIBLING_PROPERTIES),
    )
    quads = []
    for row in select(kb.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)):
        if row["g"].value not in exclude_graphs:
            quads.append(ox.Quad(row["s"], row["p"], row["o"], row["g"]))
    return quads


# The knowledge base's measures a new file's periods depend on: those linked with its subjects either way, every
# blanket repeal (it may end one of them), and, for a blanket repeal in the files, the measures in its places.
_RELATED_QUERY = """
SELECT DISTINCT ?m WHERE {{
  {{ VALUES ?n {{ {subjects} }} VALUES ?effect {{ {effects} }} GRAPH ?g {{ ?n ?effect ?m }} }}
  UNION {{ VALUES ?n {{ {subjects} }} VALUES ?effect {{ {effects} }} GRAPH ?g {{ ?m ?effect ?n }} }}
  UNION {{ GRAPH ?g {{ ?m cq:repealsInconsistentWith ?any }} }}
  UNION {{ VALUES ?scope {{ {scopes} }} ?place cq:within* ?scope . GRAPH ?g {{ ?m cq:appliesTo ?place }} }}
  FILTER(isIRI(?m) && ?g NOT IN ({excluded}))
}}"""
_INPUTS_QUERY = """
SELECT ?g ?s ?p ?o WHERE {{
  {{ VALUES ?s {{ {measures} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(?p IN (rdf:type, {measure_inputs})) }}
  UNION {{ VALUES ?p {{ {shared_inputs} }} GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ GRAPH ?g {{ ?s a cq:Source }} BIND(rdf:type AS ?p) BIND(cq:Source AS ?o) }}
  FILTER(?g NOT IN ({excluded}))
}}"""


def _derived_quads(kb: ox.Store, files: list[ParsedFile], exclude_graphs: set[str]) -> list[ox.Quad]:
    """The derived graph's statements about the files' measures, as a build with the files in it would write them.

    The periods are derived (kb/derive.py, the build's own rules) from the files and what of the knowledge base they
    depend on (_RELATED_QUERY: each such measure's dates, places and links; the places and sources whole); a measure
    outside the files may lack some of its own links here, so only what concerns the files' measures is kept: their
    bounds, spans and possible ends, and the possible ends a blanket repeal in the files gives earlier measures.
    """
    subjects = {_iri(t.subject) for f in files for t in f.triples} - {""}
    repeal, applies = PREFIXES["cq"] + "repealsInconsistentWith", PREFIXES["cq"] + "appliesTo"
    notices = {t.subject for f in files for t in f.triples if t.predicate.value == repeal}
    scopes = {_iri(t.object) for f in files for t in f.triples if t.subject in notices and t.predicate.value == applies}
    excluded = ", ".join(f"<{g}>" for g in sorted(exclude_graphs | {DERIVED_GRAPH}))
    related = _RELATED_QUERY.format(
        subjects=_values(subjects), effects=_values(EFFECTS), scopes=_values(scopes), excluded=excluded
    )
    measures = subjects | {
        row["m"].value for row in select(kb.query(related, prefixes=PREFIXES, use_default_graph_as_union=True))
    }
    inputs = Dataset(files).to_store()
    text = _INPUTS_QUERY.format(
        measures=_values(measures),
        measure_inputs=", ".join(f"<{p}>" for p in MEASURE_INPUTS),
        shared_inputs=_values(SHARED_INPUTS),
        excluded=excluded,
    )
    rows = select(kb.query(text, prefixes=PREFIXES, use_default_graph_as_union=True))
    inputs.extend(ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in rows)
    derive(inputs)
    graph = ox.NamedNode(DERIVED_GRAPH)
    derived = list(inputs.quads_for_pattern(None, None, None, graph))
    span_of, ended_by = ox.NamedNode(PREFIXES["cq"] + "spanOf"), PREFIXES["cq"] + "possiblyEndedBy"
    spans = {q.subject for q in derived if q.predicate == span_of and _iri(q.object) in subjects}
    return [
        q
        for q in derived
        if _iri(q.subject) in subjects
        or q.subject in spans
        or (q.predicate.value == ended_by and _iri(q.object) in subjects)
    ]


def _iri(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode) else ""


def _name_of(project: Project, path: Path) -> str:
    """How a file is named in findings: relative to the project inside it, else its full path.

    A file outside the project never takes the name (and so the graph) of one in ontology/ or facts/.
    """
    try:
        inside = path.resolve().is_relative_to(project.root.resolve())
    except (OSError, RuntimeError):  # a loop of links: load_file says so
        inside = False
    return project.relative(path) if inside else os.path.abspath(path)


def validate_in_context(project: Project, paths: list[Path], engine: str = "pyshacl") -> Report:
    """Validate new or changed files against the knowledge base in the store, without re-parsing it.

    Findings are those a validation of the whole knowledge base would report in these files.
    """
    given = {_name_of(project, p): p for p in paths}
    files = [load_file(path, name, project.root) for name, path in given.items()]
    own_graphs = {parsed.graph for parsed in files}
    kb = _open_context(project, set(given))
    store = Dataset(files).to_store()
    # the knowledge base's own derived graph is not read: it was derived without the files (stale for a changed one)
    derived = _derived_quads(kb, files, own_graphs)
    store.extend(_context_quads(kb, files, own_graphs | {DERIVED_GRAPH}, derived))
    store.extend(derived)
    focus: dict[str, ox.NamedNode | ox.BlankNode] = {}
    for parsed in files:
        for triple in parsed.triples:
            if not isinstance(triple.subject, ox.Triple):
                focus.setdefault(str(triple.subject), triple.subject)
    declared = declared_terms(kb, own_graphs) | declared_terms(store)
    locator = Locator(ParsedFiles(files), store)
    return run_checks(project, store, locator, declared, list(focus.values()), set(given), engine, reference=kb)

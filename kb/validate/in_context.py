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


def _context_quads(kb: ox.Store, files: list[ParsedFile], exclude_graphs: set[str]) -> list[ox.Quad]:
    """From the knowledge base: what the new files' subjects and references need to be checked."""
    subjects: set[str] = set()
    referenced: set[str] = set()
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
    store.extend(_context_quads(kb, files, own_graphs))
    focus: dict[str, ox.NamedNode | ox.BlankNode] = {}
    for parsed in files:
        for triple in parsed.triples:
            if not isinstance(triple.subject, ox.Triple):
                focus.setdefault(str(triple.subject), triple.subject)
    declared = declared_terms(kb, own_graphs) | declared_terms(store)
    locator = Locator(ParsedFiles(files), store)
    return run_checks(project, store, locator, declared, list(focus.values()), set(given), engine, reference=kb)

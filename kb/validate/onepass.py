"""*-violation checks whose query the store answers slowly at scale, computed in one pass in Python with the rows
the query gives (the .rq file stays the named query and the reference: tests/cli/test_validate_onepass.py
compares both on planted faults). `ROWS[name](store)` → the query's rows, each a dict of variable → term; those
rows are computed in kb/query/onepass.py, which `kb query` and `kb serve` use too. Also here:
duplicate-conflict-violation's rows from the subjects two graphs describe (the whole-store validation knows them
from the location index), and ill-typed-literal-violation's query read over the curated graphs only."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from ..derive import DERIVED_GRAPH
from ..namespaces import GRAPH_BASE, PREFIXES, RDF_TYPE, expand
from ..query import QUERY_DIR, select
from ..query.onepass import ROWS, Rows, sibling_announcement_mismatch

__all__ = ["ROWS", "Rows", "sibling_announcement_mismatch"]


# duplicate-conflict-violation.rq, from the subjects that two graphs describe (the location index knows them)

_GRAPHS = GRAPH_BASE
_QUERY = QUERY_DIR / "checks" / "duplicate-conflict-violation.rq"
# the single-valued properties, as the query lists them (VALUES ?property)
_SINGLE_VALUED = frozenset(
    expand(name) or name
    for name in re.search(r"VALUES \?property \{([^}]*)\}", _QUERY.read_text("utf-8")).group(1).split()  # type: ignore[union-attr]
)


# the second part of the query's candidates, as it finds them (a lookup per typed subject in Python is 4x slower)
_DERIVED_SHARED = f"""SELECT DISTINCT ?subject WHERE {{
  GRAPH <{DERIVED_GRAPH}> {{ ?subject a ?derivedType }}
  FILTER(isIRI(?subject))
  FILTER EXISTS {{ GRAPH ?g {{ ?subject ?p ?o }} FILTER(?g != <{DERIVED_GRAPH}>) }}
}}"""


def duplicate_candidates(store: ox.Store, shared: set[str]) -> set[str]:
    """The subjects duplicate-conflict-violation.rq can report: `shared` (those two curated files describe, from
    the location index) and those the derived graph types that a curated graph describes too."""
    return shared | {row["subject"].value for row in select(store.query(_DERIVED_SHARED))}


def _lang(term: object) -> str:
    return (term.language or "") if isinstance(term, ox.Literal) else ""


def _file(graph: str) -> str:
    return graph[len(_GRAPHS) :] if graph.startswith(_GRAPHS) else graph


def _str(term: object) -> str | None:
    """SPARQL's STR: a blank node or a quoted triple has none (the query's message is then unbound)."""
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else None


def duplicate_conflict(store: ox.Store, candidates: set[str]) -> Rows:
    """duplicate-conflict-violation.rq's rows, looking only at `candidates` (duplicate_candidates) one by one."""
    found: set[tuple[str, str, str, str, bool]] = set()  # (subject, property, graph, message, in Chinese)
    for subject in sorted(candidates):
        graphs: dict[str, set[tuple[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]]] = defaultdict(set)
        for quad in store.quads_for_pattern(ox.NamedNode(subject), None, None, None):
            if isinstance(quad.graph_name, ox.NamedNode):
                graphs[quad.graph_name.value].add((quad.predicate.value, quad.object))
        for graph, statements in graphs.items():
            for other, theirs in graphs.items():
                if other == graph:
                    continue
                typed = any(p == RDF_TYPE for p, _ in theirs)
                adds = typed and not graph.startswith((_GRAPHS + "ontology/", _GRAPHS + "derived/"))
                for prop, here in statements:
                    if (prop, here) in theirs:
                        continue
                    single = prop in _SINGLE_VALUED
                    same = [t for p, t in theirs if p == prop and _lang(t) == _lang(here)] if single else []
                    for there in same:
                        values = (_str(there), _str(here))
                        message = (
                            f"also described in {_file(other)}.ttl with a different value ({values[0]} there, "
                            f"{values[1]} here): keep one value, in one file"
                        )
                        found.add((subject, prop, graph, message if None not in values else "", False))
                    if adds and not same:
                        name = re.sub(r"^.*[#/]", "", prop)
                        message = (
                            f"adds {name} {_str(here)} to a thing {_file(other)}.ttl describes: make the statement "
                            "in that file, not in another"
                        )
                        found.add((subject, prop, graph, message if _str(here) is not None else "", True))
    rows: Rows = []
    for subject, prop, graph, message, zh in sorted(found):
        row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] = {
            "subject": ox.NamedNode(subject),
            "property": ox.NamedNode(prop),
            "graph": ox.NamedNode(graph),
        }
        if message:  # unbound in the query where a value has no string (a blank node)
            row["message"] = ox.Literal(message)
        if zh:
            row["message_zh"] = ox.Literal("为另一文件已描述的资源添加陈述：请在该文件中修改")
        rows.append(row)
    return rows


# ill-typed-literal-violation.rq over the graphs a file gives, not the derived one: kb/derive.py writes its dates
# from date.isoformat() and its other literals as plain strings, none of them ill-typed, and the derived graph is
# 40% of the store's quads (each costs the query an evaluation of its filters).
_EVERY_TRIPLE = "  ?subject ?property ?value .\n"


def curated_graphs_only(text: str, store: ox.Store) -> str:
    """The query `text`, its pattern over every triple (_EVERY_TRIPLE) read in each graph but the derived one
    (unchanged when the store has triples in its default graph: then every triple is read)."""
    if _EVERY_TRIPLE not in text or next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None):
        return text
    graphs = " ".join(f"<{g.value}>" for g in store.named_graphs() if g.value != DERIVED_GRAPH)
    pattern = f"  VALUES ?g {{ {graphs or '<urn:kb:none>'} }} GRAPH ?g {{ ?subject ?property ?value }}\n"
    return text.replace(_EVERY_TRIPLE, pattern)


_SAFE_LEXICAL = re.compile(r'[^"\\\x00-\x1f\x7f]*')  # a lexical form written in a query as it is


def ill_typed_from_objects(text: str, store: ox.Store, objects: Iterable[tuple[str, object]]) -> str | None:
    """ill-typed-literal-violation's query (`text`), its scan of every curated triple replaced by the values found
    ill-typed among `objects` (the distinct (graph, object) pairs of the curated graphs, prefilter.GraphObjects):
    the typed literals of the datatypes the query names are judged by the query's own expression, each once, and
    only triples with a value it rejects are read. "" when none is rejected; None when the query cannot be
    narrowed so (its text changed, or a lexical form that would need escaping in a query)."""
    code = curated_graphs_only(text, store)
    datatypes = re.search(r"FILTER\(\?datatype IN \(([^)]*)\)\)", text)
    parsed = re.search(r"BIND\(IF\(\?datatype = .*? AS \?parsed\)", text, re.DOTALL)
    pattern = "GRAPH ?g { ?subject ?property ?value }"
    if datatypes is None or parsed is None or pattern not in code:
        return None
    names = {expand(name.strip()) or name.strip() for name in datatypes.group(1).split(",")}
    candidates: dict[ox.Literal, None] = {}
    for _graph, term in objects:
        if isinstance(term, ox.Literal) and term.datatype.value in names:
            if _SAFE_LEXICAL.fullmatch(term.value) is None:
                return None
            candidates[term] = None
    if not candidates:
        return ""
    judged = (
        f"SELECT ?value WHERE {{ VALUES ?value {{ {' '.join(str(c) for c in candidates)} }} "
        f"BIND(DATATYPE(?value) AS ?datatype) {parsed.group(0)} FILTER(!BOUND(?parsed)) }}"
    )
    rejected = [row["value"] for row in select(store.query(judged, prefixes=PREFIXES))]
    if not rejected:
        return ""
    return code.replace(pattern, f"VALUES ?value {{ {' '.join(str(v) for v in rejected)} }} {pattern}")

"""The triples of a built store that each per-file check can report on, found by a few queries over the store.

The per-file checks of checks.py (vocabulary, declarations, literals) look at every triple of a file one at a
time and report the ones that match a rule; none depends on the order of the triples or on the triples it does
not report. So handing each check only the triples that *could* match its rule (a superset, chosen here by what
the store can answer from its indexes and one scan of the curated graphs) gives the same findings as handing it
every triple, without a Python object per triple of the knowledge base (reading every triple back from the store
three times was a fifth of a full validation). tests/cli/test_validate_prefilter.py plants a fault of every rule and
compares the findings with those of the files parsed afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..derive import DERIVED_GRAPH
from ..namespaces import PREFIXES, RDF_TYPE, STANDARD_NAMESPACES
from ..query import select
from .checks import (
    _LOCAL_NAMESPACES,
    _QUOTE,
    _VOCABULARY_PROPERTIES,
    SUSPECT_CHARACTER,
    _described_in,
    _namespace_of,
    _vocabulary_classes,
    too_short_for_evidence,
)
from .places import IndexedFiles

# Every character literal_findings can object to: the control characters (Unicode's Cc category is exactly
# U+0000-U+001F and U+007F-U+009F) and the bidirectional controls; TAB, LF and CR are decided by the check.
_SUSPECT_TEXT = r"[\\x00-\\x1F\\x7F-\\x9F\\x{202A}-\\x{202E}\\x{2066}-\\x{2069}]"
_SH = PREFIXES["sh"]


@dataclass
class FileSubset:
    """A file's name and the subset of its triples (as the store holds them) that one check is given."""

    name: str
    triples: list[ox.Triple] = field(default_factory=list)


def _values(graphs: Iterable[str]) -> str:
    return " ".join(f"<{g}>" for g in graphs) or "<urn:kb:none>"


class GraphObjects:
    """Every distinct (graph, object) of the store's named graphs but the derived one, read once for the checks
    that look for objects of one kind (IRIs, literals with a suspect character, typed literals): a scan without a
    FILTER, which the store answers from its indexes, where a FILTER makes it decode every term of the scan (each
    of those checks' own query was a full scan as dear as this one)."""

    def __init__(self, store: ox.Store) -> None:
        self.graphs = {g.value for g in store.named_graphs() if g.value != DERIVED_GRAPH}
        values = _values(sorted(self.graphs))
        query = f"SELECT DISTINCT ?g ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        self.pairs = [(row[0].value, row[1]) for row in store.query(query)]  # type: ignore[union-attr]

    def covers(self, graphs: Iterable[str]) -> bool:
        return all(g in self.graphs for g in graphs)


class StoreCandidates:
    """What the per-file checks can report on in the named files of a built store, one query per kind of term."""

    def __init__(self, files: IndexedFiles, names: list[str], objects: GraphObjects | None = None) -> None:
        self.files = files
        self.store = files.store
        self.names = names
        self._graphs = {files.graph(name): name for name in names}
        self._objects = objects if objects is not None and objects.covers(self._graphs) else None
        values = _values(self._graphs)
        rows = select(
            self.store.query(f"SELECT DISTINCT ?g ?p WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
        )
        self.predicates = [(row["g"].value, row["p"]) for row in rows]
        rows = select(
            self.store.query(f"SELECT DISTINCT ?g ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s a ?o }} }}")
        )
        self.classes = [(row["g"].value, row["o"]) for row in rows if isinstance(row["o"], ox.NamedNode)]
        # every IRI object, the local ones picked here (a STRSTARTS in the query costs more than the rows it saves)
        if self._objects is not None:
            graphs = self._graphs
            self.iri_objects = [(g, o) for g, o in self._objects.pairs if g in graphs and isinstance(o, ox.NamedNode)]
        else:
            query = (
                f"SELECT DISTINCT ?g ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?o)) }}"
            )
            rows = select(self.store.query(query))
            self.iri_objects = [(row["g"].value, row["o"]) for row in rows]
        self.local_objects = [(g, o) for g, o in self.iri_objects if o.value.startswith(_LOCAL_NAMESPACES)]

    def _subsets(self, names: list[str], quads: Iterator[ox.Quad]) -> list[FileSubset]:
        subsets = {name: FileSubset(name) for name in names}
        seen: set[ox.Quad] = set()
        for quad in quads:
            if quad in seen:
                continue
            seen.add(quad)
            subset = subsets.get(self._graphs.get(quad.graph_name.value, ""))  # type: ignore[union-attr]
            if subset is not None:
                subset.triples.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        return [subsets[name] for name in names]

    def _pattern(self, s: object, p: object, o: object, graph: str) -> Iterator[ox.Quad]:
        return self.store.quads_for_pattern(s, p, o, ox.NamedNode(graph))  # type: ignore[arg-type]

    def vocabulary(self, names: list[str], declared: set[str]) -> list[FileSubset]:
        """Triples whose predicate, class or local term is declared neither in the ontology nor a standard
        vocabulary (vocabulary_findings' rule)."""

        def unknown(iri: str) -> bool:
            standard = iri.startswith(STANDARD_NAMESPACES) and not iri.startswith(_LOCAL_NAMESPACES)
            return iri not in declared and not standard

        type_node = ox.NamedNode(RDF_TYPE)

        def quads() -> Iterator[ox.Quad]:
            for graph, predicate in self.predicates:
                if unknown(predicate.value):
                    yield from self._pattern(None, predicate, None, graph)
            for graph, cls in self.classes:
                if unknown(cls.value):
                    yield from self._pattern(None, type_node, cls, graph)
            for graph, term in self.local_objects:
                if unknown(term.value):
                    yield from self._pattern(None, None, term, graph)

        return self._subsets(names, quads())

    def declarations(self, names: list[str]) -> list[FileSubset]:
        """Triples that declare vocabulary: typed as a vocabulary class, or with a vocabulary or SHACL property
        (declaration_findings' rule)."""
        classes = _vocabulary_classes(self.store)
        type_node = ox.NamedNode(RDF_TYPE)

        def quads() -> Iterator[ox.Quad]:
            for graph, predicate in self.predicates:
                if predicate.value in _VOCABULARY_PROPERTIES or predicate.value.startswith(_SH):
                    yield from self._pattern(None, predicate, None, graph)
            for graph, cls in self.classes:
                if cls.value in classes:
                    yield from self._pattern(None, type_node, cls, graph)

        return self._subsets(names, quads())

    def references(self, names: list[str]) -> list[FileSubset]:
        """Triples linking (other than by rdf:type) to an IRI of a knowledge-base namespace that no file of the
        store describes (reference_findings' rule when the store is its own reference): each object looked up once."""
        type_node = ox.NamedNode(RDF_TYPE)
        described: dict[ox.NamedNode, bool] = {}

        def quads() -> Iterator[ox.Quad]:
            for graph, term in self.iri_objects:
                if not _namespace_of(term.value):
                    continue
                if term not in described:
                    described[term] = _described_in(self.store, term.value, set())
                if not described[term]:
                    for quad in self._pattern(None, None, term, graph):
                        if quad.predicate != type_node:
                            yield quad

        return self._subsets(names, quads())

    def literals(self, names: list[str]) -> list[FileSubset]:
        """Literals with a control or bidirectional character, and every quote (literal_findings' rule), or only the
        quotes too short to be evidence when the distinct objects are known."""
        graphs = [self.files.graph(name) for name in names]
        quote = ox.NamedNode(_QUOTE)

        def quads() -> Iterator[ox.Quad]:
            if self._objects is not None and self._objects.covers(graphs):
                # from the distinct literals: those with a suspect character, and those too short to be a quote
                # (a quote that is neither cannot be reported, whatever its predicate)
                # (a text without a suspect character can only be reported as a quote: only its cq:quote triples)
                wanted = set(graphs)
                for graph, term in self._objects.pairs:
                    if graph not in wanted or not isinstance(term, ox.Literal):
                        continue
                    if SUSPECT_CHARACTER.search(term.value):
                        yield from self._pattern(None, None, term, graph)
                    elif too_short_for_evidence(term.value):
                        yield from self._pattern(None, quote, term, graph)
                return
            for graph in graphs:
                yield from self._pattern(None, quote, None, graph)
            rows = self.store.query(
                f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {_values(graphs)} }} GRAPH ?g {{ ?s ?p ?o }} "
                f'FILTER(isLiteral(?o) && REGEX(STR(?o), "{_SUSPECT_TEXT}")) }}'
            )
            for row in select(rows):
                yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

        return self._subsets(names, quads())

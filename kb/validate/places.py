"""Where a finding is: the file and line of a subject (and of one of its properties) in the files that describe it.

Two ways to know the files: the parsed files themselves (validating new files in context), or the store's
location index (validating the whole knowledge base from the store), where a file is re-read only when a
finding needs a line inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from ..loader import ParsedFile, graph_iri
from ..namespaces import shorten


def _line(parsed: ParsedFile, subject: str, prop: str | None) -> int:
    """The line of a subject the file describes: the fast scan's, else the exact scan's, else 0 (unknown)."""
    line = parsed.line_of(subject, prop)
    if line is None and parsed.rescan():
        line = parsed.line_of(subject, prop)
    return line or 0


def node(text: str) -> ox.NamedNode | ox.BlankNode | None:
    """The node an IRI or _:id stands for (None when it is neither)."""
    try:
        return ox.BlankNode(text[2:]) if text.startswith("_:") else ox.NamedNode(text) if text else None
    except ValueError:
        return None


def key(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else "_:" + term.value


def display(text: str) -> str:
    """How a subject is shown: its prefixed name, or [] for a blank node (its id differs from one parse to the next)."""
    return "[]" if text.startswith("_:") else shorten(text)


def term_text(term: object) -> str:
    if isinstance(term, ox.NamedNode | ox.BlankNode):
        return display(key(term))
    return "" if term is None else str(term)


class ParsedFiles:
    """Files already parsed (the files being validated in context): their subjects are known without the store."""

    def __init__(self, files: list[ParsedFile]) -> None:
        self.files = files
        self.names = [parsed.name for parsed in files]
        self._by_name = {parsed.name: parsed for parsed in files}
        self._graphs = {parsed.name: parsed.graph for parsed in files}

    def graph(self, name: str) -> str:
        return self._graphs[name]

    def parsed(self, name: str) -> ParsedFile:
        return self._by_name[name]

    def mentions(self, name: str, subject: str) -> bool:
        """Whether the file's own scan places the subject (without rescanning)."""
        return bool(subject) and self._by_name[name].line_of(subject) is not None

    def triples(self, name: str) -> list[ox.Triple]:
        return self._by_name[name].triples


class IndexedFiles:
    """The input files of a built store: subjects placed by the store's location index, and a file parsed again
    only when a finding needs a line the index does not keep (a property's line, a blank node's)."""

    def __init__(
        self,
        store: ox.Store,
        names: list[str],
        index: dict[str, list[list[str | int]]],
        load: Callable[[str], ParsedFile],
    ) -> None:
        self.store = store
        self.names = names
        self._graphs = {name: graph_iri(name) for name in names}
        self._index = index
        self._load = load
        self._parsed: dict[str, ParsedFile] = {}

    def graph(self, name: str) -> str:
        return self._graphs[name]

    def parsed(self, name: str) -> ParsedFile:
        if name not in self._parsed:
            self._parsed[name] = self._load(name)
        return self._parsed[name]

    def mentions(self, name: str, subject: str) -> bool:
        if subject.startswith("_:"):
            # labelled blank nodes are not in the index: the file's own scan knows them
            return name in self._parsed and self._parsed[name].line_of(subject) is not None
        return any(entry[0] == name for entry in self._index.get(subject, ()))

    def shared_subjects(self) -> set[str]:
        """The subjects the index lists under more than one file."""
        return {subject for subject, entries in self._index.items() if len({e[0] for e in entries}) > 1}

    def triples(self, name: str) -> Iterator[ox.Triple]:
        """The file's triples as the store holds them (its named graph)."""
        for quad in self.store.quads_for_pattern(None, None, None, ox.NamedNode(self._graphs[name])):
            yield ox.Triple(quad.subject, quad.predicate, quad.object)


@dataclass
class StoredFile:
    """A file as the store holds it: its name and the triples of its named graph."""

    name: str
    source: IndexedFiles

    @property
    def triples(self) -> Iterator[ox.Triple]:
        return self.source.triples(self.name)


class Locator:
    """Finds the file and line of subjects over a store (in-memory or built) and the files that describe them."""

    def __init__(self, files: ParsedFiles | IndexedFiles, store: ox.Store) -> None:
        self.files = files
        self.store = store

    def owner(self, node: ox.NamedNode | ox.BlankNode) -> ox.NamedNode | ox.BlankNode:
        """The named subject a blank node hangs from (a parameter's measure)."""
        seen = set()
        while isinstance(node, ox.BlankNode) and node not in seen:
            seen.add(node)
            parents = [q.subject for q in self.store.quads_for_pattern(None, None, node)]
            if not parents or isinstance(parents[0], ox.Triple):
                break
            node = parents[0]
        return node

    def where(self, subject: str, prop: str | None, graph: str | None = None) -> list[tuple[str, int]]:
        """(file, line) of a subject's property in each file that describes the subject (or in `graph`'s file).

        `subject` is an IRI or _:id. A subject described in several files is reported in each, so that checking
        one of them in the context of the others gives the same findings for it as checking the whole knowledge
        base. Where no line can be found (a [] subject, an IRI written in a way the scan does not resolve),
        the place is the file, line 0: a finding is never dropped for want of a line.
        """
        places = []
        term = node(subject)
        for name in self.files.names:
            if graph is not None and self.files.graph(name) != graph:
                continue
            if not self.files.mentions(name, subject) and (
                term is None or not self._describes(self.files.graph(name), term)
            ):
                continue
            parsed = self.files.parsed(name)
            line = parsed.line_of(subject, prop) if subject else None
            places.append((name, line if line is not None else _line(parsed, subject, prop)))
        return places or [("", 0)]

    def line(self, name: str, subject: str, prop: str | None) -> int:
        """The line of a subject (or its property) in one file: the exact scan's when the fast one misses it."""
        return _line(self.files.parsed(name), subject, prop)

    def _describes(self, graph: str, term: ox.NamedNode | ox.BlankNode) -> bool:
        quads = self.store.quads_for_pattern(term, None, None, ox.NamedNode(graph))
        return next(iter(quads), None) is not None

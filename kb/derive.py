"""The derived graph: effective periods computed at build time from the curated graphs, kept in a graph of their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import cast

import pyoxigraph as ox

from .namespaces import BASE_ID, CQ, GRAPH_BASE, PREFIXES, RDF_TYPE, XSD_DATE, shorten
from .periods import (
    Basis,
    Bound,
    Link,
    MeasureDates,
    Period,
    Repeal,
    SourcePeriod,
    Status,
    Window,
    coverage_windows,
    derive_periods,
)

DERIVED_GRAPH = GRAPH_BASE + "derived/periods"

BASIS_CONCEPTS: dict[Basis, str] = {
    Basis.STATED_START: CQ + "StatedStartBasis",
    Basis.ANNOUNCED: CQ + "AnnouncedBasis",
    Basis.ATTESTED: CQ + "AttestedBasis",
    Basis.STATED_END: CQ + "StatedEndBasis",
    Basis.ENDED_BY: CQ + "EndedByBasis",
    Basis.SUPERSEDED_BY: CQ + "SupersededByBasis",
    Basis.POSSIBLY_ENDED: CQ + "PossiblyEndedBasis",
    Basis.COVERAGE_ENDS: CQ + "CoverageEndsBasis",
    Basis.NO_START: CQ + "NoDateBasis",
}
STATUS_CONCEPTS: dict[Status, str] = {
    Status.IN_FORCE: CQ + "InForce",
    Status.PRESUMED: CQ + "PresumedInForce",
    Status.UNKNOWN: CQ + "StatusUnknown",
}
_GRAPH = ox.NamedNode(DERIVED_GRAPH)
_Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class Facts:
    """The curated triples the derivation reads: per predicate, (subject IRI, object) pairs, read from a store.

    Of rdf:type only the measures and sources are read (the derivation needs no other class); every quad is read
    by the store's own index for its predicate, so the rest of the knowledge base is never decoded.
    """

    PREDICATES = frozenset(
        [RDF_TYPE]
        + [
            CQ + local
            for local in (
                "appliesTo",
                "announced",
                "inForceFrom",
                "inForceUntil",
                "attestedInForce",
                "ends",
                "replaces",
                "amends",
                "restates",
                "implements",
                "repealsInconsistentWith",
                "leavesUnaffected",
                "coversFrom",
                "coversUntil",
                "coversPlace",
                "within",
            )
        ]
    )
    CLASSES = (CQ + "Measure", CQ + "Source")  # the only objects of rdf:type read

    def __init__(self) -> None:
        self.pairs: dict[str, list[tuple[str, _Term]]] = {p: [] for p in self.PREDICATES}

    @classmethod
    def of_store(cls, store: ox.Store) -> Facts:
        """The facts of a filled store (the build's, after loading the files; validation's in-memory one), never the
        derived graph's own. One SELECT per predicate: a solution decodes only the two terms asked for, which costs
        a third of reading the whole quads."""
        facts = cls()
        outside = f"FILTER(?g != <{DERIVED_GRAPH}>)"
        for predicate in cls.PREDICATES - {RDF_TYPE}:
            pairs = facts.pairs[predicate]
            rows = store.query(f"SELECT ?s ?o {{ GRAPH ?g {{ ?s <{predicate}> ?o }} {outside} }}")
            for subject, value in cast(ox.QuerySolutions, rows):
                if isinstance(subject, ox.NamedNode):
                    pairs.append((subject.value, value))
        for kind in cls.CLASSES:
            pairs, node = facts.pairs[RDF_TYPE], ox.NamedNode(kind)
            rows = store.query(f"SELECT ?s {{ GRAPH ?g {{ ?s <{RDF_TYPE}> <{kind}> }} {outside} }}")
            for (subject,) in cast(ox.QuerySolutions, rows):
                if isinstance(subject, ox.NamedNode):
                    pairs.append((subject.value, node))
        return facts


def _iri(term: _Term) -> str:
    """An object's IRI, or "" when it is not an IRI (a blank node or literal never names a measure or place)."""
    return term.value if isinstance(term, ox.NamedNode) else ""


def _day(term: _Term | None) -> date | None:
    if not isinstance(term, ox.Literal) or term.datatype.value != XSD_DATE:
        return None
    try:
        return date.fromisoformat(term.value)
    except ValueError:
        return None  # an ill-typed date is the validator's finding, not a period


_DATE_PROPERTIES = {
    "announced": "announced",
    "from": "inForceFrom",
    "until": "inForceUntil",
    "attested": "attestedInForce",
}
_EFFECTS = ("ends", "replaces", "amends", "restates", "implements")


def compute_periods(source: ox.Store | Facts) -> tuple[list[Period], list[Window]]:
    """Derive every measure's period and the coverage windows from the curated facts (of a store, or collected)."""
    facts = source if isinstance(source, Facts) else Facts.of_store(source)
    measure_class = ox.NamedNode(CQ + "Measure")
    iris = {s for s, o in facts.pairs[RDF_TYPE] if o == measure_class}
    places: dict[str, set[str]] = {iri: set() for iri in iris}
    for s, o in facts.pairs[CQ + "appliesTo"]:
        if s in places and _iri(o):
            places[s].add(_iri(o))
    days: dict[str, dict[str, date]] = {iri: {} for iri in iris}
    for key, local in _DATE_PROPERTIES.items():
        for s, o in facts.pairs[CQ + local]:
            day = _day(o)
            found = days.get(s)
            if found is not None and day is not None and (key not in found or day < found[key]):
                found[key] = day
    measures = [
        MeasureDates(
            iri,
            frozenset(places[iri]),
            days[iri].get("announced"),
            days[iri].get("from"),
            days[iri].get("until"),
            days[iri].get("attested"),
        )
        for iri in sorted(iris)
    ]
    links = [
        Link(s, effect, _iri(o))
        for effect in _EFFECTS
        for s, o in facts.pairs[CQ + effect]
        if s in iris and _iri(o) in iris
    ]
    repeals = [Repeal(s, _iri(o)) for s, o in facts.pairs[CQ + "repealsInconsistentWith"] if s in iris]
    unaffected = [(s, _iri(o)) for s, o in facts.pairs[CQ + "leavesUnaffected"] if s in iris]
    starts = {s: _day(o) for s, o in facts.pairs[CQ + "coversFrom"]}
    ends = {s: _day(o) for s, o in facts.pairs[CQ + "coversUntil"]}
    covered: dict[str, set[str]] = {}
    for s, o in facts.pairs[CQ + "coversPlace"]:
        covered.setdefault(s, set()).add(_iri(o))
    source_class = ox.NamedNode(CQ + "Source")
    sources = sorted(s for s, o in facts.pairs[RDF_TYPE] if o == source_class)
    periods_of_sources = [
        SourcePeriod(iri, starts[iri], ends[iri], frozenset(covered.get(iri, ())))  # type: ignore[arg-type]
        for iri in sources
        if starts.get(iri) is not None and ends.get(iri) is not None
    ]
    within: dict[str, list[str]] = {}
    for s, o in facts.pairs[CQ + "within"]:
        within.setdefault(s, []).append(_iri(o))
    periods = derive_periods(measures, links, repeals, unaffected, periods_of_sources, within)
    return periods, coverage_windows(periods_of_sources)


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _string(text: str) -> str:
    """A plain literal in N-Triples: the four characters it must escape, escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def period_lines(periods: list[Period], windows: list[Window]) -> Iterator[str]:
    """The derived graph as N-Triples lines: per measure its bounds with their basis, its status spans, and the
    windows. Written as text, the store parses it itself (a quad object per triple cost more than the rest)."""
    days: dict[date, str] = {}

    def day(value: date) -> str:
        if value not in days:
            days[value] = f'"{value.isoformat()}"^^<{XSD_DATE}>'
        return days[value]

    def bound(measure: str, side: str, b: Bound) -> Iterator[str]:
        if b.day is not None:
            yield f"{measure} <{CQ}effective{side}> {day(b.day)} .\n"
        yield f"{measure} <{CQ}effective{side}Basis> <{BASIS_CONCEPTS[b.basis]}> .\n"
        named = replace(b, evidence=shorten(b.evidence)) if b.evidence else b
        yield f"{measure} <{CQ}effective{side}Note> {_string(named.text())} .\n"
        if b.evidence is not None:
            yield f"{measure} <{CQ}effective{side}Evidence> <{b.evidence}> .\n"

    for period in periods:
        measure = f"<{period.measure}>"
        yield from bound(measure, "From", period.start)
        if period.until is not None:
            yield from bound(measure, "Until", period.until)
        for who, _ in period.possibly_ended_by:
            yield f"{measure} <{CQ}possiblyEndedBy> <{who}> .\n"
        for number, span in enumerate(period.spans, start=1):
            iri = f"<{BASE_ID}span/{_local(period.measure)}/{number}>"
            yield f"{iri} <{RDF_TYPE}> <{CQ}StatusSpan> .\n"
            yield f"{iri} <{CQ}spanOf> {measure} .\n"
            yield f"{iri} <{CQ}status> <{STATUS_CONCEPTS[span.status]}> .\n"
            yield f"{iri} <{CQ}spanFrom> {day(span.start)} .\n"
            if span.until is not None:
                yield f"{iri} <{CQ}spanUntil> {day(span.until)} .\n"
            yield f"{iri} <{CQ}spanReason> {_string(span.reason)} .\n"
    for window in windows:
        iri = f"<{BASE_ID}coverage/{window.start.isoformat()}--{window.until.isoformat()}>"
        yield f"{iri} <{RDF_TYPE}> <{CQ}CoverageWindow> .\n"
        yield f"{iri} <{CQ}coversFrom> {day(window.start)} .\n"
        yield f"{iri} <{CQ}coversUntil> {day(window.until)} .\n"
        for place in sorted(window.places):
            yield f"{iri} <{CQ}coversPlace> <{place}> .\n"
        for source in window.sources:
            yield f"{iri} <{PREFIXES['prov']}wasDerivedFrom> <{source}> .\n"


CHUNK_LINES = 25_000  # lines of derived N-Triples per bulk load: fewer cost more calls, more cost more memory


def derive(store: ox.Store, facts: Facts | None = None) -> int:
    """Replace the derived graph in `store` with periods computed from `facts` (else from the store); triples written.

    The IRIs written come from the store's own quads (already checked by its parser), so the text is loaded without
    validating them again (`lenient`)."""
    periods, windows = compute_periods(facts if facts is not None else store)
    if any(graph == _GRAPH for graph in store.named_graphs()):
        store.remove_graph(_GRAPH)
    written = 0
    chunk: list[str] = []
    for line in period_lines(periods, windows):
        chunk.append(line)
        if len(chunk) == CHUNK_LINES:
            written += _load_lines(store, chunk)
    return written + _load_lines(store, chunk)


def _load_lines(store: ox.Store, lines: list[str]) -> int:
    """Load N-Triples lines into the derived graph and empty the list; how many there were."""
    count = len(lines)
    if lines:
        text = "".join(lines).encode("utf-8")
        store.bulk_load(input=text, format=ox.RdfFormat.N_TRIPLES, to_graph=_GRAPH, lenient=True)
        lines.clear()
    return count

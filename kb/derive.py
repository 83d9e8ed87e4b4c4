"""The derived graph: effective periods computed at build time from the curated graphs, kept in a graph of their own."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
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
    iter_periods,
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


_DATE_PROPERTIES = {
    "announced": "announced",
    "from": "inForceFrom",
    "until": "inForceUntil",
    "attested": "attestedInForce",
}
_EFFECTS = ("ends", "replaces", "amends", "restates", "implements")
# What read_inputs reads of a measure (besides its rdf:type), and the statements it reads whole (places, sources):
# validating a new file derives its periods from these alone (kb/validate/in_context.py).
MEASURE_INPUTS = tuple(
    CQ + local
    for local in ("appliesTo", *_EFFECTS, "repealsInconsistentWith", "leavesUnaffected", *_DATE_PROPERTIES.values())
)
SHARED_INPUTS = tuple(CQ + local for local in ("within", "coversPlace", "coversFrom", "coversUntil"))
EFFECTS = tuple(CQ + local for local in _EFFECTS)


@dataclass
class Inputs:
    """What the rules of kb/periods.py take, read from the curated facts."""

    measures: list[MeasureDates]
    links: list[Link]
    repeals: list[Repeal]
    unaffected: list[tuple[str, str]]
    sources: list[SourcePeriod]
    within: dict[str, list[str]]

    def periods(self) -> Iterator[Period]:
        return iter_periods(self.measures, self.links, self.repeals, self.unaffected, self.sources, self.within)


def _day(lexical: str) -> date | None:
    try:
        return date.fromisoformat(lexical) if lexical else None
    except ValueError:
        return None


def read_inputs(store: ox.Store) -> Inputs:
    """The measures with their dates and places, the links, repeals and sources' periods, read from the curated
    graphs of a filled store (the build's, after loading the files; validation's in-memory one), never from the
    derived graph.

    One SELECT per predicate, each solution taken straight into what the rules need (no list of every statement in
    between): a solution decodes only the two terms asked for, a third of the cost of whole quads. An object that is a
    blank node or a literal is "" where an IRI is wanted (it never names a measure or place); a day is only a
    well-typed xsd:date (an ill-typed date is the validator's finding, not a period). Each IRI is kept once, however
    many statements name it, so that the inputs of a million measures fit in memory.
    """
    derived = any(graph == _GRAPH for graph in store.named_graphs())
    outside = f"?g != <{DERIVED_GRAPH}> && " if derived else ""  # no derived graph yet (the build): no test per row
    names: dict[str, str] = {}
    days_of: dict[str, date | None] = {}

    def rows(pattern: str, select: str = "?o", test: str = "") -> ox.QuerySolutions:
        # only two columns: decoding the graph of every row as well would double the cost
        where = f"GRAPH ?g {{ {pattern} }} FILTER({outside}isIRI(?s){test})"
        return cast(ox.QuerySolutions, store.query(f"SELECT ?s {select} {{ {where} }}"))

    def iri_pairs(local: str) -> Iterator[tuple[str, str]]:
        for subject, value in rows(f"?s <{CQ}{local}> ?o"):
            text = value.value if isinstance(value, ox.NamedNode) else ""
            yield names.setdefault(subject.value, subject.value), names.setdefault(text, text)

    def day_pairs(local: str) -> Iterator[tuple[str, date | None]]:
        # only xsd:date values: a day of another type is no day
        for subject, value in rows(f"?s <{CQ}{local}> ?o", "(STR(?o) AS ?d)", f" && DATATYPE(?o) = <{XSD_DATE}>"):
            lexical = value.value
            if lexical not in days_of:
                days_of[lexical] = _day(lexical)
            yield names.setdefault(subject.value, subject.value), days_of[lexical]

    def typed(kind: str) -> list[str]:
        return [names.setdefault(s.value, s.value) for s, _ in rows(f"?s <{RDF_TYPE}> <{CQ}{kind}> BIND(0 AS ?o)")]

    iris = set(typed("Measure"))
    places: dict[str, set[str]] = {}  # only for the measures that have some, like the days
    for s, o in iri_pairs("appliesTo"):
        if o and s in iris:
            places.setdefault(s, set()).add(o)
    links = [Link(s, effect, o) for effect in _EFFECTS for s, o in iri_pairs(effect) if s in iris and o in iris]
    repeals = [Repeal(s, o) for s, o in iri_pairs("repealsInconsistentWith") if s in iris]
    unaffected = [(s, o) for s, o in iri_pairs("leavesUnaffected") if s in iris]
    covered: dict[str, set[str]] = {}
    for s, o in iri_pairs("coversPlace"):
        covered.setdefault(s, set()).add(o)
    within: dict[str, list[str]] = {}
    for s, o in iri_pairs("within"):
        within.setdefault(s, []).append(o)
    days: dict[str, dict[str, date]] = {}
    for key, local in _DATE_PROPERTIES.items():
        for s, day in day_pairs(local):
            if day is not None and s in iris:
                found = days.setdefault(s, {})
                if key not in found or day < found[key]:
                    found[key] = day
    starts = dict(day_pairs("coversFrom"))  # a source stating two: the last one read, as before
    ends = dict(day_pairs("coversUntil"))
    sources = sorted(typed("Source"))
    shared: dict[frozenset[str], frozenset[str]] = {}  # measures share a few sets of places: one object per set
    measures = []
    none: dict[str, date] = {}
    for iri in sorted(iris):
        where = frozenset(places.pop(iri, ()))
        known = days.pop(iri, none)
        measures.append(
            MeasureDates(
                iri,
                shared.setdefault(where, where),
                known.get("announced"),
                known.get("from"),
                known.get("until"),
                known.get("attested"),
            )
        )
    periods_of_sources = [
        SourcePeriod(iri, starts[iri], ends[iri], frozenset(covered.get(iri, ())))  # type: ignore[arg-type]
        for iri in sources
        if starts.get(iri) is not None and ends.get(iri) is not None
    ]
    return Inputs(measures, links, repeals, unaffected, periods_of_sources, within)


def compute_periods(store: ox.Store) -> tuple[list[Period], list[Window]]:
    """Derive every measure's period and the coverage windows from the curated facts of a store."""
    inputs = read_inputs(store)
    return list(inputs.periods()), coverage_windows(inputs.sources)


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _string(text: str) -> str:
    """A plain literal in N-Triples: the four characters it must escape, escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def period_lines(periods: Iterable[Period], windows: list[Window]) -> Iterator[str]:
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


CHUNK_LINES = 25_000  # lines of derived N-Triples per bulk load: memory holds one chunk (~1 kB a line in the loader)


def derive(store: ox.Store) -> int:
    """Replace the derived graph in `store` with periods computed from its curated facts; triples written.

    The IRIs written come from the store's own quads (already checked by its parser), so the text is loaded without
    validating them again (`lenient`)."""
    inputs = read_inputs(store)
    if any(graph == _GRAPH for graph in store.named_graphs()):
        store.remove_graph(_GRAPH)
    written = 0
    chunk: list[str] = []
    for line in period_lines(inputs.periods(), coverage_windows(inputs.sources)):
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

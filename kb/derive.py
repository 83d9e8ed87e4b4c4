"""The derived graph: effective periods computed at build time from the curated graphs, kept in a graph of their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

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
    """The curated triples the derivation reads, gathered from quads as they stream by (the build) or from a store.

    Read back from the on-disk store after a bulk load this took most of the derivation's time (28 of 50 s at 100k
    measures); collected while the build streams the files it costs a set lookup per quad.
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

    def __init__(self) -> None:
        self.pairs: dict[str, list[tuple[str, _Term]]] = {p: [] for p in self.PREDICATES}

    def see(self, quad: ox.Quad) -> None:
        """Keep the quad if the derivation needs it (never the derived graph's own)."""
        wanted = self.pairs.get(quad.predicate.value)
        if wanted is not None and quad.graph_name != _GRAPH and isinstance(quad.subject, ox.NamedNode):
            wanted.append((quad.subject.value, quad.object))

    @classmethod
    def of_store(cls, store: ox.Store) -> Facts:
        """The facts of a store that is already filled (validation's in-memory store)."""
        facts = cls()
        for predicate in cls.PREDICATES:
            for quad in store.quads_for_pattern(None, ox.NamedNode(predicate), None, None):
                facts.see(quad)
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


def _lit(day: date) -> ox.Literal:
    return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD_DATE))


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def period_quads(periods: list[Period], windows: list[Window]) -> Iterator[ox.Quad]:
    """The derived graph's quads: per measure its bounds with their basis, its status spans, and the windows."""

    def q(s: str, p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(ox.NamedNode(s), ox.NamedNode(CQ + p if ":" not in p else p), o, _GRAPH)

    def bound(measure: str, side: str, b: Bound) -> Iterator[ox.Quad]:
        if b.day is not None:
            yield q(measure, f"effective{side}", _lit(b.day))
        yield q(measure, f"effective{side}Basis", ox.NamedNode(BASIS_CONCEPTS[b.basis]))
        named = replace(b, evidence=shorten(b.evidence)) if b.evidence else b
        yield q(measure, f"effective{side}Note", ox.Literal(named.text()))
        if b.evidence is not None:
            yield q(measure, f"effective{side}Evidence", ox.NamedNode(b.evidence))

    for period in periods:
        yield from bound(period.measure, "From", period.start)
        if period.until is not None:
            yield from bound(period.measure, "Until", period.until)
        for who, _ in period.possibly_ended_by:
            yield q(period.measure, "possiblyEndedBy", ox.NamedNode(who))
        for number, span in enumerate(period.spans, start=1):
            iri = f"{BASE_ID}span/{_local(period.measure)}/{number}"
            yield q(iri, RDF_TYPE, ox.NamedNode(CQ + "StatusSpan"))
            yield q(iri, "spanOf", ox.NamedNode(period.measure))
            yield q(iri, "status", ox.NamedNode(STATUS_CONCEPTS[span.status]))
            yield q(iri, "spanFrom", _lit(span.start))
            if span.until is not None:
                yield q(iri, "spanUntil", _lit(span.until))
            yield q(iri, "spanReason", ox.Literal(span.reason))
    for window in windows:
        iri = f"{BASE_ID}coverage/{window.start.isoformat()}--{window.until.isoformat()}"
        yield q(iri, RDF_TYPE, ox.NamedNode(CQ + "CoverageWindow"))
        yield q(iri, "coversFrom", _lit(window.start))
        yield q(iri, "coversUntil", _lit(window.until))
        for place in sorted(window.places):
            yield q(iri, "coversPlace", ox.NamedNode(place))
        for source in window.sources:
            yield q(iri, PREFIXES["prov"] + "wasDerivedFrom", ox.NamedNode(source))


def derive(store: ox.Store, facts: Facts | None = None) -> int:
    """Replace the derived graph in `store` with periods computed from `facts` (else from the store); quads written."""
    periods, windows = compute_periods(facts if facts is not None else store)
    quads = list(period_quads(periods, windows))
    if any(graph == _GRAPH for graph in store.named_graphs()):
        store.remove_graph(_GRAPH)
    store.bulk_extend(quads)
    return len(quads)

"""The derived graph: effective periods computed at build time from the curated graphs, kept in a graph of their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

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
QUERY_DIR = Path(__file__).resolve().parent / "queries" / "derive"

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
_PREFIXES = {name: PREFIXES[name] for name in ("cq", "rdfs", "xsd")}


def _rows(store: ox.Store, name: str) -> Iterator[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
    text = (QUERY_DIR / f"{name}.rq").read_text("utf-8")
    solutions = store.query(text, prefixes=_PREFIXES, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    variables = [v.value for v in solutions.variables]
    for solution in solutions:
        yield {v: solution[v] for v in variables if solution[v] is not None}


def _day(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> date | None:
    if not isinstance(term, ox.Literal) or term.datatype.value != XSD_DATE:
        return None
    try:
        return date.fromisoformat(term.value)
    except ValueError:
        return None  # an ill-typed date is the validator's finding, not a period


def compute_periods(store: ox.Store) -> tuple[list[Period], list[Window]]:
    """Read the curated facts from the store and derive every measure's period and the coverage windows."""
    places: dict[str, set[str]] = {}
    days: dict[str, dict[str, date]] = {}
    for row in _rows(store, "measure-dates"):
        iri = row["measure"].value
        places.setdefault(iri, set())
        found = days.setdefault(iri, {})
        if "place" in row:
            places[iri].add(row["place"].value)
        for key in ("announced", "from", "until", "attested"):
            day = _day(row.get(key))
            if day is not None and (key not in found or day < found[key]):
                found[key] = day
    measures = [
        MeasureDates(
            iri,
            frozenset(places[iri]),
            found.get("announced"),
            found.get("from"),
            found.get("until"),
            found.get("attested"),
        )
        for iri, found in days.items()
    ]
    links = [Link(r["later"].value, r["effect"].value, r["earlier"].value) for r in _rows(store, "change-links")]
    repeals: list[Repeal] = []
    unaffected: list[tuple[str, str]] = []
    for row in _rows(store, "blanket-repeals"):
        if "against" in row:
            repeals.append(Repeal(row["measure"].value, row["against"].value))
        if "unaffected" in row:
            unaffected.append((row["measure"].value, row["unaffected"].value))
    sources: dict[str, tuple[date, date, set[str]]] = {}
    for row in _rows(store, "coverage"):
        start, until = _day(row.get("from")), _day(row.get("until"))
        if start is None or until is None:
            continue
        entry_places = sources.setdefault(row["source"].value, (start, until, set()))[2]
        if "place" in row:
            entry_places.add(row["place"].value)
    periods_of_sources = [
        SourcePeriod(iri, start, until, frozenset(places)) for iri, (start, until, places) in sources.items()
    ]
    within: dict[str, list[str]] = {}
    for row in _rows(store, "containment"):
        within.setdefault(row["place"].value, []).append(row["parent"].value)
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


def derive(store: ox.Store) -> int:
    """Replace the derived graph in `store` with freshly computed periods; the number of quads written."""
    periods, windows = compute_periods(store)
    quads = list(period_quads(periods, windows))
    if any(graph == _GRAPH for graph in store.named_graphs()):
        store.remove_graph(_GRAPH)
    store.bulk_extend(quads)
    return len(quads)

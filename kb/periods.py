"""Effective periods: when each measure was in effect, derived from the curated dates and links, with a basis per bound.

Pure functions over plain records; the store gathers the records and writes the result into its own named graph.
The rules (docs/modelling.md, "When a measure was in effect") in short:

- start: the stated start; else the earlier of the announcement and the attestation day; else unknown;
- in force (certain) on a day: a stated period covers it (a start of any basis and a stated end), it is the
  stated start day, the attestation day, or the day a later measure restates it;
- ended: the stated end, or the day before a later measure that ends or replaces it takes effect (the
  earliest of these); after it the measure is not in force at all;
- possibly ended: the day before an unresolved blanket repeal in a place that covers the measure's places;
  unknown after;
- presumed in force: started, not ended, not certain that day, and every day from its latest evidence
  (start, attestation, restatement, amendment) to this day lies within one coverage window of its places;
- unknown: everything else from the start on (outside coverage, after a possible end).

Coverage windows are the union of the sources' reported periods, by place; two periods closer than
`COVERAGE_GAP_DAYS` are one window (the sources of one episode report on it with gaps of days, not years).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

COVERAGE_GAP_DAYS = 14
ONE_DAY = timedelta(days=1)


class Status(StrEnum):
    """The three-valued status of a measure on a day."""

    IN_FORCE = "in force"
    PRESUMED = "presumed in force"
    UNKNOWN = "unknown"


class Basis(StrEnum):
    """Why a bound of an effective period is where it is (each has a concept in the ontology)."""

    STATED_START = "stated start"
    ANNOUNCED = "announced"
    ATTESTED = "attested"
    STATED_END = "stated end"
    ENDED_BY = "ended by"
    SUPERSEDED_BY = "superseded by"
    POSSIBLY_ENDED = "possibly ended by blanket repeal"
    COVERAGE_ENDS = "coverage ends"
    NO_START = "no date known"


ENDING_EFFECTS = {"ends": Basis.ENDED_BY, "replaces": Basis.SUPERSEDED_BY}
CONTINUING_EFFECTS = ("amends", "restates", "implements")


@dataclass(frozen=True)
class MeasureDates:
    """What the curated facts say about one measure's time and places."""

    measure: str
    places: frozenset[str]
    announced: date | None = None
    start: date | None = None
    until: date | None = None
    attested: date | None = None


@dataclass(frozen=True)
class Link:
    """A change link: `later` has `effect` (ends, replaces, amends, restates, implements) on `earlier`."""

    later: str
    effect: str
    earlier: str


@dataclass(frozen=True)
class Repeal:
    """A blanket repeal: `measure` ends earlier measures in its places inconsistent with `against`."""

    measure: str
    against: str


@dataclass(frozen=True)
class SourcePeriod:
    """The days a source reports on, and the places it reports on."""

    source: str
    start: date
    until: date
    places: frozenset[str]


@dataclass(frozen=True)
class Window:
    """A coverage window: consecutive days some source reports on, for some places."""

    start: date
    until: date
    places: frozenset[str]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Bound:
    """One bound of an effective period: its day (None when unknown), its basis, and the evidence it rests on."""

    day: date | None
    basis: Basis
    evidence: str | None = None
    on: date | None = None

    def text(self) -> str:
        """The basis in words, as queries and the timeline show it."""
        if self.basis in (Basis.ENDED_BY, Basis.SUPERSEDED_BY, Basis.POSSIBLY_ENDED):
            when = f" on {self.on.isoformat()}" if self.on else " (date not known)"
            return f"{self.basis.value} {self.evidence}{when}"
        if self.basis is Basis.COVERAGE_ENDS and self.day is not None:
            return f"coverage ends on {self.day.isoformat()}: unknown after"
        return self.basis.value


@dataclass(frozen=True)
class Span:
    """Days from `start` to `until` (inclusive; None = open) with one status and the reason for it."""

    status: Status
    start: date
    until: date | None
    reason: str


@dataclass(frozen=True)
class Period:
    """A measure's derived effective period and its status day by day, as spans."""

    measure: str
    start: Bound
    until: Bound | None
    spans: tuple[Span, ...] = field(default=())
    possibly_ended_by: tuple[tuple[str, date], ...] = ()

    def status_on(self, day: date) -> Status | None:
        """The status on a day, or None when the measure is not in force (before its start, after its end)."""
        for span in self.spans:
            if span.start <= day and (span.until is None or day <= span.until):
                return span.status
        return None


def coverage_windows(periods: Iterable[SourcePeriod], gap_days: int = COVERAGE_GAP_DAYS) -> list[Window]:
    """Merge the sources' periods into windows, per set of places, bridging gaps up to `gap_days`."""
    by_places: dict[frozenset[str], list[SourcePeriod]] = {}
    for period in periods:
        by_places.setdefault(period.places, []).append(period)
    windows: list[Window] = []
    for places, group in sorted(by_places.items(), key=lambda item: sorted(item[0])):
        group.sort(key=lambda p: (p.start, p.until, p.source))
        start, until, sources = group[0].start, group[0].until, [group[0].source]
        for period in group[1:]:
            if (period.start - until).days <= gap_days:
                until = max(until, period.until)
                sources.append(period.source)
            else:
                windows.append(Window(start, until, places, tuple(sorted(sources))))
                start, until, sources = period.start, period.until, [period.source]
        windows.append(Window(start, until, places, tuple(sorted(sources))))
    return sorted(windows, key=lambda w: (w.start, w.until, sorted(w.places)))


class _Places:
    """Containment: which places lie within which (reflexive, transitive)."""

    def __init__(self, within: Mapping[str, Iterable[str]]) -> None:
        self._parents = {child: tuple(parents) for child, parents in within.items()}
        self._up: dict[str, frozenset[str]] = {}

    def up(self, place: str) -> frozenset[str]:
        """The place and every place it lies within."""
        if place not in self._up:
            seen = {place}
            todo = [place]
            while todo:
                for parent in self._parents.get(todo.pop(), ()):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            self._up[place] = frozenset(seen)
        return self._up[place]

    def inside(self, place: str, scope: Iterable[str]) -> bool:
        """Whether `place` is one of `scope` or lies within one of them."""
        return not self.up(place).isdisjoint(scope)

    def overlap(self, a: Iterable[str], b: Iterable[str]) -> bool:
        """Whether some place of `a` lies within some place of `b` or the other way round."""
        a, b = frozenset(a), frozenset(b)
        return any(self.inside(x, b) for x in a) or any(self.inside(y, a) for y in b)


def _start(m: MeasureDates) -> Bound:
    if m.start is not None:
        return Bound(m.start, Basis.STATED_START)
    candidates = [(d, basis) for d, basis in ((m.announced, Basis.ANNOUNCED), (m.attested, Basis.ATTESTED)) if d]
    if not candidates:
        return Bound(None, Basis.NO_START)
    day, basis = min(candidates, key=lambda c: c[0])
    return Bound(day, basis)


def derive_periods(
    measures: Iterable[MeasureDates],
    links: Iterable[Link],
    repeals: Iterable[Repeal],
    unaffected: Iterable[tuple[str, str]],
    sources: Iterable[SourcePeriod],
    within: Mapping[str, Iterable[str]],
    gap_days: int = COVERAGE_GAP_DAYS,
) -> list[Period]:
    """Every measure's effective period with its spans, in measure order (deterministic)."""
    return list(iter_periods(measures, links, repeals, unaffected, sources, within, gap_days))


def iter_periods(
    measures: Iterable[MeasureDates],
    links: Iterable[Link],
    repeals: Iterable[Repeal],
    unaffected: Iterable[tuple[str, str]],
    sources: Iterable[SourcePeriod],
    within: Mapping[str, Iterable[str]],
    gap_days: int = COVERAGE_GAP_DAYS,
) -> Iterator[Period]:
    """`derive_periods` one period at a time, so that a caller writing them out never holds them all."""
    table = {m.measure: m for m in measures}
    places = _Places(within)
    windows = coverage_windows(sources, gap_days)
    starts = {iri: _start(m) for iri, m in table.items()}
    links = sorted(set(links), key=lambda link: (link.earlier, link.later, link.effect))
    endings: dict[str, list[Bound]] = {}
    anchors: dict[str, set[date]] = {}
    restated: dict[str, set[date]] = {}
    linked_from: dict[str, set[str]] = {}
    for link in links:
        linked_from.setdefault(link.later, set()).add(link.earlier)
        later_start = starts[link.later].day if link.later in starts else None
        if link.effect in ENDING_EFFECTS:
            day = later_start - ONE_DAY if later_start else None
            endings.setdefault(link.earlier, []).append(
                Bound(day, ENDING_EFFECTS[link.effect], link.later, later_start)
            )
        elif link.effect in ("amends", "restates") and later_start is not None:
            anchors.setdefault(link.earlier, set()).add(later_start)
            if link.effect == "restates":
                restated.setdefault(link.earlier, set()).add(later_start)
    resolved = {(r, e) for r, e in unaffected}
    # Measures share a few sets of places: the windows overlapping each set are found once per set, not per measure.
    windows_of: dict[frozenset[str], list[Window]] = {}
    for m in table.values():
        if m.places and m.places not in windows_of:
            windows_of[m.places] = [w for w in windows if places.overlap(m.places, w.places)]
    possible: dict[str, list[tuple[str, date]]] = {}
    for repeal in sorted(set(repeals), key=lambda r: (r.measure, r.against)):
        r = table.get(repeal.measure)
        r_start = starts.get(repeal.measure, Bound(None, Basis.NO_START)).day
        if r is None or r_start is None:
            continue
        for iri, m in table.items():
            e_start = starts[iri].day
            if iri == r.measure or e_start is None or e_start >= r_start:
                continue
            if iri in linked_from.get(r.measure, ()) or (r.measure, iri) in resolved:
                continue
            if m.places and all(places.inside(p, r.places) for p in m.places):
                possible.setdefault(iri, []).append((r.measure, r_start))
    for iri in sorted(table):
        yield _period(
            table[iri],
            starts[iri],
            endings.get(iri, []),
            anchors.get(iri, set()),
            restated.get(iri, set()),
            sorted(possible.get(iri, []), key=lambda p: (p[1], p[0])),
            windows_of.get(table[iri].places, []),
        )


def _period(
    m: MeasureDates,
    start: Bound,
    endings: list[Bound],
    anchors: set[date],
    restated: set[date],
    possible: list[tuple[str, date]],
    mine: list[Window],
) -> Period:
    if start.day is None:
        return Period(m.measure, start, None, (), tuple(possible))
    s = start.day
    ends = [b for b in endings if b.day is not None]
    if m.until is not None:
        ends.append(Bound(m.until, Basis.STATED_END))
    end = min(ends, key=lambda b: (b.day, b.basis.value, b.evidence or "")) if ends else None
    undated_end = next((b for b in endings if b.day is None), None)
    possible_end = min((d - ONE_DAY for _, d in possible), default=None)
    certain: list[tuple[date, date, str]] = []
    if m.start is not None:
        certain.append((m.start, m.start, "stated start"))
    if m.until is not None and m.until >= s:
        certain.append((s, m.until, "stated period"))
    if m.attested is not None:
        certain.append((m.attested, m.attested, f"attested on {m.attested.isoformat()}"))
    certain.extend((d, d, f"restated on {d.isoformat()}") for d in sorted(restated))
    evidence_days = sorted({s, *(d for d in anchors if d >= s), *(c[0] for c in certain if c[0] >= s)})
    last = end.day if end else None

    def status(day: date) -> tuple[Status, str] | None:
        if day < s or (last is not None and day > last):
            return None
        for lo, hi, why in certain:
            if lo <= day <= hi:
                return Status.IN_FORCE, why
        if undated_end is not None:
            return Status.UNKNOWN, f"ended by {undated_end.evidence} on a day not known"
        if possible_end is not None and day > possible_end:
            who, when = possible[0]
            return Status.UNKNOWN, f"possibly ended by blanket repeal {who} on {when.isoformat()}"
        anchor = max(d for d in evidence_days if d <= day)
        for w in mine:
            if w.start <= anchor and day <= w.until:
                return Status.PRESUMED, (
                    f"presumed: from {anchor.isoformat()}, no end known, sources cover to {w.until.isoformat()}"
                )
        return Status.UNKNOWN, "outside the sources' coverage"

    points = {s}
    for first, final, _ in certain:
        points.update((first, final + ONE_DAY))
    for w in mine:
        points.update((w.start, w.until + ONE_DAY))
    points.update(anchors)
    if possible_end is not None:
        points.add(possible_end + ONE_DAY)
    if last is not None:
        points.add(last + ONE_DAY)
    ordered = sorted(p for p in points if p >= s)
    spans: list[Span] = []
    for i, lo in enumerate(ordered):
        got = status(lo)
        if got is None:
            continue
        hi: date | None = ordered[i + 1] - ONE_DAY if i + 1 < len(ordered) else None
        if spans and spans[-1].status is got[0] and spans[-1].reason == got[1] and spans[-1].until == lo - ONE_DAY:
            spans[-1] = Span(got[0], spans[-1].start, hi, got[1])
        else:
            spans.append(Span(got[0], lo, hi, got[1]))
    until = _until(end, undated_end, possible_end, possible, spans)
    return Period(m.measure, start, until, tuple(spans), tuple(possible))


def _until(
    end: Bound | None,
    undated_end: Bound | None,
    possible_end: date | None,
    possible: list[tuple[str, date]],
    spans: list[Span],
) -> Bound | None:
    """The effective end: a definite end, else a possible end, else where the known and presumed days stop."""
    if end is not None and (possible_end is None or end.day is None or end.day <= possible_end):
        return end
    if possible_end is not None:
        who, when = possible[0]
        return Bound(possible_end, Basis.POSSIBLY_ENDED, who, when)
    if undated_end is not None:
        return undated_end
    known = [span for span in spans if span.status is not Status.UNKNOWN]
    if known and known[-1].until is not None:
        return Bound(known[-1].until, Basis.COVERAGE_ENDS)
    return None

"""The first screen: the key changes of each period of the axis, day by day, from the rows of `changes-between`.

What started (and, apart, the relaxations that started), what was amended, what ended and what a blanket repeal
possibly ended, on which day; the first few measures of each are named, the rest counted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from .model import AxisSegment, OverviewDay, OverviewEntry, OverviewPeriod, Term, Text, TimelineMeasure
from .rows import Row, day_of

# How many measures of one kind on one day the overview names (the others are counted).
NAMED = 2
# The kinds of change in the order the overview lists them, with their labels.
KINDS: dict[str, Text] = {
    "started": Text("开始", "started"),
    "relaxed": Text("放宽", "relaxed"),
    "amended": Text("修订", "amended"),
    "ended": Text("终止", "ended"),
    "possibly ended": Text("可能已终止", "possibly ended"),
}
# The `?change` values of changes-between, as the kinds above ("started" splits into started and relaxed).
CHANGE_KIND = {
    "started": "started",
    "ended": "ended",
    "amended": "amended",
    "possibly ended (blanket repeal, unresolved)": "possibly ended",
}


def is_relaxation(measure: TimelineMeasure) -> bool:
    """A relaxation: its strength says so, or it relaxes another measure."""
    own = measure.strength is not None and measure.strength.slug.lower() == "relaxation"
    return own or any(not link.incoming and "relaxes" in link.direction_keys.split() for link in measure.links)


def _weight(measure: TimelineMeasure) -> tuple[int, str]:
    """Which measures the overview names first: the most linked (the ones that changed or were changed)."""
    return (-len(measure.links), measure.label.en.lower())


def overview_of(rows: list[Row], measures: list[TimelineMeasure], segments: list[AxisSegment]) -> list[OverviewPeriod]:
    """The key changes per segment of the axis, from the rows of changes-between (day, change, measure, …)."""
    by_iri = {m.iri: m for m in measures}
    found: dict[date, dict[str, dict[str, TimelineMeasure]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        day, measure = day_of(row["day"]), by_iri.get(str(row["measure"]))
        kind = CHANGE_KIND.get(str(row["change"]))
        if day is None or measure is None or kind is None:
            continue
        if kind == "started" and is_relaxation(measure):
            kind = "relaxed"
        found[day][kind][measure.iri] = measure
    periods = []
    for segment in segments:
        days = []
        totals: dict[str, int] = defaultdict(int)
        for day in sorted(d for d in found if segment.start <= d < segment.end):
            entries = []
            for kind, label in KINDS.items():
                members = sorted(found[day].get(kind, {}).values(), key=_weight)
                if members:
                    named = tuple(Term(m.iri, m.id, m.label) for m in members[:NAMED])
                    entries.append(OverviewEntry(kind, label, named, len(members)))
                    totals[kind] += len(members)
            days.append(OverviewDay(day, tuple(entries)))
        if days:
            summary = tuple(OverviewEntry(k, KINDS[k], (), totals[k]) for k in KINDS if totals[k])
            periods.append(OverviewPeriod(segment.title, segment.start, segment.end, tuple(days), summary))
    return periods

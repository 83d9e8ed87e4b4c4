"""The statistics chart: one chart per statistic, a panel per scale, a series per area, labelled y axes.

Areas of very different size never share a scale: an area joins a panel only while its largest value is
within SCALE_RATIO of the panel's largest, otherwise it opens a panel of its own with its own axis.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

from .model import (
    STAT_HEIGHT,
    AreaSeries,
    ScaleTick,
    StatisticChart,
    StatisticPanel,
    StatisticPoint,
    Term,
    compact_text,
)

# Areas whose largest values differ by more than this factor are drawn in separate panels.
SCALE_RATIO = 10.0
# Points of one area further apart than this many days are not joined by a line.
LINE_DAYS = 7
# Room above and below the plotted values in a panel, in px.
PAD_TOP, PAD_BOTTOM = 10.0, 6.0
# Colours of the series in a panel, in order (timeline.css .c0 … .c7: a palette readable for colour blindness).
COLOURS = 8


def nice_top(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (the top of a panel's scale)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(k * power for k in (1, 2, 2.5, 5, 10) if k * power >= value)


def _y(value: float, top: float) -> float:
    inner = STAT_HEIGHT - PAD_TOP - PAD_BOTTOM
    return round(PAD_TOP + inner - inner * max(value, 0.0) / top, 2)


def _series(key: str, area: Term | None, colour: int, points: list[StatisticPoint], top: float) -> AreaSeries:
    placed = tuple(replace(p, y=_y(p.value, top)) for p in points)
    lines = tuple(
        (a.x, a.y, b.x, b.y)
        for a, b in zip(placed, placed[1:], strict=False)
        if 0 < (b.date - a.date).days <= LINE_DAYS
    )
    return AreaSeries(key, area, colour, placed, lines, max(p.value for p in points))


def panels_of(chart_id: str, points: list[StatisticPoint]) -> list[StatisticPanel]:
    """The points of one statistic as panels: areas by size, split where sizes differ by more than SCALE_RATIO."""
    per_area: dict[str, list[StatisticPoint]] = defaultdict(list)
    for point in sorted(points, key=lambda p: (p.date, p.iri)):
        per_area[point.area.iri if point.area else ""].append(point)
    ordered = sorted(per_area.items(), key=lambda item: (-max(p.value for p in item[1]), item[0]))
    groups: list[list[tuple[str, list[StatisticPoint]]]] = []
    for iri, members in ordered:
        largest = max(p.value for p in members)
        if groups and largest * SCALE_RATIO >= max(p.value for p in groups[-1][0][1]):
            groups[-1].append((iri, members))
        else:
            groups.append([(iri, members)])
    panels = []
    for number, group in enumerate(groups, start=1):
        top = nice_top(max(p.value for _, members in group for p in members))
        series = tuple(
            _series(f"{chart_id}-{number}-{n}", members[0].area, n % COLOURS, members, top)
            for n, (_, members) in enumerate(group)
        )
        ticks = tuple(ScaleTick(_y(v, top), v, compact_text(v)) for v in (0.0, top / 2, top))
        panels.append(StatisticPanel(f"{chart_id}-{number}", series, top, ticks))
    return panels


def charts_of(points: list[StatisticPoint]) -> list[StatisticChart]:
    """One chart per statistic, the statistics with most observations first."""
    by_statistic: dict[str, list[StatisticPoint]] = defaultdict(list)
    for point in points:
        by_statistic[point.statistic.iri].append(point)
    charts = []
    for members in by_statistic.values():
        first = members[0]
        chart_id = "chart-" + first.statistic.slug
        ordered = sorted(members, key=lambda p: (p.date, p.iri))
        charts.append(StatisticChart(first.statistic, first.unit, panels_of(chart_id, members), ordered))
    charts.sort(key=lambda c: (-len(c.points), c.statistic.label.en))
    return charts

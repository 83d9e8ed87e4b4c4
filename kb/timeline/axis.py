"""Geometry of the page: the broken time axis, where each mark sits on it, and the statistics strips."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from ..namespaces import CQ
from .model import STAT_HEIGHT, AxisSegment, AxisTick, DateInfo, Mark, StatisticPoint, Text

APPROXIMATE = CQ + "ApproximateDate"
# Days between two dates beyond which the axis is broken into separate segments.
AXIS_BREAK_DAYS = 45
# Share of the axis width left empty between two segments (where the break mark is drawn).
AXIS_GAP = 3.0
# Minimum distance between two labelled ticks, in % of the axis width.
TICK_LABEL_WIDTH = 5.0
# Points of one statistic and area further apart than this are not joined by a line.
STAT_LINE_DAYS = 7


@dataclass
class Axis:
    """Maps days to % of the width; periods far apart get their own segment."""

    segments: list[AxisSegment]

    @classmethod
    def around(cls, days: Iterable[date]) -> Axis:
        ordered = sorted(set(days))
        if not ordered:
            ordered = [date.today()]
        groups: list[list[date]] = [[ordered[0]]]
        for day in ordered[1:]:
            if (day - groups[-1][-1]).days > AXIS_BREAK_DAYS:
                groups.append([day])
            else:
                groups[-1].append(day)
        spans = [(g[0] - timedelta(days=1), g[-1] + timedelta(days=2)) for g in groups]
        total_days = sum((end - start).days for start, end in spans)
        usable = 100.0 - AXIS_GAP * (len(spans) - 1)
        segments = []
        left = 0.0
        for start, end in spans:
            width = usable * (end - start).days / total_days
            segments.append(AxisSegment(start, end, left, width, (), Text("", "")))
            left += width + AXIS_GAP
        axis = cls(segments)
        axis.segments = [axis._with_ticks(s) for s in segments]
        return axis

    def _segment(self, day: date) -> AxisSegment:
        for segment in self.segments:
            if segment.start <= day < segment.end:
                return segment
        return min(self.segments, key=lambda s: min(abs((day - s.start).days), abs((day - s.end).days)))

    def x(self, day: date, offset: float = 0.0) -> float:
        """The left edge of `day` (plus `offset` days), in % of the axis."""
        segment = self._segment(day)
        days = (segment.end - segment.start).days
        position = min(max((day - segment.start).days + offset, 0.0), float(days))
        return round(segment.left + segment.width * position / days, 3)

    def segment_end(self, day: date) -> float:
        segment = self._segment(day)
        return segment.left + segment.width

    def _with_ticks(self, segment: AxisSegment) -> AxisSegment:
        days = (segment.end - segment.start).days
        per_day = segment.width / days
        step = next((k for k in (1, 2, 3, 5, 7, 14, 28) if per_day * k >= TICK_LABEL_WIDTH), 28)
        ticks = []
        for n in range(days):
            day = segment.start + timedelta(days=n)
            major = n % step == 0
            label = Text(f"{day.month}月{day.day}日", f"{day.day} {day:%b}")
            ticks.append(AxisTick(self.x_in(segment, day, 0.5), day.isoformat(), label, major))
        first, last = segment.start, segment.end - timedelta(days=1)
        title = Text(
            f"{first.year}年{first.month}月{first.day}日—{last.month}月{last.day}日",
            f"{first.day} {first:%b} – {last.day} {last:%b} {last.year}",
        )
        return AxisSegment(segment.start, segment.end, segment.left, segment.width, tuple(ticks), title)

    @staticmethod
    def x_in(segment: AxisSegment, day: date, offset: float) -> float:
        days = (segment.end - segment.start).days
        return round(segment.left + segment.width * ((day - segment.start).days + offset) / days, 3)

    def breaks(self) -> list[float]:
        return [round(s.left - AXIS_GAP / 2, 3) for s in self.segments[1:]]


def mark_of(axis: Axis, m_ann: DateInfo, m_from: DateInfo, m_until: DateInfo, covers: tuple[date, date] | None) -> Mark:
    """Where and how a measure is drawn from its stated dates (or its source's reporting days when it has none)."""
    approximate = any(d.kind is not None and d.kind.iri == APPROXIMATE for d in (m_ann, m_from, m_until))
    start = m_from.value or m_ann.value
    if m_from.value or m_until.value:
        first = start or m_until.value
        assert first is not None
        last = m_until.value
        left = axis.x(first)
        right = axis.x(last, 1.0) if last is not None else min(axis.x(first, 3.0), axis.segment_end(first))
        tip = Text(
            ("" if m_from.value else "生效日期未说明；") + ("" if last else "未说明终止日期"),
            ("start not stated; " if not m_from.value else "") + ("no end stated" if not last else ""),
        )
        return Mark("range", left, max(right - left, 0.4), m_from.value is None, last is None, approximate, first, tip)
    if m_ann.value:
        return Mark(
            "point",
            axis.x(m_ann.value, 0.5),
            0.0,
            False,
            False,
            approximate,
            m_ann.value,
            Text("仅有发布日期", "announcement date only"),
        )
    if covers:
        left, right = axis.x(covers[0]), axis.x(covers[1], 1.0)
        return Mark(
            "undated", left, max(right - left, 0.4), True, True, False, covers[0], Text("日期未说明", "date not stated")
        )
    first_segment = axis.segments[0]
    return Mark(
        "undated",
        first_segment.left,
        first_segment.width,
        True,
        True,
        False,
        first_segment.start,
        Text("日期未说明", "date not stated"),
    )


def stack_rows(xs: list[tuple[str, float]]) -> dict[str, int]:
    """A row per marker so markers on the same day do not hide each other."""
    rows: dict[str, int] = {}
    used: dict[float, int] = defaultdict(int)
    for key, x in xs:
        rows[key] = used[x]
        used[x] += 1
    return rows


def strip_layout(
    members: list[StatisticPoint],
) -> tuple[list[StatisticPoint], list[tuple[float, float, float, float]], float, dict[str, list[StatisticPoint]]]:
    """One statistic's points placed in its strip (y from its maximum), the lines joining each area's points."""
    inner = STAT_HEIGHT - 8
    maximum = max((p.value for p in members), default=0.0) or 1.0
    placed = [
        replace(p, y=round(4 + inner - inner * max(p.value, 0.0) / maximum, 2))
        for p in sorted(members, key=lambda p: (p.date, p.iri))
    ]
    lines = []
    per_area: dict[str, list[StatisticPoint]] = defaultdict(list)
    for point in placed:
        per_area[point.area.iri if point.area else ""].append(point)
    for area_points in per_area.values():
        for a, b in zip(area_points, area_points[1:], strict=False):
            if 0 < (b.date - a.date).days <= STAT_LINE_DAYS:
                lines.append((a.x, a.y, b.x, b.y))
    return placed, lines, maximum, per_area

"""Geometry of the page: the broken time axis, where each mark sits on it, and the statistics strips."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from ..namespaces import CQ
from .model import STAT_HEIGHT, AxisSegment, AxisTick, DateInfo, EffectivePeriod, Mark, Piece, StatisticPoint, Text

APPROXIMATE = CQ + "ApproximateDate"
# Days between two dates beyond which the axis is broken into separate segments.
AXIS_BREAK_DAYS = 45
# Share of the axis width left empty between two segments (where the break mark is drawn).
AXIS_GAP = 3.0
# Minimum distance between two labelled ticks, in % of the axis width.
TICK_LABEL_WIDTH = 5.0
# How many days an open span (no end known) is drawn before it fades out.
OPEN_DAYS = 3.0
# Ends drawn as a cap: stated, by a later measure, or possibly by a blanket repeal (kb.periods.Basis as CSS).
# Where the sources' coverage ends there is no cap: the unknown span after it says so.
CAPPED = ("stated-end", "ended-by", "superseded-by", "possibly-ended")
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

    def stretch(self, start: date, until: date | None) -> list[tuple[float, float, bool]]:
        """(left, width, open) of the days `start`..`until` (inclusive) in each segment they cross.

        An open stretch (`until` None) is drawn OPEN_DAYS long in the segment of its start; days outside
        every segment are not drawn.
        """
        drawn = []
        for segment in self.segments:
            segment_right = segment.left + segment.width
            if until is None:
                if not segment.start <= start < segment.end:
                    continue
                left = self.x_in(segment, start, 0.0)
                right = min(self.x_in(segment, start, OPEN_DAYS), segment_right)
                drawn.append((left, round(max(right - left, 0.4), 3), True))
                continue
            first, after = max(start, segment.start), min(until + timedelta(days=1), segment.end)
            if first < after:
                left, right = self.x_in(segment, first, 0.0), self.x_in(segment, after, 0.0)
                drawn.append((left, round(max(right - left, 0.4), 3), False))
        return drawn

    def breaks(self) -> list[float]:
        return [round(s.left - AXIS_GAP / 2, 3) for s in self.segments[1:]]


def mark_of(axis: Axis, period: EffectivePeriod, dates: tuple[DateInfo, ...], covers: tuple[date, date] | None) -> Mark:
    """A measure drawn over its derived effective period: its status spans as pieces, a cap where it ends.

    A measure with no date known is not drawn; it is listed where its source reports (or at the start).
    """
    approximate = any(d.kind is not None and d.kind.iri == APPROXIMATE for d in dates)
    pieces: list[Piece] = []
    for span in period.spans:
        for left, width, open_end in axis.stretch(span.start, span.until):
            last = pieces[-1] if pieces else None
            if last and last.style == span.style and not last.open_end and abs(last.left + last.width - left) < 1e-6:
                # Adjacent spans drawn alike (a stated start day, then the stated period) are one piece.
                pieces[-1] = Piece(span.style, last.left, round(last.width + width, 3), open_end)
            else:
                pieces.append(Piece(span.style, left, width, open_end))
    end = period.until
    cap, cap_x = "", 0.0
    if pieces and end is not None and end.day is not None and end.css in CAPPED:
        cap, cap_x = end.css, axis.x(end.day, 1.0)
    if period.start is not None and period.start.day is not None:
        sort_date = period.start.day
    else:
        sort_date = covers[0] if covers else axis.segments[0].start
    return Mark(tuple(pieces), cap, cap_x, approximate, sort_date)


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

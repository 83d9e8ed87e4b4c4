"""Geometry of the page: the broken time axis, its labels in each layout, and where each mark sits on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ..namespaces import CQ
from .model import AxisSegment, AxisTick, DateInfo, EffectivePeriod, Mark, Piece, Text

APPROXIMATE = CQ + "ApproximateDate"
# Days between two dates beyond which the axis is broken into separate segments.
AXIS_BREAK_DAYS = 45
# Share of the axis width left empty between two segments (where the break mark is drawn).
AXIS_GAP = 3.0
# The layouts of the page: from which viewport width each applies and the narrowest track it has then (the
# phone layout below 700 px, timeline.css; then two columns). A tick is labelled in a layout when its label fits.
LAYOUTS = ((0, 280.0), (700, 390.0), (1000, 620.0), (1300, 820.0), (1400, 920.0))
LAYOUT_TRACK_PX = tuple(track for _, track in LAYOUTS)
# Room a tick label needs in px (the widest, "11月30日" at the axis's font size, plus a gap).
TICK_LABEL_PX = 62.0
# Room the long title of a segment needs in px ("2020年1月25日—2月18日"); below it the short one is shown.
TITLE_PX = 200.0
# Label every n-th day: each step divides the next, so a wider layout only adds labels between the others.
TICK_STEPS = (1, 2, 4, 8, 16, 32, 64)
# How many days an open span (no end known) is drawn before it fades out.
OPEN_DAYS = 3.0
# Ends drawn as a cap: stated, by a later measure, or possibly by a blanket repeal (kb.periods.Basis as CSS).
# Where the sources' coverage ends there is no cap: the unknown span after it says so.
CAPPED = ("stated-end", "ended-by", "superseded-by", "possibly-ended")


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
        # The step of each layout: the smallest whose labels, left-aligned on their day, keep TICK_LABEL_PX apart.
        steps = []
        for track in LAYOUT_TRACK_PX:
            per_day = track * segment.width / 100 / days
            steps.append(next((k for k in TICK_STEPS if per_day * k >= TICK_LABEL_PX), 0))
        ticks = []
        for n in range(days):
            day = segment.start + timedelta(days=n)
            level = 0
            for number, (step, track) in enumerate(zip(steps, LAYOUT_TRACK_PX, strict=True), start=1):
                room = (days - n) * track * segment.width / 100 / days
                if step and n % step == 0 and room >= TICK_LABEL_PX:
                    level = number
                    break
            label = Text(f"{day.month}月{day.day}日", f"{day.day} {day:%b}")
            ticks.append(AxisTick(self.x_in(segment, day, 0.0), day.isoformat(), label, level))
        first, last = segment.start, segment.end - timedelta(days=1)
        title = Text(
            f"{first.year}年{first.month}月{first.day}日—{last.month}月{last.day}日",
            f"{first.day} {first:%b} – {last.day} {last:%b} {last.year}",
        )
        months_en = f"{first:%b}" if first.month == last.month else f"{first:%b}–{last:%b}"
        months_zh = f"{first.month}" if first.month == last.month else f"{first.month}—{last.month}"
        short = Text(f"{last.year}年{months_zh}月", f"{months_en} {last.year}")
        fits = [n for n, track in enumerate(LAYOUT_TRACK_PX, start=1) if track * segment.width / 100 >= TITLE_PX]
        title_level = fits[0] if fits else len(LAYOUT_TRACK_PX) + 1
        return AxisSegment(
            segment.start, segment.end, segment.left, segment.width, tuple(ticks), title, short, title_level
        )

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

"""The typed context of the timeline page: what the template lays out (StrictUndefined catches any other name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Height of one statistics panel in px (the template draws its SVG at this height).
STAT_HEIGHT = 120


def number_text(value: float, qualifier: str = "") -> str:
    """A number as the page prints it: thousands separated, no trailing zeros, after the symbol of its qualifier
    when the value is a bound or approximate (> 140,000, ≤ 9, ≈ 1,000).

    The one formatting of a statistic's value: the chart's labels, the tables and the hover values all use it.
    """
    number = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{qualifier} {number}" if qualifier else number


def compact_text(value: float) -> Text:
    """A scale label short enough for the chart's axis: 25k / 2.5万, 3M / 300万, 3G / 30亿 (plain below 10,000)."""

    def short(number: float, units: tuple[tuple[float, str], ...]) -> str:
        for size, suffix in units:
            if abs(number) >= max(size, 1e4):
                return f"{number / size:.3g}{suffix}"
        return number_text(number)

    return Text(short(value, ((1e8, "亿"), (1e4, "万"))), short(value, ((1e9, "G"), (1e6, "M"), (1e3, "k"))))


@dataclass(frozen=True)
class Text:
    """A bilingual label; either side may be empty when the knowledge base has none."""

    zh: str
    en: str

    def either(self) -> str:
        return self.en or self.zh


@dataclass(frozen=True)
class Term:
    """An IRI with its page id (slug) and its labels."""

    iri: str
    slug: str
    label: Text


@dataclass(frozen=True)
class DateInfo:
    """One of a measure's dates: the value if recorded, and how it was obtained."""

    value: date | None
    kind: Term | None

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class QuoteInContext:
    """A verbatim quote with the sentence around it in its source (line breaks removed)."""

    text: str
    before: str
    after: str
    found: bool
    lang: str
    source: Term | None


@dataclass(frozen=True)
class PeriodBound:
    """One bound of a measure's derived effective period: its day (None when unknown) and why it lies there."""

    day: date | None
    basis: Term | None
    # The basis as a CSS class, e.g. "ended-by" (from kb.periods.Basis); "" when the store gives none.
    css: str
    # The basis in words, from the derived graph, e.g. "ended by measure:… on 2022-11-30".
    note: str
    evidence: Term | None
    evidence_on_page: bool


@dataclass(frozen=True)
class StatusSpan:
    """Days with one status: from `start` to `until` (inclusive; None = open), and the reason in words."""

    status: Term
    # How the span is drawn: stated, attested, restated (in force), presumed, unknown.
    style: str
    start: date
    until: date | None
    reason: str


@dataclass(frozen=True)
class EffectivePeriod:
    """A measure's derived effective period: its bounds, its status spans and the repeals that may have ended it."""

    start: PeriodBound | None
    until: PeriodBound | None
    spans: tuple[StatusSpan, ...]
    possibly_ended_by: tuple[Term, ...]

    @property
    def dated(self) -> bool:
        return bool(self.spans)


@dataclass(frozen=True)
class LinkedMeasure:
    """A link from one measure to another thing: its effect (or relation), direction, target and the target's period.

    `relation` is the effect seen from this measure ("ends", or "ended by" for a link from the other one);
    `direction` the direction in the same sense ("relaxes" / "relaxed by"), if the link states one.
    """

    relation: Text
    target: Term
    on_page: bool
    effect: str = ""
    directions: tuple[Text, ...] = ()
    direction_keys: str = ""
    incoming: bool = False
    period: EffectivePeriod | None = None
    # The day of the change: the effective start of the later of the two measures (None when not known).
    day: date | None = None


@dataclass(frozen=True)
class ParameterValue:
    """A typed quantity of a measure: what it measures, the number and its unit."""

    kind: Text
    value: str
    unit: Text
    note: str


@dataclass(frozen=True)
class Piece:
    """A status span drawn on the axis (cut at the axis breaks); positions in % of the axis."""

    style: str
    left: float
    width: float
    # An open span (no end known) is drawn a few days long and fades out.
    open_end: bool


@dataclass(frozen=True)
class ChangeMarker:
    """A change link drawn on the earlier measure's bar: on the day the later measure changed it, pointing to it."""

    effect: str
    x: float
    target: Term
    relation: Text
    day: date


@dataclass(frozen=True)
class Mark:
    """How a measure is drawn: its status spans as pieces and a cap where its period ends; none if no date is known."""

    pieces: tuple[Piece, ...]
    # The end's basis as a CSS class ("" = no cap: no end, or the end is where the sources' coverage ends).
    cap: str
    cap_x: float
    approximate: bool
    sort_date: date
    changes: tuple[ChangeMarker, ...] = ()

    @property
    def drawn(self) -> bool:
        return bool(self.pieces)


@dataclass
class TimelineMeasure:
    """Everything the page shows about one measure."""

    id: str
    iri: str
    label: Text
    strength: Term | None
    announced: DateInfo
    in_force_from: DateInfo
    in_force_until: DateInfo
    attested: list[date]
    attested_kind: Term | None
    period: EffectivePeriod
    announcement: Term | None
    categories: list[Term]
    places: list[Term]
    targets: list[Term]
    documents: list[Term]
    parameters: list[ParameterValue]
    links: list[LinkedMeasure]
    sources: list[Term]
    quotes: list[QuoteInContext]
    comment: str
    mark: Mark
    lane_category: str
    lane_place: str
    place_keys: list[str]
    search_text: str


@dataclass(frozen=True)
class TimelineEvent:
    """An announcement (press conference, meeting, letter, notice, briefing) as a marker."""

    id: str
    iri: str
    label: Text
    type: Term | None
    date: date
    date_kind: Term | None
    x: float
    stack: int
    measure_count: int


@dataclass(frozen=True)
class StatisticPoint:
    """One observation in the chart."""

    id: str
    iri: str
    statistic: Term
    area: Term | None
    date: date
    date_kind: Term | None
    period: str
    value: float
    unit: Text
    x: float
    y: float
    source: str
    quote: str
    qualifier: str = ""  # the symbol of the value's qualifier (> ≥ ≤ < ≈); empty when exact

    @property
    def value_text(self) -> str:
        return number_text(self.value, self.qualifier)


@dataclass(frozen=True)
class AreaSeries:
    """One area's observations of one statistic in a panel: its colour, its points and the lines joining them."""

    key: str
    area: Term | None
    colour: int
    points: tuple[StatisticPoint, ...]
    lines: tuple[tuple[float, float, float, float], ...]
    maximum: float

    @property
    def max_text(self) -> str:
        return number_text(self.maximum)


@dataclass(frozen=True)
class ScaleTick:
    """A labelled value of a panel's y axis, `y` px from the top of the plot."""

    y: float
    value: float
    label: Text


@dataclass(frozen=True)
class StatisticPanel:
    """Areas of one statistic that share a scale (their maxima within SCALE_RATIO of each other): one y axis."""

    id: str
    series: tuple[AreaSeries, ...]
    top: float
    ticks: tuple[ScaleTick, ...]

    @property
    def top_text(self) -> str:
        return number_text(self.top)


@dataclass
class StatisticChart:
    """One statistic: a panel per scale, each with its own labelled y axis, and a legend of its areas."""

    statistic: Term
    unit: Text
    panels: list[StatisticPanel]
    points: list[StatisticPoint]

    @property
    def areas(self) -> int:
        return sum(len(p.series) for p in self.panels)


@dataclass(frozen=True)
class AxisTick:
    """A day on the axis; `level` is the narrowest layout whose labels include it (1 phone … 4 wide; 0 none)."""

    x: float
    iso: str
    label: Text
    level: int

    @property
    def major(self) -> bool:
        return self.level > 0


@dataclass(frozen=True)
class AxisSegment:
    """A stretch of consecutive days drawn to scale; segments are separated by a break mark.

    `title` is shown from layout `title_level` on, `short` below it (the two never collide in one layout).
    """

    start: date
    end: date
    left: float
    width: float
    ticks: tuple[AxisTick, ...]
    title: Text
    short: Text = Text("", "")
    title_level: int = 1


@dataclass(frozen=True)
class OverviewEntry:
    """One kind of change on one day in the overview: the measures (the first few named) and how many in all."""

    kind: str
    label: Text
    measures: tuple[Term, ...]
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.measures)


@dataclass(frozen=True)
class OverviewDay:
    day: date
    entries: tuple[OverviewEntry, ...]


@dataclass(frozen=True)
class OverviewPeriod:
    """The key changes of one period of the axis, day by day."""

    title: Text
    start: date
    end: date
    days: tuple[OverviewDay, ...]
    totals: tuple[OverviewEntry, ...]


@dataclass(frozen=True)
class Layout:
    """A layout of the page (timeline.css): its number (the level of ticks and titles) and its least viewport width."""

    number: int
    width: int


@dataclass(frozen=True)
class FilterOption:
    slug: str
    label: Text
    count: int


@dataclass
class TimelineContext:
    """What the template lays out."""

    title: Text
    measures: list[TimelineMeasure]
    events: list[TimelineEvent]
    charts: list[StatisticChart]
    folded_charts: list[StatisticChart]
    statistics: list[StatisticPoint]
    overview: list[OverviewPeriod]
    first_day: date
    last_day: date
    segments: list[AxisSegment]
    breaks: list[float]
    categories: list[FilterOption]
    places: list[FilterOption]
    strengths: list[FilterOption]
    lanes_json: str
    script_json: str
    event_rows: int
    layouts: tuple[Layout, ...] = ()
    stat_height: int = STAT_HEIGHT
    # More measures than full_list_max: the list carries summary rows only, the details go compressed in blocks of
    # detail_chunk (kb/timeline/render.py).
    lazy_details: bool = False
    full_list_max: int = 0
    detail_chunk: int = 0


@dataclass(frozen=True)
class TimelineResult:
    """What was written: where, how many measures, announcements and statistics, and the size."""

    path: Path
    measures: int
    events: int
    statistics: int
    size: int

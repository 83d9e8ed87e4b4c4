"""The timeline page: named queries → typed context → jinja2 → one self-contained HTML file.

Every measure is drawn on a broken time axis (the 2020 and 2022 periods without the years between),
as a range over its in-force period where known, as a point on its announcement date where only
that is known, and as a hatched span over its source's reporting period where no date is stated.
The renderer reads only the store and, for the quotes' context, the source texts (evidence).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyoxigraph as ox

from .errors import KbError
from .namespaces import PREFIXES
from .project import Project
from .query import get_named_query, run_query

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
CQ = PREFIXES["cq"]
NOT_STATED = CQ + "NotStated"
APPROXIMATE = CQ + "ApproximateDate"
# Days between two dates beyond which the axis is broken into separate segments.
AXIS_BREAK_DAYS = 45
# Share of the axis width left empty between two segments (where the break mark is drawn).
AXIS_GAP = 3.0
STAT_HEIGHT = 44
# Minimum distance between two labelled ticks, in % of the axis width.
TICK_LABEL_WIDTH = 5.0
# Points of one statistic and area further apart than this are not joined by a line.
STAT_LINE_DAYS = 7
# Statistics with at least this many observations get their own visible strip; the rest are folded.
STAT_VISIBLE_MIN = 3
UNITS = {
    "NUM": ("", ""),
    "PERCENT": ("%", "%"),
    "HR": ("hours", "小时"),
    "DAY": ("days", "天"),
    "PER-DAY": ("per day", "次/天"),
    "MIN": ("minutes", "分钟"),
}
_SENTENCE_END = "。！？!?；;"
_CONTEXT_LIMIT = 160


class TimelineError(KbError):
    """The timeline page cannot be written."""


# ---------------------------------------------------------------- the typed context


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

    @property
    def stated_absent(self) -> bool:
        return self.value is None


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
class LinkedMeasure:
    """A link from one measure to another thing: its label and, when on the page, its anchor."""

    relation: Text
    target: Term
    on_page: bool


@dataclass(frozen=True)
class ParameterValue:
    """A typed quantity of a measure: what it measures, the number and its unit."""

    kind: Text
    value: str
    unit: Text
    note: str


@dataclass(frozen=True)
class Mark:
    """How a measure is drawn: a range, a point, or an undated span; positions in % of the axis."""

    shape: str
    left: float
    width: float
    start_open: bool
    end_open: bool
    approximate: bool
    sort_date: date
    tip: Text


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

    @property
    def value_text(self) -> str:
        return _number(self.value)


@dataclass
class StatisticSeries:
    """One strip of the chart: every observation of one statistic, joined per area."""

    statistic: Term
    points: list[StatisticPoint]
    lines: list[tuple[float, float, float, float]]
    maximum: float
    unit: Text
    areas: list[Term]

    @property
    def max_text(self) -> str:
        return _number(self.maximum)


@dataclass(frozen=True)
class AxisTick:
    x: float
    iso: str
    label: Text
    major: bool


@dataclass(frozen=True)
class AxisSegment:
    """A stretch of consecutive days drawn to scale; segments are separated by a break mark."""

    start: date
    end: date
    left: float
    width: float
    ticks: tuple[AxisTick, ...]
    title: Text


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
    series: list[StatisticSeries]
    folded_series: list[StatisticSeries]
    statistics: list[StatisticPoint]
    segments: list[AxisSegment]
    breaks: list[float]
    categories: list[FilterOption]
    places: list[FilterOption]
    strengths: list[FilterOption]
    lanes_json: str
    script_json: str
    event_rows: int
    stat_height: int = STAT_HEIGHT


# ---------------------------------------------------------------- helpers


def slug_of(iri: str) -> str:
    """A stable HTML id from an IRI: its last path segment, limited to safe characters."""
    local = re.split(r"[/#]", iri.rstrip("/"))[-1]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", local).strip("-.") or "item"
    return slug if slug[0].isalpha() else "x-" + slug


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def json_for_script(data: object) -> str:
    """JSON safe inside a <script> element: no </script>, <!-- or line separators can break out."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def _char_pairs() -> list[tuple[str, str]]:
    """(traditional, simplified) character pairs from hanziconv's table (Apache-2.0)."""
    from hanziconv.charmap import simplified_charmap, traditional_charmap

    return [(t, s) for t, s in zip(traditional_charmap, simplified_charmap, strict=False) if t != s]


def build_char_map(texts: Iterable[str]) -> dict[str, str]:
    """Traditional → simplified for every character of `texts` and every variant of those characters.

    The page folds both the measures' text and the user's query with this map, so a search in
    either script finds both. Only characters relevant to the knowledge base are kept, so the map
    stays small.
    """
    pairs = _char_pairs()
    to_simple = dict(pairs)
    present = {to_simple.get(c, c) for text in texts for c in text if ord(c) > 0x2E7F}
    return {t: s for t, s in pairs if s in present}


def fold(text: str, char_map: dict[str, str]) -> str:
    """Text as the search compares it: simplified characters, lower case, single spaces."""
    return " ".join("".join(char_map.get(c, c) for c in text.lower()).split())


def quote_in_context(quote: str, source_text: str | None, lang: str, source: Term | None) -> QuoteInContext:
    """The quote with the rest of its sentence, found after removing line breaks from both."""
    needle = quote.replace("\r", "").replace("\n", "")
    if source_text is None:
        return QuoteInContext(quote, "", "", False, lang, source)
    hay = source_text.replace("\r", "").replace("\n", "")
    at = hay.find(needle)
    if at < 0 or not needle:
        return QuoteInContext(quote, "", "", False, lang, source)
    start = at
    while start > 0 and hay[start - 1] not in _SENTENCE_END and at - start < _CONTEXT_LIMIT:
        start -= 1
    end = at + len(needle)
    while end < len(hay) and hay[end - 1] not in _SENTENCE_END and end - at - len(needle) < _CONTEXT_LIMIT:
        end += 1
    before = hay[start:at].lstrip()
    after = hay[at + len(needle) : end].rstrip()
    return QuoteInContext(needle, before, after, True, lang, source)


# ---------------------------------------------------------------- the broken axis


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


# ---------------------------------------------------------------- from the store to the context


@dataclass
class _Vocabulary:
    labels: dict[str, Text]
    slugs: dict[str, str] = field(default_factory=dict)

    def term(self, iri: str | None) -> Term | None:
        if not iri:
            return None
        label = self.labels.get(iri) or Text("", slug_of(iri))
        return Term(iri, self.slugs.get(iri) or slug_of(iri), label)

    def terms(self, iris: Iterable[str]) -> list[Term]:
        found = [self.term(iri) for iri in iris]
        return sorted((t for t in found if t is not None), key=lambda t: (t.label.en.lower(), t.iri))


def _records(store: ox.Store, name: str) -> list[dict[str, str | None]]:
    return run_query(store, get_named_query(name).text).records()


def _unique_slugs(iris: Iterable[str], taken: set[str]) -> dict[str, str]:
    slugs = {}
    for iri in sorted(set(iris)):
        base = slug_of(iri)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs[iri] = slug
    return slugs


def _unit_text(iri: str | None) -> Text:
    if not iri:
        return Text("", "")
    local = iri.rsplit("/", 1)[-1]
    en, zh = UNITS.get(local, (local, local))
    return Text(zh, en)


def _source_texts(project: Project, sources: list[dict[str, str | None]]) -> dict[str, tuple[str | None, str]]:
    texts: dict[str, tuple[str | None, str]] = {}
    for row in sources:
        iri = row["source"] or ""
        lang = "zh-Hant" if (row.get("script") or "") == "traditional" else "zh-Hans"
        content = None
        if row.get("file_name"):
            try:
                content = (project.sources_dir / str(row["file_name"])).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                content = None
        texts[iri] = (content, lang)
    return texts


def _date_info(vocab: _Vocabulary, value: str | None, kind: str | None) -> DateInfo:
    return DateInfo(_day(value), vocab.term(kind))


def _mark(axis: Axis, m_ann: DateInfo, m_from: DateInfo, m_until: DateInfo, covers: tuple[date, date] | None) -> Mark:
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


def _stack(xs: list[tuple[str, float]]) -> dict[str, int]:
    """A row per marker so markers on the same day do not hide each other."""
    rows: dict[str, int] = {}
    used: dict[float, int] = defaultdict(int)
    for key, x in xs:
        rows[key] = used[x]
        used[x] += 1
    return rows


def build_context(store: ox.Store, project: Project) -> TimelineContext:
    """Query the store and lay the results out as the typed context of the page."""
    labels = {}
    for row in _records(store, "timeline-labels"):
        labels[str(row["thing"])] = Text(row["label_zh"] or "", row["label_en"] or "")
    vocab = _Vocabulary(labels)
    measure_rows = _records(store, "timeline-measures")
    # Sorted here, not by ORDER BY: sorting in the on-disk store decodes every term per comparison.
    fact_rows = sorted(
        _records(store, "timeline-measure-facts"),
        key=lambda r: (r["measure"] or "", r["property"] or "", r["value"] or ""),
    )
    parameter_rows = _records(store, "timeline-parameters")
    link_rows = _records(store, "timeline-link-properties")
    event_rows = _records(store, "timeline-announcements")
    stat_rows = _records(store, "timeline-statistics")
    place_rows = _records(store, "timeline-places")
    source_rows = _records(store, "timeline-sources")

    taken = {"tl-main", "tl-filters", "tl-search", "tl-chart", "tl-measures", "tl-announcements", "tl-statistics"}
    vocab.slugs.update(_unique_slugs((str(r["measure"]) for r in measure_rows), taken))
    vocab.slugs.update(
        {iri: "ann-" + s for iri, s in _unique_slugs((str(r["announcement"]) for r in event_rows), set()).items()}
    )
    vocab.slugs.update(
        {iri: "obs-" + s for iri, s in _unique_slugs((str(r["observation"]) for r in stat_rows), set()).items()}
    )

    facts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in fact_rows:
        facts[str(row["measure"])][str(row["property"])].append(str(row["value"]))
    inverse_of = {str(r["property"]): r["inverse"] for r in link_rows}
    reverse: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for measure, by_property in facts.items():
        for prop in inverse_of:
            for target in by_property.get(prop, []):
                reverse[target].append((prop, measure))
    parameters: dict[str, list[ParameterValue]] = defaultdict(list)
    for row in parameter_rows:
        kind = vocab.term(row["quantity_kind"])
        value = _number(float(row["value"])) if row["value"] else ""
        parameters[str(row["measure"])].append(
            ParameterValue(kind.label if kind else Text("", ""), value, _unit_text(row["unit"]), row["note"] or "")
        )
    ancestors: dict[str, set[str]] = defaultdict(set)
    for row in place_rows:
        if row["ancestor"]:
            ancestors[str(row["place"])].add(str(row["ancestor"]))
    sources = _source_texts(project, source_rows)
    covers = {
        str(r["source"]): (_day(r["covers_from"]), _day(r["covers_until"]))
        for r in source_rows
        if _day(r["covers_from"]) and _day(r["covers_until"])
    }

    days: list[date] = []
    for row in measure_rows:
        days += [d for d in (_day(row["announced"]), _day(row["in_force_from"]), _day(row["in_force_until"])) if d]
    days += [d for d in (_day(r["date"]) for r in event_rows) if d]
    days += [d for d in (_day(r["ref_date"]) for r in stat_rows) if d]
    for first, last in covers.values():
        days += [d for d in (first, last) if d]
    axis = Axis.around(days)

    events_per_announcement: dict[str, int] = defaultdict(int)
    measures: list[TimelineMeasure] = []
    for row in measure_rows:
        iri = str(row["measure"])
        own = facts.get(iri, {})
        announced = _date_info(vocab, row["announced"], row["announced_kind"])
        in_from = _date_info(vocab, row["in_force_from"], row["in_force_from_kind"])
        in_until = _date_info(vocab, row["in_force_until"], row["in_force_until_kind"])
        source_iris = own.get(CQ + "source", [])
        cover = next((covers[s] for s in source_iris if s in covers), None)
        mark = _mark(axis, announced, in_from, in_until, cover)  # type: ignore[arg-type]
        quotes = []
        for quote in own.get(CQ + "quote", []):
            found = None
            for source_iri in source_iris or [""]:
                text, lang = sources.get(source_iri, (None, "zh"))
                found = quote_in_context(quote, text, lang, vocab.term(source_iri))
                if found.found:
                    break
            if found is not None:
                quotes.append(found)
        links = []
        for prop in inverse_of:
            for target in own.get(prop, []):
                relation = vocab.labels.get(prop, Text("", slug_of(prop)))
                links.append(LinkedMeasure(relation, vocab.term(target), target in vocab.slugs))  # type: ignore[arg-type]
        for prop, other in reverse.get(iri, []):
            inverse = inverse_of[prop]
            relation = vocab.labels.get(inverse or "", Text("", f"inverse of {slug_of(prop)}"))
            links.append(LinkedMeasure(relation, vocab.term(other), True))  # type: ignore[arg-type]
        links = [link for link in links if link.target is not None]
        documents = vocab.terms(own.get(CQ + "cites", []))
        categories = vocab.terms(own.get(CQ + "category", []))
        places = vocab.terms(own.get(CQ + "appliesTo", []))
        place_keys = sorted({t.slug for t in places} | {slug_of(a) for p in places for a in ancestors.get(p.iri, ())})
        label = vocab.labels.get(iri, Text("", slug_of(iri)))
        targets = vocab.terms(own.get(CQ + "targetGroup", []))
        searchable = [label.zh, label.en, *(q.text for q in quotes), *(t.label.zh + " " + t.label.en for t in places)]
        if row["announcement"]:
            events_per_announcement[str(row["announcement"])] += 1
        measures.append(
            TimelineMeasure(
                id=vocab.slugs[iri],
                iri=iri,
                label=label,
                strength=vocab.term(row["strength"]),
                announced=announced,
                in_force_from=in_from,
                in_force_until=in_until,
                announcement=vocab.term(row["announcement"]),
                categories=categories,
                places=places,
                targets=targets,
                documents=documents,
                parameters=parameters.get(iri, []),
                links=links,
                sources=vocab.terms(source_iris),
                quotes=quotes,
                comment=row["comment_en"] or "",
                mark=mark,
                lane_category=categories[0].slug if categories else "none",
                lane_place=places[0].slug if places else "none",
                place_keys=place_keys,
                search_text="\n".join(searchable),
            )
        )
    measures.sort(key=lambda m: (m.mark.sort_date, m.mark.shape == "undated", m.label.en.lower(), m.id))
    char_map = build_char_map(m.search_text for m in measures)
    for item in measures:
        item.search_text = fold(item.search_text, char_map)

    events = _events(vocab, axis, event_rows, events_per_announcement)
    statistics = _statistics(vocab, axis, stat_rows)
    series = _series(vocab, statistics)
    visible = [s for s in series if len(s.points) >= STAT_VISIBLE_MIN]
    folded = [s for s in series if len(s.points) < STAT_VISIBLE_MIN]

    category_options = _options(vocab, (c.iri for m in measures for c in m.categories))
    place_options = _options(vocab, (p.iri for m in measures for p in m.places))
    strengths = _options(vocab, (m.strength.iri for m in measures if m.strength))
    place_lanes = sorted(
        {p.iri for m in measures for p in m.places[:1]},
        key=lambda iri: (len(ancestors.get(iri, ())), labels.get(iri, Text("", iri)).en),
    )
    lanes = {
        "category": [{"key": o.slug, "zh": o.label.zh, "en": o.label.en} for o in category_options],
        "place": [
            {
                "key": slug_of(iri),
                "zh": labels.get(iri, Text("", "")).zh,
                "en": labels.get(iri, Text("", slug_of(iri))).en,
            }
            for iri in place_lanes
        ],
    }
    script = {
        "chars": char_map,
        "ancestors": {slug_of(p): sorted(slug_of(a) for a in a_set) for p, a_set in ancestors.items() if a_set},
    }
    return TimelineContext(
        title=Text("重庆新冠肺炎疫情防控措施时间线", "Chongqing COVID-19 measures: a timeline"),
        measures=measures,
        events=events,
        series=visible,
        folded_series=folded,
        statistics=statistics,
        segments=axis.segments,
        breaks=axis.breaks(),
        categories=category_options,
        places=place_options,
        strengths=strengths,
        lanes_json=json_for_script(lanes),
        script_json=json_for_script(script),
        event_rows=max([e.stack for e in events], default=0) + 1,
    )


def _options(vocab: _Vocabulary, iris: Iterable[str]) -> list[FilterOption]:
    counts: dict[str, int] = defaultdict(int)
    for iri in iris:
        counts[iri] += 1
    terms = vocab.terms(counts)
    return [FilterOption(t.slug, t.label, counts[t.iri]) for t in terms]


def _events(
    vocab: _Vocabulary, axis: Axis, rows: list[dict[str, str | None]], counts: dict[str, int]
) -> list[TimelineEvent]:
    dated = [(r, _day(r["date"])) for r in rows]
    positions = [(str(r["announcement"]), axis.x(d, 0.5)) for r, d in dated if d]
    stack = _stack(positions)
    events = []
    for row, day in dated:
        if day is None:
            continue
        iri = str(row["announcement"])
        term = vocab.term(iri)
        assert term is not None
        events.append(
            TimelineEvent(
                term.slug,
                iri,
                term.label,
                vocab.term(row["type"]),
                day,
                vocab.term(row["date_kind"]),
                axis.x(day, 0.5),
                stack[iri],
                counts.get(iri, 0),
            )
        )
    return events


def _statistics(vocab: _Vocabulary, axis: Axis, rows: list[dict[str, str | None]]) -> list[StatisticPoint]:
    points = []
    for row in rows:
        day = _day(row["ref_date"])
        statistic = vocab.term(row["statistic"])
        if day is None or statistic is None or not row["value"]:
            continue
        iri = str(row["observation"])
        points.append(
            StatisticPoint(
                id=vocab.slugs.get(iri, slug_of(iri)),
                iri=iri,
                statistic=statistic,
                area=vocab.term(row["area"]),
                date=day,
                date_kind=vocab.term(row["ref_date_kind"]),
                period=row["ref_period"] or "",
                value=float(row["value"]),
                unit=_unit_text(row["unit"]),
                x=axis.x(day, 0.5),
                y=0.0,
                source=row["source"] or "",
                quote=row["quote"] or "",
            )
        )
    return points


def _series(vocab: _Vocabulary, points: list[StatisticPoint]) -> list[StatisticSeries]:
    by_statistic: dict[str, list[StatisticPoint]] = defaultdict(list)
    for point in points:
        by_statistic[point.statistic.iri].append(point)
    series = []
    inner = STAT_HEIGHT - 8
    for members in by_statistic.values():
        maximum = max((p.value for p in members), default=0.0) or 1.0
        placed = [
            StatisticPoint(**{**p.__dict__, "y": round(4 + inner - inner * max(p.value, 0.0) / maximum, 2)})
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
        areas = vocab.terms(per_area.keys() - {""})
        series.append(StatisticSeries(placed[0].statistic, placed, lines, maximum, placed[0].unit, areas))
    series.sort(key=lambda s: (-len(s.points), s.statistic.label.en))
    return series


# ---------------------------------------------------------------- rendering and writing


def render_timeline(context: TimelineContext) -> str:
    """The page as one HTML string (autoescaped, undefined names are errors)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    inline = {name: (TEMPLATE_DIR / name).read_text("utf-8") for name in ("timeline.css", "timeline.js")}
    for name, text in inline.items():
        if "</" in text or "<!--" in text:
            raise TimelineError(f"{name} must not contain '</' or '<!--'", file=str(TEMPLATE_DIR / name))
    template = environment.get_template("timeline.html.j2")
    return template.render(
        page=context,
        css=jinja2.utils.markupsafe.Markup(inline["timeline.css"]),
        js=jinja2.utils.markupsafe.Markup(inline["timeline.js"]),
    )


@dataclass(frozen=True)
class TimelineResult:
    """What was written: where, how many measures, announcements and statistics, and the size."""

    path: Path
    measures: int
    events: int
    statistics: int
    size: int


def write_atomic(path: Path, text: str) -> int:
    """Write `text` to `path` through a temporary file in the same folder, so no half file remains."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise TimelineError(f"folder {folder} does not exist", hint="create it first or choose another -o PATH")
    if path.is_dir():
        raise TimelineError(f"{path} is a folder", hint="give a file name, e.g. -o timeline.html")
    data = text.encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise TimelineError(
            f"cannot write in {folder}: {exc.strerror}", hint="choose a folder you can write to"
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TimelineError(f"cannot write {path}: {exc.strerror}") from None
    return len(data)


def write_timeline(store: ox.Store, project: Project, path: Path) -> TimelineResult:
    """Build the context, render it and write the page atomically."""
    context = build_context(store, project)
    html = render_timeline(context)
    size = write_atomic(path, html)
    return TimelineResult(path, len(context.measures), len(context.events), len(context.statistics), size)

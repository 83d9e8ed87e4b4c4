"""The page's context: the feeds' rows laid out as measures, marks, events, chart strips, filters and lanes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import pyoxigraph as ox

from ..namespaces import CQ
from ..project import Project
from .axis import LAYOUTS, Axis, mark_of
from .chart import charts_of
from .model import (
    ChangeMarker,
    DateInfo,
    EffectivePeriod,
    FilterOption,
    Layout,
    LinkedMeasure,
    ParameterValue,
    QuoteInContext,
    Text,
    TimelineContext,
    TimelineMeasure,
)
from .overview import overview_of
from .rows import (
    Row,
    Rows,
    Vocabulary,
    day_of,
    events_of,
    parameters_by_measure,
    periods_by_measure,
    quote_in_context,
    slug_of,
    source_texts,
    statistic_points,
    unique_slugs,
)
from .search import build_char_map, fold

# Statistics with at least this many observations get a chart; the rest are listed with their values.
STAT_VISIBLE_MIN = 3
# Up to this many measures the page carries every measure's full markup (readable without JavaScript, all of it
# built at once, so find-in-page reaches every quote); beyond it the list without JavaScript shows each measure's
# summary row only and the details are shipped compressed, DETAIL_CHUNK measures a block, for the script to show
# on opening (docs/benchmarks.md, "The timeline page at 10k measures"). Read at call time: tests lower it.
FULL_LIST_MAX = 400
DETAIL_CHUNK = 100
# Ids the page itself uses: a measure never gets one of them as its permalink.
PAGE_IDS = (
    "tl-main",
    "tl-filters",
    "tl-search",
    "tl-chart",
    "tl-measures",
    "tl-announcements",
    "tl-statistics",
    "tl-overview",
    "tl-between",
    "tl-lanes",
    "tl-timeline",
    "tl-details",
)
# Links drawn on the earlier measure's bar, where the later one changed it (implements is not a change).
DRAWN_LINKS = ("ends", "replaces", "amends", "restates", "relaxes", "tightens")
# Change links: the effect on the earlier measure, and the optional direction stated beside it.
EFFECTS = tuple(CQ + name for name in ("ends", "replaces", "amends", "restates", "implements"))
DIRECTIONS = (CQ + "relaxes", CQ + "tightens")
TITLE = Text("重庆新冠肺炎疫情防控措施时间线", "Chongqing COVID-19 measures: a timeline")

Facts = dict[str, dict[str, list[str]]]
# The period of a measure the derived graph does not know (a store built before periods were derived).
NO_PERIOD = EffectivePeriod(None, None, (), ())


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


@dataclass
class _Inputs:
    """What every measure is laid out from: the vocabulary, its facts, links both ways, places and sources."""

    vocab: Vocabulary
    facts: Facts
    inverse_of: dict[str, str | None]
    reverse: dict[str, list[tuple[str, str]]]
    parameters: dict[str, list[ParameterValue]]
    ancestors: dict[str, set[str]]
    sources: dict[str, tuple[str | None, str]]
    covers: dict[str, tuple[date, date]]
    periods: dict[str, EffectivePeriod]


def _vocabulary(rows: Rows) -> Vocabulary:
    vocab = Vocabulary.from_rows(rows.labels)
    vocab.slugs.update(unique_slugs((str(r["measure"]) for r in rows.measures), set(PAGE_IDS)))
    for prefix, key, feed in (("ann-", "announcement", rows.announcements), ("obs-", "observation", rows.statistics)):
        vocab.slugs.update({iri: prefix + s for iri, s in unique_slugs((str(r[key]) for r in feed), set()).items()})
    return vocab


def _facts(rows: list[Row]) -> Facts:
    facts: Facts = defaultdict(lambda: defaultdict(list))
    for row in rows:
        facts[str(row["measure"])][str(row["property"])].append(str(row["value"]))
    return facts


def _reverse(facts: Facts, inverse_of: dict[str, str | None]) -> dict[str, list[tuple[str, str]]]:
    """For each link target, the (property, measure) pairs that point at it."""
    reverse: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for measure, by_property in facts.items():
        for prop in inverse_of:
            for target in by_property.get(prop, []):
                reverse[target].append((prop, measure))
    return reverse


def _ancestors(rows: list[Row]) -> dict[str, set[str]]:
    ancestors: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["ancestor"]:
            ancestors[str(row["place"])].add(str(row["ancestor"]))
    return ancestors


def _covers(rows: list[Row]) -> dict[str, tuple[date, date]]:
    """The days each source reports on, for sources that declare both ends."""
    covers = {}
    for row in rows:
        first, last = day_of(row["covers_from"]), day_of(row["covers_until"])
        if first and last:
            covers[str(row["source"])] = (first, last)
    return covers


def _inputs(rows: Rows, project: Project) -> _Inputs:
    vocab = _vocabulary(rows)
    facts = _facts(rows.facts)
    inverse_of = {str(r["property"]): r["inverse"] for r in rows.link_properties}
    return _Inputs(
        vocab=vocab,
        facts=facts,
        inverse_of=inverse_of,
        reverse=_reverse(facts, inverse_of),
        parameters=parameters_by_measure(vocab, rows.parameters),
        ancestors=_ancestors(rows.places),
        sources=source_texts(project, rows.sources),
        covers=_covers(rows.sources),
        periods=periods_by_measure(
            vocab, rows.periods, rows.spans, {m: f.get(CQ + "possiblyEndedBy", []) for m, f in facts.items()}
        ),
    )


def _axis(rows: Rows, covers: dict[str, tuple[date, date]]) -> Axis:
    """An axis around every date the page draws: the measures', the announcements', statistics and coverage."""
    days: list[date] = []
    for row in rows.measures:
        days += [d for d in (day_of(row[key]) for key in ("announced", "in_force_from", "in_force_until")) if d]
    days += [d for d in (day_of(row[key]) for row in rows.periods for key in ("from", "until")) if d]
    days += [d for d in (day_of(r["date"]) for r in rows.announcements) if d]
    days += [d for d in (day_of(r["ref_date"]) for r in rows.statistics) if d]
    for first, last in covers.values():
        days += [first, last]
    return Axis.around(days)


def _quotes(inputs: _Inputs, quotes: list[str], source_iris: list[str]) -> list[QuoteInContext]:
    """Each quote in the first of the measure's sources that contains it (or, not found, in the last)."""
    found_quotes = []
    for quote in quotes:
        found = None
        for source_iri in source_iris or [""]:
            text, lang = inputs.sources.get(source_iri, (None, "zh"))
            found = quote_in_context(quote, text, lang, inputs.vocab.term(source_iri))
            if found.found:
                break
        if found is not None:
            found_quotes.append(found)
    return found_quotes


def _local(iri: str) -> str:
    return iri[len(CQ) :] if iri.startswith(CQ) else slug_of(iri)


def _links(inputs: _Inputs, iri: str, own: dict[str, list[str]]) -> list[LinkedMeasure]:
    """The measure's links to others, then the links from others to it (named by the inverse).

    The properties between two measures are one entry per effect, with the direction stated beside it
    (a link stating only a direction is shown by that direction); each with the other measure's period.
    """
    vocab = inputs.vocab
    groups: dict[tuple[bool, str], list[str]] = {}
    for prop in inputs.inverse_of:
        for target in own.get(prop, []):
            groups.setdefault((False, target), []).append(prop)
    for prop, other in inputs.reverse.get(iri, []):
        groups.setdefault((True, other), []).append(prop)

    def relation(prop: str, incoming: bool) -> Text:
        if not incoming:
            return vocab.labels.get(prop, Text("", slug_of(prop)))
        inverse = inputs.inverse_of.get(prop)
        return vocab.labels.get(inverse or "", Text("", f"inverse of {slug_of(prop)}"))

    own_period = inputs.periods.get(iri)
    own_start = own_period.start.day if own_period and own_period.start else None
    links = []
    for (incoming, other), props in groups.items():
        directions = [p for p in props if p in DIRECTIONS]
        effects = [p for p in props if p not in DIRECTIONS] or directions
        shown = [d for d in directions if d not in effects]
        period = inputs.periods.get(other)
        later_start = (period.start.day if period and period.start else None) if incoming else own_start
        for effect in effects:
            links.append(
                LinkedMeasure(
                    relation=relation(effect, incoming),
                    target=vocab.known(other),
                    on_page=incoming or other in vocab.slugs,
                    effect=_local(effect),
                    directions=tuple(relation(d, incoming) for d in shown),
                    direction_keys=" ".join(_local(d) for d in shown),
                    incoming=incoming,
                    period=period,
                    day=later_start,
                )
            )
    return links


def _markers(axis: Axis, links: list[LinkedMeasure]) -> tuple[ChangeMarker, ...]:
    """The changes to draw on a measure's bar: each later measure that changed it, on the day it did."""
    return tuple(
        ChangeMarker(link.effect, axis.x(link.day), link.target, link.relation, link.day)
        for link in sorted(links, key=lambda lk: (lk.day or date.min, lk.target.slug))
        if link.incoming and link.on_page and link.day is not None and link.effect in DRAWN_LINKS
    )


def _measure(inputs: _Inputs, axis: Axis, row: Row) -> TimelineMeasure:
    vocab = inputs.vocab
    iri = str(row["measure"])
    own = inputs.facts.get(iri, {})
    announced = DateInfo(day_of(row["announced"]), vocab.term(row["announced_kind"]))
    in_from = DateInfo(day_of(row["in_force_from"]), vocab.term(row["in_force_from_kind"]))
    in_until = DateInfo(day_of(row["in_force_until"]), vocab.term(row["in_force_until_kind"]))
    period = inputs.periods.get(iri, NO_PERIOD)
    source_iris = own.get(CQ + "source", [])
    cover = next((inputs.covers[s] for s in source_iris if s in inputs.covers), None)
    quotes = _quotes(inputs, own.get(CQ + "quote", []), source_iris)
    categories = vocab.terms(own.get(CQ + "category", []))
    places = vocab.terms(own.get(CQ + "appliesTo", []))
    place_keys = {t.slug for t in places} | {slug_of(a) for p in places for a in inputs.ancestors.get(p.iri, ())}
    label = vocab.labels.get(iri, Text("", slug_of(iri)))
    links = _links(inputs, iri, own)
    mark = mark_of(axis, period, (announced, in_from, in_until), cover)
    if mark.drawn:
        mark = replace(mark, changes=_markers(axis, links))
    searchable = [label.zh, label.en, *(q.text for q in quotes), *(t.label.zh + " " + t.label.en for t in places)]
    return TimelineMeasure(
        id=vocab.slugs[iri],
        iri=iri,
        label=label,
        strength=vocab.term(row["strength"]),
        announced=announced,
        in_force_from=in_from,
        in_force_until=in_until,
        attested=sorted(d for d in (day_of(v) for v in own.get(CQ + "attestedInForce", [])) if d),
        attested_kind=vocab.term(next(iter(own.get(CQ + "attestedInForceKind", [])), None)),
        period=period,
        announcement=vocab.term(row["announcement"]),
        categories=categories,
        places=places,
        targets=vocab.terms(own.get(CQ + "targetGroup", [])),
        documents=vocab.terms(own.get(CQ + "cites", [])),
        parameters=inputs.parameters.get(iri, []),
        links=links,
        sources=vocab.terms(source_iris),
        quotes=quotes,
        comment=row["comment_en"] or "",
        mark=mark,
        lane_category=categories[0].slug if categories else "none",
        lane_place=places[0].slug if places else "none",
        place_keys=sorted(place_keys),
        search_text="\n".join(searchable),
    )


def _options(vocab: Vocabulary, iris: Iterable[str]) -> list[FilterOption]:
    counts: dict[str, int] = defaultdict(int)
    for iri in iris:
        counts[iri] += 1
    terms = vocab.terms(counts)
    return [FilterOption(t.slug, t.label, counts[t.iri]) for t in terms]


def _lanes(inputs: _Inputs, measures: list[TimelineMeasure], categories: list[FilterOption]) -> dict[str, object]:
    """The lanes the script builds: by category (as the filter) and by each measure's first place, widest first."""
    labels = inputs.vocab.labels
    place_lanes = sorted(
        {p.iri for m in measures for p in m.places[:1]},
        key=lambda iri: (len(inputs.ancestors.get(iri, ())), labels.get(iri, Text("", iri)).en),
    )
    return {
        "category": [{"key": o.slug, "zh": o.label.zh, "en": o.label.en} for o in categories],
        "place": [
            {
                "key": slug_of(iri),
                "zh": labels.get(iri, Text("", "")).zh,
                "en": labels.get(iri, Text("", slug_of(iri))).en,
            }
            for iri in place_lanes
        ],
    }


def _script_measure(m: TimelineMeasure) -> list[str]:
    """What the script filters and lanes a measure by, in page order: the list itself is in the page's HTML."""
    return [
        m.id,
        m.label.zh,
        m.label.en,
        " ".join(c.slug for c in m.categories),
        " ".join(p.slug for p in m.places),
        " ".join(m.place_keys),
        m.strength.slug.lower() if m.strength else "",
        m.lane_category,
        m.lane_place,
        m.search_text,
    ]


def _script_row(m: TimelineMeasure) -> list[object]:
    """What the script draws a large page's summary row from, exactly as measure_summary in measure.html.j2 does
    (tests/browser compares the two): [] for a measure not drawn, else [first day, last day ("" if none or the
    same), the end's basis zh, en ("" if none), the bar's classes, pieces [style, open, left, width], cap, cap x,
    change links [effect, target, day, x, title]]. Positions as the template prints them (str of the float)."""
    mark = m.mark
    if not mark.drawn:
        return []
    start = m.period.start.day if m.period.start and m.period.start.day else None
    until = m.period.until if start and m.period.until and m.period.until.day else None
    basis = until.basis.label if until and until.basis else Text("", "")
    strength = m.strength.slug.lower() if m.strength else "none"
    return [
        start.isoformat() if start else "",
        until.day.isoformat() if until and until.day and until.day != start else "",
        basis.zh,
        basis.en,
        f"s-{strength}" + (" approximate" if mark.approximate else ""),
        [[p.style, 1 if p.open_end else 0, str(p.left), str(p.width)] for p in mark.pieces],
        mark.cap,
        str(mark.cap_x),
        [
            [
                c.effect,
                c.target.slug,
                c.day.isoformat(),
                str(c.x),
                f"{c.relation.en} {c.target.label.en or c.target.label.zh}, {c.day.isoformat()} / {c.relation.zh}",
            ]
            for c in mark.changes
        ],
    ]


def _script_changes(rows: list[Row], index: dict[str, int]) -> list[list[object]]:
    """The rows of changes-between as [day, change, measure, by, basis]; measures by their place in the list."""
    found: list[list[object]] = []
    for row in rows:
        measure = index.get(str(row["measure"]))
        if measure is None or not row["day"]:
            continue
        by = index.get(str(row["by"]), -1) if row["by"] else -1
        found.append([str(row["day"])[:10], str(row["change"]), measure, by, row["basis"] or ""])
    return found


def build_context(store: ox.Store, project: Project) -> TimelineContext:
    """Query the store and lay the results out as the typed context of the page."""
    return context_of(Rows.read(store), project)


def context_of(rows: Rows, project: Project) -> TimelineContext:
    """The typed context of the page from the feeds' rows (and the source texts, for the quotes)."""
    inputs = _inputs(rows, project)
    vocab = inputs.vocab
    axis = _axis(rows, inputs.covers)
    measures = [_measure(inputs, axis, row) for row in rows.measures]
    events_per_announcement: dict[str, int] = defaultdict(int)
    for row in rows.measures:
        if row["announcement"]:
            events_per_announcement[str(row["announcement"])] += 1
    measures.sort(key=lambda m: (m.mark.sort_date, not m.mark.drawn, m.label.en.lower(), m.id))
    char_map = build_char_map(m.search_text for m in measures)
    for item in measures:
        item.search_text = fold(item.search_text, char_map)

    events = events_of(vocab, axis, rows.announcements, events_per_announcement)
    statistics = statistic_points(vocab, axis, rows.statistics)
    charts = charts_of(statistics)
    category_options = _options(vocab, (c.iri for m in measures for c in m.categories))
    lazy = len(measures) > FULL_LIST_MAX
    script = {
        # Rows a chunk of the list (and measures a block of the compressed details) in a large page; 0: all at once.
        "chunk": DETAIL_CHUNK if lazy else 0,
        "chars": char_map,
        "ancestors": {slug_of(p): sorted(slug_of(a) for a in a_set) for p, a_set in inputs.ancestors.items() if a_set},
        "measures": [_script_measure(m) for m in measures],
        # A large page: the rows the script builds instead of reading the <noscript> list (which follows it).
        "rows": [_script_row(m) for m in measures] if lazy else [],
        "changes": _script_changes(rows.changes, {m.iri: n for n, m in enumerate(measures)}),
    }
    return TimelineContext(
        title=TITLE,
        measures=measures,
        events=events,
        charts=[c for c in charts if len(c.points) >= STAT_VISIBLE_MIN],
        folded_charts=[c for c in charts if len(c.points) < STAT_VISIBLE_MIN],
        statistics=statistics,
        overview=overview_of(rows.changes, measures, axis.segments),
        first_day=axis.segments[0].start,
        last_day=axis.segments[-1].end,
        segments=axis.segments,
        breaks=axis.breaks(),
        categories=category_options,
        places=_options(vocab, (p.iri for m in measures for p in m.places)),
        strengths=_options(vocab, (m.strength.iri for m in measures if m.strength)),
        lanes_json=json_for_script(_lanes(inputs, measures, category_options)),
        script_json=json_for_script(script),
        event_rows=max([e.stack for e in events], default=0) + 1,
        layouts=tuple(Layout(n, width) for n, (width, _) in enumerate(LAYOUTS, start=1)),
        lazy_details=lazy,
        full_list_max=FULL_LIST_MAX,
        detail_chunk=DETAIL_CHUNK,
    )

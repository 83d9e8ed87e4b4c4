"""From the store to the model: the timeline's query feeds (kb/queries/timeline/) and their rows as typed terms."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from ..derive import BASIS_CONCEPTS, STATUS_CONCEPTS
from ..evidence import SourceTexts, normalise
from ..periods import Status
from ..project import Project
from ..query import get_named_query, run_query
from .axis import Axis, stack_rows
from .model import (
    EffectivePeriod,
    ParameterValue,
    PeriodBound,
    QuoteInContext,
    StatisticPoint,
    StatusSpan,
    Term,
    Text,
    TimelineEvent,
    number_text,
)

# The feeds are plumbing, not user questions: they live apart from kb/queries/*.rq and `kb query --list`.
QUERY_DIR = Path(__file__).resolve().parent.parent / "queries" / "timeline"
# The overview and the "what changed between two days" view show what this user question answers, by design:
# the page runs it once over every day and filters its rows by day and place (tests/browser/test_timeline_browser.py
# proves the view lists what `kb query changes-between` lists).
CHANGES_QUESTION = "changes-between"
UNITS = {
    "NUM": ("", ""),
    "PERCENT": ("%", "%"),
    "HR": ("hours", "小时"),
    "DAY": ("days", "天"),
    "PER-DAY": ("per day", "次/天"),
    "MIN": ("minutes", "分钟"),
}
# A bound's basis concept → its CSS class, e.g. cq:EndedByBasis → "ended-by" (names from kb.periods.Basis).
BASIS_CSS = {iri: basis.name.lower().replace("_", "-") for basis, iri in BASIS_CONCEPTS.items()}
STATUS_OF = {iri: status for status, iri in STATUS_CONCEPTS.items()}
# How an in-force span is drawn, by the start of its reason (the reasons kb.periods writes).
IN_FORCE_STYLES = (("attested", "attested"), ("restated", "restated"))
_SENTENCE_END = "。！？!?；;"
_CONTEXT_LIMIT = 160

Row = dict[str, str | None]


def feed(store: ox.Store, name: str) -> list[Row]:
    """The rows of one timeline feed (kb/queries/timeline/NAME.rq) as plain values."""
    return run_query(store, (QUERY_DIR / f"{name}.rq").read_text("utf-8")).records()


@dataclass(frozen=True)
class Rows:
    """Every row the page is made from, one list per feed."""

    labels: list[Row]
    measures: list[Row]
    facts: list[Row]
    parameters: list[Row]
    link_properties: list[Row]
    announcements: list[Row]
    statistics: list[Row]
    places: list[Row]
    sources: list[Row]
    periods: list[Row]
    spans: list[Row]
    changes: list[Row] = field(default_factory=list)

    @classmethod
    def read(cls, store: ox.Store) -> Rows:
        return cls(
            labels=feed(store, "labels"),
            measures=feed(store, "measures"),
            # Sorted here, not by ORDER BY: sorting in the on-disk store decodes every term per comparison.
            facts=sorted(
                feed(store, "measure-facts"),
                key=lambda r: (r["measure"] or "", r["property"] or "", r["value"] or ""),
            ),
            parameters=feed(store, "parameters"),
            link_properties=feed(store, "link-properties"),
            announcements=feed(store, "announcements"),
            statistics=feed(store, "statistics"),
            places=feed(store, "places"),
            sources=feed(store, "sources"),
            periods=feed(store, "periods"),
            spans=sorted(feed(store, "spans"), key=lambda r: (r["measure"] or "", r["from"] or "", r["until"] or "")),
            changes=changes(store),
        )


def changes(store: ox.Store) -> list[Row]:
    """Every row of the changes-between question, over every day (its own order: day, change, measure, by)."""
    question = get_named_query(CHANGES_QUESTION)
    return run_query(store, question.text, {"from": date.min.isoformat(), "to": date.max.isoformat()}).records()


def slug_of(iri: str) -> str:
    """A stable HTML id from an IRI: its last path segment, limited to safe characters."""
    local = re.split(r"[/#]", iri.rstrip("/"))[-1]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", local).strip("-.") or "item"
    return slug if slug[0].isalpha() else "x-" + slug


def day_of(value: str | None) -> date | None:
    """The day of an xsd:date (or dateTime) cell; None when empty or not a date."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def unique_slugs(iris: Iterable[str], taken: set[str]) -> dict[str, str]:
    """A slug per IRI, numbered where two IRIs (or a name in `taken`) would share one; adds them to `taken`."""
    slugs = {}
    for iri in sorted(set(iris)):
        base = slug_of(iri)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs[iri] = slug
    return slugs


@dataclass
class Vocabulary:
    """Labels and page ids of every IRI the page names."""

    labels: dict[str, Text]
    slugs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: list[Row]) -> Vocabulary:
        return cls({str(row["thing"]): Text(row["label_zh"] or "", row["label_en"] or "") for row in rows})

    def term(self, iri: str | None) -> Term | None:
        if not iri:
            return None
        label = self.labels.get(iri) or Text("", slug_of(iri))
        return Term(iri, self.slugs.get(iri) or slug_of(iri), label)

    def known(self, iri: str) -> Term:
        """The term of an IRI that is certainly there (a row's key)."""
        return Term(iri, self.slugs.get(iri) or slug_of(iri), self.labels.get(iri) or Text("", slug_of(iri)))

    def terms(self, iris: Iterable[str]) -> list[Term]:
        found = [self.term(iri) for iri in iris]
        return sorted((t for t in found if t is not None), key=lambda t: (t.label.en.lower(), t.iri))


def unit_text(iri: str | None) -> Text:
    if not iri:
        return Text("", "")
    local = iri.rsplit("/", 1)[-1]
    en, zh = UNITS.get(local, (local, local))
    return Text(zh, en)


def parameters_by_measure(vocab: Vocabulary, rows: list[Row]) -> dict[str, list[ParameterValue]]:
    parameters: dict[str, list[ParameterValue]] = defaultdict(list)
    for row in rows:
        kind = vocab.term(row["quantity_kind"])
        value = number_text(float(row["value"]), row["qualifier_symbol"] or "") if row["value"] else ""
        parameters[str(row["measure"])].append(
            ParameterValue(kind.label if kind else Text("", ""), value, unit_text(row["unit"]), row["note"] or "")
        )
    return parameters


def span_style(status: str, reason: str) -> str:
    """How a status span is drawn: stated, attested or restated (in force), presumed, unknown."""
    state = STATUS_OF.get(status, Status.UNKNOWN)
    if state is Status.PRESUMED:
        return "presumed"
    if state is Status.UNKNOWN:
        return "unknown"
    return next((style for prefix, style in IN_FORCE_STYLES if reason.startswith(prefix)), "stated")


def _bound(vocab: Vocabulary, row: Row, side: str) -> PeriodBound | None:
    basis = row.get(f"{side}_basis")
    if not basis:
        return None
    evidence = row.get(f"{side}_evidence")
    return PeriodBound(
        day=day_of(row.get(side)),
        basis=vocab.term(basis),
        css=BASIS_CSS.get(basis, ""),
        note=row.get(f"{side}_note") or "",
        evidence=vocab.term(evidence),
        evidence_on_page=bool(evidence) and evidence in vocab.slugs,
    )


def periods_by_measure(
    vocab: Vocabulary, periods: list[Row], spans: list[Row], possibly_ended_by: dict[str, list[str]]
) -> dict[str, EffectivePeriod]:
    """Each measure's derived effective period; a measure the derived graph does not know has none."""
    spans_of: dict[str, list[StatusSpan]] = defaultdict(list)
    for row in spans:
        start = day_of(row["from"])
        if start is None or not row["status"]:
            continue
        reason = row["reason"] or ""
        spans_of[str(row["measure"])].append(
            StatusSpan(
                vocab.known(str(row["status"])),
                span_style(str(row["status"]), reason),
                start,
                day_of(row["until"]),
                reason,
            )
        )
    found: dict[str, EffectivePeriod] = {}
    for row in periods:
        iri = str(row["measure"])
        if iri in found:
            continue
        found[iri] = EffectivePeriod(
            start=_bound(vocab, row, "from"),
            until=_bound(vocab, row, "until"),
            spans=tuple(spans_of.get(iri, ())),
            possibly_ended_by=tuple(vocab.terms(possibly_ended_by.get(iri, []))),
        )
    return found


def source_texts(project: Project, sources: list[Row]) -> dict[str, tuple[str | None, str]]:
    """Each source's text, normalised as quotes are compared (None when missing or refused), and its language tag.

    Read through kb/evidence.py, the one reader of source texts: a cq:fileName outside facts/sources/ (a
    hostile one such as /proc/self/environ) is never read, so nothing of it can reach the page.
    """
    readable = SourceTexts(project.sources_dir)
    texts: dict[str, tuple[str | None, str]] = {}
    for row in sources:
        iri = row["source"] or ""
        lang = "zh-Hant" if (row.get("script") or "") == "traditional" else "zh-Hans"
        name = str(row.get("file_name") or "")
        texts[iri] = (readable.get(name) if name else None, lang)
    return texts


def quote_in_context(quote: str, source_text: str | None, lang: str, source: Term | None) -> QuoteInContext:
    """The quote with the rest of its sentence, found after removing line breaks from both."""
    needle = normalise(quote)
    if source_text is None:
        return QuoteInContext(quote, "", "", False, lang, source)
    hay = normalise(source_text)
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


def events_of(vocab: Vocabulary, axis: Axis, rows: list[Row], counts: dict[str, int]) -> list[TimelineEvent]:
    """The dated announcements as markers, stacked where they share a day."""
    dated = [(r, day_of(r["date"])) for r in rows]
    positions = [(str(r["announcement"]), axis.x(d, 0.5)) for r, d in dated if d]
    stack = stack_rows(positions)
    events = []
    for row, day in dated:
        if day is None:
            continue
        iri = str(row["announcement"])
        term = vocab.known(iri)
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


def statistic_points(vocab: Vocabulary, axis: Axis, rows: list[Row]) -> list[StatisticPoint]:
    """Every dated observation with a value, placed on the axis (y is set per strip)."""
    points = []
    for row in rows:
        day = day_of(row["ref_date"])
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
                unit=unit_text(row["unit"]),
                x=axis.x(day, 0.5),
                y=0.0,
                source=row["source"] or "",
                quote=row["quote"] or "",
                qualifier=row["qualifier_symbol"] or "",
            )
        )
    return points

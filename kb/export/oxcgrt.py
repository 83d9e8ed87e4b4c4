"""The OxCGRT layout: one row per day of a Chongqing jurisdiction, in the columns of the published files.

Rules (each with its codebook passage in docs/crosswalks.md):
- a level comes only from a coding (cq:IndicatorCoding in ontology/crosswalks.ttl) of a measure in force;
- a measure counts from its first day known in force (derived status *in force*: a stated start, an attestation, a
  restatement) and then every day it stays in force or presumed so: implementation, not announcement;
- the row reports the strictest level anywhere in its jurisdiction: flag 1 (general) when a measure at that level
  covers the whole jurisdiction, 0 (targeted) when all of them apply to a part of it; measures of places that contain
  the jurisdiction (national ones included) count as general, which is the codebook's imputation of STATE_TOTAL;
- indicators without a geographic flag report the level common to the whole jurisdiction: general measures only;
- C4 = 4 also gives C3 = 2; the numbered press-conference series gives H1 = 2 between its first and last conference;
- no differentiation by vaccination status is stated, so E and M columns carry the value and NV and V stay blank;
- the four indices by the codebook's formula, null when fewer than k - 1 of their k indicators have a value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import pyoxigraph as ox

from ..namespaces import PREFIXES
from .feeds import feed

COUNTRY = ("China", "CHN")
REGION = ("Chongqing", "CHN_CQ")
# Jurisdiction values that no published row uses: the level and type of the codebook's STATE_TOTAL (every policy in
# force for the residents, national ones included), marked as the knowledge base's own.
JURISDICTION = "STATE_TOTAL_CQKB"
DISTRICT_JURISDICTION = "DISTRICT_TOTAL_CQKB"
CHONGQING = PREFIXES["place"] + "chongqing"
VARIANTS = ("E", "NV", "V", "M")


@dataclass(frozen=True)
class Indicator:
    """One indicator of the codebook: its code, column name, top level N_j and whether it has a flag."""

    code: str
    name: str
    max_level: int = 0  # 0 for the numeric indicators (US dollars), never in an index
    flag: bool = False  # a geographic flag (C1-C7, H1, H6, H8) or E1's sectoral and H7's cost flag
    differentiated: bool = False  # E/NV/V/M versions since July 2022 (C1-C8, H6, H8)
    geographic: bool = False  # targeted/general flag: otherwise only measures covering the jurisdiction count


INDICATORS = (
    Indicator("C1", "School closing", 3, True, True, True),
    Indicator("C2", "Workplace closing", 3, True, True, True),
    Indicator("C3", "Cancel public events", 2, True, True, True),
    Indicator("C4", "Restrictions on gatherings", 4, True, True, True),
    Indicator("C5", "Close public transport", 2, True, True, True),
    Indicator("C6", "Stay at home requirements", 3, True, True, True),
    Indicator("C7", "Restrictions on internal movement", 2, True, True, True),
    Indicator("C8", "International travel controls", 4, False, True),
    Indicator("E1", "Income support", 2, True),
    Indicator("E2", "Debt/contract relief", 2),
    Indicator("E3", "Fiscal measures"),
    Indicator("E4", "International support"),
    Indicator("H1", "Public information campaigns", 2, True, False, True),
    Indicator("H2", "Testing policy", 3),
    Indicator("H3", "Contact tracing", 2),
    Indicator("H4", "Emergency investment in healthcare"),
    Indicator("H5", "Investment in vaccines"),
    Indicator("H6", "Facial Coverings", 4, True, True, True),
    Indicator("H7", "Vaccination policy", 5, True),
    Indicator("H8", "Protection of elderly people", 3, True, True, True),
)
BY_CODE = {indicator.code: indicator for indicator in INDICATORS}

# The vaccine summaries, case counts and population columns between the indicators and the indices: the facts state
# none of them, so they stay blank.
VACCINE_AND_COUNT_COLUMNS = (
    "M1_Notes",
    "V1_Vaccine Prioritisation (summary)",
    "V1_Notes",
    "V2A_Vaccine Availability (summary)",
    "V2_Notes",
    "V2B_Vaccine age eligibility/availability age floor (general population summary)",
    "V2C_Vaccine age eligibility/availability age floor (at risk summary)",
    "V2D_Medically/ clinically vulnerable (Non-elderly)",
    "V2E_Education",
    "V2F_Frontline workers  (non healthcare)",
    "V2G_Frontline workers  (healthcare)",
    "V3_Vaccine Financial Support (summary)",
    "V3_Notes",
    "V4_Mandatory Vaccination (summary)",
    "V4_Notes",
    "ConfirmedCases",
    "ConfirmedDeaths",
    "MajorityVaccinated",
    "PopulationVaccinated",
)

# The indices and their components (the table "Policy indices" of the codebook).
INDICES = {
    "StringencyIndex": ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "H1"),
    "GovernmentResponseIndex": (
        *("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"),
        *("E1", "E2", "H1", "H2", "H3", "H6", "H7", "H8"),
    ),
    "ContainmentHealthIndex": ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "H1", "H2", "H3", "H6", "H7", "H8"),
    "EconomicSupportIndex": ("E1", "E2"),
}
INDEX_VERSIONS = ("NonVaccinated", "Vaccinated", "SimpleAverage", "WeightedAverage")


def value_column(indicator: Indicator, variant: str = "M") -> str:
    """The column of an indicator's value: C1M_School closing, C8EV_…, H2_Testing policy."""
    if not indicator.differentiated:
        return f"{indicator.code}_{indicator.name}"
    if indicator.code == "C8" and variant == "M":
        variant = "EV"
    return f"{indicator.code}{variant}_{indicator.name}"


def flag_column(indicator: Indicator, variant: str = "M") -> str:
    return f"{indicator.code}{variant if indicator.differentiated else ''}_Flag"


def index_columns(name: str) -> list[str]:
    return [name] if name == "EconomicSupportIndex" else [f"{name}_{version}" for version in INDEX_VERSIONS]


def oxcgrt_header() -> list[str]:
    """The 147 columns of the published fullwithnotes files, in their order."""
    header = ["CountryName", "CountryCode", "RegionName", "RegionCode", "Jurisdiction", "Date"]
    for indicator in INDICATORS:
        variants = (*VARIANTS[:3], "EV") if indicator.code == "C8" else VARIANTS
        for variant in variants if indicator.differentiated else ("",):
            header.append(value_column(indicator, variant or "M"))
            if indicator.flag:
                header.append(flag_column(indicator, variant or "M"))
        header.append(f"{indicator.code}_Notes")
    header += VACCINE_AND_COUNT_COLUMNS
    for name in ("StringencyIndex", "GovernmentResponseIndex", "ContainmentHealthIndex", "EconomicSupportIndex"):
        header += index_columns(name)
    return header


# ---------------------------------------------------------------- indices


def sub_index(indicator: Indicator, level: int | None, flag: int | None) -> float:
    """I = 100 (v - 0.5 (F - f)) / N, and 0 when v is 0 or unknown (the codebook's equation, blanks as zero)."""
    if not level:
        return 0.0
    penalty = 0.5 * (1 - flag) if indicator.flag and flag is not None else 0.0
    return 100 * (level - penalty) / indicator.max_level


@dataclass(frozen=True)
class IndexValue:
    """An index on one day: its value, or None when the codebook rejects it, with how many components had data."""

    name: str
    value: float | None
    known: int
    components: int
    partial: float  # the sum of the known components' scores over k (what the index is at least, were the rest 0)


def compute_index(name: str, cells: Mapping[str, tuple[int, int | None]]) -> IndexValue:
    """The index over the cells that have a level; rejected below k - 1 components (both for k = 2)."""
    codes = INDICES[name]
    known = [code for code in codes if code in cells]
    total = sum(sub_index(BY_CODE[code], *cells[code]) for code in known) / len(codes)
    needed = len(codes) if len(codes) == 2 else len(codes) - 1
    value = round(total, 2) if len(known) >= needed else None
    return IndexValue(name, value, len(known), len(codes), round(total, 2))


# ---------------------------------------------------------------- facts


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def measure_id(iri: str | None) -> str:
    """A measure's id: its IRI without the measure namespace."""
    if not iri:
        return ""
    return iri[len(PREFIXES["measure"]) :] if iri.startswith(PREFIXES["measure"]) else iri


def short(iri: str) -> str:
    """measure:… or ann:… for the notes."""
    for prefix in ("measure", "ann"):
        if iri.startswith(PREFIXES[prefix]):
            return f"{prefix}:{iri[len(PREFIXES[prefix]) :]}"
    return iri


@dataclass
class MeasureFacts:
    """What the notes and the days need of one measure: its evidence and the days it is known or presumed in force."""

    iri: str
    label: str = ""
    quote: str = ""
    source: str = ""
    announced: str = ""
    places: set[str] = field(default_factory=set)
    indicators: set[str] = field(default_factory=set)
    spans: list[tuple[str, date, date | None]] = field(default_factory=list)

    @property
    def first_known(self) -> date | None:
        """The first day a source shows it running (derived status in force), or None if it is only presumed."""
        days = [start for status, start, _ in self.spans if status == "InForce"]
        return min(days) if days else None

    def in_force(self, day: date) -> bool:
        """Counted on `day`: in force or presumed so, on or after its first day known in force."""
        first = self.first_known
        if first is None or day < first:
            return False
        return any(start <= day and (until is None or day <= until) for _, start, until in self.spans)

    def presumed_only(self, day: date) -> bool:
        """Presumed in force on `day` from its announcement, with no day yet known in force."""
        first = self.first_known
        if first is not None and first <= day:
            return False
        return any(start <= day and (until is None or day <= until) for _, start, until in self.spans)


@dataclass(frozen=True)
class Coding:
    subject: str
    code: str
    level: int
    reason: str
    targeted: bool
    places: frozenset[str]
    series: tuple[tuple[date, int | None], ...] = ()


@dataclass
class Facts:
    """Everything the table is made of, read once from the store's feeds."""

    codings: list[Coding]
    measures: dict[str, MeasureFacts]
    containers: dict[str, set[str]]
    labels: dict[str, str]
    windows: list[tuple[date, date, set[str]]]

    def contains(self, outer: str, inner: str) -> bool:
        """`inner` lies in `outer` (cq:within*, a place in itself)."""
        return outer == inner or outer in self.containers.get(inner, set())

    def relation(self, place: str, jurisdiction: str) -> str | None:
        """'general' when the place covers the jurisdiction, 'targeted' when it lies inside it, else None."""
        if self.contains(place, jurisdiction):
            return "general"
        if self.contains(jurisdiction, place):
            return "targeted"
        return None

    def days(self, jurisdiction: str) -> list[date]:
        """The days of the coverage windows whose places overlap the jurisdiction."""
        out: set[date] = set()
        for first, last, places in self.windows:
            if any(self.relation(place, jurisdiction) for place in places):
                out.update(days_between(first, last))
        return sorted(out)


@dataclass
class _Draft:
    """A coding as its feed rows build it up (one row per place, or per announcement of a series)."""

    code: str
    level: int
    reason: str
    targeted: bool
    subjects: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    series: set[tuple[date, int | None]] = field(default_factory=set)


def _codings(records: Iterable[dict[str, str | None]]) -> list[Coding]:
    """One Coding per coded measure; one per coding of a series of announcements (its subject is the coding)."""
    drafts: dict[str, _Draft] = {}
    for record in records:
        draft = drafts.setdefault(
            record["coding"] or "",
            _Draft(
                record["code"] or "",
                int(record["level"] or 0),
                record["reason"] or "",
                (record["targeted"] or "") in ("true", "1"),
            ),
        )
        draft.subjects.add(record["subject"] or "")
        draft.places.add(record["place"] or "")
        day = _day(record["day"])
        if day is not None:
            draft.series.add((day, int(record["sequence"]) if record["sequence"] else None))
    codings = []
    for key, draft in sorted(drafts.items()):
        series = tuple(sorted(draft.series))
        subjects = [key] if series else sorted(draft.subjects)
        for subject in subjects:
            codings.append(
                Coding(subject, draft.code, draft.level, draft.reason, draft.targeted, frozenset(draft.places), series)
            )
    return codings


def read_facts(store: ox.Store) -> Facts:
    measures: dict[str, MeasureFacts] = {}
    for record in feed(store, "oxcgrt-measures").records():
        iri = record["measure"] or ""
        facts = measures.setdefault(iri, MeasureFacts(iri))
        facts.label = record["label_en"] or facts.label
        facts.quote = record["quote"] or facts.quote
        facts.source = record["source"] or facts.source
        facts.announced = record["announced"] or facts.announced
        facts.places.update((record["places"] or "").split())
        facts.indicators.update((record["indicators"] or "").split())
        start = _day(record["span_from"])
        if start is not None:
            facts.spans.append((record["status"] or "", start, _day(record["span_until"])))
    codings = _codings(feed(store, "oxcgrt").records())
    containers: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    for record in feed(store, "oxcgrt-within").records():
        place = record["place"] or ""
        if record["container"] and record["container"] != place:
            containers[place].add(record["container"])
        labels[place] = record["label_en"] or labels.get(place, "")
    windows = []
    for record in feed(store, "oxcgrt-coverage").records():
        first, last = _day(record["from"]), _day(record["until"])
        if first and last:
            windows.append((first, last, set((record["places"] or "").split())))
    return Facts(codings, measures, containers, labels, windows)


# ---------------------------------------------------------------- cells


@dataclass(frozen=True)
class Contribution:
    """One coded measure (or series, or derived rule) giving an indicator a level in a jurisdiction on a day."""

    code: str
    level: int
    general: bool
    subject: str
    place: str
    reason: str
    quote: str = ""
    source: str = ""

    def note(self) -> str:
        scope = "general" if self.general else "targeted"
        text = f"{self.code} {self.level} ({scope}) from {short(self.subject)} ({self.place}): {self.reason}"
        if self.quote:
            text += f" Quote: “{self.quote}”"
        if self.source:
            text += f" Source: {self.source}"
        return text


@dataclass
class Cell:
    """One indicator on one day of one jurisdiction: its level and flag (None when blank) and its note."""

    level: int | None = None
    flag: int | None = None
    note: str = ""
    contributions: list[Contribution] = field(default_factory=list)


C3_FROM_C4 = (
    "C3 guidance: 'When private gatherings of only 10 or less are permitted (i.e. C4=4), this restriction would "
    "prevent public events from taking place, so we also report C3=2'."
)


def contributions_on(facts: Facts, jurisdiction: str, day: date) -> dict[str, list[Contribution]]:
    """Every coded level in force on `day` that reaches the jurisdiction, by indicator code."""
    out: dict[str, list[Contribution]] = defaultdict(list)
    for coding in facts.codings:
        indicator = BY_CODE.get(coding.code)
        if indicator is None:
            continue
        if coding.series:
            days = [d for d, _ in coding.series]
            if len(days) < 2 or not (min(days) <= day <= max(days)):
                continue
            quote, source = "", ""
        else:
            measure = facts.measures.get(coding.subject)
            if measure is None or not measure.in_force(day):
                continue
            quote, source = measure.quote, measure.source
        for place in sorted(coding.places):
            relation = facts.relation(place, jurisdiction)
            if relation is None:
                continue
            general = relation == "general" and not coding.targeted
            if not general and not indicator.geographic:
                continue  # no flag: only the level common to the whole jurisdiction is reported
            label = facts.labels.get(place, place)
            out[coding.code].append(
                Contribution(coding.code, coding.level, general, coding.subject, label, coding.reason, quote, source)
            )
            if coding.code == "C4" and coding.level == 4:
                out["C3"].append(
                    Contribution("C3", 2, general, coding.subject, label, C3_FROM_C4 + " (from C4 4)", quote, source)
                )
    return out


def _candidates_note(facts: Facts, jurisdiction: str, day: date, code: str, limit: int = 5) -> str:
    """What is known when a cell is blank: the measures of matching categories in force, or only announced."""
    running, announced = [], []
    for measure in facts.measures.values():
        if code not in measure.indicators:
            continue
        if not any(facts.relation(place, jurisdiction) for place in measure.places):
            continue
        places = ", ".join(sorted(facts.labels.get(p, p) for p in measure.places))
        if measure.in_force(day):
            running.append(f"{short(measure.iri)} ({places}): “{measure.quote}” {measure.source}".strip())
        elif measure.presumed_only(day):
            announced.append(f"{short(measure.iri)} ({places}, announced {measure.announced})")
    parts = []
    if running:
        shown = "; ".join(sorted(running)[:limit]) + (
            f"; and {len(running) - limit} more" if len(running) > limit else ""
        )
        parts.append(f"no level: in force, but their facts do not fix a {code} level: {shown}")
    if announced:
        shown = ", ".join(sorted(announced)[:limit]) + (
            f", and {len(announced) - limit} more" if len(announced) > limit else ""
        )
        parts.append(f"announced, not yet reported running (OxCGRT codes from implementation): {shown}")
    return ". ".join(parts)


def cells_on(facts: Facts, jurisdiction: str, day: date) -> dict[str, Cell]:
    """Each indicator's cell on one day: the strictest coded level anywhere in the jurisdiction and its flag."""
    contributions = contributions_on(facts, jurisdiction, day)
    cells: dict[str, Cell] = {}
    for indicator in INDICATORS:
        found = contributions.get(indicator.code, [])
        if not found:
            cells[indicator.code] = Cell(note=_candidates_note(facts, jurisdiction, day, indicator.code))
            continue
        level = max(c.level for c in found)
        top = sorted({c for c in found if c.level == level}, key=lambda c: (not c.general, c.subject, c.place))
        flag = (1 if any(c.general for c in top) else 0) if indicator.flag and level > 0 else None
        note = " | ".join(c.note() for c in top)
        lower = len({c.subject for c in found} - {c.subject for c in top})
        if lower:
            note += f" | {lower} coded measure(s) at lower levels"
        cells[indicator.code] = Cell(level, flag, note, top)
    return cells


# ---------------------------------------------------------------- rows


def _number(value: float | int | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def index_note(values: Iterable[IndexValue]) -> str:
    notes = []
    for value in values:
        if value.value is None:
            needed = value.components if value.components == 2 else value.components - 1
            notes.append(
                f"{value.name} not computed: {value.known} of its {value.components} indicators have a level "
                f"(the codebook needs {needed}); the known ones contribute {value.partial:.2f}"
            )
    return "; ".join(notes)


ROWS_NOTE = (
    "Rows of the cq-covid knowledge base ({jurisdiction}): a level only where ontology/crosswalks.ttl codes a measure "
    "shown in force by the five source articles; a blank cell is no evidence, not 0. "
)


def row_values(cells: dict[str, Cell]) -> dict[str, str]:
    """The indicator, note and index columns of one row."""
    values: dict[str, str] = {}
    levels: dict[str, tuple[int, int | None]] = {}
    for indicator in INDICATORS:
        cell = cells[indicator.code]
        if cell.level is not None:
            levels[indicator.code] = (cell.level, cell.flag)
        variants = ("E", "M") if indicator.differentiated else ("M",)
        for variant in variants:
            values[value_column(indicator, variant)] = _number(cell.level)
            if indicator.flag:
                values[flag_column(indicator, variant)] = "" if cell.flag is None else str(cell.flag)
        values[f"{indicator.code}_Notes"] = cell.note
    computed = [compute_index(name, levels) for name in INDICES]
    for value in computed:
        text = _number(value.value)
        if value.name == "EconomicSupportIndex":
            values[value.name] = text
        else:
            # One policy for everyone: the non-vaccinated, vaccinated and simple-average versions are the same index;
            # the weighted average needs PopulationVaccinated, which the facts do not give.
            for version in INDEX_VERSIONS[:3]:
                values[f"{value.name}_{version}"] = text
    values["M1_Notes"] = index_note(computed)
    return values


def jurisdiction_rows(
    facts: Facts, place: str, keys: tuple[str, str, str], header: list[str]
) -> list[tuple[date, dict[str, Cell], list[str]]]:
    """Every day of one jurisdiction: (day, cells, the row in the header's order)."""
    region_name, region_code, jurisdiction = keys
    out = []
    for day in facts.days(place):
        cells = cells_on(facts, place, day)
        values = row_values(cells)
        values["M1_Notes"] = (ROWS_NOTE.format(jurisdiction=jurisdiction) + values["M1_Notes"]).strip()
        values.update(
            {
                "CountryName": COUNTRY[0],
                "CountryCode": COUNTRY[1],
                "RegionName": region_name,
                "RegionCode": region_code,
                "Jurisdiction": jurisdiction,
                "Date": day.strftime("%Y%m%d"),
            }
        )
        out.append((day, cells, [values.get(column, "") for column in header]))
    return out


def chongqing_rows(facts: Facts) -> list[tuple[date, dict[str, Cell], list[str]]]:
    return jurisdiction_rows(facts, CHONGQING, (*REGION, JURISDICTION), oxcgrt_header())


def oxcgrt_table(store: ox.Store) -> tuple[list[str], list[list[str]]]:
    """Chongqing's rows (RegionCode CHN_CQ, Jurisdiction STATE_TOTAL_CQKB), one per day the sources cover."""
    return oxcgrt_header(), [row for _, _, row in chongqing_rows(read_facts(store))]


def oxcgrt_district_table(store: ox.Store) -> tuple[list[str], list[list[str]]]:
    """The rows of every area, district and county in Chongqing (RegionCode CHN_CQ.<place>), same columns."""
    facts = read_facts(store)
    header = oxcgrt_header()
    rows = []
    for record in feed(store, "oxcgrt-places").records():
        place = record["place"] or ""
        if place == CHONGQING:
            continue
        slug = place.rsplit("/", 1)[-1]
        keys = (f"Chongqing: {record['label_en'] or slug}", f"{REGION[1]}.{slug}", DISTRICT_JURISDICTION)
        rows += [row for _, _, row in jurisdiction_rows(facts, place, keys, header)]
    return header, rows

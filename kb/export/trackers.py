"""The tracker layouts: OxCGRT (a daily row per place, indicator levels) and CoronaNet (an event row per measure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import pyoxigraph as ox

from ..namespaces import PREFIXES
from .feeds import feed

# The two periods the knowledge base covers; the daily table runs over the measures' dates inside each, never between.
PERIODS = ((date(2020, 1, 1), date(2020, 2, 29)), (date(2022, 11, 1), date(2022, 12, 31)))
ANNOUNCED_START = "announced"
# CoronaNet's update_type from the link's effect, update_level from its direction.
UPDATE_TYPES = {"ends": "End of Policy", "replaces": "Change of Policy", "amends": "Change of Policy", "restates": ""}
UPDATE_LEVELS = {"relaxes": "Relaxing", "tightens": "Strengthening"}


def measure_id(iri: str | None) -> str:
    """A measure's id in the tracker layouts: its IRI without the measure namespace."""
    if not iri:
        return ""
    return iri[len(PREFIXES["measure"]) :] if iri.startswith(PREFIXES["measure"]) else iri


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _period_of(day: date) -> int | None:
    return next((i for i, (first, last) in enumerate(PERIODS) if first <= day <= last), None)


def tracker_days(store: ox.Store) -> list[date]:
    """Each period's days from the first to the last date any measure has in it (announced, start or end)."""
    dates: dict[int, list[date]] = defaultdict(list)
    for record in feed(store, "measures-table").records():
        for column in ("announced", "in_force_from", "in_force_until"):
            day = _day(record[column])
            period = None if day is None else _period_of(day)
            if day is not None and period is not None:
                dates[period].append(day)
    days: list[date] = []
    for period in sorted(dates):
        first, last = min(dates[period]), max(dates[period])
        days.extend(first + timedelta(n) for n in range((last - first).days + 1))
    return days


@dataclass(frozen=True)
class Support:
    """A measure supporting an indicator level in a place over one span of days it is in force or presumed so."""

    measure: str
    level: int
    start: date
    until: date | None
    from_announcement: bool

    def in_force(self, day: date) -> bool:
        if day < self.start or _period_of(day) != _period_of(self.start):
            return False
        return self.until is None or day <= self.until


def oxcgrt_table(store: ox.Store) -> tuple[list[str], list[list[str]]]:
    """A daily row per place: each indicator's derived level and the ids of the measures that justify it."""
    codes = [(r["indicator"] or "", r["code"] or "") for r in feed(store, "oxcgrt-indicators").records()]
    supports: dict[tuple[str, str], list[Support]] = defaultdict(list)
    for record in feed(store, "oxcgrt").records():
        start = _day(record["span_from"])
        if start is None or _period_of(start) is None:
            continue
        support = Support(
            measure_id(record["measure"]),
            int(record["level"] or 0),
            start,
            _day(record["span_until"]),
            record["start_basis"] == ANNOUNCED_START,
        )
        supports[(record["place"] or "", record["indicator"] or "")].append(support)
    header = ["place", "place_label_en", "place_label_zh", "date"]
    for _, code in codes:
        header += [code, f"{code}_measures"]
    header.append("start_from_announcement")
    days = tracker_days(store)
    rows = []
    for place in feed(store, "oxcgrt-places").records():
        iri = place["place"] or ""
        for day in days:
            row = [iri, place["label_en"] or "", place["label_zh"] or "", day.isoformat()]
            flagged: set[str] = set()
            for indicator, _ in codes:
                active = [s for s in supports.get((iri, indicator), []) if s.in_force(day)]
                if not active:
                    row += ["", ""]
                    continue
                level = max(s.level for s in active)
                justifying = sorted({s.measure for s in active if s.level == level})
                flagged.update(s.measure for s in active if s.level == level and s.from_announcement)
                row += [str(level), " ".join(justifying)]
            row.append(" ".join(sorted(flagged)))
            rows.append(row)
    return header, rows


CORONANET_HEADER = [
    "record_id",
    "policy_id",
    "entry_type",
    "update_type",
    "update_level",
    "updates",
    "change_link",
    "description",
    "description_zh",
    "date_announced",
    "date_start",
    "date_start_basis",
    "date_end",
    "date_end_basis",
    "type",
    "compliance",
    "country",
    "province",
    "target_place",
    "target_who_what",
    "link",
    "measure",
]


def coronanet_table(store: ox.Store) -> tuple[list[str], list[list[str]]]:
    """One event row per measure; an update keeps the policy_id of the measure its change links lead back to."""
    rows = []
    for record in feed(store, "coronanet").records():
        change = (record["change"] or "").rpartition("#")[2]
        direction = (record["direction"] or "").rpartition("#")[2]
        update_type, update_level = UPDATE_TYPES.get(change, ""), UPDATE_LEVELS.get(direction, "")
        updates = " ".join(sorted(measure_id(iri) for iri in (record["updates"] or "").split()))
        values = {
            "record_id": measure_id(record["measure"]),
            "policy_id": measure_id(record["policy"] or record["measure"]),
            "entry_type": "update" if change else "new_entry",
            "update_type": update_type,
            "update_level": update_level,
            "updates": updates,
            "change_link": change,
            "description": record["description"],
            "description_zh": record["description_zh"],
            "date_announced": record["date_announced"],
            "date_start": record["date_start"],
            "date_start_basis": record["date_start_basis"],
            "date_end": record["date_end"],
            "date_end_basis": record["date_end_basis"],
            "type": record["type"],
            "compliance": record["compliance"],
            "country": "China",
            "province": "Chongqing",
            "target_place": record["target_place"],
            "target_who_what": record["target_who_what"],
            "link": record["link_"],
            "measure": record["measure"],
        }
        rows.append([values[column] or "" for column in CORONANET_HEADER])
    return CORONANET_HEADER, rows

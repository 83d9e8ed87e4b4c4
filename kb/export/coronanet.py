"""The CoronaNet layout: policy records in the columns of the release files, one type per record.

Rules (each with its source in docs/crosswalks.md):
- a new policy gets one record per CoronaNet type its categories match closely; a measure with no such type and no
  change link has no record (CoronaNet codes no principles);
- a measure that ends, replaces, amends or restates an earlier one is an update of the policy those links lead back
  to: it keeps that policy's policy_id, type, initiator and targets (an update cannot change them), one record per
  record of the policy; update_type from the effect, update_level from the direction;
- init_country_level, province, ISO_L2 and city from the place the measure applies to (the smallest place holding
  all of them): the crosswalk's values for places outside Chongqing, "Provincial" for Chongqing, "Other (e.g.,
  county)" for the places inside it;
- type_sub_cat only from a sub-type coding (cq:SubTypeCoding) of the policy's measure for that type, one record per
  coded sub-type; a record without one leaves it blank and type_text says so, with the measure's target groups;
- enforcer from the measure's issuers: the crosswalk's value for the issuer's kind (a COVID-19 task force, a health
  or education department), else the level of the place it has jurisdiction over (or of the body it belongs to);
- dates are the derived effective period; target_who_what from the target groups' matches; compliance from the
  strength; collab names this knowledge base, so that its records cannot be taken for CoronaNet's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from .feeds import feed
from .oxcgrt import CHONGQING, measure_id

CORONANET_HEADER = [
    *("record_id", "policy_id", "entry_type", "update_type", "update_level", "update_level_var", "description"),
    *("date_announced", "date_start", "date_end", "date_end_spec", "country", "ISO_A3", "ISO_A2"),
    *("init_country_level", "domestic_policy", "province", "ISO_L2", "city", "type", "type_sub_cat"),
    *("type_new_admin_coop", "type_vac_cat", "type_vac_mix", "type_vac_reg", "type_vac_purchase", "type_vac_group"),
    *("type_vac_group_rank", "type_vac_who_pays", "type_vac_dist_admin", "type_vac_loc", "type_vac_cost_num"),
    *("type_vac_cost_scale", "type_vac_cost_unit", "type_vac_cost_gov_perc", "type_vac_amt_num", "type_vac_amt_scale"),
    *("type_vac_amt_unit", "type_vac_amt_gov_perc", "type_text", "institution_cat", "institution_status"),
    *("institution_conditions", "target_init_same", "target_country", "target_geog_level", "target_region"),
    *("target_province", "target_city", "target_intl_org", "target_other", "target_who_what", "target_who_gen"),
    *("target_direction", "travel_mechanism", "compliance", "enforcer", "pdf_link", "link", "collab", "collab_id"),
    *("date_updated", "recorded_date"),
]
COLLAB = "cq-covid knowledge base (https://w3id.org/cq-covid)"
UPDATE_TYPES = {"ends": "End of Policy", "replaces": "Change of Policy", "amends": "Change of Policy", "restates": ""}
UPDATE_LEVELS = {"relaxes": "Relaxing", "tightens": "Strengthening"}
OTHER_LEVEL = "Other (e.g., county)"
GEOG_LEVELS = {
    "National": "One or more countries, but not all countries",
    "Provincial": "One or more provinces within one or more countries",
    "Municipal": "One or more cities within one or more countries",
    OTHER_LEVEL: "One or more geographical or administrative units (other than provincial or city level units) "
    "within one or more countries",
}
ENFORCERS = {  # the enforcer value of an issuer with jurisdiction over a place of each init_country_level
    "National": "National Government",
    "Provincial": "Provincial/State Government",
    "Municipal": "Municipal Government",
    OTHER_LEVEL: "Other (Please specify in the text box)",
}
ENFORCER_ORDER = [
    *("National Government", "Ministry/Department of Health", "Ministry/Department of Education"),
    *("Provincial/State Government", "Municipal Government", "New (COVID-19 specific) Task Force"),
    "Other (Please specify in the text box)",
]
NO_SUB_TYPES = {"Declaration of Emergency", "Lockdown"}  # the taxonomy: "No applicable"
END_SPECS = {"StatedEndBasis": "The policy has a clear end date"}
UNKNOWN_END = "The policy’s end date is unknown or unreported"


@dataclass
class Measure:
    iri: str
    record: dict[str, str]
    changes: list[tuple[str, str]] = field(default_factory=list)  # (effect, earlier measure)
    directions: dict[str, str] = field(default_factory=dict)  # earlier measure -> relaxes / tightens
    types: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    subtypes: dict[str, list[str]] = field(default_factory=dict)  # type -> the sub-types its codings give
    groups: list[str] = field(default_factory=list)  # the English labels of its target groups
    issuers: list[str] = field(default_factory=list)


def _pairs(text: str | None) -> list[tuple[str, str]]:
    return [tuple(part.split(" ", 1)) for part in (text or "").split("|") if " " in part]  # type: ignore[misc]


def _read(store: ox.Store) -> dict[str, Measure]:
    measures = {}
    for record in feed(store, "coronanet").records():
        iri = record["measure"] or ""
        measures[iri] = Measure(
            iri,
            {k: v or "" for k, v in record.items()},
            sorted(_pairs(record["changes"])),
            {target: direction for direction, target in _pairs(record["directions"])},
            sorted(t for t in (record["types"] or "").split("|") if t),
            sorted((record["places"] or "").split()),
            groups=sorted(g for g in (record["groups"] or "").split("|") if g),
            issuers=sorted((record["issuers"] or "").split()),
        )
    for record in feed(store, "coronanet-subtypes").records():
        measure = measures.get(record["measure"] or "")
        if measure is not None:
            measure.subtypes.setdefault(record["type"] or "", []).append(record["subtype"] or "")
    return measures


def roots(measures: dict[str, Measure], iri: str) -> list[str]:
    """The policies a measure updates: follow its change links back to measures that change nothing."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = [target for _, target in measures[iri].changes]
    while stack:
        current = stack.pop()
        if current in seen or current not in measures:
            continue
        seen.add(current)
        earlier = [target for _, target in measures[current].changes]
        if earlier:
            stack.extend(earlier)
        else:
            found.add(current)
    return sorted(found)


def initials(type_name: str) -> str:
    """A short code of a CoronaNet type (Health Testing -> HT), appended to ids when a measure has several records."""
    return "".join(word[0] for word in type_name.replace(",", " ").split() if word[0].isalnum()).upper()


class Geography:
    """The CoronaNet initiator and target fields of a set of places."""

    def __init__(self, store: ox.Store) -> None:
        self.containers: dict[str, list[str]] = {}
        for record in feed(store, "oxcgrt-within").records():
            self.containers.setdefault(record["place"] or "", []).append(record["container"] or "")
        self.info = {record["place"] or "": record for record in feed(store, "coronanet-places").records()}

    def _depth(self, place: str) -> int:
        return len(self.containers.get(place, []))

    def common(self, places: list[str]) -> str:
        """The smallest place that holds all the places (itself for one place)."""
        if not places:
            return ""
        shared = set(self.containers.get(places[0], [places[0]]))
        for place in places[1:]:
            shared &= set(self.containers.get(place, [place]))
        return max(shared, key=self._depth) if shared else ""

    def level(self, place: str) -> str:
        """The init_country_level of a policy for the place: the crosswalk's, or Other for a place inside Chongqing."""
        inside = place != CHONGQING and CHONGQING in self.containers.get(place, [])
        return self.info.get(place, {}).get("level") or (OTHER_LEVEL if inside else "")

    def fields(self, places: list[str]) -> dict[str, str]:
        place = self.common(places)
        info = self.info.get(place, {})
        inside = place != CHONGQING and CHONGQING in self.containers.get(place, [])
        level = self.level(place)
        chongqing = self.info.get(CHONGQING, {})
        province = info.get("province") or (chongqing.get("province") if inside else "") or ""
        iso = info.get("iso") or (chongqing.get("iso") if inside else "") or ""
        others = sorted(
            self.info.get(p, {}).get("label_en") or p.rsplit("/", 1)[-1]
            for p in places
            if p != CHONGQING and CHONGQING in self.containers.get(p, [])
        )
        return {
            "init_country_level": level,
            "province": province,
            "ISO_L2": iso,
            "city": info.get("city") or "",
            "target_country": "China",
            "target_geog_level": GEOG_LEVELS.get(level, ""),
            "target_province": province,
            "target_city": info.get("city") or "",
            "target_other": ",".join(others),
        }


class Enforcers:
    """The CoronaNet `enforcer` of each issuer: its kind's value, else its jurisdiction's level, else its body's."""

    def __init__(self, store: ox.Store, geography: Geography) -> None:
        self.agents: dict[str, dict[str, set[str]]] = {}
        for record in feed(store, "coronanet-agents").records():
            agent = self.agents.setdefault(
                record["agent"] or "", {"enforcer": set(), "jurisdiction": set(), "member_of": set()}
            )
            for key, values in agent.items():
                if record[key]:
                    values.add(record[key] or "")
        self.geography = geography

    def of_agent(self, agent: str, seen: frozenset[str] = frozenset()) -> list[str]:
        record = self.agents.get(agent)
        if record is None or agent in seen:
            return []
        if record["enforcer"]:
            return sorted(record["enforcer"])
        levels = [self.geography.level(place) for place in sorted(record["jurisdiction"])]
        found = [ENFORCERS[level] for level in levels if level in ENFORCERS]
        if found:
            return found
        return [value for body in sorted(record["member_of"]) for value in self.of_agent(body, seen | {agent})]

    def value(self, issuers: list[str]) -> str:
        """The values of all issuers, in the order of CoronaNet's list, joined as the release joins them."""
        found = {value for agent in issuers for value in self.of_agent(agent)}
        rank = {value: n for n, value in enumerate(ENFORCER_ORDER)}
        return ",".join(sorted(found, key=lambda value: (rank.get(value, len(rank)), value)))


def sub_type_note(kind: str, measure: Measure) -> str:
    """What type_text says of a record whose type has sub-categories but whose facts fix none."""
    if kind in NO_SUB_TYPES:
        return ""
    targets = f"; the measure's target groups: {', '.join(measure.groups)}" if measure.groups else ""
    return f"type_sub_cat blank: no sub-category of {kind} is coded, the source's words fixing none{targets}"


def _record(measure: Measure, geography: dict[str, str]) -> dict[str, str]:
    record = measure.record
    end_basis = record["end_basis"]
    return {
        "description": record["description"],
        "date_announced": record["date_announced"],
        "date_start": record["date_start"],
        "date_end": record["date_end"],
        "date_end_spec": END_SPECS.get(end_basis, "") if record["date_end"] else UNKNOWN_END,
        "country": "China",
        "ISO_A3": "CHN",
        "ISO_A2": "CN",
        "domestic_policy": "1",
        "target_init_same": "Yes" if geography["init_country_level"] != "National" else "No",
        "target_who_what": ",".join(t for t in record["who"].split("|") if t),
        "compliance": record["compliance"],
        "link": ",".join(record["sources"].split()),
        "collab": COLLAB,
        **geography,
    }


def coronanet_rows(store: ox.Store) -> list[dict[str, str]]:
    """The records of every measure that has a CoronaNet type of its own or updates a policy that has one."""
    measures = _read(store)
    places = Geography(store)
    enforcers = Enforcers(store, places)
    rows: list[dict[str, str]] = []
    for iri, measure in sorted(measures.items()):
        own = measure_id(iri)
        policies = roots(measures, iri)
        if not policies:  # a new policy: one record per type
            records = [(iri, kind, "", "") for kind in measure.types]
        else:
            records = []
            for policy in policies:
                effect = next((e for e, target in measure.changes if target in _chain(measures, iri, policy)), "")
                direction = next(
                    (measure.directions[t] for e, t in measure.changes if e == effect and t in measure.directions), ""
                )
                records += [(policy, kind, effect, direction) for kind in measures[policy].types]
        # one record per coded sub-type of the policy's type (an update keeps the policy's type and sub-type)
        records_with_subtypes = [
            (policy, kind, subtype, effect, direction)
            for policy, kind, effect, direction in records
            for subtype in measures[policy].subtypes.get(kind) or [""]
        ]
        for policy, kind, subtype, effect, direction in records_with_subtypes:
            root = measures[policy]
            suffix = f"-{initials(kind)}" if len(root.types) > 1 else ""
            record_suffix = f"-{measure_id(policy)}" if len(policies) > 1 else ""
            kind_suffix = f"-{initials(kind)}" if len(records) > 1 else ""
            sub_suffix = f"-{initials(subtype.split(' (')[0])}" if len(root.subtypes.get(kind, [])) > 1 else ""
            values = _record(measure, places.fields(root.places))
            values.update(
                {
                    "record_id": own + record_suffix + kind_suffix + sub_suffix,
                    "policy_id": measure_id(policy) + suffix,
                    "entry_type": "update" if effect else "new_entry",
                    "update_type": UPDATE_TYPES.get(effect, ""),
                    "update_level": UPDATE_LEVELS.get(direction, ""),
                    "type": kind,
                    "type_sub_cat": subtype,
                    "type_text": "" if subtype else sub_type_note(kind, root),
                    "enforcer": enforcers.value(measure.issuers),
                }
            )
            rows.append(values)
    return rows


def _chain(measures: dict[str, Measure], start: str, policy: str) -> set[str]:
    """The measures between `start` and the policy it leads back to (the direct targets that reach it)."""
    reach: set[str] = set()
    for _, target in measures[start].changes:
        if target == policy or policy in roots(measures, target) or target in reach:
            reach.add(target)
    return reach


def coronanet_table(store: ox.Store) -> tuple[list[str], list[list[str]]]:
    """The records in the release's columns (empty where the facts say nothing)."""
    return CORONANET_HEADER, [[row.get(column, "") for column in CORONANET_HEADER] for row in coronanet_rows(store)]

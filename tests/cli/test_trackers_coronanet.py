"""The CoronaNet layout: the release's columns, one type per record, geography from the place, update chains."""

from __future__ import annotations

import csv
import io

import rdflib
from click.testing import CliRunner
from rdflib import SKOS
from samples import ROOT, TRACKER_PREFIXES, add_fact, run, tracker_measure

from kb.export.coronanet import CORONANET_HEADER
from kb.project import Project

DATA = ROOT / "tests" / "data"
RELEASE = DATA / "coronanet_release_China_excerpt.csv"
CORONANET = "https://w3id.org/cq-covid/def/coronanet/"


def records(runner: CliRunner, project: Project, facts: str) -> dict[str, dict[str, str]]:
    add_fact(project, TRACKER_PREFIXES + facts)
    result = run(runner, project, "export", "--format", "coronanet", "--raw-csv")
    assert result.exit_code == 0, result.output
    return {row["record_id"]: row for row in csv.DictReader(io.StringIO(result.stdout, newline=""))}


def release_rows() -> list[dict[str, str]]:
    with RELEASE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_header_is_the_release_header() -> None:
    with RELEASE.open(encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == CORONANET_HEADER


def test_one_type_per_record_and_a_record_per_type(runner: CliRunner, mini_project: Project) -> None:
    two = tracker_measure("two", category="testing", extra="cq:category cat:isolation ;")
    table = records(runner, mini_project, two + tracker_measure("principle", category="strategy", strength="Principle"))
    assert set(table) == {"two-HT", "two-Q"}  # no record for a principle: CoronaNet codes no type for it
    assert (table["two-HT"]["type"], table["two-Q"]["type"]) == ("Health Testing", "Quarantine")
    assert (table["two-HT"]["policy_id"], table["two-Q"]["policy_id"]) == ("two-HT", "two-Q")
    assert all(row["entry_type"] == "new_entry" and row["collab"].startswith("cq-covid") for row in table.values())


def test_initiator_and_target_from_the_place(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("city")
        + tracker_measure("district", place="shapingba")
        + tracker_measure("national", place="china")
        + tracker_measure("zhengzhou", place="zhengzhou")
    )
    table = records(runner, mini_project, facts)
    city, district, national, other = (table[k] for k in ("city", "district", "national", "zhengzhou"))
    assert (city["init_country_level"], city["province"], city["ISO_L2"], city["city"]) == (
        "Provincial",
        "Chongqing",
        "CN-CQ",
        "",
    )
    assert (district["init_country_level"], district["province"], district["target_other"]) == (
        "Other (e.g., county)",
        "Chongqing",
        "Shapingba District",
    )
    assert (national["init_country_level"], national["province"]) == ("National", "")
    assert (other["init_country_level"], other["province"], other["ISO_L2"], other["city"]) == (
        "Municipal",
        "Henan",
        "CN-HA",
        "Zhengzhou",
    )
    assert city["date_start"] == "2022-11-10" and city["date_announced"] == "2022-11-09"


def test_an_update_keeps_the_policy_its_type_and_its_geography(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("ban", place="shapingba")
        + tracker_measure(
            "lifted",
            category="reopening",
            strength="Relaxation",
            start="2022-11-20",
            extra="cq:ends measure:ban ; cq:relaxes measure:ban ;",
        )
        + tracker_measure("again", start="2022-11-25", extra="cq:amends measure:lifted ; cq:tightens measure:lifted ;")
    )
    table = records(runner, mini_project, facts)
    lifted, again = table["lifted"], table["again"]
    assert (lifted["entry_type"], lifted["update_type"], lifted["update_level"]) == (
        "update",
        "End of Policy",
        "Relaxing",
    )
    assert (lifted["policy_id"], lifted["type"]) == ("ban", "Restrictions of Mass Gatherings")
    assert lifted["init_country_level"] == "Other (e.g., county)"  # the policy's initiator, not the update's place
    # an update of an update still belongs to the first policy
    assert (again["policy_id"], again["update_type"], again["update_level"]) == (
        "ban",
        "Change of Policy",
        "Strengthening",
    )
    assert table["ban"]["date_end"] == "2022-11-19"


def test_targets_and_compliance_take_the_release_values(runner: CliRunner, mini_project: Project) -> None:
    facts = tracker_measure("residents", strength="Advisory", extra="cq:targetGroup tg:residents ;")
    row = records(runner, mini_project, facts)["residents"]
    assert row["target_who_what"] == "All Residents (Citizen Residents + Foreign Residents)"
    assert row["compliance"] == "Voluntary/Recommended but No Penalties"


def test_every_value_the_crosswalk_mints_is_spelled_as_in_the_release(project: Project) -> None:
    graph = rdflib.Graph()
    graph.parse(project.root / "ontology" / "crosswalks.ttl", format="turtle")
    rows = release_rows()
    released = {
        "PolicyTypes": {row["type"] for row in rows},
        "TargetWhoWhat": {part for row in rows for part in row["target_who_what"].split(",")},
        "Compliance": {row["compliance"] for row in rows} | {row["update_level"] for row in rows},
    }
    for scheme, values in released.items():
        minted = {
            str(label)
            for concept in graph.subjects(SKOS.inScheme, rdflib.URIRef(CORONANET + scheme))
            for label in graph.objects(concept, SKOS.prefLabel)
            if isinstance(label, rdflib.Literal) and label.language == "en"
        }
        minted = {label.removesuffix(" (update level)") for label in minted}
        assert minted <= values, (scheme, minted - values)


def test_the_check_of_spellings_catches_a_misspelt_type(project: Project) -> None:
    values = {row["type"] for row in release_rows()}
    assert "Restriction and Regulation of Businesses" in values
    assert "Restrictions of Non-Essential Businesses" not in values  # an old name the check must refuse

"""CoronaNet sub-types and enforcers: one rule per test on inline measures, and the crosswalk's values checked
against the real release (tests/data/coronanet_release_China_excerpt.csv)."""

from __future__ import annotations

import csv
import io

import pytest
import rdflib
from click.testing import CliRunner
from rdflib import RDF, RDFS, SKOS, Literal
from samples import ROOT, TRACKER_PREFIXES, add_fact, run, tracker_measure

from kb.export.coronanet import ENFORCER_ORDER, ENFORCERS, NO_SUB_TYPES, Measure, sub_type_note
from kb.namespaces import PREFIXES
from kb.project import Project

RELEASE = ROOT / "tests" / "data" / "coronanet_release_China_excerpt.csv"
CQ = rdflib.Namespace(PREFIXES["cq"])
CORONANET = rdflib.Namespace("https://w3id.org/cq-covid/def/coronanet/")
AGENT = PREFIXES["agent"]
SELF = "Self-Quarantine (i.e. quarantine at home)"
GOVERNMENT = "Government Quarantine (i.e. quarantine at a government hotel or facility)"


def records(runner: CliRunner, project: Project, facts: str) -> dict[str, dict[str, str]]:
    add_fact(project, TRACKER_PREFIXES + "@prefix coronanet: <https://w3id.org/cq-covid/def/coronanet/> .\n" + facts)
    result = run(runner, project, "export", "--format", "coronanet", "--raw-csv")
    assert result.exit_code == 0, result.output
    return {row["record_id"]: row for row in csv.DictReader(io.StringIO(result.stdout, newline=""))}


def coding(measure: str, subtype: str) -> str:
    return f"""
[] a cq:SubTypeCoding ; cq:codes measure:{measure} ; cq:subType coronanet:{subtype} ;
    rdfs:comment "test coding of {measure} as {subtype}"@en .
"""


def issued_by(*agents: str) -> str:
    return "cq:issuer " + ", ".join(f"<{AGENT}{agent}>" for agent in agents) + " ;"


# ---------------------------------------------------------------- type_sub_cat


def test_a_coded_sub_type_fills_type_sub_cat(runner: CliRunner, mini_project: Project) -> None:
    facts = tracker_measure("home", category="isolation") + coding("home", "sub-self-quarantine")
    row = records(runner, mini_project, facts)["home"]
    assert (row["type"], row["type_sub_cat"], row["type_text"]) == ("Quarantine", SELF, "")


def test_two_sub_types_of_one_type_are_two_records_of_one_policy(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("both", category="isolation")
        + coding("both", "sub-self-quarantine")
        + coding("both", "sub-government-quarantine")
    )
    table = records(runner, mini_project, facts)
    by_sub = {row["type_sub_cat"]: (record_id, row["policy_id"]) for record_id, row in table.items()}
    assert by_sub == {SELF: ("both-S", "both"), GOVERNMENT: ("both-GQ", "both")}


def test_a_sub_type_goes_only_on_the_record_of_its_type(runner: CliRunner, mini_project: Project) -> None:
    facts = tracker_measure("mixed", category="isolation", extra="cq:category cat:testing ;") + coding(
        "mixed", "sub-government-quarantine"
    )
    table = records(runner, mini_project, facts)
    assert table["mixed-Q"]["type_sub_cat"] == GOVERNMENT
    assert table["mixed-HT"]["type_sub_cat"] == ""  # the quarantine sub-type says nothing of the testing record


def test_without_a_coding_the_sub_type_is_blank_and_type_text_says_what_is_known(
    runner: CliRunner, mini_project: Project
) -> None:
    facts = tracker_measure("contacts", category="isolation", extra="cq:targetGroup tg:close-contacts ;")
    row = records(runner, mini_project, facts)["contacts"]
    assert row["type_sub_cat"] == ""
    assert "no sub-category of Quarantine is coded" in row["type_text"]
    assert "close contacts" in row["type_text"]


def test_a_type_without_sub_categories_gets_no_note() -> None:
    assert {"Declaration of Emergency", "Lockdown"} == NO_SUB_TYPES
    assert sub_type_note("Lockdown", Measure("m", {})) == ""
    assert sub_type_note("Quarantine", Measure("m", {})) != ""


def test_an_update_keeps_the_sub_type_of_its_policy(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("home", category="isolation")
        + coding("home", "sub-self-quarantine")
        + tracker_measure(
            "home-ended",
            category="reopening",
            strength="Relaxation",
            start="2022-11-20",
            extra="cq:ends measure:home ; cq:relaxes measure:home ;",
        )
    )
    row = records(runner, mini_project, facts)["home-ended"]
    assert (row["entry_type"], row["type"], row["type_sub_cat"]) == ("update", "Quarantine", SELF)


# ---------------------------------------------------------------- enforcer


def test_the_enforcer_follows_the_issuer(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("task-force", extra=issued_by("chongqing-covid-headquarters"))
        + tracker_measure("health", extra=issued_by("chongqing-health-commission"))
        + tracker_measure("member", extra=issued_by("li-pan"))  # a person: the body she belongs to
        + tracker_measure("city", extra=issued_by("chongqing-government"))
        + tracker_measure("district", extra=issued_by("central-urban-district-authorities"))
        + tracker_measure("national", place="china", extra=issued_by("state-council-joint-mechanism"))
        + tracker_measure("unknown", extra=issued_by("covid-affected-districts-and-counties-2022-11"))
        + tracker_measure("silent")
        + tracker_measure("joint", extra=issued_by("chongqing-party-committee", "chongqing-health-commission"))
    )
    table = records(runner, mini_project, facts)
    assert {k: row["enforcer"] for k, row in table.items()} == {
        "task-force": "New (COVID-19 specific) Task Force",
        "health": "Ministry/Department of Health",
        "member": "Ministry/Department of Health",
        "city": "Provincial/State Government",
        "district": "Other (Please specify in the text box)",
        "national": "National Government,New (COVID-19 specific) Task Force",
        "unknown": "",  # no jurisdiction and no body recorded: the facts do not say who enforces
        "silent": "",
        "joint": "Ministry/Department of Health,Provincial/State Government",  # CoronaNet's order, joined by commas
    }


# ---------------------------------------------------------------- the crosswalk's values against the real release


def release_rows() -> list[dict[str, str]]:
    with RELEASE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def graph(project: Project) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in [*project.ontology_files(), *sorted(project.facts_dir.rglob("*.ttl"))]:
        graph.parse(path, format="turtle")
    return graph


def copied(graph: rdflib.Graph) -> rdflib.Graph:
    planted = rdflib.Graph()
    planted += graph
    return planted


def english(graph: rdflib.Graph, concept: rdflib.term.Node | None) -> str:
    return next((str(o) for o in graph.objects(concept, SKOS.prefLabel) if getattr(o, "language", None) == "en"), "")


def spelling_problems(graph: rdflib.Graph, rows: list[dict[str, str]]) -> list[str]:
    """Sub-types not released under their type, and enforcer values the release never uses."""
    released = {(row["type"], row["type_sub_cat"]) for row in rows}
    enforcers = {part for row in rows for part in row["enforcer"].split(",") if part}
    problems = []
    for sub in graph.subjects(SKOS.inScheme, CORONANET.PolicySubTypes):
        pair = (english(graph, graph.value(sub, SKOS.broader)), english(graph, sub))
        if pair not in released:
            problems.append(f"sub-type {pair[1]!r} of {pair[0]!r} is not a (type, type_sub_cat) of the release")
    minted = {str(o) for o in graph.objects(None, CQ.coronanetEnforcer)} | set(ENFORCERS.values())
    problems += [f"enforcer {value!r} is not a value of the release" for value in sorted(minted - enforcers)]
    problems += [f"enforcer {value!r} has no place in the order" for value in sorted(minted - set(ENFORCER_ORDER))]
    return problems


def test_every_sub_type_and_enforcer_is_spelled_as_in_the_release(graph: rdflib.Graph) -> None:
    assert len(list(graph.subjects(SKOS.inScheme, CORONANET.PolicySubTypes))) >= 5
    assert spelling_problems(graph, release_rows()) == []


def test_the_spelling_check_catches_a_misspelt_or_misplaced_value(graph: rdflib.Graph) -> None:
    planted = copied(graph)
    misspelt, misplaced = CORONANET["sub-misspelt"], CORONANET["sub-misplaced"]
    planted.add((misspelt, SKOS.inScheme, CORONANET.PolicySubTypes))
    planted.add((misspelt, SKOS.broader, CORONANET.quarantine))
    planted.add((misspelt, SKOS.prefLabel, Literal("Home Quarantine", lang="en")))
    planted.add((misplaced, SKOS.inScheme, CORONANET.PolicySubTypes))
    planted.add((misplaced, SKOS.broader, CORONANET["health-testing"]))  # a real sub-type under the wrong type
    planted.add((misplaced, SKOS.prefLabel, Literal(SELF, lang="en")))
    planted.add((rdflib.URIRef(AGENT + "x"), CQ.coronanetEnforcer, Literal("District Government")))
    problems = spelling_problems(planted, release_rows())
    assert len(problems) == 4, problems  # the unknown enforcer is neither released nor in the order
    assert any("'Home Quarantine'" in p for p in problems) and any("'Health Testing'" in p for p in problems)


def coding_problems(graph: rdflib.Graph) -> list[str]:
    """A sub-type coding must code a measure of the knowledge base whose categories give the sub-type's type, with
    the words that fix it."""
    problems = []
    for node in graph.subjects(RDF.type, CQ.SubTypeCoding):
        sub = graph.value(node, CQ.subType)
        kind = graph.value(sub, SKOS.broader) if sub is not None else None
        reason = next((str(o) for o in graph.objects(node, RDFS.comment) if getattr(o, "language", None) == "en"), "")
        for measure in graph.objects(node, CQ.codes):
            label = f"{str(measure).rsplit('/', 1)[-1]} as {str(sub).rsplit('/', 1)[-1]}"
            if (measure, RDF.type, CQ.Measure) not in graph:
                problems.append(f"{label}: not a measure of the knowledge base")
            elif kind is None or not any(
                (category, SKOS.closeMatch, kind) in graph for category in graph.objects(measure, CQ.category)
            ):
                problems.append(f"{label}: no category of the measure gives the type {kind}")
            if len(reason) < 20:
                problems.append(f"{label}: no reason quoting the measure")
    return problems


def test_every_sub_type_coding_reads_a_real_measure_of_its_type(graph: rdflib.Graph) -> None:
    assert len(list(graph.subjects(RDF.type, CQ.SubTypeCoding))) >= 20
    assert coding_problems(graph) == []


def test_the_coding_check_catches_each_planted_fault(graph: rdflib.Graph) -> None:
    planted = copied(graph)
    measure = rdflib.Namespace(PREFIXES["measure"])
    faults = [
        (measure["no-such-measure"], CORONANET["sub-hospitals"], "a measure that was renamed away"),
        (measure["normal-test-sites"], CORONANET["sub-hospitals"], "test sites read as hospitals (wrong type)"),
        (measure["normal-test-sites"], CORONANET["sub-fixed-testing-stations"], ""),
    ]
    for subject, sub, reason in faults:
        node = rdflib.BNode()
        triples: list[tuple[rdflib.URIRef, rdflib.term.Node]] = [(RDF.type, CQ.SubTypeCoding), (CQ.codes, subject)]
        triples.append((CQ.subType, sub))
        triples += [(RDFS.comment, Literal(reason, lang="en"))] if reason else []
        for prop, value in triples:
            planted.add((node, prop, value))
    problems = coding_problems(planted)
    assert len(problems) == 3, problems
    assert any("not a measure" in p for p in problems)
    assert any("gives the type" in p for p in problems)
    assert any("no reason" in p for p in problems)


def test_the_new_terms_are_declared_with_labels_and_comments(graph: rdflib.Graph) -> None:
    for term in (CQ.TrackerCoding, CQ.SubTypeCoding, CQ.subType, CQ.coronanetEnforcer):
        assert (term, RDF.type, None) in graph, term
        for prop in (RDFS.label, RDFS.comment):
            languages = {getattr(o, "language", None) for o in graph.objects(term, prop)}
            assert {"en", "zh"} <= languages, (term, prop)
    # both kinds of coding are tracker codings, the subject of cq:codes
    assert (CQ.IndicatorCoding, RDFS.subClassOf, CQ.TrackerCoding) in graph
    assert (CQ.SubTypeCoding, RDFS.subClassOf, CQ.TrackerCoding) in graph
    assert graph.value(CQ.codes, RDFS.domain) == CQ.TrackerCoding

"""Data tests of ontology/crosswalks.ttl: every category and strength is crosswalked or says why not."""

from __future__ import annotations

from typing import cast

import pytest
import rdflib
from rdflib import RDF, RDFS, SKOS, Literal, URIRef
from rdflib.term import Node

from kb.namespaces import PREFIXES
from kb.project import Project

CQ = rdflib.Namespace(PREFIXES["cq"])
OXCGRT = rdflib.Namespace("https://w3id.org/cq-covid/def/oxcgrt/")
CORONANET = rdflib.Namespace("https://w3id.org/cq-covid/def/coronanet/")
MATCHES = (SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch)
INDICATORS = [f"C{n}" for n in range(1, 9)] + [f"E{n}" for n in range(1, 5)] + [f"H{n}" for n in range(1, 9)]
CORONANET_TYPES = {
    "Lockdown",
    "Curfew",
    "Restriction and Regulation of Businesses",
    "Restrictions of Mass Gatherings",
    "Closure and Regulation of Schools",
    "Health Testing",
    "Health Monitoring",
    "Health Resources",
    "Quarantine",
    "Internal Border Restrictions",
    "External Border Restrictions",
    "Social Distancing",
    "Public Awareness Measures",
    "Declaration of Emergency",
    "Anti-Disinformation Measures",
    "Hygiene",
    "Other Policy Not Listed Above",
}


@pytest.fixture(scope="module")
def ontology(project: Project) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in project.ontology_files():
        graph.parse(path, format="turtle")
    return graph


def labels(graph: rdflib.Graph, subject: Node, prop: URIRef = RDFS.label) -> dict[str, str]:
    return {o.language: str(o) for o in graph.objects(subject, prop) if isinstance(o, Literal) and o.language}


def crosswalk_problems(graph: rdflib.Graph, concepts: list[Node]) -> list[str]:
    problems = []
    for concept in concepts:
        targets = [o for match in MATCHES for o in graph.objects(concept, match)]
        notes = labels(graph, concept, CQ.crosswalkNote)
        if not targets and "en" not in notes:
            problems.append(f"{concept}: no skos:closeMatch/broadMatch/narrowMatch and no cq:crosswalkNote@en")
        for target in targets:
            if not str(target).startswith((str(OXCGRT), str(CORONANET))):
                problems.append(f"{concept}: crosswalk to {target}, which is not an OxCGRT or CoronaNet term")
            elif (target, RDF.type, SKOS.Concept) not in graph:
                problems.append(f"{concept}: crosswalk to {target}, which crosswalks.ttl does not mint")
    return problems


def test_every_category_has_a_crosswalk_or_a_note(ontology: rdflib.Graph) -> None:
    categories = sorted(ontology.subjects(SKOS.inScheme, CQ.MeasureCategories), key=str)
    assert len(categories) >= 20
    assert crosswalk_problems(ontology, categories) == []


def test_every_strength_has_a_crosswalk_or_a_note(ontology: rdflib.Graph) -> None:
    strengths = sorted(ontology.subjects(SKOS.inScheme, CQ.Strengths), key=str)
    assert len(strengths) == 5
    assert crosswalk_problems(ontology, strengths) == []


def test_the_check_catches_a_category_without_crosswalk(ontology: rdflib.Graph) -> None:
    graph = rdflib.Graph()
    for triple in ontology:
        graph.add(triple)
    orphan = URIRef(PREFIXES["cat"] + "test-orphan")
    graph.add((orphan, SKOS.inScheme, CQ.MeasureCategories))
    graph.add((URIRef(PREFIXES["cat"] + "testing"), SKOS.closeMatch, OXCGRT.Z9))
    problems = crosswalk_problems(graph, [orphan, URIRef(PREFIXES["cat"] + "testing")])
    assert len(problems) == 2
    assert "test-orphan: no skos:closeMatch" in problems[0]
    assert "does not mint" in problems[1]


def test_oxcgrt_indicators_are_minted_with_labels_and_meaning(ontology: rdflib.Graph) -> None:
    for code in INDICATORS:
        indicator = OXCGRT[code]
        assert (indicator, SKOS.inScheme, OXCGRT.Indicators) in ontology, code
        assert str(ontology.value(indicator, SKOS.notation)) == code
        assert labels(ontology, indicator).keys() >= {"en", "zh"}, code
        assert labels(ontology, indicator)["en"].startswith(code + " ")
        assert len(labels(ontology, indicator, RDFS.comment).get("en", "")) > 30, code


def test_coronanet_policy_types_are_minted(ontology: rdflib.Graph) -> None:
    names = {
        str(o)
        for s in ontology.subjects(SKOS.inScheme, CORONANET.PolicyTypes)
        for o in ontology.objects(s, SKOS.prefLabel)
        if cast(Literal, o).language == "en"
    }
    assert names >= CORONANET_TYPES
    for concept in ontology.subjects(SKOS.inScheme, CORONANET.PolicyTypes):
        assert "en" in labels(ontology, concept, RDFS.comment), concept


def test_new_terms_are_declared_with_labels_and_comment(ontology: rdflib.Graph) -> None:
    terms = (CQ.crosswalkNote, CQ.IndicatorCoding, CQ.codes, CQ.indicator, CQ.ordinalLevel, CQ.targetedWithinPlace)
    for term in (*terms, CQ.codingPlace, CQ.coronanetLevel, CQ.coronanetProvince, CQ.isoL2, CQ.coronanetCity):
        assert (term, RDF.type, None) in ontology, term
        assert labels(ontology, term).keys() >= {"en", "zh"}, term
        assert labels(ontology, term, RDFS.comment).keys() >= {"en", "zh"}, term


def test_no_category_or_strength_sets_a_level_by_itself(ontology: rdflib.Graph) -> None:
    # the old lower-bound level rules (category + strength -> level) are gone: a level needs a coding of the measure
    assert not list(ontology.triples((None, CQ.levelRule, None)))
    assert all(ontology.value(c, CQ.codes) is not None for c in ontology.subjects(RDF.type, CQ.IndicatorCoding))


def test_docs_list_every_coding(ontology: rdflib.Graph, project: Project) -> None:
    text = (project.root / "docs" / "crosswalks.md").read_text("utf-8")
    documented = set()
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[1].isdigit() and cells[0][:1] in "CEH" and cells[0][1:].isdigit():
            documented.add((cells[0], int(cells[1]), cells[2]))
    codings = set()
    for coding in ontology.subjects(RDF.type, CQ.IndicatorCoding):
        code = str(ontology.value(ontology.value(coding, CQ.indicator), SKOS.notation))
        value = ontology.value(coding, CQ.ordinalLevel)
        assert isinstance(value, Literal), coding
        level = value.toPython()
        subjects = sorted(str(s).rsplit("/", 1)[-1] for s in ontology.objects(coding, CQ.codes))
        codings.add((code, level, ", ".join(subjects)))
    assert documented == codings

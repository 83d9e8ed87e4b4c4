"""Data tests of the OxCGRT codings (ontology/crosswalks.ttl): each reads a real measure, in range, with a reason."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import RDF, RDFS, SKOS, Literal

from kb.export.oxcgrt import BY_CODE
from kb.namespaces import PREFIXES
from kb.project import Project

CQ = rdflib.Namespace(PREFIXES["cq"])
OXCGRT = rdflib.Namespace("https://w3id.org/cq-covid/def/oxcgrt/")


@pytest.fixture(scope="module")
def graph(project: Project) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in [*project.ontology_files(), *sorted(project.facts_dir.rglob("*.ttl"))]:
        graph.parse(path, format="turtle")
    return graph


def coding_problems(graph: rdflib.Graph) -> list[str]:
    """Every way a coding can be wrong: what it codes, its indicator, its level, its reason."""
    problems = []
    for coding in graph.subjects(RDF.type, CQ.IndicatorCoding):
        indicator = graph.value(coding, CQ.indicator)
        code = str(graph.value(indicator, SKOS.notation)) if indicator is not None else ""
        subjects = list(graph.objects(coding, CQ.codes))
        label = f"{code} coding of {', '.join(str(s).rsplit('/', 1)[-1] for s in subjects)}"
        if code not in BY_CODE or (indicator, SKOS.inScheme, OXCGRT.Indicators) not in graph:
            problems.append(f"{label}: not an OxCGRT indicator")
            continue
        level = graph.value(coding, CQ.ordinalLevel)
        if not isinstance(level, Literal) or not 0 <= int(level.toPython()) <= BY_CODE[code].max_level:
            problems.append(f"{label}: level {level} outside 0..{BY_CODE[code].max_level}")
        reasons = [o for o in graph.objects(coding, RDFS.comment) if isinstance(o, Literal) and o.language == "en"]
        if not reasons or len(str(reasons[0])) < 40:
            problems.append(f"{label}: no reason (rdfs:comment@en naming the facts and the codebook rule)")
        if not subjects:
            problems.append(f"{label}: codes nothing")
        for subject in subjects:
            if (subject, RDF.type, CQ.Measure) in graph:
                categories = list(graph.objects(subject, CQ.category))
                matched = any(
                    (category, match, indicator) in graph
                    for category in categories
                    for match in (SKOS.closeMatch, SKOS.narrowMatch)
                )
                if not matched:
                    problems.append(f"{label}: no category of the measure matches {code}")
            elif (subject, CQ.date, None) in graph:
                if graph.value(coding, CQ.codingPlace) is None:
                    problems.append(f"{label}: a coding of announcements needs cq:codingPlace")
            else:
                problems.append(f"{label}: {subject} is neither a measure nor an announcement of the knowledge base")
    return problems


def test_every_coding_reads_a_real_measure_in_range_with_a_reason(graph: rdflib.Graph) -> None:
    assert len(list(graph.subjects(RDF.type, CQ.IndicatorCoding))) >= 20
    assert coding_problems(graph) == []


def test_the_check_catches_each_planted_fault(graph: rdflib.Graph) -> None:
    planted = rdflib.Graph()
    for triple in graph:
        planted.add(triple)
    measure = rdflib.Namespace(PREFIXES["measure"])
    faults = {
        "gone": (
            measure["no-such-measure"],
            OXCGRT.C1,
            3,
            "a coding whose measure was renamed, so it codes nothing real",
        ),
        "range": (
            measure["2020-schools-closed-until-feb-17"],
            OXCGRT.C1,
            4,
            "C1 has no level 4 in the codebook's scale",
        ),
        "category": (
            measure["2020-schools-closed-until-feb-17"],
            OXCGRT.C4,
            4,
            "a closure of schools read as a ban on all gatherings (wrong indicator)",
        ),
        "reason": (measure["2020-schools-closed-until-feb-17"], OXCGRT.C1, 3, ""),
    }
    for subject, indicator, level, reason in faults.values():
        node = rdflib.BNode()
        planted.add((node, RDF.type, CQ.IndicatorCoding))
        planted.add((node, CQ.codes, subject))
        planted.add((node, CQ.indicator, indicator))
        planted.add((node, CQ.ordinalLevel, Literal(level)))
        if reason:
            planted.add((node, RDFS.comment, Literal(reason, lang="en")))
    problems = coding_problems(planted)
    assert len(problems) == 4, problems
    assert any("no-such-measure is neither" in p for p in problems)
    assert any("level 4 outside 0..3" in p for p in problems)
    assert any("no category of the measure matches C4" in p for p in problems)
    assert any("no reason" in p for p in problems)

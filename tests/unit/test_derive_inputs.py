"""What the derivation reads from a store (kb/derive.py `read_inputs`, one SELECT per predicate) is what a plain
reading of every curated quad gives: on the shipped KB, on a synthetic one, and with the cases it must skip planted
(blank-node subjects, literal objects, ill-typed and non-date values, a derived graph already in the store)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest

from bench.synth import generate
from kb import store as kb_store
from kb.derive import DERIVED_GRAPH, Inputs, derive, read_inputs
from kb.namespaces import CQ, RDF_TYPE, XSD_DATE
from kb.periods import Link, MeasureDates, Repeal, SourcePeriod
from kb.project import Project

DATES = {"announced": "announced", "inForceFrom": "start", "inForceUntil": "until", "attestedInForce": "attested"}


def plain_reading(store: ox.Store) -> Inputs:
    """The inputs from every quad of the curated graphs, read one by one (the slow, obvious way)."""
    facts: dict[str, list[tuple[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]]] = {}
    for quad in store:
        if quad.graph_name == ox.NamedNode(DERIVED_GRAPH) or not isinstance(quad.subject, ox.NamedNode):
            continue
        facts.setdefault(quad.predicate.value, []).append((quad.subject.value, quad.object))

    def iri(term: object) -> str:
        return term.value if isinstance(term, ox.NamedNode) else ""

    def day(term: object) -> date | None:
        if not isinstance(term, ox.Literal) or term.datatype.value != XSD_DATE:
            return None
        try:
            return date.fromisoformat(term.value)
        except ValueError:
            return None

    def pairs(local: str) -> list[tuple[str, str]]:
        return [(s, iri(o)) for s, o in facts.get(CQ + local, [])]

    def typed(local: str) -> set[str]:
        return {s for s, o in facts.get(RDF_TYPE, []) if iri(o) == CQ + local}

    measures = typed("Measure")
    found: dict[str, dict[str, date]] = {m: {} for m in measures}
    for local, key in DATES.items():
        for s, o in facts.get(CQ + local, []):
            d = day(o)
            if s in found and d is not None and (key not in found[s] or d < found[s][key]):
                found[s][key] = d
    records = [
        MeasureDates(
            m,
            frozenset(o for s, o in pairs("appliesTo") if s == m and o),
            found[m].get("announced"),
            found[m].get("start"),
            found[m].get("until"),
            found[m].get("attested"),
        )
        for m in sorted(measures)
    ]
    effects = ("ends", "replaces", "amends", "restates", "implements")
    links = [Link(s, e, o) for e in effects for s, o in pairs(e) if s in measures and o in measures]
    starts = {s: day(o) for s, o in facts.get(CQ + "coversFrom", [])}
    ends = {s: day(o) for s, o in facts.get(CQ + "coversUntil", [])}
    sources = [
        SourcePeriod(s, starts[s], ends[s], frozenset(o for t, o in pairs("coversPlace") if t == s))  # type: ignore[arg-type]
        for s in sorted(typed("Source"))
        if starts.get(s) is not None and ends.get(s) is not None
    ]
    within: dict[str, list[str]] = {}
    for child, parent in pairs("within"):
        within.setdefault(child, []).append(parent)
    return Inputs(
        records,
        links,
        [Repeal(s, o) for s, o in pairs("repealsInconsistentWith") if s in measures],
        [(s, o) for s, o in pairs("leavesUnaffected") if s in measures],
        sources,
        within,
    )


def assert_same(store: ox.Store) -> None:
    read, plain = read_inputs(store), plain_reading(store)
    assert read.measures == plain.measures
    assert sorted(read.links, key=str) == sorted(plain.links, key=str)
    assert sorted(read.repeals, key=str) == sorted(plain.repeals, key=str)
    assert sorted(read.unaffected) == sorted(plain.unaffected)
    assert read.sources == plain.sources
    assert {k: sorted(v) for k, v in read.within.items()} == {k: sorted(v) for k, v in plain.within.items()}


def test_the_shipped_kb(project: Project) -> None:
    store = kb_store.load_project(project).to_store()
    assert_same(store)
    assert len(read_inputs(store).measures) > 100


def test_a_synthetic_kb_built_with_its_derived_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read back from a built store, which already holds the derived graph (never read as facts)."""
    root = generate(tmp_path / "kb", 1000)
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    project = Project(root)
    kb_store.build(project, force=True)
    built = kb_store.open_snapshot(kb_store.store_link(project))
    assert any(graph == ox.NamedNode(DERIVED_GRAPH) for graph in built.named_graphs())
    assert_same(built)
    inputs = read_inputs(built)
    assert len(inputs.measures) == 1000 and inputs.links and inputs.sources


PLANTED = """
@prefix cq: <https://w3id.org/cq-covid/def#> .
@prefix m: <https://w3id.org/cq-covid/id/measure/> .
@prefix place: <https://w3id.org/cq-covid/id/place/> .
@prefix src: <https://w3id.org/cq-covid/id/source/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
m:a a cq:Measure ; cq:appliesTo place:chongqing, "a literal place", [ a cq:Place ] ;
    cq:inForceFrom "2022-11-20"^^xsd:date, "2022-11-10"^^xsd:date, "2022-13-01"^^xsd:date ;
    cq:inForceUntil "2022-12-01" ; cq:announced "2022-11-09T10:00:00"^^xsd:dateTime .
m:b a cq:Measure ; cq:ends m:a, m:unknown ; cq:announced "2022-11-25"^^xsd:date ;
    cq:repealsInconsistentWith "the rest" ; cq:leavesUnaffected m:a .
[] a cq:Measure ; cq:inForceFrom "2022-11-01"^^xsd:date ; cq:ends m:a .
src:s a cq:Source ; cq:coversFrom "2022-11-01"^^xsd:date ; cq:coversUntil "2022-12-01"^^xsd:date ;
    cq:coversPlace place:chongqing, "somewhere" .
src:t a cq:Source ; cq:coversFrom "2022-11-01"^^xsd:date .
place:x cq:within place:chongqing, "a text" .
"""


def test_planted_cases_and_an_existing_derived_graph() -> None:
    store = ox.Store()
    store.load(PLANTED.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:graph:planted"))
    inputs = read_inputs(store)
    a, b = inputs.measures
    assert a.measure.endswith("/a") and a.places == {"https://w3id.org/cq-covid/id/place/chongqing"}
    assert (a.start, a.until, a.announced) == (date(2022, 11, 10), None, None)
    assert b.announced == date(2022, 11, 25)
    assert [link.earlier.rsplit("/", 1)[1] for link in inputs.links] == ["a"]
    assert [r.against for r in inputs.repeals] == [""]
    assert [s.source.rsplit("/", 1)[1] for s in inputs.sources] == ["s"]
    assert_same(store)
    derive(store)  # the derived graph states days and places of its own: they are not read back as facts
    store.add(
        ox.Quad(
            ox.NamedNode(a.measure),
            ox.NamedNode(CQ + "inForceFrom"),
            ox.Literal("2020-01-01", datatype=ox.NamedNode(XSD_DATE)),
            ox.NamedNode(DERIVED_GRAPH),
        )
    )
    assert read_inputs(store) == inputs
    assert_same(store)

"""The conformance harness (conformance/, `make conformance`) over the shipped knowledge base: every comparison
agrees with the reference engines or differs as known (docs/conformance.md).

It needs Java, Debian's Jena and OWL API, and owlready2's HermiT.jar; `.ci/run` installs them (`make
conformance-tools`), so in CI it runs; elsewhere it is skipped with the reason. One run of the harness
(one JVM for all queries, validations and profile checks) serves every test here.
"""

from __future__ import annotations

import pytest
from samples import ROOT

from conformance.outcome import Outcome, ToolMissing


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    from conformance import engines
    from conformance.__main__ import run

    try:
        engines.check_tools()
    except ToolMissing as exc:
        pytest.skip(f"{exc} ({exc.hint})")
    return run(ROOT, work=tmp_path_factory.mktemp("conformance"))


def _named(outcomes: list[Outcome], part: str) -> dict[str, Outcome]:
    return {o.name: o for o in outcomes if o.part == part}


def test_every_comparison_agrees_or_differs_as_known(outcomes: list[Outcome]) -> None:
    bad = [f"{o.part} {o.name}: {o.status} — {o.detail}" for o in outcomes if not o.ok]
    assert bad == []


def test_every_named_query_is_compared(outcomes: list[Outcome]) -> None:
    from kb.query import catalogue

    assert set(_named(outcomes, "sparql")) == set(catalogue())


def test_the_query_fixes_hold_on_both_engines(outcomes: list[Outcome]) -> None:
    """The ties, the SAMPLE and the duplicate rows of issue 17 (each differed between the engines before)."""
    sparql = _named(outcomes, "sparql")
    for name in ("change-links", "measure-parameters", "measures-no-end-stated", "relaxations"):
        assert sparql[name].same, sparql[name].detail
    assert sparql["timeline-measures"].same, sparql["timeline-measures"].detail
    assert sparql["timeline-places"].same, sparql["timeline-places"].detail


def test_the_ontology_is_owl2_dl_and_the_reasoners_agree(outcomes: list[Outcome]) -> None:
    owl = _named(outcomes, "owl")
    assert owl["OWL 2 DL profile: ontology/"].same, owl["OWL 2 DL profile: ontology/"].detail
    assert owl["HermiT (xsd:date ignored): ontology consistent"].same
    assert owl["HermiT (xsd:date ignored): two-strengths inconsistent"].same
    assert owl["owlrl: two strengths are an inconsistency"].same
    assert owl["owlrl: no unwanted inferred type"].same


def test_the_planted_shacl_faults_are_caught_by_every_engine(outcomes: list[Outcome]) -> None:
    from conformance.faults import SHACL_FAULTS

    shacl = _named(outcomes, "shacl")
    for name in SHACL_FAULTS:
        wanted = "no result" if name == "valid" else "caught"
        assert shacl[f"{name}: {wanted} (pyshacl)"].same
        assert f"{name}: jena" in shacl and f"{name}: pyshacl-turbo" in shacl

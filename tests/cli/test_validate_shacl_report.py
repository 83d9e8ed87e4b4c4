"""The SHACL part of a report as the reference engines give it: top-level results only (sh:detail nests their
causes), results on blank nodes placed at their measure in both modes, and ill-typed literals shown as the data
has them."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from click.testing import CliRunner
from samples import MEASURE, run

from kb.loader import Dataset, parse_turtle
from kb.project import Project
from kb.validate import validate_files
from kb.validate.places import Locator, ParsedFiles
from kb.validate.shacl import shacl_findings

_SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:Outer a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:part ; sh:node ex:Inner ; sh:message "the part is not well formed"@en ] .
ex:Inner a sh:NodeShape ;
    sh:property [ sh:path ex:size ; sh:minCount 1 ; sh:message "a part needs a size"@en ] .
"""
_DATA = b"""@prefix ex: <http://example.org/> .
ex:a a ex:Thing ; ex:part [ ex:colour "red" ] .
"""


def test_nested_detail_results_are_not_listed_as_findings_of_their_own(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(_SHAPES, "utf-8")
    parsed = parse_turtle(_DATA, "facts/data.ttl")
    store = Dataset([parsed]).to_store()
    findings, report_nt = shacl_findings(store, Locator(ParsedFiles([parsed]), store), shapes, None, "pyshacl")
    report = ox.Store()
    report.extend(ox.parse(report_nt, format=ox.RdfFormat.N_TRIPLES))
    detail = ox.NamedNode("http://www.w3.org/ns/shacl#detail")
    assert list(report.quads_for_pattern(None, detail, None)), "pyshacl nests the inner result as sh:detail"
    assert [f.message for f in findings] == ["the part is not well formed"]
    assert findings[0].subject == "<http://example.org/a>" and findings[0].line == 2


_PARAMETER = (
    "cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-result-validity ; cq:value 48.0 ; cq:unit unit:HR ]"
)


def _with_parameter(parameter: str) -> str:
    text = MEASURE.replace("    cq:quote", f"    {parameter} ;\n    cq:quote")
    if "@prefix qk:" not in text:
        text = "@prefix qk: <https://w3id.org/cq-covid/def/quantity/> .\n" + text
    if "@prefix unit:" not in text:
        text = "@prefix unit: <http://qudt.org/vocab/unit/> .\n" + text
    return text


def test_blank_node_results_are_placed_and_kept_in_both_modes(mini_project: Project) -> None:
    broken = _PARAMETER.replace(" ; cq:unit unit:HR", "").replace("cq:value 48.0", 'cq:value "many"')
    path = mini_project.facts_dir / "parameter.ttl"
    path.write_text(_with_parameter(broken), "utf-8")
    whole = [f for f in validate_files(mini_project).findings if f.file == "facts/parameter.ttl"]
    alone = validate_files(mini_project, [path]).findings
    assert whole == alone
    props = {f.property for f in whole if f.check == "shacl"}
    assert {"cq:unit", "cq:value"} <= props, whole
    for finding in whole:
        assert finding.subject == "measure:test-measure" and finding.line > 0, finding


def test_ill_typed_literals_keep_their_datatype_in_the_turtle_report(runner: CliRunner, mini_project: Project) -> None:
    import rdflib
    from rdflib.namespace import SH, XSD

    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MEASURE.replace('"2022-11-20"^^xsd:date', '"2022-11-31"^^xsd:date'), "utf-8")
    result = run(runner, mini_project, "validate", "--format", "ttl", str(path))
    assert result.exit_code == 1, result.output
    graph = rdflib.Graph().parse(data=result.output, format="turtle")
    values = [(str(v), getattr(v, "datatype", None)) for v in graph.objects(None, SH.value)]
    assert ("2022-11-31", XSD.date) in values, values
    assert ("2022-11-31", None) not in values, values

"""The shapes compiled over the store (kb/validate/compiled.py, the default engine) give exactly pyshacl's findings:
on the shipped knowledge base, and on a planted fault of every constraint component ontology/shapes.ttl uses, in
both modes (the whole knowledge base, and files validated in its context); and a shape using a construct the
compiler does not evaluate is handed to the reference engine, never skipped."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
from samples import MEASURE, add_fact

from kb import store as kb_store
from kb.project import Project
from kb.validate import Report, compiled, validate_files
from kb.validate.compiled import evaluate

_SUBJECT = "measure:test-measure"
_BODY = MEASURE[MEASURE.index(_SUBJECT) :]
_PREFIXES = (
    MEASURE[: MEASURE.index(_SUBJECT)]
    + "@prefix qk: <https://w3id.org/cq-covid/def/quantity/> .\n"
    + "@prefix tg: <https://w3id.org/cq-covid/def/target/> .\n"
)
_QUOTE = '    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .'


def _with(extra: str) -> tuple[str, str]:
    return (_QUOTE, f"    {extra} ;\n{_QUOTE}")


def _parameter(inside: str) -> tuple[str, str]:
    return _with(f"cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-result-validity ; {inside} ]")


# name → the replacements that plant the fault in the sample measure; each fault is one constraint component
FAULTS: dict[str, list[tuple[str, str]]] = {
    "min-count": [("    cq:strength cq:Mandatory ;\n", "")],
    "max-count": [("cq:strength cq:Mandatory", "cq:strength cq:Mandatory, cq:Advisory")],
    "class": [("cq:appliesTo place:central-urban-districts", "cq:appliesTo place:nowhere")],
    "datatype-ill-typed": [('"2022-11-09"^^xsd:date', '"2022-13-45"^^xsd:date')],
    "datatype-untagged": [('"daily area testing"@en', '"daily area testing"@en, "untagged"')],
    "in": [("cq:strength cq:Mandatory", "cq:strength cq:Compulsory")],
    "node-and-has-value": [("cq:category cat:testing", "cq:category tg:residents")],
    "qualified-language-in": [('"中心城区各区实行一天一次的区域核酸检测"@zh, ', "")],
    "qualified-warning": [(', "daily area testing"@en', "")],
    "less-than-or-equals": [('cq:inForceUntil "2022-11-20"', 'cq:inForceUntil "2022-11-01"')],
    "less-than-or-equals-ill-typed": [('cq:inForceFrom "2022-11-10"', 'cq:inForceFrom "2022-11-31"')],
    "announced-after": [('cq:announced "2022-11-09"', 'cq:announced "2022-11-15"')],
    "not": [_with('cq:attestedInForce "2022-11-12"^^xsd:date ; cq:attestedInForceKind cq:NotStated')],
    "or": [_with("cq:implements place:central-urban-districts")],
    "alternative-path": [_with("cq:amends place:central-urban-districts")],
    "min-length": [(_QUOTE, '    cq:quote "中" .')],
    "node-kind": [_parameter('cq:value 48.0 ; cq:unit "HR"')],
    "min-inclusive": [_parameter("cq:value -01.50 ; cq:unit unit:HR")],
    "node": [_parameter("cq:value 48.0")],
}
# Things other than measures: a numbered point in no whole (inverse path) numbered 0 (an integer's minInclusive),
# a source whose file name and address break their patterns.
OTHERS = """
doc:test-part
    a cq:DocumentPart ;
    rdfs:label "第零条"@zh, "point zero"@en ;
    cq:number 0 ;
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .

src:test-source
    a cq:Source ;
    rdfs:label "测试来源"@zh, "test source"@en ;
    cq:fileName "sub/dir.txt" ;
    cq:url "ftp://example.org/a"^^xsd:anyURI .
"""


def _planted() -> str:
    text = _PREFIXES
    for name, replacements in FAULTS.items():
        body = _BODY.replace(_SUBJECT, f"measure:fault-{name}")
        for old, new in replacements:
            assert old in body, (name, old)
            body = body.replace(old, new)
        text += "\n" + body
    return text + OTHERS


def _keys(report: Report) -> list[tuple[str, int, str, str, str, str, str]]:
    return [(f.file, f.line, f.severity, f.subject, f.property, f.message, f.message_zh) for f in report.findings]


def _results(report: Report) -> list[tuple[str, ...]]:
    """The top-level SHACL results of the report: focus, path, severity, shape, component, value (blank nodes as _;
    pyshacl nests the results of an inner shape under sh:detail, which findings leave out)."""
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    graph = rdflib.Graph().parse(data=report.shacl_results, format="nt")

    def text(term: object) -> str:
        return "_" if isinstance(term, rdflib.BNode) else "" if term is None else term.n3()  # type: ignore[attr-defined]

    keys = []
    for result in graph.objects(None, sh.result):
        parts = (sh.focusNode, sh.resultPath, sh.resultSeverity, sh.sourceShape, sh.sourceConstraintComponent, sh.value)
        keys.append(tuple(text(graph.value(result, p)) for p in parts))
    return sorted(keys)


def test_compiled_agrees_with_pyshacl_on_the_shipped_knowledge_base(project: Project) -> None:
    compiled = validate_files(project, engine="compiled")
    reference = validate_files(project, engine="pyshacl")
    assert _keys(compiled) == _keys(reference)
    assert _results(compiled) == _results(reference)
    assert not evaluate(kb_store.open_store(project), project.shapes_file).unsupported


def test_compiled_finds_every_planted_fault_as_pyshacl_does_in_both_modes(mini_project: Project) -> None:
    path = add_fact(mini_project, _planted(), "faults.ttl")
    alone = validate_files(mini_project, [path], engine="compiled")
    assert _keys(alone) == _keys(validate_files(mini_project, [path], engine="pyshacl"))
    whole = validate_files(mini_project, engine="compiled")
    reference = validate_files(mini_project, engine="pyshacl")
    assert _keys(whole) == _keys(reference)
    assert _results(whole) == _results(reference)
    flagged = {f.subject for f in whole.findings if f.check == "shacl"}
    missing = {f"measure:fault-{name}" for name in FAULTS} - flagged
    assert not missing, missing
    components = {key[4].rsplit("#", 1)[-1].rstrip(">").removesuffix("ConstraintComponent") for key in _results(whole)}
    expected = {
        "MinCount",
        "MaxCount",
        "Class",
        "Datatype",
        "NodeKind",
        "Pattern",
        "MinLength",
        "In",
        "QualifiedMinCount",
        "LessThanOrEquals",
        "MinInclusive",
        "Node",
        "Not",
        "Or",
    }
    assert expected <= components, expected - components
    assert {"warning", "violation"} <= {f.severity for f in whole.findings if f.check == "shacl"}
    assert any('(value: "-1.5"^^' in f.message for f in whole.findings), "-01.50 is quoted as rdflib writes it"


_UNSUPPORTED = """
cqsh:ShortQuotes
    a sh:NodeShape ;
    sh:targetClass cq:Measure ;
    sh:property [
        sh:path cq:quote ;
        sh:maxLength 5 ;
        sh:message "A quote of at most five characters (a test shape)."@en ;
    ] .
"""


def test_a_shape_the_compiler_does_not_evaluate_goes_to_the_reference_engine(mini_project: Project) -> None:
    shapes = mini_project.shapes_file
    shapes.write_text(shapes.read_text("utf-8") + _UNSUPPORTED, "utf-8")
    path = add_fact(mini_project, _planted(), "faults.ttl")
    whole = validate_files(mini_project, engine="compiled")
    assert _keys(whole) == _keys(validate_files(mini_project, engine="pyshacl"))
    assert any("at most five characters" in f.message for f in whole.findings)
    alone = validate_files(mini_project, [path], engine="compiled")
    assert _keys(alone) == _keys(validate_files(mini_project, [path], engine="pyshacl"))
    outcome = evaluate(kb_store.open_store(mini_project), shapes)
    assert outcome.unsupported == [ox.NamedNode("https://w3id.org/cq-covid/shapes#ShortQuotes")]
    assert outcome.results, "the other shapes are still evaluated on the store"


_SHARED_SHAPES = """
cqsh:MarkedHaveAValue
    a sh:NodeShape ;
    sh:targetSubjectsOf cq:testMark ;
    sh:property [ sh:path cq:testValue ; sh:minCount 1 ; sh:message "marked: a value (a test shape)"@en ] .

cqsh:OthersHaveAValue
    a sh:NodeShape ;
    sh:targetSubjectsOf cq:testOther ;
    sh:property [ sh:path cq:testValue ; sh:minCount 1 ; sh:message "other: a value (a test shape)"@en ] .

cqsh:ThingsHaveOneValue
    a sh:NodeShape ;
    sh:targetClass cq:TestThing ;
    sh:property [ sh:path cq:testValue ; sh:maxCount 1 ; sh:message "thing: one value (a test shape)"@en ] .
"""
# a and b are marked and things; a and c are "others" (as many nodes as the marked ones, not the same ones);
# c has no value, b has two
_SHARED_DATA = """
measure:share-a cq:testMark 1 ; cq:testOther 1 ; a cq:TestThing ; cq:testValue 1 .
measure:share-b cq:testMark 1 ; a cq:TestThing ; cq:testValue 1, 2 .
measure:share-c cq:testOther 1 .
"""


def test_counts_are_shared_only_by_targets_with_the_same_focus_nodes(mini_project: Project) -> None:
    """The counts by predicate of one shape's focus nodes serve another's only when both select the same nodes
    (the things and the marked ones here), never when they merely select as many (the marked and the others):
    each planted result is still found, as pyshacl finds it."""
    shapes = mini_project.shapes_file
    shapes.write_text(shapes.read_text("utf-8") + _SHARED_SHAPES, "utf-8")
    add_fact(mini_project, _PREFIXES + _SHARED_DATA, "shared.ttl")
    compiled = validate_files(mini_project, engine="compiled")
    assert _results(compiled) == _results(validate_files(mini_project, engine="pyshacl"))
    messages = {(f.subject, f.message.split(" (")[0]) for f in compiled.findings if "(a test shape)" in f.message}
    assert messages == {("measure:share-c", "other: a value"), ("measure:share-b", "thing: one value")}, messages
    outcome = evaluate(kb_store.open_store(mini_project), shapes)
    counted = {" ".join(t.pattern.split()) for t in outcome.data.counted}
    assert any("testOther" in p for p in counted), counted
    assert sum("testMark" in p or "TestThing" in p for p in counted) == 1, f"one count for the same nodes: {counted}"


def test_paths_with_many_distinct_values_read_per_target_give_the_same_findings(
    mini_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above _MAX_DISTINCT distinct values a path's values are read per target (and ill-typed literals through a
    filter) rather than once for the whole store: with the line at 1 every path of the planted faults takes that
    way, and the findings are still pyshacl's."""
    path = add_fact(mini_project, _planted(), "faults.ttl")
    monkeypatch.setattr(compiled, "_MAX_DISTINCT", 1)
    outcome = evaluate(kb_store.open_store(mini_project), mini_project.shapes_file)
    assert any(n > 1 for n in outcome.data._distinct_counts.values()), "some path is over the line"
    assert all(n <= 2 for n in outcome.data._distinct_counts.values()), "counted no further than the line + 1"
    whole = validate_files(mini_project, engine="compiled")
    assert _results(whole) == _results(validate_files(mini_project, engine="pyshacl"))
    alone = validate_files(mini_project, [path], engine="compiled")
    assert _keys(alone) == _keys(validate_files(mini_project, [path], engine="pyshacl"))

"""Whole-KB validation hands each per-file check only the store's triples it can report on (kb/validate/prefilter.py):
with a fault of every rule of those checks planted, the findings are those of the same files parsed afresh, where
every triple is looked at; and the SHACL engines agree on the text fed to pyshacl-turbo (literals rdflib
normalises or finds ill-typed)."""

from __future__ import annotations

from samples import MEASURE, PREFIXES, add_fact

from kb.derive import derive
from kb.loader import Dataset, load_file
from kb.project import Project
from kb.validate import validate_files
from kb.validate.checks import declared_terms
from kb.validate.places import Locator, ParsedFiles
from kb.validate.run import run_checks

OWL = "<http://www.w3.org/2002/07/owl#"
SH = "<http://www.w3.org/ns/shacl#"


def _measure(name: str, old: str = "", new: str = "") -> str:
    return MEASURE.replace("test-measure", f"test-{name}").replace(old, new)


# One file per rule of the per-file checks (and two rules in one file), each fault a line a curator could write.
PLANTED = {
    "unknown-property.ttl": _measure(
        "p", "    cq:quote", "    cq:apliesTo place:central-urban-districts ;\n    cq:quote"
    ),
    "unknown-class.ttl": _measure("c", "a cq:Measure ;", "a cq:Measure, cq:Measur ;"),
    "unknown-term.ttl": _measure("t", "cq:Mandatory", "cq:Mandatoryy"),
    "unknown-concept.ttl": _measure("k", "cat:testing", "cat:testingg"),
    "declares-class.ttl": PREFIXES + f"\ncq:NewThing a {OWL}Class> .\n",
    "declares-property.ttl": PREFIXES + "\ncq:NewThing rdfs:subClassOf cq:Measure .\n",
    "declares-shape.ttl": PREFIXES + f"\ncq:NewShape {SH}targetClass> cq:Measure .\n",
    "control.ttl": _measure("x", '"daily area testing"', '"daily\\u0007 testing"'),
    "bidi.ttl": _measure("b", '"daily area testing"', '"daily \\u202Etesting"'),
    "tab-in-label.ttl": _measure("l", '"daily area testing"', '"daily\\tarea testing"'),
    "short-quote.ttl": _measure("q", '"中心城区各区将实行一天一次的区域核酸检测"', '"核酸"'),
    "no-letter-quote.ttl": _measure("n", '"中心城区各区将实行一天一次的区域核酸检测"', '"……、、。"'),
    "two-rules.ttl": _measure("2", "cat:testing", "cat:testingg").replace('"daily area testing"', '"daily\\u0000 x"'),
}


def _keys(report) -> list[tuple[str, ...]]:
    return [(f.file, str(f.line), f.severity, f.subject, f.property, f.message, f.check) for f in report.findings]


def _reparsed(project: Project, engine: str) -> list[tuple[str, ...]]:
    files = [load_file(path, project.relative(path), project.root) for path in project.input_files()]
    store = Dataset(files).to_store()
    derive(store)
    locator = Locator(ParsedFiles(files), store)
    return _keys(run_checks(project, store, locator, declared_terms(store), None, None, engine))


def test_every_rule_is_caught_from_the_store_as_from_a_fresh_parse(mini_project: Project) -> None:
    planted = mini_project
    for name, text in PLANTED.items():
        add_fact(planted, text, name)
    keys = _keys(validate_files(planted, engine="pyshacl"))
    assert keys == _reparsed(planted, "pyshacl")
    for name in PLANTED:
        assert any(k[0] == f"facts/{name}" and k[6] != "shacl" for k in keys), f"nothing reported in {name}: {keys}"
    checks = {k[6] for k in keys}
    assert {"vocabulary", "vocabulary-declaration", "control-character", "short-quote"} <= checks, checks


# Literals the turbo engine receives as text: rdflib normalises some ("+5" → "5", "01.50" → "1.5") and finds others
# ill-typed; pyshacl sees them through rdflib, so the text handed to pyshacl-turbo must say the same.
ODD_LITERALS = (
    PREFIXES
    + """
measure:test-odd
    a cq:Parameter ;
    cq:quantityKind <https://w3id.org/cq-covid/def/quantity/nosuchKind> ;
    cq:value "-01.50"^^xsd:decimal ;
    cq:unit "HR" .

obs:test-odd
    a cq:Observation ;
    rdfs:label "odd \\"quoted\\" figure"@en ;
    cq:statistic stat:new-confirmed ;
    cq:area place:chongqing ;
    cq:refDate "2022-11-31"^^xsd:date ;
    cq:refDateKind cq:StatedDate ;
    cq:value "+0012"^^xsd:decimal ;
    cq:unit unit:NUM ;
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .
"""
)


def _values(turtle: bytes) -> set[tuple[str, str]]:
    """(focus node, value) of each SHACL result in a Turtle report (blank focus nodes as _)."""
    import rdflib
    from rdflib.namespace import SH

    graph = rdflib.Graph().parse(data=turtle.decode(), format="turtle")
    return {
        ("_" if isinstance(focus, rdflib.BNode) else str(focus), value.n3())
        for result in graph.subjects(SH.sourceShape, None)
        for focus in graph.objects(result, SH.focusNode)
        for value in graph.objects(result, SH.value)
    }


def test_turbo_fed_as_text_finds_what_pyshacl_finds_on_odd_literals(mini_project: Project) -> None:
    add_fact(mini_project, ODD_LITERALS, "odd.ttl")
    reference = validate_files(mini_project, engine="pyshacl")
    turbo = validate_files(mini_project, engine="turbo")
    assert [k for k in _keys(reference) if k[6] == "shacl"], _keys(reference)
    assert _keys(turbo) == _keys(reference)
    values = _values(turbo.shacl_report)
    assert values == _values(reference.shacl_report)
    # the report shows the data's own ill-typed date, not the plain string the shapes were given in its place
    assert any(v.endswith('"2022-11-31"^^<http://www.w3.org/2001/XMLSchema#date>') for _, v in values), values

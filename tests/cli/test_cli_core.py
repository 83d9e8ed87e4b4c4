"""CLI tests of build, query, validate and stats (click's CliRunner, exit codes asserted)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import CLI_MEASURE as MEASURE
from samples import ROOT, add_fact, run

from kb.cli import main
from kb.project import Project


def test_help_lists_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("build", "query", "validate", "stats"):
        assert command in result.output


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert "kb" in result.output


def test_build_prints_counts_and_is_incremental(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    first = run(runner, mini_project, "build")
    assert first.exit_code == 0, first.output
    assert "store built" in first.output
    assert "cq:Measure" in first.output and "cq:Source" in first.output
    second = run(runner, mini_project, "build")
    assert "up to date" in second.output
    add_fact(mini_project, MEASURE.replace("test-daily-testing", "test-other"), "other.ttl")
    third = run(runner, mini_project, "build")
    assert "store built" in third.output


def test_build_progress(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "build", "--force", "--progress")
    assert result.exit_code == 0, result.output
    assert "[1/" in result.output


def test_query_sees_changed_file_without_explicit_build(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    assert "test-daily-testing" in run(runner, mini_project, "query", "measures").output
    add_fact(mini_project, MEASURE.replace("test-daily-testing", "renamed-measure"))
    output = run(runner, mini_project, "query", "measures").output
    assert "renamed-measure" in output and "test-daily-testing" not in output


def test_measures_query_columns(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    result = run(runner, mini_project, "query", "measures", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    expected = [
        "measure",
        "label_zh",
        "label_en",
        "category",
        "strength",
        "announced",
        "in_force_from",
        "in_force_until",
        "place",
        "source",
        "quote",
    ]
    assert list(rows[0])[: len(expected)] == expected
    assert rows[0]["announced"] == "2022-11-09"
    assert rows[0]["in_force_from"] == ""
    assert rows[0]["place"].endswith("place/central-urban-districts")


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json"])
def test_query_formats(runner: CliRunner, mini_project: Project, fmt: str) -> None:
    add_fact(mini_project, MEASURE)
    result = run(runner, mini_project, "query", "SELECT ?m WHERE { ?m a cq:Measure }", "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.output)
        assert data["head"]["vars"] == ["m"]
        assert data["results"]["bindings"][0]["m"] == {
            "type": "uri",
            "value": "https://w3id.org/cq-covid/id/measure/test-daily-testing",
        }
    elif fmt == "tsv":
        assert result.output.splitlines() == ["?m", "<https://w3id.org/cq-covid/id/measure/test-daily-testing>"]
    elif fmt == "csv":
        assert result.output.splitlines() == ["m", "https://w3id.org/cq-covid/id/measure/test-daily-testing"]
    else:
        assert "measure:test-daily-testing" in result.output and "(1 row)" in result.output


def test_query_construct_prints_turtle(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    result = run(
        runner, mini_project, "query", "CONSTRUCT { ?m rdfs:label ?l } WHERE { ?m a cq:Measure ; rdfs:label ?l }"
    )
    assert result.exit_code == 0, result.output
    assert "@prefix" in result.output and "measure:test-daily-testing" in result.output


def test_query_ask(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "query", "ASK { place:shapingba cq:within+ place:chongqing }")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "yes"


def test_query_from_file_and_stdin(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    query_file = tmp_path / "q.rq"
    query_file.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s a cq:Source }", encoding="utf-8")
    result = run(runner, mini_project, "query", "--file", str(query_file), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "5"
    piped = run(runner, mini_project, "query", "--file", "-", "--format", "csv", input=query_file.read_text())
    assert piped.output.splitlines()[1] == "5"


def test_query_param_binding(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    query_file = tmp_path / "q.rq"
    query_file.write_text(
        "SELECT ?label WHERE { ?place rdfs:label ?label FILTER(LANG(?label) = 'en') }", encoding="utf-8"
    )
    result = run(
        runner, mini_project, "query", "--file", str(query_file), "--param", "place=place:beibei", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == ["Beibei District"]


def test_query_list_shows_descriptions(runner: CliRunner) -> None:
    result = runner.invoke(main, ["query", "--list"])
    assert result.exit_code == 0, result.output
    assert "measures: One row per measure" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["query", "SELECT ?x WHERE { ?x ?y }"], "SPARQL syntax error"),
        (["query", "measurez"], "did you mean measures"),
        (["query"], "no query given"),
        (["query", "measures", "--param", "novalue"], "is not name=value"),
        (["query", "measures", "--param", "day=2022-11-10"], "has no parameter 'day'"),
        (["query", "--file", "/nonexistent/q.rq"], "cannot read query file"),
    ],
)
def test_query_errors_exit_2(runner: CliRunner, mini_project: Project, args: list[str], expected: str) -> None:
    result = run(runner, mini_project, *args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_validate_conforming_file(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE)
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 0, result.output
    assert "0 violations" in result.output and "conforms" in result.output


def test_validate_reports_violation_with_file_and_line(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE.replace("    cq:strength cq:Mandatory ;\n", ""))
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if "cq:strength" in line)
    assert line.startswith("violation") and "facts/test.ttl:9" in line and "measure:test-daily-testing" in line


def test_validate_false_quote_shows_closest_passage(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE.replace('一天一次的区域核酸检测" .', '一天两次的区域核酸检测" .'))
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 1, result.output
    assert "quote not found" in result.output
    assert "closest passage: «中心城区各区将实行一天一次的区域核酸检测" in result.output


def test_validate_missing_english_label_is_only_a_warning(runner: CliRunner, mini_project: Project) -> None:
    text = MEASURE.replace(', "daily area testing in the central urban districts"@en', "")
    path = add_fact(mini_project, text)
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 0, result.output
    assert "1 warnings" in result.output and result.output.startswith("warning")


def test_validate_syntax_error_exits_2_with_line(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE.replace("cq:strength cq:Mandatory ;", "cq:strength cq:Mandatory"))
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 2, result.output
    assert "facts/test.ttl:14" in result.output and "Turtle syntax error" in result.output
    assert "Traceback" not in result.output


def test_validate_json_format(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE.replace("cq:Mandatory", "cq:Compulsory"))
    result = run(runner, mini_project, "validate", "--format", "json", str(path))
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["conforms"] is False
    assert any(f["property"] == "cq:strength" and f["line"] == 13 for f in data["findings"])


def test_validate_whole_knowledge_base_by_default(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "validate")
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output


def test_stats(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    result = run(runner, mini_project, "stats", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_month = {row["month"]: row["measures"] for row in data["measures by month announced"]}
    assert by_month == {"2022-11": "1"}
    text = run(runner, mini_project, "stats").output
    assert "== by source article" in text


def _display_width(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize(("command", "columns"), [("stats", 60), ("build", 23)])
def test_build_and_stats_tables_fit_the_terminal_unless_full_width(
    runner: CliRunner, command: str, columns: int
) -> None:
    fitted = runner.invoke(main, ["--root", str(ROOT), command], env={"COLUMNS": str(columns)})
    assert fitted.exit_code == 0, fitted.output
    tables = fitted.output.splitlines()[1 if command == "build" else 0 :]  # build first says what it built
    assert max(_display_width(line) for line in tables) <= columns
    assert "…" in fitted.output and "--full-width prints them whole" in " ".join(fitted.output.split())
    whole = runner.invoke(main, ["--root", str(ROOT), command, "--full-width"], env={"COLUMNS": str(columns)})
    assert whole.exit_code == 0, whole.output
    assert max(_display_width(line) for line in whole.output.splitlines()[1:]) > columns and "…" not in whole.output


def test_root_that_is_not_a_project(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--root", str(tmp_path), "stats"])
    assert result.exit_code == 2, result.output
    assert "not a knowledge base folder" in result.output


def test_python_dash_m_kb_runs_the_same_cli() -> None:
    import runpy
    import sys

    argv = sys.argv
    sys.argv = ["kb", "--help"]
    try:
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_module("kb", run_name="__main__")
    finally:
        sys.argv = argv
    assert exit_info.value.code == 0

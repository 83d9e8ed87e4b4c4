"""`kb query` that cannot silently mislead (issue 15): missing parameters and unknown names are refused with
exit 2, tables fit the terminal, `--list` prints whole descriptions, and every question's examples are real."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from samples import ROOT

from kb.cli import main
from kb.errors import QueryError
from kb.project import Project
from kb.query import (
    QueryResult,
    check_params,
    check_terms,
    format_table,
    named_queries,
    param_example,
    parse_header,
    run_query,
)
from kb.query.results import wrap
from kb.store import open_store


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def kb_query(runner: CliRunner, *args: str, columns: int | None = None):
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": ""}
    return runner.invoke(main, ["--root", str(ROOT), "query", *args], env=env)


# ---------------------------------------------------------------- refusals


def test_a_missing_required_parameter_exits_2_naming_it_and_its_example(runner: CliRunner) -> None:
    result = kb_query(runner, "measure-history")
    assert result.exit_code == 2, result.output
    assert "query 'measure-history' needs the parameter measure" in result.output
    assert "--param measure=measure:central-daily-area-testing" in result.output
    assert "Traceback" not in result.output


def test_every_missing_parameter_is_named_at_once(runner: CliRunner) -> None:
    result = kb_query(runner, "statistic-series", "-p", "statistic=stat:new-infections")
    assert result.exit_code == 2, result.output
    assert "needs the parameters area" in result.output
    assert "--param area=place:chongqing --param from=2022-11-01 --param to=2022-12-01" in result.output


def test_an_empty_value_counts_as_missing(runner: CliRunner) -> None:
    result = kb_query(runner, "measure-dates", "-p", "measure=")
    assert result.exit_code == 2, result.output
    assert "needs the parameter measure" in result.output


def test_a_query_file_with_a_header_has_its_parameters_checked(runner: CliRunner, tmp_path: Path) -> None:
    copy = tmp_path / "history.rq"
    copy.write_text(named_queries()["measure-history"].text, "utf-8")
    result = kb_query(runner, "--file", str(copy))
    assert result.exit_code == 2, result.output
    assert "the query needs the parameter measure" in result.output
    # A text without a header binds what it is given, as before.
    plain = kb_query(runner, "SELECT ?m WHERE { ?m a cq:Measure }", "-p", "m=measure:central-daily-area-testing")
    assert plain.exit_code == 0, plain.output
    assert "(1 row)" in plain.output


@pytest.mark.parametrize(
    ("args", "message", "near"),
    [
        (
            ["measure-history", "-p", "measure=measure:central-daily-area-testin"],
            "no such measure measure:central-daily-area-testin in the knowledge base (parameter measure)",
            "did you mean measure:central-daily-area-testing",
        ),
        (
            ["measures-in-place", "-p", "place=place:shapingb"],
            "no such place place:shapingb",
            "did you mean place:shapingba",
        ),
        (
            ["measures-citing-document", "-p", "document=doc:twenty-measure"],
            "no such document doc:twenty-measure",
            "did you mean doc:twenty-measures",
        ),
        (
            ["measures-by-issuer", "-p", "issuer=agent:chongqing-health-comission"],
            "no such agent agent:chongqing-health-comission",
            "did you mean agent:chongqing-health-commission",
        ),
        (
            ["measures-in-place", "-p", "place=<https://w3id.org/cq-covid/id/place/shapingba-district>"],
            "no such place place:shapingba-district",
            "did you mean place:shapingba",
        ),
    ],
)
def test_an_unknown_name_of_the_knowledge_base_is_refused_with_the_nearest(
    runner: CliRunner, args: list[str], message: str, near: str
) -> None:
    result = kb_query(runner, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert near in result.output
    assert "0 rows" not in result.output


def test_a_name_outside_the_knowledge_base_is_bound_as_given(runner: CliRunner) -> None:
    # Only the project's own namespaces are checked: an IRI of another vocabulary may be absent on purpose.
    result = kb_query(runner, "SELECT ?x WHERE { OPTIONAL { ?x ?p ?o } }", "-p", "x=<http://example.org/elsewhere>")
    assert result.exit_code == 0, result.output


def test_check_terms_and_check_params_directly(project: Project) -> None:
    store = open_store(project)
    check_terms(store, {"measure": "measure:central-daily-area-testing", "day": "2022-11-20", "text": "核酸"})
    with pytest.raises(QueryError, match="no such statistic type stat:new-infection ") as caught:
        check_terms(store, {"statistic": "stat:new-infection"})
    assert "stat:new-infections" in (caught.value.hint or "")
    query = parse_header("q", Path("q.rq"), "# Q.\n# param: ?a — first, e.g. 2022-11-01\n# param: ?b (optional) — x\n")
    check_params(query, {"a": "2022-11-01"})
    with pytest.raises(QueryError, match="needs the parameter a"):
        check_params(query, {"b": "x"}, flag="$")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["measures-in-force-on-day", "-p", "place=place:shapingba", "-p", 'day=2022-11-20"} ; DROP'],
            "parameter day is given '2022-11-20\"} ; DROP', which is not a calendar date written YYYY-MM-DD",
        ),
        (
            ["measures-in-force-on-day", "-p", "place=place:shapingba", "-p", "day=2022-02-30"],
            "parameter day is given '2022-02-30', which is not a calendar date",
        ),
        (
            ["measures-in-force-on-day", "-p", "place=shapingba", "-p", "day=2022-11-20"],
            "parameter place is given 'shapingba', which is not a name written prefix:name",
        ),
        (
            [
                "measures-in-force-on-day",
                "-p",
                "place=place:shapingba",
                "-p",
                "day=2022-11-20",
                "-p",
                "include_unknown=yes",
            ],
            "parameter include_unknown is given 'yes', which is not true or false",
        ),
        (
            [
                "statistic-series",
                "-p",
                "statistic=stat:new-infections",
                "-p",
                "area=place:chongqing",
                "-p",
                "from=2022-11-01",
                "-p",
                "to=December",
            ],
            "parameter to is given 'December', which is not a calendar date written YYYY-MM-DD",
        ),
    ],
)
def test_a_value_not_of_the_declared_form_is_refused(runner: CliRunner, args: list[str], message: str) -> None:
    # Taken as a plain string, each of these answered "(0 rows)" with exit 0.
    result = kb_query(runner, *args)
    assert result.exit_code == 2, result.output
    assert f"query '{args[0]}': {message}" in result.output
    assert "hint: give it that way, for example: --param " in result.output
    assert "Traceback" not in result.output and "rows)" not in result.output


def test_the_form_of_a_parameter_is_read_from_its_example() -> None:
    header = "# Q.\n# param: ?d — e.g. 2022-11-01\n# param: ?n — e.g. 3\n# param: ?t — e.g. 核酸\n"
    query = parse_header("q", Path("q.rq"), header)
    assert [p.form for p in query.params] == ["date", "integer", ""]
    check_params(query, {"d": "2022-11-01", "n": "-3", "t": '2022-11-01" anything'})
    with pytest.raises(QueryError, match="parameter n is given '3.5', which is not a whole number") as caught:
        check_params(query, {"d": "2022-11-01", "n": "3.5", "t": "x"}, flag="$")
    assert caught.value.hint == "give it that way, for example: $n=3"


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("description", "example"),
    [
        ("the measure, e.g. measure:central-daily-area-testing", "measure:central-daily-area-testing"),
        ("the first day, e.g. 2022-11-29", "2022-11-29"),
        ("e.g. true: add the measures that started", "true"),
        ('the text to find, e.g. "home isolation" or 核酸', "home isolation"),
        ("cq:Mandatory, cq:Advisory or cq:Principle", "cq:Mandatory"),
        ("a day", ""),
    ],
)
def test_param_example_reads_the_description(description: str, example: str) -> None:
    assert param_example(description) == example


def test_every_question_parameter_has_an_example_that_answers(project: Project) -> None:
    store = open_store(project)
    for query in named_queries().values():
        for param in query.params:
            assert param.example, f"{query.name}: give ?{param.name} an example (e.g. …) in its header"
        if not query.params:
            continue
        values = {p.name: p.example for p in query.params if p.required}
        check_terms(store, values)  # the examples name things the knowledge base holds
        assert run_query(store, query.text, values).rows, f"{query.name} with its examples answers no row"


def test_a_description_is_its_whole_first_paragraph() -> None:
    text = "# One row per measure:\n# labels and dates.\n#\n# Not this.\n# param: ?x — e.g. 1\nSELECT * {}"
    query = parse_header("q", Path("q.rq"), text)
    assert query.description == "One row per measure: labels and dates."
    assert [p.name for p in query.params] == ["x"]


# ---------------------------------------------------------------- tables and --list


def _result(rows: int = 3) -> QueryResult:
    quote = "要加大市域内交通管控力度，尽量减少外出和聚集" * 3
    iri = ox.NamedNode("https://w3id.org/cq-covid/id/measure/central-daily-area-testing")
    return QueryResult(
        "select", ["measure", "day", "quote"], [[iri, ox.Literal("2022-11-09"), ox.Literal(quote)]] * rows
    )


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_a_table_fits_the_width_and_says_what_it_cut(columns: int) -> None:
    table = format_table(_result(), columns)
    lines = table.splitlines()
    assert max(width(line) for line in lines) <= columns
    assert "…" in lines[2]
    assert "--full-width prints them whole" in " ".join(lines[-2:])
    assert "  2022-11-09  " in lines[2]  # a narrow column keeps its width, the widest are cut first
    if columns == 100:
        assert lines[2].startswith("measure:central-daily-area-testing  ")
    whole = format_table(_result())
    assert "(3 rows)" in whole and "…" not in whole
    assert max(width(line) for line in whole.splitlines()) > 100


def test_a_table_too_wide_to_cut_is_printed_as_records_with_values_whole() -> None:
    table = format_table(_result(2), 30)
    assert max(width(line) for line in table.splitlines()) <= 30
    assert table.count("-- row ") == 2
    assert "…" not in table
    first = table.split("-- row 2")[0].splitlines()
    start = next(i for i, line in enumerate(first) if line.startswith("quote "))
    assert (
        "".join(line.removeprefix("quote").strip() for line in first[start:])
        == "要加大市域内交通管控力度，尽量减少外出和聚集" * 3
    )
    assert "measure  measure:central" in first[1]


def test_a_narrow_table_is_left_as_it_is() -> None:
    result = QueryResult("select", ["n"], [[ox.Literal("5")]])
    assert format_table(result, 40) == format_table(result) == "n\n-\n5\n(1 row)\n"


def test_wrap_keeps_every_word_and_the_width() -> None:
    text = "a sentence of words " * 20 + "averyveryveryveryveryveryverylongword 核酸检测每日一次" * 3
    lines = wrap(text, 24, "    ")
    assert max(width(line) for line in lines) <= 24
    assert all(line.startswith("    ") for line in lines[1:])
    assert "".join(line.strip().replace(" ", "") for line in lines) == text.replace(" ", "")


def test_cli_tables_fit_columns_and_full_width_prints_cells_whole(runner: CliRunner) -> None:
    args = ["changes-between", "-p", "from=2022-11-29", "-p", "to=2022-12-01"]
    fitted = kb_query(runner, *args, columns=120)
    assert fitted.exit_code == 0, fitted.output
    assert max(width(line) for line in fitted.output.splitlines()) <= 120
    assert "…" in fitted.output and "--full-width" in fitted.output
    full = kb_query(runner, *args, "--full-width", columns=120)
    assert full.exit_code == 0, full.output
    assert "…" not in full.output and max(width(line) for line in full.output.splitlines()) > 120
    assert re.search(r"\(\d+ rows\)\n$", full.output)


def test_cli_tables_default_to_100_columns_when_not_a_terminal(runner: CliRunner) -> None:
    result = kb_query(runner, "measures")
    assert result.exit_code == 0, result.output
    assert max(width(line) for line in result.output.splitlines()) <= 100
    assert "-- row 1 " in result.output  # 19 columns do not fit 100: one record per measure
    assert re.search(r"^category +cat:gatherings \| cat:movement$", result.output, re.MULTILINE)
    assert "https://w3id.org/cq-covid/" not in result.output


def test_list_prints_whole_descriptions_wrapped(runner: CliRunner) -> None:
    result = kb_query(runner, "--list", "--all", columns=72)
    assert result.exit_code == 0, result.output
    assert max(width(line) for line in result.output.splitlines()) <= 72
    flat = " ".join(result.output.split())
    from kb.query import catalogue

    for query in catalogue().values():
        assert " ".join(query.description.split()) in flat, query.name
        for param in query.params:
            assert " ".join(param.description.split()) in flat, (query.name, param.name)
    # the second sentence of a multi-line header, cut before
    assert "an attestation day (cq:attestedInForce) needs its cq:attestedInForceKind." in flat
    assert "measures: One row per measure" in result.output

"""Bounds and qualifiers as data (issue 13): a value printed as 超14万 or 不超过24小时 says so in cq:valueQualifier,
the shapes accept only the declared qualifiers, a bound left in a comment, label or quote is a warning, and the
queries, the timeline and the CSV export show the qualifier. Every fixture quote is verbatim from facts/sources/."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from samples import PREFIXES, add_fact, run

from kb.namespaces import PREFIXES as IRI
from kb.project import Project
from kb.query import get_named_query, run_query
from kb.store import open_store
from kb.timeline.model import number_text
from kb.validate import Finding, validate_files

CHECK = "value-bound-not-recorded-violation"
CQ = IRI["cq"]
EXTRA = "@prefix qk: <https://w3id.org/cq-covid/def/quantity/> .\n"


def observation(value: str, quote: str, extra: str = "", comment: str = "") -> str:
    """A statistic of article 000 with the given value, quote and extra statements."""
    note = f'    rdfs:comment "{comment}"@en ;\n' if comment else ""
    return (
        PREFIXES
        + f"""
obs:a000-test-passes
    a cq:Observation ;
    rdfs:label "key-supply vehicle passes issued"@en ;
    cq:statistic stat:freight-vehicle-passes-issued ;
    cq:area place:chongqing ;
    cq:refDate "2022-11-30"^^xsd:date ;
    cq:refDateKind cq:ApproximateDate ;
    cq:value {value} ;
    cq:unit unit:NUM ;
{extra}{note}    cq:source src:article-000 ;
    cq:quote "{quote}" .
"""
    )


def measure(parameter_extra: str = "") -> str:
    """Beijing's 24-hour limit on temporary control (article 002), its parameter with the given extra statements."""
    return (
        PREFIXES
        + EXTRA
        + f"""
measure:test-beijing-limit
    a cq:Measure ;
    rdfs:label "北京临时管控时间原则上不超过24小时"@zh, "Beijing: temporary control at most 24 hours"@en ;
    cq:category cat:risk-zones ;
    cq:strength cq:Mandatory ;
    cq:appliesTo place:beijing ;
    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:control-duration ;
        cq:value 24.0 ; cq:unit unit:HR{parameter_extra} ] ;
    cq:announcedKind cq:NotStated ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-002 ;
    cq:quote "临时管控时间原则上不超过24小时" .
"""
    )


def findings(project: Project, text: str) -> list[Finding]:
    path = add_fact(project, text)
    return validate_files(project, [path]).findings


def of(found: list[Finding], check: str = CHECK) -> list[Finding]:
    return [f for f in found if f.check == check]


# ---------------------------------------------------------------- the check


def test_a_bound_in_the_quote_only_is_a_warning_naming_the_qualifier(mini_project: Project) -> None:
    text = observation("140000.0", "累计办理超14万张重点物资通行证")
    found = findings(mini_project, text)
    [warning] = of(found)
    assert warning.severity == "warning"
    assert (warning.subject, warning.property) == ("obs:a000-test-passes", "cq:quote")
    assert "«超»" in warning.message and "cq:MoreThan" in warning.message
    assert warning.line == text.splitlines().index('    cq:quote "累计办理超14万张重点物资通行证" .') + 1
    assert [f for f in found if f.severity == "violation"] == []


def test_a_bound_in_a_comment_is_a_warning(mini_project: Project) -> None:
    text = observation("140000.0", "累计办理超14万张重点物资通行证", comment="140000 is a lower bound.")
    comments = [f for f in of(findings(mini_project, text)) if f.property == "rdfs:comment"]
    assert len(comments) == 1 and "lower bound" in comments[0].message


def test_the_qualifier_as_data_silences_the_warning(mini_project: Project) -> None:
    text = observation(
        "140000.0",
        "累计办理超14万张重点物资通行证",
        "    cq:valueQualifier cq:MoreThan ;\n",
        "140000 is a lower bound.",
    )
    found = findings(mini_project, text)
    assert of(found) == [] and [f for f in found if f.severity == "violation"] == []


def test_a_number_the_word_does_not_qualify_is_not_reported(mini_project: Project) -> None:
    # 连续3日以上 qualifies the days, not the count of five districts
    quote = "大渡口区、沙坪坝区、巴南区、北碚区、重庆高新区等5个区县连续3日以上未报告社会面感染者"
    assert of(findings(mini_project, observation("5.0", quote))) == []


def test_cq_exact_settles_a_word_that_does_not_qualify_the_value(mini_project: Project) -> None:
    # value 500 from 500余 would be reported; stated exact on purpose, it is not
    quote = "从11月20日起，平台就陆续挑选500余名司机，为其申报了保供通行证"
    assert len(of(findings(mini_project, observation("500.0", quote)))) == 1
    assert of(findings(mini_project, observation("500.0", quote, "    cq:valueQualifier cq:Exact ;\n"))) == []


def test_a_parameter_bounded_in_its_measures_quote_is_reported_on_the_measure(mini_project: Project) -> None:
    [warning] = of(findings(mini_project, measure()))
    assert (warning.subject, warning.property) == ("measure:test-beijing-limit", "cq:parameter")
    assert "«不超过»" in warning.message and "cq:AtMost" in warning.message
    assert of(findings(mini_project, measure(" ; cq:valueQualifier cq:AtMost"))) == []


def test_the_shipped_knowledge_base_keeps_no_bound_in_comments_only(project: Project) -> None:
    assert of(validate_files(project).findings) == []


# ---------------------------------------------------------------- the shape


@pytest.mark.parametrize(
    "extra",
    [
        "    cq:valueQualifier cq:LowerBound ;\n",  # a grouping concept, not a value's qualifier
        "    cq:valueQualifier cq:Mandatory ;\n",
        "    cq:valueQualifier cq:MoreThan, cq:AtLeast ;\n",
    ],
)
def test_only_one_declared_qualifier_is_accepted(mini_project: Project, extra: str) -> None:
    found = findings(mini_project, observation("140000.0", "累计办理超14万张重点物资通行证", extra))
    shacl = [f for f in found if f.property == "cq:valueQualifier" and f.severity == "violation"]
    assert shacl, found


def test_a_parameter_qualifier_outside_the_scheme_is_a_violation(mini_project: Project) -> None:
    found = findings(mini_project, measure(" ; cq:valueQualifier cq:Advisory"))
    assert [f for f in found if f.severity == "violation" and f.subject == "measure:test-beijing-limit"], found


# ---------------------------------------------------------------- queries, timeline, export


def ask(store: ox.Store, name: str, **params: str) -> list[dict[str, str | None]]:
    return run_query(store, get_named_query(name).text, params).records()


def test_statistic_queries_return_the_qualifier(project: Project) -> None:
    store = open_store(project)
    # 003: 昨日新增感染者数量突破8000例 (8 Nov 2022, China)
    rows = {r["observation"]: r["qualifier"] for r in ask(store, "statistics-on-day", day="2022-11-08")}
    assert rows[IRI["obs"] + "a003-2022-11-08-china-new-infections"] == CQ + "MoreThan"
    # 003: 截至11月8日24时…重庆有高风险区26个 — exact
    assert rows[IRI["obs"] + "a003-2022-11-08-chongqing-high-risk-zones"] == CQ + "Exact"
    series = ask(
        store,
        "statistic-series",
        statistic="stat:new-infections",
        area="place:china",
        **{"from": "2022-11-08", "to": "2022-11-08"},
    )
    assert [r["qualifier"] for r in series] == [CQ + "MoreThan"]


def test_parameter_queries_return_the_qualifier(project: Project) -> None:
    store = open_store(project)
    # 002: 临时管控时间原则上不超过24小时
    beijing = [
        r
        for r in ask(store, "measure-parameters")
        if r["measure"] == IRI["measure"] + "beijing-temporary-control-max-24-hours"
    ]
    assert [r["qualifier"] for r in beijing] == [CQ + "AtMost"]
    # 004: 明确1—2个酒店集中住宿 — a range: at least 1, at most 2
    counts = {
        r["value"]: r["qualifier"]
        for r in ask(store, "parameter-history", kind="qk:count")
        if r["measure"] == IRI["measure"] + "2020-hotel-guests-from-hubei-observed-in-designated-hotels"
    }
    assert {float(k or 0): v for k, v in counts.items()} == {1.0: CQ + "AtLeast", 2.0: CQ + "AtMost"}


def test_number_text_puts_the_symbol_before_the_number() -> None:
    assert number_text(140000.0, ">") == "> 140,000"
    assert number_text(9.0, "≤") == "≤ 9"
    assert number_text(3000.0, "≈") == "≈ 3,000"
    assert number_text(109.0) == "109"


def test_timeline_and_csv_show_the_bound(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    add_fact(
        mini_project, observation("140000.0", "累计办理超14万张重点物资通行证", "    cq:valueQualifier cq:MoreThan ;\n")
    )
    add_fact(mini_project, measure(" ; cq:valueQualifier cq:AtMost"), "test-measure.ttl")
    page = tmp_path / "t.html"
    result = run(runner, mini_project, "timeline", "-o", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text("utf-8")
    assert "&gt; 140,000" in html and "≤ 24" in html
    result = run(runner, mini_project, "export", "--format", "csv", "--table", "statistics")
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["value_qualifier"] == CQ + "MoreThan"
    result = run(runner, mini_project, "export", "--format", "csv", "--table", "measures")
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert "qk:control-duration ≤ 24" in row["parameters"]

"""date-kind-violation and value-bound-not-recorded-violation rewritten as joins of sub-SELECTs (an OPTIONAL of the
values for an EXISTS, a MINUS for a FILTER NOT EXISTS) give the rows of the texts they replaced (kept in
tests/engines/rewritten-queries/, which tests/engines/test_query_rewrites.py also runs on the shipped and a
synthetic KB), on planted faults of each branch: the new text must find each planted fault and nothing else, as the
old one does."""

from __future__ import annotations

from pathlib import Path

from samples import PREFIXES

from kb.loader import Dataset, parse_turtle
from kb.query import QueryResult, run_query
from kb.validate.checks import CHECKS_DIR

OLD = Path(__file__).resolve().parents[1] / "engines" / "rewritten-queries"

_FACTS = (
    PREFIXES
    + """
# fine: a stated kind with its date, cq:NotStated without one, an attestation day with its kind
measure:fine a cq:Measure ; cq:announced "2022-11-05"^^xsd:date ; cq:announcedKind cq:Stated ;
    cq:inForceUntilKind cq:NotStated ; cq:attestedInForce "2022-11-06"^^xsd:date ; cq:attestedInForceKind cq:Stated .
# faults: a kind without its date (two of them), cq:NotStated with a date, a day without its kind (two days)
measure:no-date a cq:Measure ; cq:inForceFromKind cq:Stated ; cq:refDateKind cq:Inferred .
measure:not-stated-dated a cq:Measure ; cq:inForceUntil "2022-12-01"^^xsd:date ; cq:inForceUntilKind cq:NotStated .
measure:day-without-kind a cq:Measure ; cq:attestedInForce "2022-11-07"^^xsd:date, "2022-11-08"^^xsd:date .
# a statistic's date kind without its date, and one with it; a date given twice (two values, one kind)
obs:no-date cq:dateKind cq:Stated .
obs:dated cq:date "2022-11-01"^^xsd:date ; cq:dateKind cq:Stated .
measure:two-dates a cq:Measure ; cq:announced "2022-11-05"^^xsd:date, "2022-11-06"^^xsd:date ;
    cq:announcedKind cq:NotStated .
"""
)


def _new_as_old(check: str, facts: str) -> QueryResult:
    """The check's rows on the planted facts, asserted to be the old text's (as a multiset, and in the order both
    texts' ORDER BY ?subject ?property asks for)."""
    store = Dataset([parse_turtle(facts.encode(), "facts/planted.ttl")]).to_store()
    new = run_query(store, (CHECKS_DIR / f"{check}.rq").read_text("utf-8"))
    old = run_query(store, (OLD / f"{check}.rq").read_text("utf-8"))
    assert new.variables == old.variables
    assert sorted(map(str, new.rows)) == sorted(map(str, old.rows))
    keys = [(str(row[0]), str(row[1])) for row in new.rows]
    assert keys == sorted(keys), "ORDER BY ?subject ?property"
    return new


def test_the_rewritten_date_kind_check_gives_the_old_texts_rows() -> None:
    new = _new_as_old("date-kind-violation", _FACTS)
    found = sorted(str(row[0]).rsplit("/", 1)[-1][:-1] + " " + str(row[1]).rsplit("#", 1)[-1][:-1] for row in new.rows)
    assert found == [
        "day-without-kind attestedInForce",
        "day-without-kind attestedInForce",
        "no-date date",
        "no-date inForceFrom",
        "no-date refDate",
        "not-stated-dated inForceUntil",
        "two-dates announced",
    ], new.rows


# a cue in each text the check reads (a statistic's label, comment and quote; a parameter's label; its measure's
# quote), in English and in Chinese before and after the number; a qualified statistic and parameter, a word that
# qualifies another number, a statistic with a bound in two texts, a parameter of something that is not a measure
_BOUNDS = """
obs:label a cq:Observation ; cq:value 20 ; rdfs:label "Nearly 20 sites" .
obs:comment a cq:Observation ; cq:value 7 ; rdfs:comment "a lower bound" .
obs:quote a cq:Observation ; cq:value 140000 ; cq:quote "超14万人" .
obs:after a cq:Observation ; cq:value 1500 ; cq:quote "1,500余人" .
obs:qualified a cq:Observation ; cq:value 300 ; cq:quote "超过300人" ; cq:valueQualifier cq:MoreThan .
obs:other-number a cq:Observation ; cq:value 5 ; cq:quote "连续3日以上共5个区" .
obs:two-texts a cq:Observation ; cq:value 500 ; cq:quote "约500人" ; rdfs:label "500余人" .
measure:param-label a cq:Measure ; cq:quote "实行封控管理" ;
    cq:parameter [ a cq:Parameter ; cq:value 48 ; rdfs:label "不超过48小时" ] .
measure:param-quote a cq:Measure ; cq:quote "隔离7天以上" ;
    cq:parameter [ a cq:Parameter ; cq:value 7 ; rdfs:label "days" ] .
measure:param-qualified a cq:Measure ; cq:quote "隔离7天以上" ;
    cq:parameter [ a cq:Parameter ; cq:value 7 ; rdfs:label "7天以上" ; cq:valueQualifier cq:AtLeast ] .
obs:not-a-measure cq:parameter [ a cq:Parameter ; cq:value 48 ; rdfs:label "不超过48小时" ] .
"""


def test_the_rewritten_value_bound_check_gives_the_old_texts_rows() -> None:
    new = _new_as_old("value-bound-not-recorded-violation", PREFIXES + _BOUNDS)
    found = sorted(str(row[0]).rsplit("/", 1)[-1][:-1] + " " + str(row[1]).rsplit("#", 1)[-1][:-1] for row in new.rows)
    assert found == [
        "after quote",
        "comment comment",
        "label label",
        "param-label parameter",
        "param-quote parameter",
        "quote quote",
        "two-texts label",
        "two-texts quote",
    ], new.rows

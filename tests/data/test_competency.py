"""Competency questions: each named query answers a real question about the articles; the answers are asserted.

Expected values come from the source texts (quoted in comments), not from the knowledge base itself.
"""

from __future__ import annotations

from decimal import Decimal

import pyoxigraph as ox
import pytest

from kb.namespaces import PREFIXES
from kb.project import Project
from kb.query import QueryResult, check_params, get_named_query, run_query
from kb.store import open_store

M = PREFIXES["measure"]
P = PREFIXES["place"]
A = PREFIXES["agent"]


@pytest.fixture(scope="module")
def store(project: Project) -> ox.Store:
    return open_store(project)


def ask(store: ox.Store, name: str, **params: str) -> list[dict[str, str | None]]:
    query = get_named_query(name)
    check_params(query, params)
    result: QueryResult = run_query(store, query.text, params)
    return result.records()


def column(rows: list[dict[str, str | None]], name: str) -> set[str | None]:
    return {row[name] for row in rows}


def test_what_the_136th_press_conference_announced(store: ox.Store) -> None:
    # 003: 中心城区各区将实行一天一次的区域核酸检测 … 倡导中心城区各区人员非必要不离开中心城区范围
    measures = column(ask(store, "measures-announced-at", announcement="ann:press-conference-136"), "measure")
    assert {
        M + "central-daily-area-testing",
        M + "stay-within-central-area",
        M + "leaving-central-area-report-and-48h-test",
    } <= measures


def test_what_a_person_leaving_the_central_area_must_carry(store: ox.Store) -> None:
    # 003: 确需离开中心城区范围的，按要求提前向目的地社区、单位报备，并持48小时内核酸检测阴性证明前往
    measures = column(ask(store, "measures-for-target-group", group="tg:people-leaving-area"), "measure")
    assert M + "leaving-central-area-report-and-48h-test" in measures
    validity = ask(store, "parameter-history", kind="qk:test-result-validity")
    leaving = [r for r in validity if r["measure"] == M + "leaving-central-area-report-and-48h-test"]
    assert [(Decimal(str(r["value"])), r["unit"]) for r in leaving] == [(Decimal(48), PREFIXES["unit"] + "HR")]


def test_which_measures_of_article_003_are_advisory(store: ox.Store) -> None:
    advisory = column(
        ask(store, "measures-by-strength-in", strength="cq:Advisory", source="src:article-003"), "measure"
    )
    assert {M + "stay-within-central-area", M + "outer-residents-avoid-central-area"} <= advisory
    assert M + "central-daily-area-testing" not in advisory
    mandatory = column(
        ask(store, "measures-by-strength-in", strength="cq:Mandatory", source="src:article-003"), "measure"
    )
    assert M + "central-daily-area-testing" in mandatory


def test_new_confirmed_cases_by_district_on_9_november(store: ox.Store) -> None:
    # 003: 重庆市新增本土确诊病例109例（大足区30例，渝北区25例，沙坪坝区19例 …）
    rows = ask(store, "statistic-by-area", statistic="stat:new-confirmed-cases", day="2022-11-09")
    values = {r["area"]: Decimal(str(r["value"])) for r in rows}
    assert values[P + "chongqing"] == 109
    assert values[P + "dazu"] == 30 and values[P + "yubei"] == 25 and values[P + "shapingba"] == 19
    districts = [v for area, v in values.items() if area != P + "chongqing"]
    assert sum(districts) == 109
    assert rows[1]["area"] == P + "dazu"  # largest district first


def test_new_asymptomatic_infections_by_district_add_up(store: ox.Store) -> None:
    # 003: 新增本土无症状感染者517例（九龙坡区143例 …）
    rows = ask(store, "statistic-by-area", statistic="stat:new-asymptomatic-infections", day="2022-11-09")
    values = {r["area"]: Decimal(str(r["value"])) for r in rows}
    assert values[P + "chongqing"] == 517 and values[P + "jiulongpo"] == 143
    assert sum(v for area, v in values.items() if area != P + "chongqing") == 517


def test_risk_zones_on_8_november(store: ox.Store) -> None:
    # 003: 截至11月8日24时，重庆有高风险区26个、中风险区348个、临时管控区539个
    rows = [r for r in ask(store, "risk-zone-counts") if r["day"] == "2022-11-08" and r["area"] == P + "chongqing"]
    by_type = {str(r["statistic"]).rsplit("/", 1)[1]: Decimal(str(r["value"])) for r in rows}
    assert by_type == {"high-risk-zones": 26, "medium-risk-zones": 348, "temporary-control-zones": 539}


def test_press_conferences_dates_and_numbers(store: ox.Store) -> None:
    rows = {str(r["announcement"]).rsplit("/", 1)[1]: r for r in ask(store, "announcements")}
    assert (rows["press-conference-136"]["date"], rows["press-conference-136"]["number"]) == ("2022-11-09", "136")
    assert rows["press-conference-154"]["date"] == "2022-11-30"
    assert rows["press-conference-155"]["date"] == "2022-12-01"
    assert rows["briefing-2020-01-30"]["date"] == "2020-01-30"


def test_who_spoke_at_the_136th_press_conference(store: ox.Store) -> None:
    rows = [r for r in ask(store, "announcement-people") if str(r["announcement"]).endswith("press-conference-136")]
    speakers = {(r["role"], r["name"]) for r in rows}
    assert ("speaker", "李畔") in speakers


def test_measures_citing_the_nine_prohibitions(store: ox.Store) -> None:
    # 003: 严格执行第九版防控方案和"九不准"要求
    rows = ask(store, "measures-citing-document", document="doc:nine-prohibitions")
    assert M + "pc136-strict-9th-plan-and-nine-prohibitions" in column(rows, "measure")


def test_measures_citing_the_twenty_measures_span_articles(store: ox.Store) -> None:
    rows = ask(store, "measures-citing-document", document="doc:twenty-measures")
    sources = column(rows, "source")
    assert {PREFIXES["src"] + "article-000", PREFIXES["src"] + "article-002"} <= sources


def test_central_area_measures_apply_in_shapingba(store: ox.Store) -> None:
    rows = ask(store, "measures-in-place", place="place:shapingba")
    by_measure = {r["measure"]: r["applies_to"] for r in rows}
    assert by_measure[M + "central-daily-area-testing"] == P + "central-urban-districts"
    assert not any(str(m).startswith(M + "beibei-letter") for m in by_measure)


def in_force(
    store: ox.Store, day: str, place: str = "place:shapingba", **more: str
) -> dict[str | None, dict[str, str | None]]:
    return {r["measure"]: r for r in ask(store, "measures-in-force-on-day", day=day, place=place, **more)}


def test_in_force_on_a_day_follows_places_and_attestations(store: ox.Store) -> None:
    # 003 (letter, 10 Nov): 中心城区实行一天一次的区域核酸检测 — running that day, in every central district
    on_10_nov = in_force(store, "2022-11-10")
    testing = on_10_nov[M + "central-daily-area-testing"]
    assert testing["status"] == "in force"
    assert testing["applies_to"] == P + "central-urban-districts"
    assert (testing["effective_from"], testing["effective_from_basis"]) == ("2022-11-09", "announced")


def test_in_force_on_20_nov_lists_what_9_nov_reports_as_running_and_no_rule_of_2020(store: ox.Store) -> None:
    rows = in_force(store, "2022-11-20")
    # 003 (9 Nov): 继续配合落实扫码、测温、戴口罩、在中心城区持48小时内核酸检测阴性证明进入公共场所等疫情防控措施
    assert rows[M + "central-public-places-48h-negative-test"]["status"] == "presumed in force"
    # 003 (9 Nov): 目前,重庆现有感染者均在定点医疗机构进行集中隔离治疗和隔离医学观察
    assert M + "pc136-infections-in-designated-facilities" in rows
    assert not [m for m in rows if m and m.startswith(M + "2020-")]
    assert {r["status"] for r in rows.values()} <= {"in force", "presumed in force"}
    # asked for, the January-2020 rules come back as unknown, with the end of the sources' coverage as basis
    with_unknown = in_force(store, "2022-11-20", include_unknown="true")
    hubei = with_unknown[M + "2020-hubei-vehicles-turned-back"]
    assert hubei["status"] == "unknown"
    assert hubei["effective_until_basis"] == "coverage ends on 2020-01-30: unknown after"


def test_daily_area_testing_ends_when_area_wide_testing_stops(store: ox.Store) -> None:
    # 000 (30 Nov) and 001 (1 Dec): 不再按行政区域开展全员核酸检测 — ends (and relaxes) the daily area testing
    testing = M + "central-daily-area-testing"
    assert testing in in_force(store, "2022-11-29")
    assert testing not in in_force(store, "2022-11-30")
    # ended, not merely unknown: not listed even with the unknown ones
    assert testing not in in_force(store, "2022-12-05", include_unknown="true")
    history = ask(store, "measure-history", measure="measure:central-daily-area-testing")
    until = [r for r in history if r["relation"] == "effective until"]
    assert [(r["day"], r["other"]) for r in until] == [
        ("2022-11-29", M + "no-area-wide-testing-by-administrative-region-30-nov")
    ]
    assert until[0]["basis"] == "ended by measure:no-area-wide-testing-by-administrative-region-30-nov on 2022-11-30"


def test_first_wave_school_closure_is_in_force_until_its_stated_end(store: ox.Store) -> None:
    # 004: 2月17日24时前我市各级各类学校不得开学
    schools = M + "2020-schools-closed-until-feb-17"
    assert in_force(store, "2020-02-10")[schools]["status"] == "in force"
    assert in_force(store, "2020-02-10")[schools]["effective_until_basis"] == "stated end"
    assert schools not in in_force(store, "2020-02-18", include_unknown="true")


def test_what_ended_daily_testing(store: ox.Store) -> None:
    rows = ask(store, "measure-history", measure="measure:central-daily-area-testing")
    dates = {r["relation"]: r["day"] for r in rows if r["section"] == "1 dates"}
    assert dates == {"announced": "2022-11-09", "attested in force": "2022-11-10"}
    ended_by = {r["other"] for r in rows if r["section"] == "4 changed by" and r["relation"] == "ended by"}
    relaxed_by = {r["other"] for r in rows if r["section"] == "4 changed by" and r["relation"] == "relaxed by"}
    assert M + "no-area-wide-testing-by-administrative-region" in ended_by
    assert ended_by == relaxed_by
    relaxations = [r for r in ask(store, "relaxations") if r["earlier"] == M + "central-daily-area-testing"]
    assert all(str(r["announced"]) > str(r["earlier_announced"]) for r in relaxations)


def test_changes_between_the_last_days_of_dynamic_zero(store: ox.Store) -> None:
    rows = ask(store, "changes-between", **{"from": "2022-11-29", "to": "2022-12-01", "place": "place:shapingba"})
    changes = {(r["change"], r["measure"]) for r in rows}
    assert ("ended", M + "central-daily-area-testing") in changes
    assert ("started", M + "no-area-wide-testing-by-administrative-region") in changes
    # 000: 符合条件的…可居家隔离 — home isolation amends centralised treatment, which goes on
    assert ("amended", M + "pc136-infections-in-designated-facilities") in changes
    assert all("2022-11-29" <= str(r["day"]) <= "2022-12-01" for r in rows)
    elsewhere = ask(store, "changes-between", **{"from": "2022-11-29", "to": "2022-12-01", "place": "place:wuhan"})
    assert M + "central-daily-area-testing" not in {r["measure"] for r in elsewhere}


def test_parameter_history_shows_old_and_new_values_with_the_link(store: ox.Store) -> None:
    # 003 (letter, 10 Nov): leaving Beibei also needs the 48-hour negative result (amends + tightens the municipal rule)
    rows = ask(store, "parameter-history", kind="qk:test-result-validity")
    linked = [r for r in rows if r["previous"] == M + "leaving-central-area-report-and-48h-test"]
    assert linked and all(r["link"] == "amends" for r in linked)
    assert all(Decimal(str(r["previous_value"])) == Decimal(48) for r in linked)


def test_measures_with_a_stated_end(store: ox.Store) -> None:
    # 004: 2月17日24时前我市各级各类学校不得开学。2月13日24时前，禁止举办任何形式的群体性聚餐活动。
    ends = {r["measure"]: r for r in ask(store, "measures-with-end-date")}
    assert ends[M + "2020-schools-closed-until-feb-17"]["until"] == "2020-02-17"
    assert ends[M + "2020-group-dinners-banned"]["until"] == "2020-02-13"
    assert ends[M + "2020-group-dinners-banned"]["until_kind"] == PREFIXES["cq"] + "StatedDate"


def test_not_stated_is_not_no(store: ox.Store) -> None:
    dates = {r["date"]: r for r in ask(store, "measure-dates", measure="measure:central-daily-area-testing")}
    assert dates["announced"]["answer"] == "2022-11-09"
    assert dates["in force from"]["answer"] == "not stated in the sources"
    assert dates["in force until"]["answer"] == "not stated in the sources"
    no_end = column(ask(store, "measures-no-end-stated"), "measure")
    assert M + "central-daily-area-testing" in no_end
    assert M + "2020-schools-closed-until-feb-17" not in no_end


def test_isolation_of_arrivals_in_2020_is_14_days(store: ox.Store) -> None:
    rows = [r for r in ask(store, "measure-parameters") if r["measure"] == M + "2020-arrivals-isolated-14-days"]
    assert (Decimal(str(rows[0]["value"])), rows[0]["unit"]) == (Decimal(14), PREFIXES["unit"] + "DAY")


def test_daily_new_infections_27_to_30_november(store: ox.Store) -> None:
    # 000: 全市每日新增感染者分别为9612例、8721例、7792例; 001: 11月30日，全市报告新增感染者6584例
    rows = ask(
        store,
        "statistic-series",
        statistic="stat:new-infections",
        area="place:chongqing",
        **{"from": "2022-11-27"},
        to="2022-11-30",
    )
    series = {r["day"]: Decimal(str(r["value"])) for r in rows}
    assert series == {"2022-11-27": 9612, "2022-11-28": 8721, "2022-11-29": 7792, "2022-11-30": 6584}


def test_downgraded_high_risk_zones(store: ox.Store) -> None:
    rows = ask(store, "statistics-of-type", statistic="stat:downgraded-high-risk-zones")
    assert {(r["day"], Decimal(str(r["value"]))) for r in rows} >= {
        ("2022-11-29", Decimal(181)),
        ("2022-11-30", Decimal(603)),
    }


def test_name_printed_two_ways(store: ox.Store) -> None:
    pairs = {(r["one_zh"], r["other_zh"]) for r in ask(store, "name-variants")}
    assert ("李珩", "李畔") in pairs or ("李畔", "李珩") in pairs
    assert PREFIXES["disc"] + "li-pan-li-heng" in column(ask(store, "discrepancies"), "discrepancy")


def test_chongqing_downgrade_implements_the_national_rule(store: ox.Store) -> None:
    national = ask(store, "national-measures")
    implemented = {(r["measure"], r["implemented_by"]) for r in national}
    assert (M + "national-high-risk-zone-downgrade-5-days", M + "high-risk-zone-downgrade-after-5-days") in implemented
    local = {(r["measure"], r["implements"]) for r in ask(store, "local-implementations")}
    assert (M + "high-risk-zone-downgrade-after-5-days", M + "national-high-risk-zone-downgrade-5-days") in local


def test_other_cities_cited(store: ox.Store) -> None:
    assert {P + "beijing", P + "zhengzhou", P + "guangzhou"} <= column(ask(store, "other-cities-measures"), "place")


def test_measures_for_close_contacts(store: ox.Store) -> None:
    # 000: 对密切接触者，符合居家隔离条件的可居家隔离
    rows = ask(store, "measures-for-target-group", group="tg:close-contacts")
    assert M + "home-isolation-for-eligible-close-contacts" in column(rows, "measure")


def test_school_measures_in_2020(store: ox.Store) -> None:
    assert M + "2020-schools-closed-until-feb-17" in column(
        ask(store, "measures-in-category", category="cat:schools"), "measure"
    )


def test_first_wave_measures_are_all_announced_in_range(store: ox.Store) -> None:
    rows = ask(store, "measures-announced-between", **{"from": "2020-01-01"}, to="2020-02-29")
    assert len(rows) >= 30
    assert all("2020-01-01" <= str(r["announced"]) <= "2020-02-29" for r in rows)


def test_evidence_of_a_measure_names_its_article(store: ox.Store) -> None:
    rows = ask(store, "measure-evidence", subject="measure:central-daily-area-testing")
    assert column(rows, "file") == {"003_3f5591fb49c74a46.txt"}


def test_documents_keep_unknown_issuers_unknown(store: ox.Store) -> None:
    docs = {r["document"]: r for r in ask(store, "documents")}
    assert docs[PREFIXES["doc"] + "twenty-measures"]["issuer"] == A + "state-council-joint-mechanism"
    assert docs[PREFIXES["doc"] + "control-plan-9th-edition"]["issuer"] is None


def test_advice_to_residents(store: ox.Store) -> None:
    assert M + "stay-within-central-area" in column(ask(store, "advice-to-residents"), "measure")


def test_place_hierarchy(store: ox.Store) -> None:
    rows = ask(store, "place-hierarchy", place="place:shapingba")
    within = {r["other"] for r in rows if r["relation"] == "within"}
    assert within == {P + "central-urban-districts", P + "chongqing", P + "china"}
    contained = {
        r["other"]
        for r in ask(store, "place-hierarchy", place="place:central-urban-districts")
        if r["relation"] == "contains"
    }
    assert {P + "shapingba", P + "yuzhong", P + "liangjiang-new-area"} <= contained


def test_districts_compared(store: ox.Store) -> None:
    rows = ask(store, "district-measures-compared", first="place:dadukou", second="place:qijiang")
    assert column(rows, "district") == {P + "dadukou", P + "qijiang"}


def test_search_finds_home_isolation_in_both_scripts(store: ox.Store) -> None:
    simplified = column(ask(store, "search", text="居家隔离"), "measure")
    assert M + "home-isolation-for-eligible-close-contacts" in simplified
    traditional_quote = column(ask(store, "search", text="不再按行政區域"), "measure")
    assert M + "no-area-wide-testing-by-administrative-region" in traditional_quote


def test_statistics_on_a_day(store: ox.Store) -> None:
    values = {Decimal(str(r["value"])) for r in ask(store, "statistics-on-day", day="2022-11-09")}
    assert {Decimal(109), Decimal(517)} <= values


def test_measures_by_issuer(store: ox.Store) -> None:
    rows = ask(store, "measures-by-issuer", issuer="agent:chongqing-health-commission")
    assert M + "central-daily-area-testing" in column(rows, "measure")


def test_announcements_with_measure_counts(store: ox.Store) -> None:
    counts = {r["announcement"]: int(str(r["measures"])) for r in ask(store, "announcements-with-measures")}
    assert counts[PREFIXES["ann"] + "press-conference-136"] >= 10


def test_every_measure_has_date_kinds(store: ox.Store) -> None:
    total = len(ask(store, "measures"))
    for date in ("announced", "in force from", "in force until"):
        counted = sum(int(str(r["measures"])) for r in ask(store, "date-kinds") if r["date"] == date)
        assert counted == total, date


def test_questions_the_sources_cannot_answer_return_nothing(store: ox.Store) -> None:
    # No article mentions vaccination: the answer is "not in the sources", shown as zero rows.
    assert ask(store, "search", text="疫苗") == []


# Coverage per article: a lost fact fails here. Minimums are the counts when the articles were encoded.
MINIMUM = {
    "000": {"measures": 30, "statistics": 36},
    "001": {"measures": 25, "statistics": 39},
    "002": {"measures": 58, "statistics": 23},  # 3 non-measures removed by the issue-13 re-review
    "003": {"measures": 69, "statistics": 54},
    "004": {"measures": 68, "statistics": 20},
}


@pytest.mark.parametrize("article", sorted(MINIMUM))
def test_coverage_per_article(store: ox.Store, article: str) -> None:
    rows = {str(r["file"])[:3]: r for r in ask(store, "counts-by-source")}
    for what, minimum in MINIMUM[article].items():
        assert int(str(rows[article][what])) >= minimum, f"article {article}: {what}"


def test_at_least_forty_named_competency_queries() -> None:
    from kb.query import named_queries

    # the user questions only: checks, summaries and feeds live in folders of their own
    questions = [q for q in named_queries().values() if q.description]
    assert len(questions) >= 40
    assert all(q.kind == "question" and q.path.parent.name == "questions" for q in questions)

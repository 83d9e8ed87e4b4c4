"""One test per derivation rule of effective periods, on inline data (docs/modelling.md, "When in effect")."""

from __future__ import annotations

from datetime import date

from kb.periods import (
    Basis,
    Link,
    MeasureDates,
    Period,
    Repeal,
    SourcePeriod,
    Status,
    coverage_windows,
    derive_periods,
)

D = date.fromisoformat
CQ = frozenset({"cq"})
WITHIN = {"shapingba": ["central"], "central": ["cq"], "wuhan": ["hubei"]}
NOV = SourcePeriod("src:nov", D("2022-11-07"), D("2022-11-10"), CQ)
LATE_NOV = SourcePeriod("src:late", D("2022-11-17"), D("2022-12-01"), CQ)
JAN = SourcePeriod("src:jan", D("2020-01-26"), D("2020-01-30"), CQ)
SOURCES = [NOV, LATE_NOV, JAN]


def periods(*measures: MeasureDates, links=(), repeals=(), unaffected=(), sources=SOURCES) -> dict[str, Period]:
    found = derive_periods(measures, links, repeals, unaffected, sources, WITHIN)
    return {p.measure: p for p in found}


def m(name: str, place: str = "cq", **dates: str) -> MeasureDates:
    return MeasureDates(name, frozenset({place}), **{k: D(v) for k, v in dates.items()})


def test_coverage_windows_merge_short_gaps_not_years() -> None:
    windows = coverage_windows(SOURCES)
    assert [(w.start, w.until) for w in windows] == [
        (D("2020-01-26"), D("2020-01-30")),
        (D("2022-11-07"), D("2022-12-01")),
    ]
    assert windows[1].sources == ("src:late", "src:nov")


def test_stated_period_is_in_force_and_nothing_after() -> None:
    p = periods(m("a", start="2020-01-28", until="2020-02-17"))["a"]
    assert (p.start.basis, p.start.day) == (Basis.STATED_START, D("2020-01-28"))
    assert p.until is not None and (p.until.basis, p.until.day) == (Basis.STATED_END, D("2020-02-17"))
    assert p.status_on(D("2020-01-27")) is None
    assert p.status_on(D("2020-01-28")) is Status.IN_FORCE
    assert p.status_on(D("2020-02-17")) is Status.IN_FORCE
    assert p.status_on(D("2020-02-18")) is None


def test_announced_only_is_presumed_within_coverage_then_unknown() -> None:
    p = periods(m("a", announced="2020-01-27"))["a"]
    assert p.start.basis is Basis.ANNOUNCED
    assert p.status_on(D("2020-01-27")) is Status.PRESUMED
    assert p.status_on(D("2020-01-30")) is Status.PRESUMED
    assert p.status_on(D("2020-01-31")) is Status.UNKNOWN
    # a January-2020 rule says nothing about November 2022
    assert p.status_on(D("2022-11-20")) is Status.UNKNOWN
    assert p.until is not None and (p.until.basis, p.until.day) == (Basis.COVERAGE_ENDS, D("2020-01-30"))
    assert p.until.text() == "coverage ends on 2020-01-30: unknown after"


def test_attestation_only_gives_a_start_and_an_in_force_day() -> None:
    p = periods(m("a", attested="2022-11-09"))["a"]
    assert (p.start.basis, p.start.day) == (Basis.ATTESTED, D("2022-11-09"))
    assert p.status_on(D("2022-11-09")) is Status.IN_FORCE
    assert p.status_on(D("2022-11-20")) is Status.PRESUMED
    assert p.status_on(D("2022-12-02")) is Status.UNKNOWN


def test_ended_by_a_later_measure_stops_the_day_before_it_starts() -> None:
    found = periods(
        m("old", announced="2022-11-09"),
        m("new", announced="2022-11-30", start="2022-12-01"),
        links=[Link("new", "ends", "old")],
    )
    p = found["old"]
    assert p.until is not None and (p.until.basis, p.until.day, p.until.evidence) == (
        Basis.ENDED_BY,
        D("2022-11-30"),
        "new",
    )
    assert p.until.text() == "ended by new on 2022-12-01"
    assert p.status_on(D("2022-11-30")) is Status.PRESUMED
    assert p.status_on(D("2022-12-01")) is None
    assert p.status_on(D("2022-12-05")) is None


def test_superseded_by_ends_too() -> None:
    p = periods(
        m("v1", announced="2022-11-09"),
        m("v2", announced="2022-11-20"),
        links=[Link("v2", "replaces", "v1")],
    )["v1"]
    assert p.until is not None and (p.until.basis, p.until.day) == (Basis.SUPERSEDED_BY, D("2022-11-19"))


def test_amended_parameter_does_not_end_the_measure() -> None:
    p = periods(
        m("rule", announced="2022-11-09"),
        m("longer-validity", announced="2022-11-25"),
        links=[Link("longer-validity", "amends", "rule")],
    )["rule"]
    assert p.status_on(D("2022-11-26")) is Status.PRESUMED
    assert p.until is not None and p.until.basis is Basis.COVERAGE_ENDS


def test_restated_is_in_force_on_the_restating_day() -> None:
    p = periods(
        m("rule", announced="2022-11-09"),
        m("again", announced="2022-11-25"),
        links=[Link("again", "restates", "rule")],
    )["rule"]
    assert p.status_on(D("2022-11-24")) is Status.PRESUMED
    assert p.status_on(D("2022-11-25")) is Status.IN_FORCE
    assert p.status_on(D("2022-11-26")) is Status.PRESUMED


def test_blanket_repeal_unresolved_makes_earlier_measures_unknown_after_it() -> None:
    found = periods(
        m("old", place="shapingba", announced="2022-11-09"),
        m("elsewhere", place="wuhan", announced="2022-11-09"),
        m("notice", announced="2022-12-01"),
        repeals=[Repeal("notice", "notice")],
    )
    p = found["old"]
    assert p.possibly_ended_by == (("notice", D("2022-12-01")),)
    assert p.until is not None and p.until.basis is Basis.POSSIBLY_ENDED
    assert p.until.text() == "possibly ended by blanket repeal notice on 2022-12-01"
    assert p.status_on(D("2022-11-30")) is Status.PRESUMED
    assert p.status_on(D("2022-12-01")) is Status.UNKNOWN
    assert found["elsewhere"].possibly_ended_by == ()  # not in the notice's places


def test_blanket_repeal_resolved_by_a_link_or_as_unaffected() -> None:
    found = periods(
        m("ended", announced="2022-11-09"),
        m("kept", announced="2022-11-09"),
        m("notice", announced="2022-12-01"),
        repeals=[Repeal("notice", "notice")],
        links=[Link("notice", "ends", "ended")],
        unaffected=[("notice", "kept")],
    )
    assert found["ended"].possibly_ended_by == ()
    assert found["ended"].until is not None and found["ended"].until.basis is Basis.ENDED_BY
    assert found["kept"].possibly_ended_by == ()
    assert found["kept"].status_on(D("2022-12-01")) is Status.PRESUMED


def test_coverage_boundary_days() -> None:
    p = periods(m("a", announced="2022-11-30"))["a"]
    assert p.status_on(D("2022-11-29")) is None
    assert p.status_on(D("2022-12-01")) is Status.PRESUMED
    assert p.status_on(D("2022-12-02")) is Status.UNKNOWN


def test_coverage_follows_places_a_wuhan_rule_is_not_presumed_from_chongqing_sources() -> None:
    found = periods(
        m("wuhan-rule", place="wuhan", announced="2020-01-27"), m("district", place="shapingba", announced="2020-01-27")
    )
    assert found["wuhan-rule"].status_on(D("2020-01-28")) is Status.UNKNOWN
    assert found["district"].status_on(D("2020-01-28")) is Status.PRESUMED


def test_no_date_at_all_is_never_in_force() -> None:
    p = periods(m("a"))["a"]
    assert p.start.basis is Basis.NO_START and p.spans == ()


def test_derivation_is_deterministic() -> None:
    data = [m("a", announced="2022-11-09"), m("b", announced="2022-11-20"), m("c", attested="2022-11-25")]
    links = [Link("b", "ends", "a"), Link("c", "restates", "b")]
    first = derive_periods(data, links, [], [], SOURCES, WITHIN)
    second = derive_periods(list(reversed(data)), list(reversed(links)), [], [], list(reversed(SOURCES)), WITHIN)
    assert first == second


def test_params_are_bound_in_each_top_level_union_branch_without_changing_answers() -> None:
    from kb.query import bind_params, parse_term

    text = 'SELECT * WHERE { ?s ?p "{ UNION }" . { ?a ?b <urn:x?q=1> } UNION { ?d ?e "}" } OPTIONAL { ?x ?y ?z } }'
    bound = bind_params(text, {"a": parse_term("measure:x")})
    assert bound.count("VALUES (?a)") == 3  # the group and its two UNION branches, not the OPTIONAL
    assert '"{ UNION }"' in bound and "<urn:x?q=1>" in bound  # strings and IRIs are not scanned for braces

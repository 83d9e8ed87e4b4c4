"""The OxCGRT layout: one test per codebook rule, on inline measures and codings (docs/crosswalks.md)."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from samples import ROOT, TRACKER_PREFIXES, add_fact, run, tracker_coding, tracker_measure

from kb.export.oxcgrt import BY_CODE, compute_index, flag_column, oxcgrt_header, sub_index, value_column
from kb.project import Project

DATA = ROOT / "tests" / "data"


def rows(runner: CliRunner, project: Project, facts: str, table: str = "chongqing") -> dict[str, dict[str, str]]:
    add_fact(project, TRACKER_PREFIXES + facts)
    result = run(runner, project, "export", "--format", "oxcgrt", "--table", table, "--raw-csv")
    assert result.exit_code == 0, result.output
    return {f"{row['RegionCode']} {row['Date']}": row for row in csv.DictReader(io.StringIO(result.stdout, newline=""))}


def cell(row: dict[str, str], code: str) -> tuple[str, str]:
    """The majority value of an indicator and its flag ('' where the indicator has none)."""
    indicator = BY_CODE[code]
    return row[value_column(indicator)], row.get(flag_column(indicator), "")


def test_the_header_is_the_published_files_header() -> None:
    real = next(csv.reader((DATA / "oxcgrt_fullwithnotes_header.csv").open(encoding="utf-8")))
    assert oxcgrt_header() == real
    assert len(real) == 147


def test_rows_are_keyed_as_the_published_files_with_a_jurisdiction_of_their_own(
    runner: CliRunner, mini_project: Project
) -> None:
    table = rows(runner, mini_project, tracker_measure("m1") + tracker_coding("measure:m1", "C4", 4))
    row = table["CHN_CQ 20221110"]
    assert (row["CountryName"], row["CountryCode"], row["RegionName"]) == ("China", "CHN", "Chongqing")
    assert row["Jurisdiction"] == "STATE_TOTAL_CQKB"
    # one row per day of the sources' coverage windows (26-30 Jan 2020, 7 Nov - 1 Dec 2022), none between
    days = sorted(table)
    assert (days[0], days[4], days[5], days[-1]) == (
        "CHN_CQ 20200126",
        "CHN_CQ 20200130",
        "CHN_CQ 20221107",
        "CHN_CQ 20221201",
    )
    assert len(days) == 30


def test_a_level_only_from_a_coding_and_the_note_names_the_uncoded_measure(
    runner: CliRunner, mini_project: Project
) -> None:
    table = rows(
        runner,
        mini_project,
        tracker_measure("coded")
        + tracker_coding("measure:coded", "C4", 4)
        + tracker_measure("uncoded", category="schools"),
    )
    day = table["CHN_CQ 20221112"]
    assert cell(day, "C4") == ("4.00", "1")
    assert "measure:coded" in day["C4_Notes"] and "中心城区各区将实行" in day["C4_Notes"]
    assert cell(day, "C1") == ("", "")
    assert "no level" in day["C1_Notes"] and "measure:uncoded" in day["C1_Notes"]


def test_implementation_not_announcement(runner: CliRunner, mini_project: Project) -> None:
    # announced on 9 Nov with no start: never coded; attested on 15 Nov: coded from then on, not before
    announced = tracker_measure("announced", start=None) + tracker_coding("measure:announced", "C4", 4)
    attested = tracker_measure(
        "attested",
        category="schools",
        start=None,
        extra='cq:attestedInForce "2022-11-15"^^xsd:date ; cq:attestedInForceKind cq:EventDate ;',
    ) + tracker_coding("measure:attested", "C1", 2)
    table = rows(runner, mini_project, announced + attested)
    assert cell(table["CHN_CQ 20221120"], "C4") == ("", "")
    assert "announced, not yet reported running" in table["CHN_CQ 20221120"]["C4_Notes"]
    assert cell(table["CHN_CQ 20221114"], "C1")[0] == ""
    assert cell(table["CHN_CQ 20221115"], "C1")[0] == "2.00"
    assert cell(table["CHN_CQ 20221130"], "C1")[0] == "2.00"  # presumed in force after the attestation


def test_strictest_anywhere_with_the_targeted_flag(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("district", place="shapingba")
        + tracker_coding("measure:district", "C4", 4)
        + tracker_measure("city", start="2022-11-20")
        + tracker_coding("measure:city", "C4", 2)
    )
    table = rows(runner, mini_project, facts)
    # the district's ban is the strictest policy in Chongqing: its level, flagged targeted
    assert cell(table["CHN_CQ 20221112"], "C4") == ("4.00", "0")
    assert cell(table["CHN_CQ 20221125"], "C4") == ("4.00", "0")
    assert "Shapingba" in table["CHN_CQ 20221125"]["C4_Notes"]


def test_a_general_measure_at_the_top_level_makes_the_flag_general(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("district", place="shapingba")
        + tracker_coding("measure:district", "C4", 4)
        + tracker_measure("city", start="2022-11-20")
        + tracker_coding("measure:city", "C4", 4)
    )
    table = rows(runner, mini_project, facts)
    assert cell(table["CHN_CQ 20221112"], "C4") == ("4.00", "0")
    assert cell(table["CHN_CQ 20221125"], "C4") == ("4.00", "1")


def test_national_general_measures_are_carried_as_the_imputation_rule_says(
    runner: CliRunner, mini_project: Project
) -> None:
    facts = (
        tracker_measure("national", place="china", category="movement")
        + tracker_coding("measure:national", "C7", 2)
        + tracker_measure("local", place="shapingba", category="movement", start="2022-11-20")
        + tracker_coding("measure:local", "C7", 1)
        + tracker_measure("elsewhere", place="zhengzhou", category="schools")
        + tracker_coding("measure:elsewhere", "C1", 3)
    )
    table = rows(runner, mini_project, facts)
    # the national level is general and not lower than the local one: it replaces it, flag 1
    assert cell(table["CHN_CQ 20221125"], "C7") == ("2.00", "1")
    # a measure of another city never reaches Chongqing
    assert cell(table["CHN_CQ 20221125"], "C1") == ("", "")


def test_an_ended_measure_stops_counting(runner: CliRunner, mini_project: Project) -> None:
    facts = (
        tracker_measure("ban")
        + tracker_coding("measure:ban", "C4", 4)
        + tracker_measure(
            "lifted", strength="Relaxation", start="2022-11-20", extra="cq:ends measure:ban ; cq:relaxes measure:ban ;"
        )
    )
    table = rows(runner, mini_project, facts)
    assert cell(table["CHN_CQ 20221119"], "C4")[0] == "4.00"
    assert cell(table["CHN_CQ 20221120"], "C4")[0] == ""


def test_indicators_without_a_flag_take_only_measures_covering_the_jurisdiction(
    runner: CliRunner, mini_project: Project
) -> None:
    facts = tracker_measure("testing", place="central-urban-districts", category="testing", strength="Mandatory")
    facts += tracker_coding("measure:testing", "H2", 3)
    assert cell(rows(runner, mini_project, facts)["CHN_CQ 20221112"], "H2") == ("", "")
    districts = rows(runner, mini_project, facts, table="districts")
    assert cell(districts["CHN_CQ.shapingba 20221112"], "H2") == ("3.00", "")  # no flag column for H2
    assert cell(districts["CHN_CQ.wanzhou 20221112"], "H2") == ("", "")
    assert districts["CHN_CQ.shapingba 20221112"]["Jurisdiction"] == "DISTRICT_TOTAL_CQKB"


def test_a_rule_for_part_of_its_place_is_targeted_even_in_that_place(runner: CliRunner, mini_project: Project) -> None:
    facts = tracker_measure("zones", place="shapingba", category="movement", strength="Mandatory")
    facts += tracker_coding("measure:zones", "C6", 3, extra="cq:targetedWithinPlace true ;")
    districts = rows(runner, mini_project, facts, table="districts")
    assert cell(districts["CHN_CQ.shapingba 20221112"], "C6") == ("3.00", "0")


def test_a_ban_on_all_gatherings_also_cancels_public_events(runner: CliRunner, mini_project: Project) -> None:
    facts = tracker_measure("ban", place="dadukou") + tracker_coding("measure:ban", "C4", 4)
    facts += tracker_measure("limit", start="2022-11-10") + tracker_coding("measure:limit", "C4", 3)
    row = rows(runner, mini_project, facts)["CHN_CQ 20221112"]
    assert cell(row, "C3") == ("2.00", "0")
    assert "C3=2" in row["C3_Notes"] and "measure:ban" in row["C3_Notes"]


def test_a_numbered_press_conference_series_is_a_coordinated_campaign(runner: CliRunner, mini_project: Project) -> None:
    series = """
ann:test-pc-1 a cq:PressConference ; cq:date "2022-11-10"^^xsd:date ; cq:dateKind cq:EventDate ; cq:sequenceNumber 1 .
ann:test-pc-9 a cq:PressConference ; cq:date "2022-11-18"^^xsd:date ; cq:dateKind cq:EventDate ; cq:sequenceNumber 9 .
"""
    facts = series + tracker_coding("ann:test-pc-1, ann:test-pc-9", "H1", 2, extra="cq:codingPlace place:chongqing ;")
    table = rows(runner, mini_project, facts)
    assert cell(table["CHN_CQ 20221109"], "H1")[0] == ""
    assert cell(table["CHN_CQ 20221114"], "H1") == ("2.00", "1")
    assert cell(table["CHN_CQ 20221119"], "H1")[0] == ""


def test_everyone_and_majority_columns_carry_the_value(runner: CliRunner, mini_project: Project) -> None:
    row = rows(runner, mini_project, tracker_measure("m") + tracker_coding("measure:m", "C4", 4))["CHN_CQ 20221112"]
    assert row["C4E_Restrictions on gatherings"] == row["C4M_Restrictions on gatherings"] == "4.00"
    assert row["C4E_Flag"] == row["C4M_Flag"] == "1"
    assert row["C4NV_Restrictions on gatherings"] == row["C4V_Restrictions on gatherings"] == ""
    assert row["StringencyIndex_WeightedAverage"] == ""  # needs PopulationVaccinated, which the facts do not give


# ---------------------------------------------------------------- indices


def test_the_codebook_example_index_calculation() -> None:
    cells = {
        "C1": (2, 1), "C2": (0, None), "C3": (2, 0), "C4": (2, 0), "C5": (0, None), "C6": (1, 0), "C7": (1, 1),
        "C8": (3, None), "E1": (2, 0), "E2": (2, None), "H1": (2, 0), "H2": (3, None), "H3": (2, None),
        "H6": (2, 0), "H7": (2, 1), "H8": (2, 1),
    }  # fmt: skip
    assert round(sub_index(BY_CODE["C3"], 2, 0), 2) == 75.00
    assert round(sub_index(BY_CODE["C6"], 1, 0), 2) == 16.67
    assert sub_index(BY_CODE["C8"], 3, None) == 75.00
    assert compute_index("StringencyIndex", cells).value == 43.98
    assert compute_index("ContainmentHealthIndex", cells).value == 52.86
    assert compute_index("EconomicSupportIndex", cells).value == 87.50
    # the codebook prints 57.18: its table shows the sub-scores truncated (H8 66.66); the exact mean is 57.1875
    assert compute_index("GovernmentResponseIndex", cells).value == pytest.approx(57.18, abs=0.011)


def test_an_index_needs_all_but_one_component_and_counts_blanks_as_zero() -> None:
    eight = {code: (1, 1) for code in ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "H1")}
    value = compute_index("StringencyIndex", eight)
    assert value.value is not None and value.known == 8  # C8 missing counts as 0
    assert value.value == round(sum(sub_index(BY_CODE[c], 1, 1) for c in eight) / 9, 2)
    seven = dict(list(eight.items())[:7])
    assert compute_index("StringencyIndex", seven).value is None
    assert compute_index("EconomicSupportIndex", {"E1": (1, 1)}).value is None  # k = 2: both needed


def test_index_columns_and_their_note_in_the_rows(runner: CliRunner, mini_project: Project) -> None:
    row = rows(runner, mini_project, tracker_measure("m") + tracker_coding("measure:m", "C4", 4))["CHN_CQ 20221112"]
    assert row["StringencyIndex_NonVaccinated"] == ""
    # C4 4 and the C3 2 it implies, both general: (100 + 100) / 9
    assert "StringencyIndex not computed: 2 of its 9 indicators have a level" in row["M1_Notes"]
    assert "contribute 22.22" in row["M1_Notes"]

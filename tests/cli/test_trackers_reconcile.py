"""`kb reconcile`: the published Chongqing rows (real excerpts in tests/data) beside the knowledge base."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner
from samples import ROOT, TRACKER_PREFIXES, add_fact, run, tracker_coding, tracker_measure

from kb.project import Project

DATA = ROOT / "tests" / "data"
STRINGENCY = DATA / "OxCGRT_timeseries_StringencyIndex_v1_CHN_CQ_excerpt.csv"


def lines(output: str) -> list[list[str]]:
    return [line.split("\t") for line in output.splitlines() if "\t" in line]


def test_published_indices_beside_the_knowledge_base(runner: CliRunner, project: Project) -> None:
    result = run(
        runner, project, "reconcile", "--oxcgrt", str(STRINGENCY), "--from", "2022-11-01", "--to", "2022-12-10"
    )
    assert result.exit_code == 0, result.output
    by_day = {line[0]: line for line in lines(result.stdout)}
    assert len(by_day) == 40
    # the published value, and what the knowledge base knows: too few indicators for an index, their share below it
    day = by_day["2022-11-10"]
    assert day[1:4] == ["StringencyIndex", "no evidence", "90.74"]
    assert "of 9 indicators have a level" in day[5] and "within the published value" in day[5]
    assert by_day["2022-12-05"][5] == "outside the days the sources cover"
    assert "40 comparisons" in result.stderr


def test_daily_rows_per_day_and_indicator(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    add_fact(mini_project, TRACKER_PREFIXES + tracker_measure("ban") + tracker_coding("measure:ban", "C4", 4))
    header = next(csv.reader((DATA / "oxcgrt_fullwithnotes_header.csv").open(encoding="utf-8")))
    daily = tmp_path / "daily.csv"
    with daily.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        base = {"CountryName": "China", "CountryCode": "CHN", "RegionName": "Chongqing", "RegionCode": "CHN_CQ"}
        for day, c4, c1 in (("20221112", "4.00", "3.00"), ("20221113", "3.00", "")):
            writer.writerow(
                {**base, "Jurisdiction": "STATE_TOTAL", "Date": day, "C4M_Restrictions on gatherings": c4,
                 "C4M_Flag": "1", "C1M_School closing": c1, "C1M_Flag": "1" if c1 else ""}
            )  # fmt: skip
        writer.writerow(
            {**base, "Jurisdiction": "STATE_WIDE", "Date": "20221112", "C4M_Restrictions on gatherings": "1.00"}
        )
    result = run(runner, mini_project, "reconcile", "--oxcgrt", str(daily))
    assert result.exit_code == 0, result.output
    got = {(line[0], line[1]): line for line in lines(result.stdout)}
    assert got[("2022-11-12", "C4")][2:5] == ["agrees", "4 flag 1", "4 flag 1"]
    assert "measure:ban" in got[("2022-11-12", "C4")][5]
    assert got[("2022-11-13", "C4")][2] == "disagrees"
    assert got[("2022-11-12", "C1")][2:4] == ["no evidence", "3 flag 1"]
    assert got[("2022-11-13", "C1")][2] == "tracker blank"
    assert all(line[0] in ("2022-11-12", "2022-11-13") for line in lines(result.stdout))  # STATE_WIDE row ignored


def test_coronanet_records_for_chongqing(runner: CliRunner, project: Project) -> None:
    release = DATA / "coronanet_release_China_excerpt.csv"
    result = run(
        runner, project, "reconcile", "--coronanet", str(release), "--from", "2020-01-20", "--to", "2020-02-20"
    )
    assert result.exit_code == 0, result.output
    got = lines(result.stdout)
    # a border restriction the knowledge base has matches Chongqing's record of the same type and time
    assert any(
        line[1] == "Internal Border Restrictions" and line[2] == "agrees" and "R_eVeYIEGDAYvVeO5NA" in line[3]
        for line in got
    )
    # the emergency declaration of 24 January is in the tracker only: the articles do not report it
    assert any(
        line[1] == "Declaration of Emergency" and line[2] == "no evidence" and line[3] == "R_2Yap2ns6SMfxUUKNA"
        for line in got
    )
    # the knowledge base's school closure has no CoronaNet record for Chongqing
    assert any(line[2] == "tracker has no record" and line[4] == "2020-schools-closed-until-feb-17" for line in got)


def test_a_file_that_is_not_a_tracker_file_is_a_clear_error(
    runner: CliRunner, project: Project, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    for option in ("--oxcgrt", "--coronanet"):
        result = run(runner, project, "reconcile", option, str(bad))
        assert result.exit_code == 2, result.output
        assert "bad.csv:1" in result.output and "hint:" in result.output and "Traceback" not in result.output
    missing = run(runner, project, "reconcile", "--oxcgrt", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2 and "file not found" in missing.output
    both = run(runner, project, "reconcile")
    assert both.exit_code == 2 and "give one of --oxcgrt FILE or --coronanet FILE" in both.output


REAL_DAILY = DATA / "OxCGRT_withnotes_2023_CHN_CQ_excerpt.csv"


def test_the_keys_are_those_of_a_real_chongqing_row(runner: CliRunner, project: Project) -> None:
    # a published Chongqing row (legacy daily file, January 2023): the export's rows carry the same keys, and a
    # Jurisdiction of their own that starts as the published one does
    with REAL_DAILY.open(encoding="utf-8", newline="") as handle:
        published = next(csv.DictReader(handle))
    result = run(runner, project, "export", "--format", "oxcgrt", "--raw-csv")
    assert result.exit_code == 0, result.output
    ours = next(csv.DictReader(result.stdout.splitlines()))
    keys = ("CountryName", "CountryCode", "RegionName", "RegionCode")
    assert [ours[k] for k in keys] == [published[k] for k in keys]
    assert (
        ours["Jurisdiction"].startswith(published["Jurisdiction"]) and ours["Jurisdiction"] != published["Jurisdiction"]
    )
    assert len(ours["Date"]) == len(published["Date"]) == 8 and ours["Date"].isdigit()


def test_a_real_daily_file_is_read_by_its_plain_column_names(runner: CliRunner, project: Project) -> None:
    # the legacy layout names its columns C1_School closing, C1_Flag …: its Chongqing rows are read, and January
    # 2023 is outside the days the sources cover
    result = run(
        runner, project, "reconcile", "--oxcgrt", str(REAL_DAILY), "--from", "2023-01-01", "--to", "2023-01-02"
    )
    assert result.exit_code == 0, result.output
    got = {(line[0], line[1]): line for line in lines(result.stdout)}
    assert got[("2023-01-01", "C1")][2:4] == ["no evidence", "1 flag 1"]
    assert got[("2023-01-02", "H7")][3] == "5 flag 1"
    assert got[("2023-01-01", "StringencyIndex")][3] == "26.85"
    assert len(got) == 2 * (16 + 4)


def test_coronanet_records_of_one_type_match_only_the_same_sub_type(runner: CliRunner, project: Project) -> None:
    # the release codes its Chongqing quarantine policies of March 2020 (no end date) twice, at home (…Gc) and in
    # government facilities (…Bv): a record of the knowledge base with a sub-type matches only its own kind
    release = DATA / "coronanet_release_China_excerpt.csv"
    args = ("reconcile", "--coronanet", str(release), "--from", "2022-11-09", "--to", "2022-11-09")
    result = run(runner, project, *args)
    assert result.exit_code == 0, result.output
    by_record = {line[4]: line for line in lines(result.stdout)}
    at_home, in_facility = (
        by_record["home-isolation-live-alone"],
        by_record["pc136-infections-in-designated-facilities-Q"],
    )
    assert at_home[2] == in_facility[2] == "agrees"
    assert all(rid.endswith("Gc") for rid in at_home[3].split(", ")), at_home
    assert all(rid.endswith("Bv") for rid in in_facility[3].split(", ")), in_facility
    # a record without a sub-type matches either kind
    assert {rid[-2:] for rid in by_record["beibei-wang-isolation-capacity-Q"][3].split(", ")} == {"Bv", "Gc"}

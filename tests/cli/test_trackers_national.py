"""`kb reconcile` on China's national indicator levels (OxCGRT's legacy per-indicator time series, real excerpt in
tests/data/OxCGRT_legacy_timeseries_CHN): the national level bounds Chongqing's by the codebook's aggregation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import ROOT, TRACKER_PREFIXES, add_fact, run, tracker_coding, tracker_measure

from kb.export.reconcile import AGREES, BELOW, DISAGREES, NO_EVIDENCE, TRACKER_BLANK, WITHIN, national_verdict
from kb.project import Project

NATIONAL = ROOT / "tests" / "data" / "OxCGRT_legacy_timeseries_CHN"
INDICATOR_FILES = sorted(p for p in NATIONAL.glob("[ceh][0-9]_*.csv") if not p.name.endswith("_flag.csv"))


def lines(output: str) -> list[list[str]]:
    return [line.split("\t") for line in output.splitlines() if "\t" in line]


@pytest.mark.parametrize(
    ("code", "kb", "china", "flag", "status"),
    [
        ("C1", 3, 3, "1", AGREES),  # a general national level is Chongqing's level
        ("C1", 2, 3, "1", BELOW),  # ... so a lower one misses it
        ("C1", 3, 2, "1", DISAGREES),
        ("C4", 4, 4, "0", WITHIN),  # a targeted national level only caps Chongqing's
        ("C4", 2, 4, "0", WITHIN),
        ("C5", 2, 1, "0", DISAGREES),  # the strictest anywhere in China cannot be below Chongqing's
        ("C2", 1, 0, "", DISAGREES),  # nothing anywhere: Chongqing has nothing either
        ("H2", 3, 3, "", WITHIN),  # no geographic flag: the common value is a floor
        ("H2", 2, 3, "", BELOW),
        ("H3", None, 2, "", NO_EVIDENCE),
        ("H6", 2, None, "", TRACKER_BLANK),
    ],
)
def test_each_bound_rule(code: str, kb: int | None, china: int | None, flag: str, status: str) -> None:
    assert national_verdict(code, kb, china, flag)[0] == status


def test_chinas_level_beside_the_knowledge_base(runner: CliRunner, project: Project) -> None:
    c1 = NATIONAL / "c1_school_closing.csv"
    result = run(runner, project, "reconcile", "--oxcgrt", str(c1), "--from", "2020-01-29", "--to", "2020-01-30")
    assert result.exit_code == 0, result.output
    by_day = {line[0]: line for line in lines(result.stdout)}
    assert by_day["2020-01-30"][1:5] == ["C1", AGREES, "China 3 flag 1", "3 flag 1"]
    assert "2020-schools-closed-until-feb-17" in by_day["2020-01-30"][5]
    assert by_day["2020-01-29"][2] == NO_EVIDENCE and "Chongqing = 3" in by_day["2020-01-29"][5]


def test_no_level_of_the_knowledge_base_is_above_chinas(runner: CliRunner, project: Project) -> None:
    statuses: dict[str, int] = {}
    for path in INDICATOR_FILES:
        result = run(runner, project, "reconcile", "--oxcgrt", str(path))
        assert result.exit_code == 0, result.output
        for line in lines(result.stdout):
            assert line[2] != DISAGREES, line
            statuses[line[2]] = statuses.get(line[2], 0) + 1
    assert len(INDICATOR_FILES) == 16
    assert statuses.get(AGREES, 0) >= 20 and statuses.get(WITHIN, 0) >= 40


def test_an_over_coded_level_is_caught(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    # China's C5 is 1 (targeted) from 7 to 20 Nov 2022: a general C5 2 in Chongqing is above the strictest anywhere
    add_fact(mini_project, TRACKER_PREFIXES + tracker_measure("buses") + tracker_coding("measure:buses", "C5", 2))
    for name in ("c5_close_public_transport.csv", "c5_flag.csv"):
        shutil.copy(NATIONAL / name, tmp_path / name)
    args = ("--oxcgrt", str(tmp_path / "c5_close_public_transport.csv"), "--from", "2022-11-12", "--to", "2022-11-12")
    result = run(runner, mini_project, "reconcile", *args)
    assert result.exit_code == 0, result.output
    [line] = lines(result.stdout)
    assert line[1:5] == ["C5", DISAGREES, "China 1 flag 0", "2 flag 1"]
    (tmp_path / "c5_flag.csv").unlink()  # without its flag file a national level is read as targeted (a cap)
    [line] = lines(run(runner, mini_project, "reconcile", *args).stdout)
    assert line[2:4] == [DISAGREES, "China 1"]


@pytest.mark.parametrize("name", ["c1_flag.csv", "x9_other.csv", "e3_fiscal_measures.csv"])
def test_a_file_that_names_no_coded_indicator_is_refused(
    runner: CliRunner, project: Project, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    shutil.copy(NATIONAL / "c1_flag.csv", path)
    result = run(runner, project, "reconcile", "--oxcgrt", str(path))
    assert result.exit_code != 0
    assert "cannot tell which indicator" in result.output and "Traceback" not in result.output


def test_the_legacy_national_series_is_the_final_one_in_2020_not_in_2022() -> None:
    # what docs/crosswalks.md says of the excerpt's version: its stringency index equals the final dataset's
    # NAT_TOTAL one on every day of 2020 kept, and differs on most days of 2022 (a different version of the coding)
    import csv

    with (NATIONAL / "stringency_index.csv").open(encoding="utf-8", newline="") as handle:
        legacy = next(row for row in csv.DictReader(handle) if row["country_code"] == "CHN")
    final_path = ROOT / "tests" / "data" / "OxCGRT_timeseries_StringencyIndex_v1_CHN_CQ_excerpt.csv"
    with final_path.open(encoding="utf-8", newline="") as handle:
        final = next(row for row in csv.DictReader(handle) if row["Jurisdiction"] == "NAT_TOTAL")
    days = [day for day in final if day[2:5].isalpha() and day[:2].isdigit()]
    same = {day[-4:]: 0 for day in days}
    for day in days:
        same[day[-4:]] += abs(float(legacy[day]) - float(final[day])) < 0.005
    assert same["2020"] == sum(day.endswith("2020") for day in days) == 32
    assert same["2022"] < 20

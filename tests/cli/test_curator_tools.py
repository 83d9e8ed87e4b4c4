"""The curator's tools of issue 13: `kb terms` (the vocabulary with its labels), `kb new --kind` (a skeleton for
every kind of fact) and `kb fmt` keeping section comments with their section."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from samples import run

from kb.cli import SKELETON_KINDS, TERM_LISTS
from kb.loader import load_file
from kb.project import Project

# ---------------------------------------------------------------- kb terms


@pytest.mark.parametrize("which", TERM_LISTS)
def test_every_list_has_terms_with_both_labels(runner: CliRunner, project: Project, which: str) -> None:
    result = run(runner, project, "terms", which, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {row["list"] for row in rows} == {which}
    missing = [row["term"] for row in rows if not row["label_zh"] or not row["label_en"]]
    assert missing == []


def test_terms_come_from_the_ontology(runner: CliRunner, project: Project) -> None:
    strengths = run(runner, project, "terms", "strengths")
    assert strengths.exit_code == 0
    for term in ("cq:Mandatory", "cq:Advisory", "cq:Prohibition", "cq:Relaxation", "cq:Principle"):
        assert term in strengths.output
    targets = json.loads(run(runner, project, "terms", "targets", "--format", "json").output)
    close = next(row for row in targets if row["term"].endswith("/close-contacts"))
    assert (close["label_zh"], close["also_zh"]) == ("密切接触者", "密接")
    units = run(runner, project, "terms", "units", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(units.output)))
    assert {"http://qudt.org/vocab/unit/HR", "http://qudt.org/vocab/unit/PER-DAY"} <= {r["term"] for r in table}
    assert "unit:HOUR" not in units.output


def test_terms_without_a_list_shows_every_list(runner: CliRunner, project: Project) -> None:
    rows = json.loads(run(runner, project, "terms", "--format", "json").output)
    assert [r["list"] for r in rows if r["list"]] == sorted(
        (r["list"] for r in rows), key=lambda name: TERM_LISTS.index(name)
    )
    assert {r["list"] for r in rows} == set(TERM_LISTS)


def test_every_unit_used_in_the_facts_is_declared(runner: CliRunner, project: Project) -> None:
    declared = {r["term"] for r in json.loads(run(runner, project, "terms", "units", "--format", "json").output)}
    used = {
        str(t.object.value)
        for path in project.fact_files()
        for t in load_file(path).triples
        if t.predicate.value == "https://w3id.org/cq-covid/def#unit" and not isinstance(t.object, ox.Triple)
    }
    assert used and used <= declared


def test_an_unknown_list_exits_2(runner: CliRunner, project: Project) -> None:
    result = run(runner, project, "terms", "colours")
    assert result.exit_code == 2 and "strengths" in result.output


# ---------------------------------------------------------------- kb new --kind (each skeleton is filled and
# validated in tests/cli/test_new.py)


def test_every_kind_has_a_skeleton(runner: CliRunner) -> None:
    from kb.cli import main

    for kind in SKELETON_KINDS:
        result = runner.invoke(main, ["new", "--kind", kind])
        assert result.exit_code == 0, (kind, result.output)
        assert "«SLUG»" in result.output or "«NNN»" in result.output


def test_new_without_a_kind_is_a_measure_and_the_argument_still_works(runner: CliRunner) -> None:
    from kb.cli import main

    plain = runner.invoke(main, ["new"])
    assert plain.exit_code == 0 and "a cq:Measure" in plain.output
    assert (
        runner.invoke(main, ["new", "announcement"]).output
        == runner.invoke(main, ["new", "--kind", "announcement"]).output
    )
    both = runner.invoke(main, ["new", "measure", "--kind", "agent"])
    assert both.exit_code == 2 and "two kinds given" in both.output


# ---------------------------------------------------------------- kb fmt: section comments

SECTIONS = """# Header: what the file holds.

@prefix cq: <https://w3id.org/cq-covid/def#> .
@prefix measure: <https://w3id.org/cq-covid/id/measure/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

# ---------------------------------------------------------------- section B: the later meeting

measure:zzz-later
    rdfs:label "later"@en ;
    a cq:Measure .

measure:mmm-also-later
    a cq:Measure ;
    rdfs:label "also later"@en .

# ---------------------------------------------------------------- section A: the earlier meeting
# a second line of the section's heading

# the comment of the first measure alone
measure:bbb-second
    a cq:Measure ;
    rdfs:label "second"@en .

measure:aaa-first
    a cq:Measure ;
    rdfs:label "first"@en .
"""


def test_section_comments_stay_above_their_section(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "sections.ttl"
    path.write_text(SECTIONS, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 0, result.output
    text = path.read_text("utf-8")
    order = [line for line in text.splitlines() if line.startswith(("#", "measure:"))]
    assert order == [
        "# Header: what the file holds.",
        "# ---------------------------------------------------------------- section B: the later meeting",
        "measure:mmm-also-later",  # sorted within its section, which stays first
        "measure:zzz-later",
        "# ---------------------------------------------------------------- section A: the earlier meeting",
        "# a second line of the section's heading",
        "measure:aaa-first",
        "# the comment of the first measure alone",  # a subject's own comment moves with it
        "measure:bbb-second",
    ]
    # the heading is still a section comment (followed by a blank line): formatting again changes nothing
    assert "heading\n\nmeasure:aaa-first" in text and "later meeting\n\nmeasure:mmm" in text
    assert run(runner, mini_project, "fmt", "--check", str(path)).exit_code == 0
    assert sorted(map(str, load_file(path).triples)) == sorted(map(str, load_file_text(path.parent, SECTIONS)))


def load_file_text(folder: Path, text: str) -> list[object]:
    original = folder / "original.ttl"
    original.write_text(text, "utf-8")
    try:
        return list(load_file(original).triples)
    finally:
        original.unlink()


def test_the_shipped_files_keep_their_layout(runner: CliRunner, project: Project) -> None:
    """Their section comments sit directly above a subject (no blank line): sections change nothing there."""
    result = run(runner, project, "fmt", "--check")
    assert result.exit_code == 0, result.output

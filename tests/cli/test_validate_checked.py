"""The *-violation rows a full `kb validate` keeps in the snapshot folder (kb/query/checked.py) are exactly the rows
the check's query gives on that store, are reused by the next validation of the same snapshot, and a damaged or
stale file is ignored (the query runs on the store).

Both ways: `run_query` on the published snapshot (answered from checked.json) against the same text on the same
database opened directly (which kb.query.checked does not know, so the query runs), on the shipped knowledge base
and on one with planted violations.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from samples import MEASURE, run

from kb.project import Project
from kb.query import get_named_query, named_queries, run_query
from kb.query.checked import CHECKED, checked
from kb.query.run import kept_answer
from kb.query.summary import SUMMARISED
from kb.store import build, open_snapshot, store_link
from kb.validate import CHECKS_DIR, validate_store

CHECKS = sorted(named_queries(CHECKS_DIR, "check"))


def _both_ways(project: Project) -> dict[str, list[list[str | None]]]:
    """Each kept check's rows, after checking them against its query on the same database; {name: rows}."""
    direct = ox.Store.read_only(str(store_link(project).resolve()))  # not a snapshot: nothing kept is read
    snapshot = open_snapshot(store_link(project))
    kept = {}
    for name in CHECKS:
        text = get_named_query(name).text
        assert kept_answer(direct, text) is None
        answer = kept_answer(snapshot, text)
        if answer is None:
            continue
        queried = run_query(direct, text)
        assert (answer.variables, answer.rows) == (queried.variables, queried.rows), name
        assert run_query(snapshot, text).rows == answer.rows
        kept[name] = [[None if term is None else str(term) for term in row] for row in answer.rows]
    return kept


@pytest.fixture
def planted(mini_project: Project) -> Project:
    """Violations of three checks: a measure that relaxes itself, a date outside its source's period (a warning),
    and a subject two files describe with different values (rows found from the location index)."""
    (mini_project.facts_dir / "other.ttl").write_text(MEASURE, encoding="utf-8")
    text = MEASURE.replace("    cq:cites doc:control-plan-9th-edition ;\n", "    cq:relaxes measure:test-measure ;\n")
    text = text.replace('"2022-11-09"^^xsd:date', '"2022-10-09"^^xsd:date')
    (mini_project.facts_dir / "test.ttl").write_text(text, encoding="utf-8")
    return mini_project


def test_the_kept_rows_are_the_queries_answers_on_the_shipped_kb(project: Project) -> None:
    build(project)
    report = validate_store(project)
    kept = _both_ways(project)
    assert sorted(kept) == CHECKS  # every check's rows (none: the shipped KB conforms) are kept
    again = validate_store(project)
    assert again.reused == CHECKS
    assert again.findings == report.findings


def test_the_kept_rows_of_planted_violations(planted: Project) -> None:
    build(planted)
    report = validate_store(planted)
    assert report.reused == []
    kept = _both_ways(planted)
    assert kept["self-change-violation"] and kept["date-outside-source-period-violation"]
    # rows the validation found another way than the query (from the location index) are not kept: queried
    assert "duplicate-conflict-violation" not in kept
    assert any(f.check == "duplicate-conflict-violation" for f in report.findings)
    again = validate_store(planted)
    assert "self-change-violation" in again.reused and "duplicate-conflict-violation" not in again.reused
    assert again.findings == report.findings


def test_a_changed_input_is_validated_afresh(planted: Project) -> None:
    build(planted)
    validate_store(planted)
    (planted.facts_dir / "other.ttl").unlink()
    build(planted)  # a new snapshot: nothing kept for it yet
    report = validate_store(planted)
    assert report.reused == []
    assert not any(f.check == "duplicate-conflict-violation" for f in report.findings)
    assert "duplicate-conflict-violation" in _both_ways(planted)  # none now, and kept


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: "{not json",
        lambda data: json.dumps({**data, "format": 0}),
        lambda data: json.dumps({**data, "snapshot": "store.another"}),  # written for another snapshot
        lambda data: json.dumps({**data, "answers": {k: {**v, "rows": [["iri"]]} for k, v in data["answers"].items()}}),
        lambda data: json.dumps({**data, "answers": {k: {**v, "rows": [[]]} for k, v in data["answers"].items()}}),
    ],
)
def test_a_damaged_or_stale_file_falls_back_to_the_query(planted: Project, damage: Callable[[dict], str]) -> None:
    build(planted)
    report = validate_store(planted)
    folder = store_link(planted).resolve()
    data = json.loads((folder / CHECKED).read_text("utf-8"))
    (folder / CHECKED).write_text(damage(data), "utf-8")
    text = get_named_query("self-change-violation").text
    assert checked(folder, text) is None
    # none kept by the validation is read; a check the build's summary keeps (kb/query/summary.py) still is
    assert set(_both_ways(planted)) == {name for name in SUMMARISED if name in CHECKS}
    again = validate_store(planted)
    assert again.reused == []
    assert again.findings == report.findings
    assert checked(folder, text) is not None  # the validation kept its rows again


def test_kb_query_and_validate_say_so(runner: CliRunner, planted: Project, tmp_path: Path) -> None:
    build(planted)
    before = run(runner, planted, "query", "self-change-violation", "--format", "csv")
    first = run(runner, planted, "validate")
    assert "reused" not in first.stderr
    kept = run(runner, planted, "query", "self-change-violation", "--format", "csv")
    assert kept.output == before.output and "test-measure" in kept.output
    second = run(runner, planted, "validate")
    assert second.exit_code == first.exit_code == 1
    assert "rows reused from an earlier kb validate" in second.stderr
    assert second.stdout == first.stdout

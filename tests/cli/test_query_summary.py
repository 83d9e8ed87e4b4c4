"""The summary queries' answers kept by the build (kb/query/summary.py) are exactly what SPARQL gives on the store.

Each answer is compared both ways: `run_query` on the published snapshot (answered from summary.json) against the
same text run on the same database opened directly (which kb.query.summary does not know, so SPARQL runs). On the
shipped knowledge base, on a synthetic one, and after a planted change (ten new measures added, the store rebuilt).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from bench.synth import generate, new_measures_file
from kb.project import Project
from kb.query import get_named_query, run_query
from kb.query.run import kept_answer
from kb.query.summary import SUMMARISED, SUMMARY
from kb.store import build, open_snapshot, store_link


def _rows(store: ox.Store, text: str) -> tuple[list[str], list[list[str | None]]]:
    result = run_query(store, text)
    return result.variables, [[None if term is None else str(term) for term in row] for row in result.rows]


def _both_ways(project: Project) -> dict[str, list[list[str | None]]]:
    """Every summary query's rows from the summary, after checking them against SPARQL on the same database."""
    snapshot = open_snapshot(store_link(project))
    direct = ox.Store.read_only(str(store_link(project).resolve()))
    answers = {}
    for name in SUMMARISED:
        text = get_named_query(name).text
        assert kept_answer(snapshot, text) is not None, f"{name}: not answered from the summary"
        assert kept_answer(direct, text) is None
        kept = _rows(snapshot, text)
        assert kept == _rows(direct, text), f"{name}: the summary differs from the SPARQL answer"
        answers[name] = kept[1]
    return answers


@pytest.fixture
def synthetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    project = Project(generate(tmp_path / "kb", measures=120, per_file=60))
    build(project)
    return project


def test_summary_is_the_sparql_answer_on_the_shipped_kb(project: Project) -> None:
    build(project)
    answers = _both_ways(project)
    assert any(answers.values())


def test_summary_follows_a_planted_change(synthetic: Project) -> None:
    before = _both_ways(synthetic)
    new_measures_file(synthetic.root, synthetic.root / "facts" / "synth" / "added.ttl")
    build(synthetic)
    after = _both_ways(synthetic)
    assert before["counts-by-class"] != after["counts-by-class"]  # ten more measures
    assert before["counts-by-source"] != after["counts-by-source"]
    assert before["self-change-violation"] == after["self-change-violation"] == []
    # a measure that replaces itself: the check kept by the build finds it
    added = synthetic.root / "facts" / "synth" / "added.ttl"
    text = added.read_text("utf-8")
    first = text.index("\nmeasure:") + 1
    subject = text[first : text.index("\n", first)].strip()
    added.write_text(text.replace(f"{subject}\n", f"{subject}\n    cq:replaces {subject} ;\n", 1), "utf-8")
    build(synthetic)
    planted = _both_ways(synthetic)["self-change-violation"]
    assert [row[0] for row in planted] == [f"<{subject.replace('measure:', 'https://w3id.org/cq-covid/id/measure/')}>"]


def test_only_the_exact_text_is_answered_from_the_summary(synthetic: Project) -> None:
    store = open_snapshot(store_link(synthetic))
    text = get_named_query("counts-by-class").text
    assert kept_answer(store, text) is not None
    assert kept_answer(store, text + " ") is None
    assert kept_answer(store, text.replace("DESC(?count)", "?count")) is None


def test_a_summary_without_its_answers_runs_on_the_store(synthetic: Project) -> None:
    """A damaged (or missing) summary.json is ignored: the query runs on the store and gives the same rows."""
    folder = store_link(synthetic).resolve()
    text = get_named_query("measures-by-strength").text
    expected = _rows(ox.Store.read_only(str(folder)), text)
    # A fresh build in another folder, whose summary is then damaged before any reader opened it.
    build(synthetic, force=True)
    fresh = store_link(synthetic).resolve()
    assert fresh != folder
    (fresh / SUMMARY).write_text(json.dumps({"format": 0}), "utf-8")
    store = open_snapshot(store_link(synthetic))
    assert kept_answer(store, text) is None
    assert _rows(store, text) == expected

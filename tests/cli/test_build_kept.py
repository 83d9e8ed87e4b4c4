"""What the build keeps beside the store from data it already holds is what the store's own reading gives.

The day index (`days.txt`) is written from the status spans the derivation keeps while it writes them
(kb/derive.py `SpanRows`), not read back from the store: here it is compared byte for byte with the text the store's
reading gives (kb/query/days.py `index_text`, its SPARQL over the built snapshot), on the shipped KB, on a synthetic
KB, and on planted KBs where the store's reading is not a plain one: a place stated by two files (the store's union
repeats the rows), a measure applying to a literal (no index), span statements in a curated file, and two measures
whose spans share IRIs (the same local name in two namespaces).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from samples import ROOT

from bench.synth import generate
from kb.derive import DERIVED_GRAPH, SpanRows, derive
from kb.project import Project
from kb.query import days as days_module
from kb.query.days import DAYS
from kb.store import build, open_snapshot, snapshot_folder, store_link

PREFIXES = """@prefix cq: <https://w3id.org/cq-covid/def#> .
@prefix measure: <https://w3id.org/cq-covid/id/measure/> .
@prefix place: <https://w3id.org/cq-covid/id/place/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
SPAN = "<https://w3id.org/cq-covid/id/span/synth-0000001/1>"


def _built(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ox.Store, Path]:
    monkeypatch.setenv("KB_STATE_DIR", str(root.parent / "state"))
    project = Project(root)
    build(project, force=True)
    store = open_snapshot(store_link(project))
    folder = snapshot_folder(store)
    assert folder is not None
    return store, folder


def _kept(folder: Path) -> str | None:
    path = folder / DAYS
    return path.read_text("utf-8") if path.exists() else None


def _synthetic(tmp_path: Path, planted: dict[str, str]) -> Path:
    root = generate(tmp_path / "kb", measures=200, per_file=100)
    for name, text in planted.items():
        (root / "facts" / name).write_text(PREFIXES + text, "utf-8")
    return root


def test_the_shipped_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "kb"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "facts", root / "facts")
    store, folder = _built(root, monkeypatch)
    kept = _kept(folder)
    assert kept is not None and kept.count("\n") > 100
    assert kept == days_module.index_text(store)


def test_a_synthetic_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, folder = _built(_synthetic(tmp_path, {}), monkeypatch)
    kept = _kept(folder)
    assert kept is not None and kept.count("\n") > 200
    assert kept == days_module.index_text(store)


def test_a_place_stated_by_two_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    again = "measure:synth-0000001 cq:appliesTo place:beibei .\n"
    store, folder = _built(_synthetic(tmp_path, {"again-1.ttl": again, "again-2.ttl": again}), monkeypatch)
    kept = _kept(folder)
    assert kept is not None and kept == days_module.index_text(store)
    lines = [line for line in kept.splitlines() if line.endswith("/synth-0000001")]
    assert lines and len(lines) != len(set(lines))  # each of the measure's spans twice under place:beibei


def test_a_measure_applying_to_a_literal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {"literal.ttl": 'measure:synth-0000001 cq:appliesTo "somewhere" .\n'}
    store, folder = _built(_synthetic(tmp_path, planted), monkeypatch)
    assert days_module.index_text(store) is None
    assert _kept(folder) is None


def test_span_statements_in_a_curated_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = {"span.ttl": f'{SPAN} cq:spanFrom "2001-02-03"^^xsd:date .\n'}
    store, folder = _built(_synthetic(tmp_path, planted), monkeypatch)
    kept = _kept(folder)
    assert kept is not None and "2001-02-03" in kept  # the store joins the curated statement to the derived span
    assert kept == days_module.index_text(store)


def test_two_measures_whose_spans_share_iris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = "<https://example.org/other/synth-0000001>"
    text = f'{other} a cq:Measure ; cq:appliesTo place:beibei ; cq:inForceFrom "2022-03-19"^^xsd:date .\n'
    store, folder = _built(_synthetic(tmp_path, {"other.ttl": text}), monkeypatch)
    kept = _kept(folder)
    assert kept is not None and kept == days_module.index_text(store)
    assert "https://example.org/other/synth-0000001" in kept


def _span_rows(turtle: str) -> dict[str, list[tuple[str, str, str, str]]] | None:
    store = ox.Store()
    store.bulk_load(input=(PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:t:f"))
    spans = SpanRows()
    derive(store, spans)
    assert any(graph == ox.NamedNode(DERIVED_GRAPH) for graph in store.named_graphs())
    return spans.rows


MEASURE = 'a cq:Measure ; cq:inForceFrom "2022-03-19"^^xsd:date ; cq:appliesTo '


def test_span_rows_give_up_where_they_cannot_stand_for_the_store() -> None:
    """The two cases SpanRows itself gives up on (repeats are counted, curated spans asked of the store)."""
    rows = _span_rows(f"measure:m1 {MEASURE} place:beibei .\n")
    assert rows is not None
    assert rows["https://w3id.org/cq-covid/id/place/beibei"][0][3] == "https://w3id.org/cq-covid/id/measure/m1"
    assert _span_rows(f'measure:m1 {MEASURE} "somewhere" .\n') is None
    assert (
        _span_rows(f"measure:m1 {MEASURE} place:beibei .\n<https://example.org/m1> {MEASURE} place:beibei .\n") is None
    )

"""`measures-announced-between` by way of the build's date index (kb/query/announced.py) gives the store's rows.

Each answer is compared with the query's own text run on the same database opened directly (the store alone, its
ORDER BY included), for ranges around every announcement day of a copy of the shipped knowledge base and of a
synthetic one; a missing, cut, unsorted or foreign index, a store with a date that is not a plain date, a range
wider than the index's limit and parameters that are not dates run the text on the store.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pyoxigraph as ox
import pytest
from samples import ROOT

from bench.synth import generate
from kb.project import Project
from kb.query import announced as announced_module
from kb.query import bind_params, get_named_query, parse_term, run_query
from kb.query.announced import ANNOUNCED, IMPLEMENTS, NAME, announced_between, index_text
from kb.query.summary import digest
from kb.store import build, open_snapshot, store_link

TEXT = get_named_query(NAME).text


def _copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "kb"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "facts", root / "facts")
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    project = Project(root)
    build(project)
    return project


def _store_rows(folder: Path, first: str, last: str) -> list[list[str | None]]:
    direct = ox.Store.read_only(str(folder))
    text = bind_params(TEXT, {"from": parse_term(first), "to": parse_term(last)})
    return [[None if t is None else str(t) for t in row] for row in run_query(direct, text).rows]


def _cells(rows: list[list[ox.NamedNode | ox.BlankNode | ox.Literal | None]]) -> list[list[str | None]]:
    return [[None if t is None else str(t) for t in row] for row in rows]


def _ranges(folder: Path) -> list[tuple[str, str]]:
    """Ranges that start, end and fall just inside, on and outside the announcement days the store holds."""
    lines = (folder / ANNOUNCED).read_text("utf-8").splitlines()[1:]
    days = sorted({date.fromisoformat(line.split("\t")[0]) for line in lines})
    picked = days[:: max(1, len(days) // 12)] + [days[-1]]
    one = timedelta(days=1)
    ranges = [(d.isoformat(), d.isoformat()) for d in picked]
    ranges += [((d - one).isoformat(), (d + one).isoformat()) for d in picked]
    ranges += [((d + one).isoformat(), (d + 3 * one).isoformat()) for d in picked]
    ranges += [(days[0].isoformat(), days[-1].isoformat()), ("1999-01-01", "1999-12-31"), ("2030-01-01", "2020-01-01")]
    return ranges


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    return _copy(tmp_path, monkeypatch)


def test_the_index_is_written_for_the_catalogues_text() -> None:
    assert digest(TEXT) == IMPLEMENTS  # a changed text must be followed here (or it runs on the store)


def test_the_index_gives_the_stores_rows_on_the_shipped_kb(shipped: Project) -> None:
    folder = store_link(shipped).resolve()
    store = open_snapshot(store_link(shipped))
    answered = 0
    for first, last in _ranges(folder):
        params = {"from": first, "to": last}
        by_index = announced_between(store, folder, TEXT, params)
        assert by_index is not None, (first, last)
        assert _cells(by_index.rows) == _store_rows(folder, first, last), (first, last)
        assert _cells(run_query(store, TEXT, params).rows) == _store_rows(folder, first, last)
        answered += bool(by_index.rows)
    assert answered >= 10


def test_the_index_gives_the_stores_rows_on_a_synthetic_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    project = Project(generate(tmp_path / "kb", measures=200, per_file=50))
    build(project)
    folder = store_link(project).resolve()
    store = open_snapshot(store_link(project))
    for first, last in _ranges(folder):
        by_index = announced_between(store, folder, TEXT, {"from": first, "to": last})
        assert by_index is not None and _cells(by_index.rows) == _store_rows(folder, first, last), (first, last)


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-30])


def _unsorted(path: Path) -> None:
    head, *lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text(head + "".join(reversed(lines)), "utf-8")


def _foreign(path: Path) -> None:
    path.write_text(path.read_text("utf-8").replace(IMPLEMENTS, "0" * 64, 1), "utf-8")


def _bad_line(path: Path) -> None:
    text = path.read_text("utf-8")
    path.write_text(text.replace("\t", " ", 1), "utf-8")


@pytest.mark.parametrize("damage", [_cut, _unsorted, _foreign, _bad_line, Path.unlink])
def test_a_damaged_index_runs_on_the_store(shipped: Project, monkeypatch: pytest.MonkeyPatch, damage: object) -> None:
    monkeypatch.setattr(announced_module, "_LOADED", {})
    folder = store_link(shipped).resolve()
    assert callable(damage)
    damage(folder / ANNOUNCED)
    store = open_snapshot(store_link(shipped))
    params = {"from": "2020-01-01", "to": "2022-12-31"}
    assert announced_between(store, folder, TEXT, params) is None
    assert _cells(run_query(store, TEXT, params).rows) == _store_rows(folder, "2020-01-01", "2022-12-31")


def test_what_the_index_cannot_stand_for_runs_on_the_store(shipped: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = store_link(shipped).resolve()
    store = open_snapshot(store_link(shipped))
    wide = {"from": "2020-01-01", "to": "2022-12-31"}
    assert announced_between(store, folder, TEXT, wide) is not None
    monkeypatch.setattr(announced_module, "MOST", 3)
    assert announced_between(store, folder, TEXT, wide) is None  # too many measures for a VALUES block
    assert _cells(run_query(store, TEXT, wide).rows) == _store_rows(folder, "2020-01-01", "2022-12-31")
    assert announced_between(store, folder, TEXT, {"from": "2020-01-01", "to": "soon"}) is None
    assert announced_between(store, folder, TEXT + " ", wide) is None
    assert announced_between(store, folder, TEXT, {"from": "2020-01-01"}) is None


def test_a_store_with_a_date_that_is_not_plain_gets_no_index() -> None:
    store = ox.Store()
    measure = ox.NamedNode("https://w3id.org/cq-covid/id/measure/x")
    announced = ox.NamedNode("https://w3id.org/cq-covid/def#announced")
    xsd = "http://www.w3.org/2001/XMLSchema#"
    store.add(ox.Quad(measure, announced, ox.Literal("2022-11-20", datatype=ox.NamedNode(xsd + "date"))))
    assert index_text(store) is not None
    store.add(ox.Quad(measure, announced, ox.Literal("2022-11-21+08:00", datatype=ox.NamedNode(xsd + "date"))))
    assert index_text(store) is None  # a time zone: the FILTER's comparison is not the text's
    store = ox.Store()
    store.add(ox.Quad(ox.BlankNode(), announced, ox.Literal("2022-11-20", datatype=ox.NamedNode(xsd + "date"))))
    assert index_text(store) is None  # a blank node cannot be named in a VALUES block


def test_the_bisection_finds_the_lines_a_scan_finds() -> None:
    """Days repeated, missing and at both ends, subjects of every length: each range's subjects as a scan finds them."""
    days = [date(2022, 1, 1) + timedelta(days=n // 3 + (n % 7 == 0)) for n in range(300)]
    pairs = sorted((day.isoformat(), f"urn:x:{'s' * (n % 17)}{n}") for n, day in enumerate(days))
    body = "".join(f"{day}\t{subject}\n" for day, subject in pairs).encode()
    index = announced_module._Index(b"{}\n" + body, 3)
    probe = sorted({day for day, _ in pairs} | {"2021-12-31", "2022-05-01", "2022-02-10"})
    for first in probe:
        for last in probe:
            expected = [subject for day, subject in pairs if first <= day <= last]
            assert index.subjects(first, last) == expected, (first, last)

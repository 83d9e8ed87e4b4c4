"""`measures-in-force-on-day` by way of the day index the build keeps (kb/query/days.py) gives the rows the SPARQL
gives on the store, in its order, on every span bound and the days either side of it and beyond them (every day of
the sources' two periods in `make test-sweeps`), for places with and without measures, with and without
include_unknown; a missing, damaged or stale index runs the SPARQL as written.

The reference is the query text run by the store alone (its own ORDER BY), on the same snapshot."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pyoxigraph as ox
import pytest
from samples import built_snapshot

from bench.synth import generate
from kb.project import Project
from kb.query import bind_params, get_named_query, parse_term, run_query
from kb.query import days as days_module
from kb.query.days import DAYS, IMPLEMENTS, NAME, in_force
from kb.query.run import _run, kept_answer
from kb.query.summary import digest
from kb.store import build, open_snapshot, snapshot_folder, store_link

TEXT = get_named_query(NAME).text
VARIABLES = ["measure", "label_en", "applies_to", "status", "effective_from", "effective_from_basis"]
VARIABLES += ["effective_until", "effective_until_basis", "reason"]


def _each_day(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


# The two periods the shipped sources cover (Jan 2020, Nov-Dec 2022) with a margin, and days before, between
# and after everything.
SHIPPED_DAYS = [*_each_day("2020-01-20", "2020-02-12"), *_each_day("2022-10-30", "2022-12-08")]
SHIPPED_DAYS += ["1999-01-01", "2019-12-31", "2021-06-15", "2023-01-01", "2030-01-01"]
SHIPPED_PLACES = ["place:shapingba", "place:beibei", "place:chongqing", "place:dadukou", "place:china"]


def _rows(result: object) -> list[tuple[str | None, ...]]:
    return [tuple(None if t is None else str(t) for t in row) for row in result.rows]  # type: ignore[attr-defined]


def _sparql(store: ox.Store, params: dict[str, str]) -> list[tuple[str | None, ...]]:
    """The rows of the query text as the store alone runs it (no kept answer, the store's ORDER BY)."""
    return _rows(_run(store, bind_params(TEXT, {k: parse_term(v) for k, v in params.items()})))


def _indexed(store: ox.Store, params: dict[str, str]) -> list[tuple[str | None, ...]]:
    kept = kept_answer(store, TEXT, params)
    assert kept is not None, f"not answered by way of the day index: {params}"
    assert kept.variables == VARIABLES
    return _rows(kept)


def _variants(day: str, place: str, other_value: bool = True) -> list[dict[str, str]]:
    """Without include_unknown, with it true, and (`other_value`) with another value, which the store's FILTER
    reads as false while the index keeps the unknown spans."""
    variants = [{"day": day, "place": place}, {"day": day, "place": place, "include_unknown": "true"}]
    return [*variants, {"day": day, "place": place, "include_unknown": "no"}] if other_value else variants


def test_the_index_implements_the_shipped_text() -> None:
    """The index is written for one text of the query: a changed text must be followed in kb/query/days.py (check
    that its spans still find every row), then IMPLEMENTS set to the new digest."""
    assert digest(TEXT) == IMPLEMENTS


def _compare_on_shipped(project: Project, days: list[str]) -> int:
    """The index against the SPARQL for each of `days` in every shipped place (and two without measures); the
    number of rows compared."""
    build(project)
    store = open_snapshot(store_link(project))
    assert (store_link(project).resolve() / DAYS).exists()
    answered = 0
    for place in [*SHIPPED_PLACES, "place:tiaodeng-town", "place:nowhere-at-all"]:  # no measures of its own; unknown
        for day in days:
            for params in _variants(day, place, other_value=place == "place:shapingba"):
                expected = _sparql(store, params)
                assert _indexed(store, params) == expected, params
                answered += len(expected)
    return answered


def _bound_days(store: ox.Store) -> list[str]:
    """Every span bound of a store and the days either side of it."""
    found = run_query(store, "SELECT DISTINCT ?d WHERE { { ?s cq:spanFrom ?d } UNION { ?s cq:spanUntil ?d } }")
    bounds = {date.fromisoformat(str(row["d"])) for row in found.records()}
    near = {bound + timedelta(days=n) for bound in bounds for n in (-1, 0, 1)}
    return sorted(day.isoformat() for day in near)


def test_the_index_gives_the_sparql_rows_on_the_shipped_kb(project: Project) -> None:
    """The sample of the sweep below that gives every answer the sweep can: the query compares the day only with
    span bounds (cq:spanFrom <= day <= cq:spanUntil), so its rows change only at a bound; every bound and the days
    either side of it, and days before, between and after all of them, meet each distinct answer, and each edge of
    a span from both sides. The sweep of every day of the sources' periods runs in `make test-sweeps`."""
    build(project)
    bounds = _bound_days(open_snapshot(store_link(project)))
    assert len(bounds) >= 20  # the shipped spans have bounds in both periods
    days = sorted({*bounds, *SHIPPED_DAYS[-5:]})  # the bounds and days before, between and after all of them
    assert _compare_on_shipped(project, days) > 300  # days with answers, not only empty ones


@pytest.mark.sweep
def test_the_index_gives_the_sparql_rows_on_every_day_of_the_shipped_kb(project: Project) -> None:
    assert _compare_on_shipped(project, SHIPPED_DAYS) > 1000  # the days chosen are ones with answers, not only empty


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("days")
    root = generate(folder / "kb", measures=400, per_file=100)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(folder / "state"))
        build(Project(root))
    return Project(root)


_snapshot = built_snapshot


def test_the_index_gives_the_sparql_rows_on_a_synthetic_kb(synthetic: Project) -> None:
    store = _snapshot(synthetic)
    places = run_query(store, "SELECT DISTINCT ?p WHERE { ?m cq:appliesTo ?p } ORDER BY ?p").records()
    chosen = [str(row["p"]) for row in places][::3]
    days = _bound_days(store)
    answered = 0
    for place in [f"<{iri}>" for iri in chosen]:
        for day in days[::4]:
            for params in _variants(day, place):
                expected = _sparql(store, params)
                assert _indexed(store, params) == expected, params
                answered += len(expected)
    assert answered > 100


def test_other_texts_and_parameters_run_on_the_store(synthetic: Project) -> None:
    store = _snapshot(synthetic)
    folder = snapshot_folder(store)
    assert folder is not None
    assert in_force(store, folder, TEXT, {"day": "2022-11-20", "place": "place:shapingba"}) is not None
    assert in_force(store, folder, TEXT + " ", {"day": "2022-11-20", "place": "place:shapingba"}) is None
    assert in_force(store, folder, TEXT, {"day": "2022-02-30", "place": "place:shapingba"}) is None
    assert in_force(store, folder, TEXT, {"day": "20 Nov 2022", "place": "place:shapingba"}) is None
    assert in_force(store, folder, TEXT, {"day": "2022-11-20", "place": "shapingba"}) is None
    assert in_force(store, folder, TEXT, {"day": "2022-11-20"}) is None
    assert in_force(store, folder, TEXT, {"day": "2022-11-20", "place": "place:shapingba", "x": "1"}) is None


def test_no_index_is_written_for_another_text(monkeypatch: pytest.MonkeyPatch, synthetic: Project) -> None:
    store = _snapshot(synthetic)
    assert days_module.index_text(store) is not None
    monkeypatch.setattr(days_module, "IMPLEMENTS", "0" * 64)
    assert days_module.index_text(store) is None


@pytest.mark.parametrize(
    "damage", ["missing", "empty", "not json", "other format", "other query", "cut short", "bad line", "unsorted"]
)
def test_a_missing_damaged_or_stale_index_runs_the_sparql(synthetic: Project, damage: str) -> None:
    """A fresh build whose index is then damaged before any reader opened it: the query runs on the store as
    written, and gives the SPARQL's rows."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(synthetic.root.parent / "state"))
        build(synthetic, force=True)
        folder = store_link(synthetic).resolve()
        path = folder / DAYS
        header, body = path.read_text("utf-8").split("\n", 1)
        lines = body.split("\n")
        if damage == "missing":
            path.unlink()
        elif damage == "empty":
            path.write_text("", "utf-8")
        elif damage == "not json":
            path.write_text("{" + header + "\n" + body, "utf-8")
        elif damage == "other format":
            path.write_text(header.replace('"format": 1', '"format": 0') + "\n" + body, "utf-8")
        elif damage == "other query":  # an index built for another text of the query
            path.write_text(header.replace('"query": "', '"query": "0') + "\n" + body, "utf-8")
        elif damage == "cut short":
            path.write_text(header + "\n" + body[: len(body) // 3], "utf-8")
        elif damage == "bad line":
            path.write_text(header + "\n" + "\n".join(line.replace("\t", " ") for line in lines), "utf-8")
        else:  # each block's lines in reverse order of start (the same bytes in each block)
            data = body.encode("utf-8")
            blocks = []
            for offset, size in sorted(json.loads(header)["places"].values()):
                block = data[offset : offset + size].decode("utf-8").split("\n")[:-1]
                blocks.append("".join(line + "\n" for line in block[::-1]))
            path.write_text(header + "\n" + "".join(blocks), "utf-8")
        store = open_snapshot(store_link(synthetic))
    days = _bound_days(store)
    for day in days[:: max(1, len(days) // 6)]:
        for place in ("place:chongqing", "place:shapingba", "place:yuzhong"):
            params = {"day": day, "place": place}
            assert kept_answer(store, TEXT, params) is None, (damage, params)
            assert _rows(run_query(store, TEXT, params)) == _sparql(store, params)


def test_the_index_of_a_removed_folder_is_let_go(tmp_path_factory: pytest.TempPathFactory) -> None:
    """kb serve lives through many builds: an index header read from a folder a later build removed is dropped."""
    gone = tmp_path_factory.mktemp("gone")
    kept = tmp_path_factory.mktemp("kept")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(days_module, "_LOADED", {})
        assert days_module._index(gone) is None  # no index there: remembered as None
        assert str(gone) in days_module._LOADED
        gone.rmdir()
        days_module._index(kept)
        assert str(gone) not in days_module._LOADED


def test_the_runs_passed_over_hide_no_span() -> None:
    """Spans of random lengths (some open, some of many runs): the measures found for each day are those of a scan
    of every span."""
    import random

    chance = random.Random(18)
    spans = []
    for number in range(700):
        start = date(2022, 1, 1) + timedelta(days=chance.randrange(365))
        # mostly short spans, so that many runs end before later days; a few long and open ones
        length = chance.choice([0, 0, 1, 1, 2, 5]) if number % 50 else chance.choice([200, None])
        until = "~" if length is None else (start + timedelta(days=length)).isoformat()
        spans.append((start.isoformat(), until, f"m{number}"))
    spans.sort()
    found = days_module._Spans([span[0] for span in spans], spans)
    assert len(found.ends) == 11
    for day in _each_day("2021-12-30", "2023-08-01"):
        expected = [measure for start, until, measure in spans if start <= day <= until]
        assert found.covering(day) == expected, day

"""`search` from the folded-text index the build keeps (kb/query/search.py) gives what SPARQL gives for the same
folding; a search in either Chinese script finds both, English ignores case; a missing or damaged index, or a
parameter the index cannot take, runs the SPARQL on the store.

The reference folds the store's labels and quotes with the same `fold` into an in-memory copy (a property of their
own) and runs the search's SPARQL over those, with the folded parameter: the index must give exactly its rows.
"""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
import pytest
from samples import built_snapshot

from bench.synth import generate
from kb.namespaces import PREFIXES
from kb.project import Project
from kb.query import get_named_query, run_query
from kb.query.run import kept_answer
from kb.query.search import SEARCH, fold
from kb.store import build, open_snapshot, store_link

SEARCH_TEXT = get_named_query("search").text
FOLDED = ox.NamedNode("urn:test:folded")
# search.rq's answer, over the folded texts
REFERENCE = """
SELECT DISTINCT ?measure ?label_en ?label_zh WHERE {
  ?measure <urn:test:folded> ?hit .
  FILTER(CONTAINS(?hit, ?text))
  ?measure a cq:Measure .
  OPTIONAL { ?measure rdfs:label ?label_en FILTER(LANG(?label_en) = "en") }
  OPTIONAL { ?measure rdfs:label ?label_zh FILTER(LANG(?label_zh) = "zh") }
}
ORDER BY ?measure
"""
PLANTED = """@prefix cq: <{cq}> .
@prefix measure: <{measure}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
measure:planted-traditional a cq:Measure ;
  rdfs:label "居家隔離七天"@zh, "Seven Days of HOME Isolation"@en, "Home isolation for seven days"@en ;
  cq:quote "對密切接觸者實行居家隔離" .
"""
TEXTS = ("核酸", "隔离", "隔離", "居家隔離", "home isolation", "HOME ISOLATION", "Seven", "检测", "", "a", "zzz-none")


def _rows(result: object) -> list[tuple[str | None, ...]]:
    return [tuple(None if t is None else str(t) for t in row) for row in result.rows]  # type: ignore[attr-defined]


def _folded_copy(store: ox.Store) -> ox.Store:
    """The store's quads in memory, with each label and quote also as its folded text under urn:test:folded."""
    copy = ox.Store()
    texts = {ox.NamedNode(PREFIXES["rdfs"] + "label"), ox.NamedNode(PREFIXES["cq"] + "quote")}
    for quad in store.quads_for_pattern(None, None, None):
        copy.add(quad)
        if quad.predicate in texts and isinstance(quad.object, ox.NamedNode | ox.Literal):
            copy.add(ox.Quad(quad.subject, FOLDED, ox.Literal(fold(quad.object.value)), quad.graph_name))
    return copy


def _reference(copy: ox.Store, text: str) -> list[tuple[str | None, ...]]:
    return _rows(run_query(copy, REFERENCE, {"text": fold(text)}))


def _same(kept: list[tuple[str | None, ...]], expected: list[tuple[str | None, ...]]) -> None:
    """The same rows, in the same order of measures (two rows of one measure may come either way round)."""
    assert Counter(kept) == Counter(expected)
    assert [row[0] for row in kept] == [row[0] for row in expected]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("search")
    root = generate(folder / "kb", measures=150, per_file=50)
    planted = root / "facts" / "synth" / "planted.ttl"
    planted.write_text(PLANTED.format(cq=PREFIXES["cq"], measure=PREFIXES["measure"]), "utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(folder / "state"))
        build(Project(root))
    return Project(root)


_snapshot = built_snapshot


def test_the_index_is_written_with_the_store(synthetic: Project) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(synthetic.root.parent / "state"))
        folder = store_link(synthetic).resolve()
    header = (folder / SEARCH).read_text("utf-8").split("\n", 1)[0]
    assert '"measures": 151' in header  # 150 synthetic measures and the planted one


@pytest.mark.parametrize("text", TEXTS)
def test_the_index_gives_the_sparql_answer_for_the_same_folding(synthetic: Project, text: str) -> None:
    store = _snapshot(synthetic)
    kept = kept_answer(store, SEARCH_TEXT, {"text": text})
    assert kept is not None, "search was not answered from the index"
    assert kept.variables == ["measure", "label_en", "label_zh"]
    _same(_rows(kept), _reference(_folded_copy(store), text))


def test_the_index_gives_the_sparql_answer_on_the_shipped_kb(project: Project) -> None:
    build(project)
    store = open_snapshot(store_link(project))
    copy = _folded_copy(store)
    for text in ("核酸", "隔离", "隔離", "防控", "Home", "HOME", "isolation"):
        kept = kept_answer(store, SEARCH_TEXT, {"text": text})
        assert kept is not None
        _same(_rows(kept), _reference(copy, text))


def test_either_script_and_any_case_finds_the_planted_measure(synthetic: Project) -> None:
    store = _snapshot(synthetic)
    planted = f"<{PREFIXES['measure']}planted-traditional>"
    for text in (
        "隔离",
        "隔離",
        "居家隔离七天",
        "对密切接触者",
        "home isolation",
        "HOME ISOLATION",
        "seven days of home",
    ):
        rows = _rows(run_query(store, SEARCH_TEXT, {"text": text}))
        assert planted in {row[0] for row in rows}, text
    # two English labels and one Chinese: one row per pair, as the SPARQL's OPTIONALs give
    rows = [row for row in _rows(run_query(store, SEARCH_TEXT, {"text": "隔離七天"})) if row[0] == planted]
    assert len(rows) == 2
    # the SPARQL alone does not fold scripts: it finds the traditional label only by its own characters
    direct = ox.Store.read_only(str(store_link(synthetic).resolve()))
    assert planted not in {row[0] for row in _rows(run_query(direct, SEARCH_TEXT, {"text": "居家隔离七天"}))}


def test_other_texts_and_parameters_run_on_the_store(synthetic: Project) -> None:
    store = _snapshot(synthetic)
    assert kept_answer(store, SEARCH_TEXT, {"text": "a\nb"}) is None  # a newline: the index cannot tell
    assert kept_answer(store, SEARCH_TEXT.replace("DISTINCT", "DISTINCT "), {"text": "核酸"}) is None
    assert kept_answer(store, SEARCH_TEXT, {"text": "核酸", "other": "x"}) is None


@pytest.mark.parametrize(
    "damage",
    ["missing", "empty", "not json", "other format", "other query", "lines cut", "bad row"],
)
def test_a_missing_or_damaged_index_runs_the_sparql(synthetic: Project, damage: str) -> None:
    """A fresh build whose index is then damaged before any reader opened it: search runs on the store, and gives
    the SPARQL's rows."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(synthetic.root.parent / "state"))
        build(synthetic, force=True)
        folder = store_link(synthetic).resolve()
        path = folder / SEARCH
        lines = path.read_text("utf-8").split("\n")
        if damage == "missing":
            path.unlink()
        elif damage == "empty":
            path.write_text("", "utf-8")
        elif damage == "not json":
            path.write_text("{" + "\n".join(lines), "utf-8")
        elif damage == "other format":
            path.write_text("\n".join([lines[0].replace('"format": 1', '"format": 0'), *lines[1:]]), "utf-8")
        elif damage == "other query":
            path.write_text("\n".join([lines[0].replace('"query": "', '"query": "0'), *lines[1:]]), "utf-8")
        elif damage == "lines cut":
            path.write_text("\n".join(lines[:-5]), "utf-8")
        else:  # every answer row (the second half of the lines) unreadable
            count = (len(lines) - 2) // 2
            path.write_text("\n".join(lines[: count + 1] + ["[not a row"] * count + [""]), "utf-8")
        store = open_snapshot(store_link(synthetic))
    direct = ox.Store.read_only(str(folder))
    for text in ("核酸", "Home"):
        assert kept_answer(store, SEARCH_TEXT, {"text": text}) is None
        assert _rows(run_query(store, SEARCH_TEXT, {"text": text})) == _rows(
            run_query(direct, SEARCH_TEXT, {"text": text})
        )


def test_the_index_of_a_removed_folder_is_let_go(synthetic: Project, tmp_path_factory: pytest.TempPathFactory) -> None:
    """kb serve lives through many builds: an index read from a folder that a later build removed is dropped."""
    from kb.query import search

    gone = tmp_path_factory.mktemp("gone")
    search._index(gone)  # no index there: remembered as None
    assert str(gone) in search._LOADED
    gone.rmdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(synthetic.root.parent / "state"))
        build(synthetic, force=True)  # a folder with a sound index (the tests above damage theirs)
    store = _snapshot(synthetic)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search, "_LOADED", dict(search._LOADED))
        assert kept_answer(store, SEARCH_TEXT, {"text": "核酸"}) is not None
        assert str(gone) not in search._LOADED

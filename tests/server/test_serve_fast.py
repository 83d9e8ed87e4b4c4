"""kb serve answers from kb query's fast paths (kept summaries, the search index, a final ORDER BY in Python) with
exactly the bytes the store's own serialisation gives, in every results format.

The reference is what kb/serve/answer.py did before: the bound text run on the store and written by pyoxigraph.
Every named query runs both ways, on the shipped knowledge base and on a synthetic one, through `answer_query` with
the worker's snapshot folder.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from samples import query_bindings

from bench.synth import generate
from kb.media import CONTENT_TYPES
from kb.namespaces import PREFIXES
from kb.project import Project
from kb.query import bind_params, catalogue, get_named_query, parse_term, run_query
from kb.query.summary import Term
from kb.query.tables import KeptTable, keep_table, kept_table
from kb.serve.answer import QueryJob, _fast_result, answer_query
from kb.store import build, store_link

QUERIES = catalogue()
FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
LIMIT = 1 << 30


def _folder(project: Project) -> Path:
    build(project)
    return store_link(project).resolve()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = generate(tmp_path_factory.mktemp("serve-fast") / "kb", measures=200, per_file=100)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(root / ".kb"))
        return _folder(Project(root))


@pytest.fixture(scope="module")
def shipped(project: Project) -> Path:
    return _folder(project)


def _store_bytes(store: ox.Store, text: str, params: dict[str, str], name: str) -> bytes:
    """What the endpoint sent before: the store's own answer, serialised by pyoxigraph."""
    if params:
        text = bind_params(text, {k: parse_term(v) for k, v in params.items()})
    result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    sink = io.BytesIO()
    result.serialize(sink, getattr(ox.QueryResultsFormat, name.upper()))
    return sink.getvalue()


@pytest.mark.parametrize("kb", ["shipped", "synthetic"])
def test_every_named_query_gives_the_stores_bytes_in_every_format(kb: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(kb)
    store = ox.Store.read_only(str(folder))
    fast = answered = 0
    for name, query in QUERIES.items():
        params = query_bindings(query)
        job = QueryJob(query.text, ("application/sparql-results+json",), bindings=tuple(params.items()))
        if _fast_result(store, job, folder, LIMIT) is not None:
            fast += 1
        for fmt, accept in FORMATS.items():
            job = QueryJob(query.text, (accept,), bindings=tuple(params.items()))
            reply = answer_query(store, job, LIMIT, folder=folder)
            if reply.status == 400 and reply.body.startswith(b"no such"):
                break  # a sample parameter names a thing of the other knowledge base
            answered += fmt == "json"
            assert reply.status == 200, f"{name} ({fmt}): {reply.body[:300]!r}"
            assert reply.content_type == CONTENT_TYPES[fmt.upper()]
            assert reply.body == _store_bytes(store, query.text, params, fmt), f"{name} ({fmt}) differs"
    assert answered >= len(QUERIES) - 15, f"only {answered} of {len(QUERIES)} named queries compared"
    assert fast >= 20, f"only {fast} named queries took a fast path"


def test_kept_answers_are_served_from_the_snapshot_folder(synthetic: Path) -> None:
    """A summary and a search are answered without the store's SPARQL: with a store that holds nothing, the
    folder's kept answers still give the rows."""
    empty = ox.Store()
    summary = QueryJob(get_named_query("measures-by-strength").text, ("text/csv",))
    reply = answer_query(empty, summary, LIMIT, folder=synthetic)
    assert reply.status == 200 and reply.body.count(b"\n") > 2
    search = QueryJob(get_named_query("search").text, ("text/csv",), bindings=(("text", "核酸"),))
    assert answer_query(empty, search, LIMIT, folder=synthetic).body.count(b"\n") > 2
    assert answer_query(empty, search, LIMIT).body.count(b"\n") == 1  # no folder: the empty store's answer


def test_a_result_over_the_size_limit_is_refused_as_before(synthetic: Path) -> None:
    store = ox.Store.read_only(str(synthetic))
    job = QueryJob(get_named_query("measures").text, ("text/csv",))
    assert _fast_result(store, job, synthetic, 1000) is None  # not collected past the budget
    reply = answer_query(store, job, 1000, folder=synthetic)
    assert reply.status == 422


def test_a_kept_answer_over_the_size_limit_is_refused_as_before(synthetic: Path) -> None:
    """The search index's answer counts against the same budget as the store's (it was served whole)."""
    store = ox.Store.read_only(str(synthetic))
    job = QueryJob(get_named_query("search").text, ("text/csv",), bindings=(("text", "核酸"),))
    assert _fast_result(store, job, synthetic, LIMIT) is not None  # the index answers it within the limit
    assert _fast_result(store, job, synthetic, 1000) is None
    assert answer_query(store, job, 1000, folder=synthetic).status == 422


def test_a_kept_table_over_the_limit_is_refused_before_it_is_read_whole(
    synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full table kept by its first answer is read only up to the row that passes the budget, not decoded whole
    and then measured (the same 422 as the store's run gives)."""
    store = ox.Store.read_only(str(synthetic))
    text = get_named_query("measures").text
    keep_table(synthetic, text, run_query(store, text))  # as a first answer keeps it
    table = kept_table(synthetic, text)
    assert table is not None and table.count == 200
    read: list[int] = []
    rows = KeptTable.rows

    def counted(self: KeptTable) -> Iterator[list[Term]]:
        for row in rows(self):
            read.append(1)
            yield row

    monkeypatch.setattr(KeptTable, "rows", counted)
    job = QueryJob(text, ("text/csv",))
    assert _fast_result(store, job, synthetic, LIMIT) is not None and len(read) == 200  # within the limit: whole
    read.clear()
    assert _fast_result(store, job, synthetic, 1000) is None
    assert 0 < len(read) < 20, len(read)
    assert answer_query(store, job, 1000, folder=synthetic).status == 422


def test_a_dataset_of_the_clients_own_runs_on_the_store(synthetic: Path) -> None:
    store = ox.Store.read_only(str(synthetic))
    graph = next(iter(store.named_graphs())).value
    job = QueryJob(get_named_query("measures-by-strength").text, ("text/csv",), default_graphs=(graph,))
    assert _fast_result(store, job, synthetic, LIMIT) is None
    assert answer_query(store, job, LIMIT, folder=synthetic).status == 200


def test_a_syntax_error_reads_as_before(synthetic: Path) -> None:
    store = ox.Store.read_only(str(synthetic))
    job = QueryJob("SELECT ?s WHERE { ?s ?p } ORDER BY ?s", ("text/csv",))
    reply = answer_query(store, job, LIMIT, folder=synthetic)
    assert reply.status == 400 and reply.body.startswith(b"SPARQL syntax error")

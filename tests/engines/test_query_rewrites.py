"""Named queries rewritten for speed give exactly the rows of their earlier text.

tests/engines/rewritten-queries/ keeps the text each rewritten query had before (one file per query, named as in
the catalogue). Both texts run on the shipped knowledge base and on a synthetic one (bench/synth.py), with the same
parameters, and must give the same variables and the same rows in the same order (terms compared whole, so a
GROUP_CONCAT joined in another order counts as a difference).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from samples import query_bindings

from bench.synth import generate
from kb.project import Project
from kb.query import catalogue, run_query
from kb.store import open_store

REFERENCE = Path(__file__).resolve().parent / "rewritten-queries"
QUERIES = catalogue()
REWRITTEN = sorted(path.stem for path in REFERENCE.glob("*.rq"))


def _answer(store: ox.Store, text: str, params: dict[str, str]) -> tuple[list[str], list[list[str | None]]]:
    result = run_query(store, text, params)
    return result.variables, [[None if term is None else str(term) for term in row] for row in result.rows]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """A synthetic knowledge base of 300 measures, built like the real one (derived periods included)."""
    folder = tmp_path_factory.mktemp("rewrites")
    root = generate(folder / "kb", measures=300, per_file=100)
    mp = pytest.MonkeyPatch()
    mp.setenv("KB_STATE_DIR", str(folder / "state"))
    try:
        return open_store(Project(root))
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def shipped(project: Project) -> ox.Store:
    return open_store(project)


def test_every_reference_names_a_query() -> None:
    assert REWRITTEN, "no reference texts found"
    unknown = [name for name in REWRITTEN if name not in QUERIES]
    assert not unknown, f"reference texts for queries the catalogue does not have: {unknown}"


@pytest.mark.parametrize("name", REWRITTEN)
@pytest.mark.parametrize("kb", ["shipped", "synthetic"])
def test_rewritten_query_gives_the_old_rows(name: str, kb: str, request: pytest.FixtureRequest) -> None:
    store = request.getfixturevalue(kb)
    query = QUERIES[name]
    old_text = (REFERENCE / f"{name}.rq").read_text("utf-8")
    assert old_text != query.text, f"{name}: the reference is the current text; nothing is compared"
    params = query_bindings(query)
    old_vars, old_rows = _answer(store, old_text, params)
    new_vars, new_rows = _answer(store, query.text, params)
    assert new_vars == old_vars
    assert len(new_rows) == len(old_rows)
    assert new_rows == old_rows

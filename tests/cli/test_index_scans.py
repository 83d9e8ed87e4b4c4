"""The build's search and day indexes read the store with plain scans of one pattern each and join them in Python
(kb/query/search.py, kb/query/days.py): what they write is what the store's own join of the same patterns gives.

The references are the joins as the store ran them before (each pattern a sub-SELECT, joined by hashing), with
the code that turned their solutions into the files; they are compared with the new reading on the shipped KB, a
synthetic KB and planted stores: statements in two graphs (the union of the graphs gives them twice), a span with
two last days, none, or no state, several labels in a language, texts holding newlines and NULs, blank nodes and
literals where IRIs are wanted, days that are not plain dates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from samples import built_snapshot

from bench.synth import generate
from kb.errors import FileWriteError
from kb.fsio import write_atomic
from kb.namespaces import BASE_ID, PREFIXES
from kb.project import Project
from kb.query import days, search
from kb.query.catalogue import get_named_query
from kb.query.summary import digest, encode_term
from kb.store import build, open_snapshot, store_link

_OLD_TEXTS = """
SELECT ?measure ?text WHERE {
  { SELECT ?measure ?text WHERE { ?measure PROPERTY ?text } }
  { SELECT ?measure WHERE { ?measure a cq:Measure } }
}
"""
_OLD_SPANS = """
SELECT ?applies_to ?measure ?from ?until ?unknown WHERE {
  { SELECT ?measure ?applies_to WHERE { ?measure cq:appliesTo ?applies_to } }
  { SELECT ?span ?measure WHERE { ?span cq:spanOf ?measure } }
  { SELECT ?span ?from WHERE { ?span cq:spanFrom ?from } }
  { SELECT ?span ?unknown WHERE { ?span cq:status ?state BIND(?state = cq:StatusUnknown AS ?unknown) } }
  OPTIONAL { SELECT ?span ?until WHERE { ?span cq:spanUntil ?until } }
}
"""


def _query(store: ox.Store, text: str) -> ox.QuerySolutions:
    result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    return result


def old_search_text(store: ox.Store) -> str | None:
    """search.txt as the store's join gave it (the code of 9bd7054, every solution as terms)."""
    texts: dict[str, list[str]] = {}
    labels: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]] = {}
    for prop in ("rdfs:label", "cq:quote"):
        for measure, text in list(_query(store, _OLD_TEXTS.replace("PROPERTY", prop))):
            if not isinstance(measure, ox.NamedNode):
                return None
            if text is None or isinstance(text, ox.BlankNode):
                continue
            texts.setdefault(measure.value, []).append(search.fold(text.value).replace("\n", "\0"))
            if prop == "rdfs:label":
                labels.setdefault(measure.value, []).append(text)

    def pairs(terms: list[ox.NamedNode | ox.BlankNode | ox.Literal]) -> list[list[list[str] | None]]:
        def of(language: str) -> list[list[str] | None]:
            found = {str(t): t for t in terms if isinstance(t, ox.Literal) and t.language == language}
            return [encode_term(found[key]) for key in sorted(found)] or [None]

        return [[en, zh] for en in of("en") for zh in of("zh")]

    order = sorted(texts)
    header = {"format": search.FORMAT, "query": digest(get_named_query(search.NAME).text), "measures": len(order)}
    haystacks = ["\0".join(sorted(set(texts[iri]))) for iri in order]
    rows = [json.dumps([iri, pairs(labels.get(iri, []))], ensure_ascii=False) for iri in order]
    return "\n".join([json.dumps(header), *haystacks, *rows]) + "\n"


def old_blocks(store: ox.Store) -> days.Blocks | None:
    """The day index's rows as the store's join gave them (the code of 76efaf1)."""
    blocks: days.Blocks = {}
    for applies_to, measure, start, until, unknown in _query(store, _OLD_SPANS):
        if not isinstance(applies_to, ox.NamedNode) or not isinstance(measure, ox.NamedNode):
            return None
        first, last = days._day(start), ("" if until is None else days._day(until))
        if first is None or last is None:
            return None
        flag = "1" if isinstance(unknown, ox.Literal) and unknown.value == "true" else "0"
        blocks.setdefault(applies_to.value, []).append((first, last, flag, measure.value))
    return blocks


def _new_search_text(store: ox.Store) -> str | None:
    lines = search.index_lines(store)
    return None if lines is None else "".join(lines)


def _old_days_text(store: ox.Store) -> str | None:
    blocks = old_blocks(store)
    parts = None if blocks is None else days.index_parts(store, blocks)
    return None if parts is None else "".join(parts)


CQ, MEASURE, PLACE, ID = PREFIXES["cq"], PREFIXES["measure"], PREFIXES["place"], BASE_ID
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DATE = "http://www.w3.org/2001/XMLSchema#date"


def _day(text: str) -> str:
    return f'"{text}"^^<{DATE}>'


def _planted(extra: str = "") -> ox.Store:
    """A store of planted measures, labels, quotes and spans, some statements in two graphs, plus `extra` (quads
    apart by " .  ")."""
    a, b, c = (f"<{MEASURE}planted-{n}>" for n in "abc")
    s1, s2, s3, s4, s5 = (f"<{ID}span/planted/{n}>" for n in range(1, 6))
    lines = [
        f"{a} <{TYPE}> <{CQ}Measure> <urn:g:1> .",
        f"{a} <{TYPE}> <{CQ}Measure> <urn:g:2> .",  # typed in two graphs
        f'{a} <{LABEL}> "Home Isolation"@en <urn:g:1> .',
        f'{a} <{LABEL}> "Home Isolation"@en <urn:g:2> .',  # the same label in two graphs
        f'{a} <{LABEL}> "A second English label"@en <urn:g:1> .',
        f'{a} <{LABEL}> "居家隔離"@zh <urn:g:1> .',
        f'{a} <{LABEL}> "isolement"@fr <urn:g:1> .',
        f'{a} <{LABEL}> "no language" <urn:g:1> .',
        f"{a} <{LABEL}> <{CQ}NotAText> <urn:g:1> .",  # an IRI as a label: its text is searched
        f"{a} <{LABEL}> _:blank <urn:g:1> .",  # a blank node: never matched
        f'{a} <{CQ}quote> "line one\\nline two" <urn:g:1> .',
        f'{a} <{CQ}quote> "with a \\u0000 inside" <urn:g:1> .',
        f"{b} <{TYPE}> <{CQ}Measure> <urn:g:1> .",
        f'{b} <{CQ}quote> "only a quote, ΣΊΣΥΦΟΣ" <urn:g:1> .',
        f'<{MEASURE}not-a-measure> <{LABEL}> "not a measure"@en <urn:g:1> .',
        f'_:thing <{LABEL}> "a blank node that is no measure"@en <urn:g:1> .',
        f"_:blankmeasure <{TYPE}> <{CQ}Measure> <urn:g:1> .",  # a blank-node measure without text: no matter
        f"{a} <{CQ}appliesTo> <{PLACE}shapingba> <urn:g:1> .",
        f"{a} <{CQ}appliesTo> <{PLACE}shapingba> <urn:g:2> .",  # twice: its rows twice
        f"{a} <{CQ}appliesTo> <{PLACE}beibei> <urn:g:1> .",
        f"{b} <{CQ}appliesTo> <{PLACE}beibei> <urn:g:1> .",
        f"{s1} <{CQ}spanOf> {a} <urn:g:d> .",
        f"{s1} <{CQ}spanFrom> {_day('2022-11-01')} <urn:g:d> .",
        f"{s1} <{CQ}spanUntil> {_day('2022-11-20')} <urn:g:d> .",
        f"{s1} <{CQ}spanUntil> {_day('2022-11-10')} <urn:g:d> .",  # two last days: a row each
        f"{s1} <{CQ}status> <{CQ}InForce> <urn:g:d> .",
        f"{s2} <{CQ}spanOf> {a} <urn:g:d> .",
        f"{s2} <{CQ}spanFrom> {_day('2022-11-21')} <urn:g:d> .",  # open: no last day
        f"{s2} <{CQ}status> <{CQ}StatusUnknown> <urn:g:d> .",
        f"{s2} <{CQ}status> <{CQ}StatusUnknown> <urn:g:e> .",  # its state in two graphs
        f"{s3} <{CQ}spanOf> {b} <urn:g:d> .",
        f"{s3} <{CQ}spanFrom> {_day('2022-12-01')} <urn:g:d> .",
        f'{s3} <{CQ}status> "a literal state" <urn:g:d> .',  # not unknown
        f"{s4} <{CQ}spanOf> {b} <urn:g:d> .",
        f'{s4} <{CQ}spanFrom> "not a day" <urn:g:d> .',  # no state: joins no row, so no matter
        f"{s5} <{CQ}spanFrom> {_day('2022-12-02')} <urn:g:d> .",  # no measure: joins no row
        f"{s5} <{CQ}status> <{CQ}InForce> <urn:g:d> .",
        f"<{PLACE}shapingba> <{CQ}within> <{PLACE}chongqing> <urn:g:1> .",
        extra.replace(" .  ", " .\n"),
    ]
    store = ox.Store()
    store.load(input="\n".join(lines).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
    return store


def test_the_planted_store_gives_the_joins_files() -> None:
    store = _planted()
    text = _new_search_text(store)
    assert text is not None and "isolement" in text and "ΣΊΣΥΦΟΣ".casefold() in text
    assert text == old_search_text(store)
    day_text = days.index_text(store)
    assert day_text is not None and "2022-11-10" in day_text and "2022-12-01" in day_text
    assert day_text.count("2022-11-01\t2022-11-20\t0") == 3  # shapingba twice, beibei once
    assert day_text == _old_days_text(store)


@pytest.mark.parametrize(
    "extra",
    [
        f'_:blankmeasure <{LABEL}> "a blank-node measure with a label"@en <urn:g:1> .',
        f'_:blankmeasure <{CQ}quote> "a blank-node measure with a quote" <urn:g:1> .',
    ],
)
def test_a_blank_node_measure_with_a_text_gives_no_search_index(extra: str) -> None:
    store = _planted(extra)
    assert old_search_text(store) is None
    assert _new_search_text(store) is None
    assert days.index_text(store) is not None  # the day index does not mind


@pytest.mark.parametrize(
    "extra",
    [
        f"<{MEASURE}planted-b> <{CQ}appliesTo> _:somewhere <urn:g:1> .",  # a place that is no IRI
        f'<{MEASURE}planted-b> <{CQ}appliesTo> "Beibei" <urn:g:1> .',  # nor a literal
        f"<{ID}span/planted/3> <{CQ}spanFrom> {_day('2022-12-1')} <urn:g:d> .",  # a first day not YYYY-MM-DD
        f'<{ID}span/planted/3> <{CQ}spanUntil> "2022-12-09" <urn:g:d> .',  # a last day that is a plain string
        f"_:span <{CQ}spanOf> _:m <urn:g:d> .  _:m <{CQ}appliesTo> <{PLACE}beibei> <urn:g:d> .  "
        f"_:span <{CQ}spanFrom> {_day('2022-12-03')} <urn:g:d> .  _:span <{CQ}status> <{CQ}InForce> <urn:g:d> .",
        f"<{PLACE}beibei> <{CQ}within> _:above <urn:g:1> .",  # the hierarchy not all IRIs
    ],
)
def test_what_the_day_index_cannot_stand_for_gives_none_both_ways(extra: str) -> None:
    store = _planted(extra)
    assert _old_days_text(store) is None
    assert days.index_text(store) is None
    assert _new_search_text(store) == old_search_text(store)


def test_a_span_in_a_blank_node_that_joins_nothing_does_not_matter() -> None:
    store = _planted(f"_:loose <{CQ}spanOf> _:nobody <urn:g:d> .  _:loose <{CQ}status> <{CQ}InForce> <urn:g:d> .")
    assert days.index_text(store) is not None
    assert days.index_text(store) == _old_days_text(store)


def test_the_shipped_kb_gives_the_joins_files(project: Project) -> None:
    build(project)
    store = open_snapshot(store_link(project))
    assert _new_search_text(store) == old_search_text(store) is not None
    assert days.index_text(store) == _old_days_text(store) is not None


def test_a_synthetic_kb_gives_the_joins_files(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = generate(tmp_path_factory.mktemp("scans") / "kb", 1500, per_file=500)
    project = Project(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(root.parent / "state"))
        build(project)
    store = built_snapshot(project)
    assert _new_search_text(store) == old_search_text(store) is not None
    assert days.index_text(store) == _old_days_text(store) is not None
    folder = root.parent / "state" / "store"
    assert (folder / search.SEARCH).read_text("utf-8") == old_search_text(store)
    assert (folder / days.DAYS).read_text("utf-8") == _old_days_text(store)


def test_a_file_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError, match="cannot write .*gone"):
        write_atomic(tmp_path / "gone" / search.SEARCH, iter(["a line\n"]))


def test_an_index_written_in_pieces_is_all_or_nothing(tmp_path: Path) -> None:
    """The indexes' lines are written as they come (never joined in memory) into a temporary file renamed at the
    end: a failure while the lines are produced leaves the old file whole and no temporary file."""
    path = tmp_path / search.SEARCH
    path.write_text("old\n", "utf-8")

    def failing() -> Iterator[str]:
        yield "new line\n"
        raise RuntimeError("the store failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        write_atomic(path, failing())
    assert path.read_text("utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [search.SEARCH]
    assert write_atomic(path, (f"line {n}\n" for n in range(3))) == len("line 0\n") * 3
    assert path.read_text("utf-8") == "line 0\nline 1\nline 2\n"

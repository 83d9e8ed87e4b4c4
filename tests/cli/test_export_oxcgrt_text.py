"""The `export-oxcgrt` feed's rewritten text (the codings' patterns in each UNION branch) gives its old text's rows.

On a copy of the shipped knowledge base (same rows, same order), and on it with planted codings of every shape the
old text met: a measure of several places, one of none, a series of dated announcements with and without sequence
numbers, a coding without a reason, with reasons in two languages, targeted or not, and one whose indicator has no
notation (same rows; rows whose ORDER BY keys tie may come in another order, which no ORDER BY fixes).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from samples import ROOT

from kb.namespaces import PREFIXES
from kb.query import get_named_query

# The text before the rewrite: the UNION after the codings' patterns and their OPTIONALs.
OLD = """PREFIX oxcgrt: <https://w3id.org/cq-covid/def/oxcgrt/>
SELECT ?coding ?subject ?code ?level ?reason ?targeted ?place ?day ?sequence WHERE {
  ?coding a cq:IndicatorCoding ; cq:codes ?subject ; cq:indicator ?indicator ; cq:ordinalLevel ?level .
  ?indicator skos:notation ?code .
  OPTIONAL { ?coding rdfs:comment ?reason FILTER(LANGMATCHES(LANG(?reason), "en")) }
  OPTIONAL { ?coding cq:targetedWithinPlace ?targeted }
  {
    ?subject a cq:Measure ; cq:appliesTo ?place .
  } UNION {
    ?coding cq:codingPlace ?place .
    ?subject cq:date ?day .
    OPTIONAL { ?subject cq:sequenceNumber ?sequence }
  }
}
ORDER BY ?code ?subject ?place
"""

PLANTED = """
@prefix cq: <https://w3id.org/cq-covid/def#> .
@prefix oxcgrt: <https://w3id.org/cq-covid/def/oxcgrt/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix m: <https://w3id.org/cq-covid/id/measure/> .
@prefix a: <https://w3id.org/cq-covid/id/ann/> .
@prefix p: <https://w3id.org/cq-covid/id/place/> .

m:planted-two a cq:Measure ; cq:appliesTo p:yuzhong, p:shapingba .
m:planted-none a cq:Measure .
a:planted-1 cq:date "2022-11-01"^^xsd:date ; cq:sequenceNumber 7 .
a:planted-2 cq:date "2022-11-02"^^xsd:date .
oxcgrt:X9 skos:notation "X9" .
oxcgrt:NoCode rdfs:label "no notation" .

[] a cq:IndicatorCoding ; cq:codes m:planted-two ; cq:indicator oxcgrt:X9 ; cq:ordinalLevel 1 ;
   rdfs:comment "two places"@en, "两个地域"@zh ; cq:targetedWithinPlace true .
[] a cq:IndicatorCoding ; cq:codes m:planted-two, m:planted-none ; cq:indicator oxcgrt:X9 ; cq:ordinalLevel 2 .
[] a cq:IndicatorCoding ; cq:codes a:planted-1, a:planted-2 ; cq:codingPlace p:chongqing ;
   cq:indicator oxcgrt:X9 ; cq:ordinalLevel 3 ; rdfs:comment "a series"@en-GB .
[] a cq:IndicatorCoding ; cq:codes m:planted-two ; cq:indicator oxcgrt:NoCode ; cq:ordinalLevel 1 .
[] a cq:IndicatorCoding ; cq:codes m:planted-two ; cq:codingPlace p:chongqing ; cq:indicator oxcgrt:X9 ;
   cq:ordinalLevel 4 .
"""


def _store(planted: bool) -> ox.Store:
    store = ox.Store()
    for folder in ("ontology", "facts"):
        for path in sorted((ROOT / folder).rglob("*.ttl")):
            store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(path.as_uri()))
    if planted:
        store.load(PLANTED.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:planted"))
    return store


def _rows(store: ox.Store, text: str) -> list[tuple[str, ...]]:
    result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    # blank nodes (the codings) get other ids per run: the coding is named by its level and reason instead
    return [tuple("_" if isinstance(s[n], ox.BlankNode) else str(s[n]) for n in names) for s in result]


def test_the_rewritten_text_is_the_one_in_the_catalogue() -> None:
    text = get_named_query("export-oxcgrt").text
    assert text == (ROOT / "kb" / "queries" / "export" / "oxcgrt.rq").read_text("utf-8")
    assert "UNION" in text and text != OLD


def test_same_rows_in_the_same_order_on_the_shipped_kb() -> None:
    store = _store(planted=False)
    new = _rows(store, get_named_query("export-oxcgrt").text)
    assert new == _rows(store, OLD)
    assert len(new) >= 10


def test_same_rows_with_planted_codings_of_every_shape() -> None:
    store = _store(planted=True)
    old, new = _rows(store, OLD), _rows(store, get_named_query("export-oxcgrt").text)
    assert sorted(new) == sorted(old)
    keys = [(row[2], row[1], row[6]) for row in new]  # ?code ?subject ?place
    assert keys == [(row[2], row[1], row[6]) for row in old]
    planted = [row for row in new if row[2] == '"X9"']
    # two places for each of the three codings of planted-two (its codingPlace adds nothing: it has no date), and
    # the series' two dated announcements; the coding whose indicator has no notation gives none
    assert len(planted) == 2 + 2 + 2 + 2 == len([row for row in new if "planted" in row[1]])
    assert not any("planted-none" in row[1] for row in new)  # a measure of no place has no row
    assert sum(row[8] != "None" for row in planted) == 1  # the one sequence number


def test_the_rows_do_not_depend_on_where_the_store_keeps_them(tmp_path: Path) -> None:
    """The same on an on-disk store (where the old text's scans were slow)."""
    memory = _store(planted=True)
    disk = ox.Store(str(tmp_path / "store"))
    disk.extend(memory.quads_for_pattern(None, None, None, None))
    disk.flush()
    text = get_named_query("export-oxcgrt").text
    assert sorted(_rows(disk, text)) == sorted(_rows(memory, text)) == sorted(_rows(disk, OLD))

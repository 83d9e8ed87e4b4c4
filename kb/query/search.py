"""The named query `search` answered from a folded-text index the build keeps beside the store.

`search` finds the measures whose labels or quotes contain a text. On the store that is a scan of every label and
quote with LCASE and CONTAINS, which cannot tell 隔离 from its traditional form 隔離. The build (`write_search_index`,
next to the summary) reads every measure's labels and quotes once, folds each (traditional characters to simplified
with hanziconv's table, then Unicode case folding) and writes `search.txt` in the snapshot folder:

- line 1: a JSON header: the format, the digest of the `search` text the index answers, the number of measures;
- then one line per measure that has a label or quote, sorted by IRI: its folded texts, joined by NUL (a newline or
  NUL inside a text is written as NUL, so that no match can run from one text into the next);
- then one line per measure, in the same order: JSON of its IRI and its answer rows (the distinct pairs of English
  and Chinese label, as the SPARQL projects them).

`searched` answers exactly the catalogue's `search` text with its one parameter `text`: the folded parameter is found
in the folded texts with `str.find`, and each measure hit gives its rows. What it returns is what the SPARQL would
return if the store's texts and the parameter were folded the same way (tests/cli/test_query_search.py compares the
two). A folder without the file, a damaged file, an index for another text of `search`, or a parameter holding a
newline or NUL gives None: the query then runs on the store, where the SPARQL lower-cases but does not fold scripts.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..fsio import write_atomic
from ..namespaces import PREFIXES
from .catalogue import get_named_query
from .run import QueryResult, parse_term
from .summary import decode_term, digest, read_once

SEARCH = "search.txt"
FORMAT = 1
NAME = "search"
PARAM = "text"
_SEPARATOR = "\0"

_TABLE: dict[int, str] | None = None


def _table() -> dict[int, str]:
    """Traditional → simplified, character by character as hanziconv's toSimplified maps them (its first entry
    for a character wins, as its `find` does)."""
    global _TABLE
    if _TABLE is None:
        from hanziconv.charmap import simplified_charmap, traditional_charmap

        first: dict[str, str] = {}
        for traditional, simplified in zip(traditional_charmap, simplified_charmap, strict=False):
            first.setdefault(traditional, simplified)
        _TABLE = {ord(t): s for t, s in first.items() if t != s}
    return _TABLE


def fold(text: str) -> str:
    """Text as the index compares it: simplified characters, Unicode case folding."""
    if not text.isascii():
        text = text.translate(_table())
    return text.casefold()


# What the build reads, each a plain scan of one pattern streamed from the store's index (a join in the store held
# its hash tables, ~100 MB at 100k measures): the measures, then every label and every quote; joined here.
_SCAN = "SELECT ?s ?o WHERE { ?s PROPERTY ?o }"
_MEASURES = "SELECT ?s WHERE { ?s a cq:Measure }"
# Between the texts kept for one measure: a lone surrogate, which no text the store hands out can hold (its strings
# are UTF-8), so that every text, whatever it holds, comes back whole.
_KEPT = "\ud800"
_TAGS = {"en": "e", "zh": "z"}  # a kept text's first character: an English or Chinese label, else "q"
_LANGUAGES = {tag: language for language, tag in _TAGS.items()}

Cell = list[str] | None
Term = ox.NamedNode | ox.BlankNode | ox.Literal | None


def _solutions(store: ox.Store, text: str) -> ox.QuerySolutions:
    result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError("expected a SELECT query")
    return result


Label = tuple[str, str]  # (text, language) of a label in English or Chinese: all `search` projects of one


def _pairs(labels: list[Label]) -> list[list[Cell]]:
    """The distinct (label_en, label_zh) pairs `search` projects for one measure: each English label with each
    Chinese one, unbound where the measure has none (its OPTIONALs)."""

    def of(language: str) -> list[Cell]:
        texts = {text for text, lang in labels if lang == language}
        if len(texts) > 1:  # in the order of the literals' N-Triples forms, as the distinct rows came
            found = {str(ox.Literal(text, language=language)): text for text in texts}
            return [["lang", found[key], language] for key in sorted(found)]
        return [["lang", text, language] for text in texts] or [None]

    return [[en, zh] for en in of("en") for zh in of("zh")]


def _texts(store: ox.Store) -> dict[str, str] | None:
    """Per measure IRI, its labels' and quotes' texts (each once per statement, in one string: a tag character and
    the text, joined by _KEPT), or None when a measure with a label or quote is a blank node.

    The texts are those of the join of `?measure a cq:Measure` with `?measure rdfs:label|cq:quote ?text` (on the union
    of the graphs, as `search` reads them); how many times a pair comes does not matter, the index keeps sets."""
    measures: set[str] = set()
    others: set[str] = set()  # the measures that are no IRI, as N-Triples
    for (subject,) in _solutions(store, _MEASURES):
        if isinstance(subject, ox.NamedNode):
            measures.add(subject.value)
        else:
            others.add(str(subject))
    kept: dict[str, str] = {}
    for prop in ("rdfs:label", "cq:quote"):
        label = prop == "rdfs:label"
        for subject, text in _solutions(store, _SCAN.replace("PROPERTY", prop)):
            if not isinstance(subject, ox.NamedNode):
                if str(subject) in others:
                    return None  # `search` orders by ?measure, and the store's order of blank nodes is its own
                continue
            iri = subject.value
            if iri not in measures or isinstance(text, ox.BlankNode):
                continue  # STR() of a blank node is an error: the SPARQL never matches it
            tag = _TAGS.get(text.language or "", "q") if label and isinstance(text, ox.Literal) else "q"
            entry = tag + text.value
            old = kept.get(iri)
            kept[iri] = entry if old is None else old + _KEPT + entry
    return kept


def _haystack(entries: list[str]) -> str:
    return _SEPARATOR.join(sorted({fold(entry[1:]).replace("\n", _SEPARATOR) for entry in entries}))


def index_lines(store: ox.Store) -> Iterator[str] | None:
    """The lines of search.txt for this store, each ending in a newline, or None when a measure is a blank node (no
    index: `search` orders by ?measure, and the store's order of blank nodes is its own).

    Only the raw texts are held, one string per measure; each line is made as it is written (a list of every line,
    and the labels kept apart as terms, held 100+ MB more at 100k measures)."""
    kept = _texts(store)
    if kept is None:
        return None
    return _lines(kept)


def _lines(kept: dict[str, str]) -> Iterator[str]:
    order = sorted(kept)
    header = {"format": FORMAT, "query": digest(get_named_query(NAME).text), "measures": len(order)}
    yield json.dumps(header) + "\n"
    for iri in order:
        yield _haystack(kept[iri].split(_KEPT)) + "\n"
    for iri in order:
        entries = kept.pop(iri).split(_KEPT)
        labels = [(entry[1:], _LANGUAGES[entry[0]]) for entry in entries if entry[0] in _LANGUAGES]
        yield json.dumps([iri, _pairs(labels)], ensure_ascii=False) + "\n"


def write_search_index(store: ox.Store, folder: Path) -> None:
    """Fold every measure's labels and quotes in the store just built and keep them in `folder`/search.txt."""
    lines = index_lines(store)
    if lines is not None:
        write_atomic(folder / SEARCH, lines)  # streamed: never the whole text in memory


@dataclass(frozen=True)
class _Index:
    haystack: str  # the folded texts, one line per measure
    starts: list[int]  # where each measure's line starts in it
    rows: list[str]  # per measure, the JSON of its IRI and answer rows


_LOADED: dict[str, _Index | None] = {}  # per snapshot folder (a published folder never changes)
_LOADED_LOCK = threading.Lock()


def _parse(text: str) -> _Index | None:
    lines = text.split("\n")
    try:
        header = json.loads(lines[0])
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return None
    if header.get("query") != digest(get_named_query(NAME).text):
        return None  # built for another text of `search`
    count = header.get("measures")
    if not isinstance(count, int) or count < 0 or len(lines) != 2 * count + 2 or lines[-1] != "":
        return None
    haystacks = lines[1 : count + 1]
    starts, position = [], 0
    for line in haystacks:
        starts.append(position)
        position += len(line) + 1
    return _Index("\n".join(haystacks), starts, lines[count + 1 : 2 * count + 1])


def _index(folder: Path) -> _Index | None:
    return read_once(_LOADED, _LOADED_LOCK, folder, _read_file)


def _read_file(folder: Path) -> _Index | None:
    try:
        return _parse((folder / SEARCH).read_text("utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _hits(index: _Index, needle: str) -> list[int]:
    """The measures (line numbers) whose folded texts contain `needle`, in order."""
    if not needle:
        return list(range(len(index.starts)))
    found: list[int] = []
    position, haystack = 0, index.haystack
    while True:
        position = haystack.find(needle, position)
        if position < 0:
            return found
        line = bisect.bisect_right(index.starts, position) - 1
        found.append(line)
        # on to the next measure's line
        position = index.starts[line + 1] if line + 1 < len(index.starts) else len(haystack)


def searched(folder: Path, text: str, params: dict[str, str]) -> QueryResult | None:
    """The answer of `search` for `params` from the index in `folder`, or None (then SPARQL runs on the store)."""
    if set(params) != {PARAM} or text != get_named_query(NAME).text:
        return None
    needle = fold(parse_term(params[PARAM]).value)  # what STR(?text) gives the SPARQL
    if "\n" in needle or _SEPARATOR in needle:
        return None
    index = _index(folder)
    if index is None:
        return None
    rows: list[list[Term]] = []
    try:
        for line in _hits(index, needle):
            iri, pairs = json.loads(index.rows[line])
            measure = ox.NamedNode(iri)
            rows.extend([measure, decode_term(en), decode_term(zh)] for en, zh in pairs)
    except (ValueError, TypeError, IndexError):
        return None  # a damaged line
    return QueryResult("select", variables=["measure", "label_en", "label_zh"], rows=rows)

"""The named query `measures-in-force-on-day` answered by way of a day index the build keeps beside the store.

The question "what was in force in place P on day D" finds the status spans of the measures of P and of every
place above it (cq:within*) whose days cover D. On the store that reads every span of those places' measures:
thousands at 100k measures, for the score of rows shown. The build (`write_days_index`, next to the summary and
the search index) reads every span once and writes `days.txt` in the snapshot folder:

- line 1: a JSON header: the format, the digest of the query text the index answers, the size of what follows
  (bytes), the place hierarchy (each cq:within pair) and, per place that measures apply to, where its block of
  lines lies after the header (bytes);
- then the blocks, one per place, sorted by span start: `from TAB until TAB unknown TAB measure` (days as
  YYYY-MM-DD, `until` empty for an open span, `unknown` 1 for a span of state cq:StatusUnknown).

`in_force` answers exactly the text the index was written for (`IMPLEMENTS`) with its parameters: the place's
ancestors are read from the hierarchy, and in their blocks the spans of a known state (and, when include_unknown is
given, those of unknown state) are bisected for the ones started by the day and filtered for those not ended before
it. That gives the (measure, place) pairs that can be in the answer. The query's own text then runs on the store with
those pairs as a VALUES block in its sub-SELECT: the store checks the spans again, so the rows are the SPARQL's rows,
in its order, whatever the index held too much. A folder without the file, a damaged file, an index for another
text, a day that is not a plain YYYY-MM-DD date, or a place that is not an IRI gives None: the query runs on the
store as written (tests/cli/test_query_days.py compares the two).

The index is written only when the query's text is the one this module was written for (`IMPLEMENTS`): a changed
text may ask something the index cannot find, and runs on the store until this module follows it.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from ..fsio import write_atomic
from ..namespaces import PREFIXES, XSD_DATE
from .catalogue import get_named_query
from .run import QueryResult, bind_params, ordered_run, parse_term, select
from .summary import digest, read_once

DAYS = "days.txt"
FORMAT = 1
NAME = "measures-in-force-on-day"
PARAMS = frozenset({"day", "place", "include_unknown"})
# The digest of the query text this index answers (kb/queries/questions/measures-in-force-on-day.rq).
IMPLEMENTS = "6702c790be05bced7d50424c0dd688ef6cdfd371b2ec008897c1d375fbf02db8"
_UNKNOWN = PREFIXES["cq"] + "StatusUnknown"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# What the build reads: each pattern of the spans' join (measure, place, days, state), each a plain scan streamed
# from the store's index, joined here by span and measure. The same join in the store (each pattern a sub-SELECT,
# joined by hashing) held ~180 MB of hash tables at 100k measures; as one group it looked each span up one by one.
_SCAN = "SELECT ?s ?o WHERE { ?s PROPERTY ?o }"
_WITHIN = "SELECT ?place ?parent WHERE { ?place cq:within ?parent }"
# The join's columns kept per span, in this order: its measures, first days, states, last days.
_COLUMNS = ("cq:spanOf", "cq:spanFrom", "cq:status", "cq:spanUntil")
Term = ox.NamedNode | ox.BlankNode | ox.Literal | None
# What is kept of a term, as text: an IRI as itself; any other term, or a day that is not a plain xsd:date, starts
# with a lone surrogate (no text the store hands out holds one), which makes the index give up if a row uses it.
_NOT = "\ud800"
Values = list[str] | str | None  # one column of a span: its one value (nearly always), else every value, in order


def _day(term: Term) -> str | None:
    """A span's day as the index keeps it, or None when the store's value is not a plain xsd:date (no index)."""
    if not isinstance(term, ox.Literal) or term.datatype.value != XSD_DATE or not _DAY.fullmatch(term.value):
        return None
    return term.value


def _scan(store: ox.Store, prop: str) -> ox.QuerySolutions:
    return select(store.query(_SCAN.replace("PROPERTY", prop), prefixes=PREFIXES, use_default_graph_as_union=True))


def _key(term: Term) -> str:
    """A term as a join key: an IRI by its text, any other term as _NOT and its N-Triples."""
    return term.value if isinstance(term, ox.NamedNode) else _NOT + str(term)


def _each(values: Values) -> list[str] | tuple[str | None]:
    return values if isinstance(values, list) else (values,)


def _spans(store: ox.Store) -> dict[str, list[Values]]:
    """Per span (as a join key) the values of each of _COLUMNS as text (measures as keys, days as the index writes
    them, states as the flag), as often as the store gives each statement (the union of the graphs: a statement in
    two graphs twice), for the spans that have a measure (the others join none). A column is kept as its value
    alone while the span has one, so that a span costs one list and its key."""
    spans: dict[str, list[Values]] = {}
    missing: list[Values] = [None] * len(_COLUMNS)
    texts: dict[str, str] = {}  # each measure's and day's text once

    def kept(column: int, term: Term) -> str:
        if column == 0:
            text = _key(term)
        elif column == 2:
            return "1" if isinstance(term, ox.NamedNode) and term.value == _UNKNOWN else "0"
        else:
            text = _day(term) or _NOT
        return texts.setdefault(text, text)

    for column, prop in enumerate(_COLUMNS):
        for span, term in _scan(store, prop):
            key = _key(span)
            if column == 0:
                spans.setdefault(key, list(missing))
            elif key not in spans:
                continue
            record, value = spans[key], kept(column, term)
            old = record[column]
            if old is None:
                record[column] = value
            elif isinstance(old, list):
                old.append(value)
            else:
                record[column] = [old, value]
    return spans


Blocks = dict[str, list[tuple[str, str, str, str]]]  # per place, its rows: (from, until or "", unknown, measure)


def read_blocks(store: ox.Store) -> Blocks | None:
    """The rows of every place, unsorted, or None when a measure or place of a row is not an IRI (a VALUES block
    cannot name a blank node) or a day of a row is not a plain xsd:date.

    The rows are those of the join of `?measure cq:appliesTo ?applies_to`, `?span cq:spanOf ?measure`, `?span
    cq:spanFrom ?from`, `?span cq:status ?state` and, optionally, `?span cq:spanUntil ?until`, each row as many times
    as the store's join gives it (the product of how often each statement comes)."""
    spans = _spans(store)
    places: dict[str, list[str]] = {}
    names: dict[str, str] = {}  # each place's text once
    for measure, place in _scan(store, "cq:appliesTo"):
        name = _key(place)
        places.setdefault(_key(measure), []).append(names.setdefault(name, name))
    blocks: Blocks = {}
    for measures, starts, states, untils in spans.values():
        if measures is None or starts is None or states is None:
            continue  # a span without a first day or a state joins no row
        for measure in _each(measures):
            for applies_to in places.get(measure or "", ()):
                if applies_to.startswith(_NOT) or (measure or _NOT).startswith(_NOT):
                    return None  # a measure or place that is no IRI
                for first in _each(starts):
                    for flag in _each(states):
                        for last in _each(untils):
                            if (first or _NOT).startswith(_NOT) or (last or "").startswith(_NOT):
                                return None  # a day that is not a plain xsd:date
                            row = (first or "", last or "", flag or "0", measure or "")
                            blocks.setdefault(applies_to, []).append(row)
    return blocks


def index_parts(store: ox.Store, blocks: Blocks | None = None) -> list[str] | None:
    """The text of days.txt for this store as its header line and each place's block (`blocks`, read from the store
    when not given, emptied), or None when the index cannot stand for the query: another text of it, a measure or
    place that is not an IRI, a day that is not a date, a hierarchy that is not all IRIs."""
    if digest(get_named_query(NAME).text) != IMPLEMENTS:
        return None
    blocks = read_blocks(store) if blocks is None else blocks
    if blocks is None:
        return None
    within = []
    for place, parent in select(store.query(_WITHIN, prefixes=PREFIXES, use_default_graph_as_union=True)):
        if isinstance(place, ox.NamedNode) and isinstance(parent, ox.NamedNode):
            within.append([place.value, parent.value])
        elif isinstance(place, ox.NamedNode) or isinstance(parent, ox.NamedNode):
            return None  # a place within a blank node (or under one): the hierarchy is not all IRIs
    order = sorted(blocks)
    texts = ["".join("\t".join(span) + "\n" for span in sorted(blocks.pop(place))) for place in order]
    where, position = {}, 0
    for place, text in zip(order, texts, strict=True):
        size = len(text.encode("utf-8"))
        where[place] = [position, size]
        position += size
    header = {"format": FORMAT, "query": IMPLEMENTS, "size": position, "within": sorted(within), "places": where}
    return [json.dumps(header, ensure_ascii=False) + "\n", *texts]


def index_text(store: ox.Store) -> str | None:
    """The text of days.txt for this store, or None when the index cannot stand for the query (`index_parts`)."""
    parts = index_parts(store)
    return None if parts is None else "".join(parts)


def write_days_index(store: ox.Store, folder: Path) -> None:
    """Read every status span of the store just built and keep them by place in `folder`/days.txt."""
    parts = index_parts(store)
    if parts is not None:
        write_atomic(folder / DAYS, parts)  # streamed


_RUN = 64  # spans per run whose latest end is kept: a run ended before the day is passed over whole


@dataclass
class _Spans:
    starts: list[str]  # the spans' first days, sorted
    spans: list[tuple[str, str, str]]  # (from, until or "~" when open, measure), in the same order
    ends: list[str] = field(init=False)  # per run of _RUN spans, the latest end among them

    def __post_init__(self) -> None:
        self.ends = [max(span[1] for span in self.spans[n : n + _RUN]) for n in range(0, len(self.spans), _RUN)]

    def covering(self, day: str) -> list[str]:
        """The measures of the spans started by `day` and not ended before it."""
        started = bisect.bisect_right(self.starts, day)
        found: list[str] = []
        for run, end in enumerate(self.ends[: (started + _RUN - 1) // _RUN]):
            if end >= day:
                first = run * _RUN
                spans = self.spans[first : min(first + _RUN, started)]
                found.extend(measure for _, until, measure in spans if until >= day)
        return found


@dataclass
class _Block:
    known: _Spans  # the spans of a known state
    unknown: _Spans  # those of state cq:StatusUnknown: most open spans, and read only with include_unknown


@dataclass
class _Index:
    path: Path
    body: int  # where the blocks start in the file (bytes)
    parents: dict[str, list[str]]
    places: dict[str, tuple[int, int]]
    blocks: dict[str, _Block] = field(default_factory=dict)  # read when first asked for
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ancestors(self, place: str) -> list[str]:
        """The place and every place it lies within, at any depth (what `cq:within*` reaches), sorted."""
        seen, todo = {place}, [place]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return sorted(seen)

    def block(self, place: str) -> _Block | None:
        """The spans of the measures that apply to `place` (an empty block for a place with none), or None when
        the file cannot be read or its block is damaged."""
        with self.lock:
            if place in self.blocks:
                return self.blocks[place]
            offset, size = self.places.get(place, (0, 0))
            try:
                with self.path.open("rb") as handle:
                    handle.seek(self.body + offset)
                    data = handle.read(size)
                lines = data.decode("utf-8").split("\n") if size else [""]
            except (OSError, UnicodeDecodeError):
                return None
            if len(data) != size or lines[-1] != "":
                return None
            spans: dict[str, list[tuple[str, str, str]]] = {"0": [], "1": []}
            for line in lines[:-1]:
                cells = line.split("\t")
                if len(cells) != 4 or not _DAY.fullmatch(cells[0]) or cells[2] not in spans:
                    return None
                # an open span as ending after every day (a YYYY-MM-DD day sorts before "~")
                spans[cells[2]].append((cells[0], cells[1] or "~", cells[3]))
            parts = []
            for flag in ("0", "1"):
                starts = [span[0] for span in spans[flag]]
                if starts != sorted(starts):
                    return None
                parts.append(_Spans(starts, spans[flag]))
            self.blocks[place] = _Block(*parts)
            return self.blocks[place]


_LOADED: dict[str, _Index | None] = {}  # per snapshot folder (a published folder never changes)
_LOADED_LOCK = threading.Lock()


def _read_header(path: Path) -> _Index | None:
    try:
        with path.open("rb") as handle:
            first = handle.readline()
            length = path.stat().st_size
        header = json.loads(first.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("query") != IMPLEMENTS:
        return None
    if header.get("size") != length - len(first):
        return None  # cut short, or grown: not the file the build wrote
    within, places = header.get("within"), header.get("places")
    if not isinstance(within, list) or not isinstance(places, dict):
        return None
    parents: dict[str, list[str]] = {}
    try:
        for place, parent in within:
            parents.setdefault(str(place), []).append(str(parent))
        where = {str(place): (int(offset), int(size)) for place, (offset, size) in places.items()}
    except (TypeError, ValueError):
        return None
    return _Index(path, len(first), parents, where)


def _index(folder: Path) -> _Index | None:
    return read_once(_LOADED, _LOADED_LOCK, folder, lambda at: _read_header(at / DAYS))


def _pairs(index: _Index, place: str, day: str, unknown: bool) -> list[tuple[str, str]] | None:
    """The (measure, place) pairs whose spans may cover `day` for `place` and the places above it, or None."""
    found: set[tuple[str, str]] = set()
    for ancestor in index.ancestors(place):
        block = index.block(ancestor)
        if block is None:
            return None
        for part in (block.known, block.unknown) if unknown else (block.known,):
            found.update((measure, ancestor) for measure in part.covering(day))
    return sorted(found)


_INNER = re.compile(r"\{\s*SELECT\b[^{}]*\bWHERE\s*\{")


def in_force(store: ox.Store, folder: Path, text: str, params: dict[str, str]) -> QueryResult | None:
    """The answer of `measures-in-force-on-day` for `params`, the store reading only the measures the index in
    `folder` finds, or None (then the query runs on the store as written)."""
    if not {"day", "place"} <= set(params) <= PARAMS or digest(text) != IMPLEMENTS:
        return None  # (the digest, not the catalogue's text: reading the catalogue took longer than the answer)
    bindings = {name: parse_term(value) for name, value in params.items()}
    day, place = bindings["day"], bindings["place"]
    if not isinstance(place, ox.NamedNode) or not isinstance(day, ox.Literal) or day.datatype.value != XSD_DATE:
        return None
    try:
        date.fromisoformat(day.value)
    except ValueError:
        return None  # an impossible date: what the store makes of it is the store's
    index = _index(folder)
    if index is None:
        return None
    # Unknown spans are kept whenever include_unknown is given: the store's FILTER decides on its value.
    pairs = _pairs(index, place.value, day.value, "include_unknown" in params)
    if pairs is None:
        return None
    if not pairs:
        # No span covers the day: no row (a VALUES block of none made the store read every span all the same).
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        projection = re.search(r"\bSELECT\b(.*?)\bWHERE\b", code, re.DOTALL)
        if projection is None:
            return None
        return QueryResult("select", variables=re.findall(r"\?(\w+)", projection.group(1)))
    code = bind_params(text, bindings)
    inner = list(_INNER.finditer(code))
    if len(inner) != 1:
        return None
    try:
        rows = " ".join(f"({ox.NamedNode(measure)} {ox.NamedNode(where)})" for measure, where in pairs)
    except ValueError:
        return None  # a damaged line
    values = f" VALUES (?measure ?applies_to) {{ {rows} }} "
    code = code[: inner[0].end()] + values + code[inner[0].end() :]
    return ordered_run(store, code)

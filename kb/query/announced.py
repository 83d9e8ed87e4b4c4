"""The named query `measures-announced-between` answered by way of a date index the build keeps beside the store.

On the store the question reads every `cq:announced` date and compares it with the two days (oxigraph does not turn
the FILTER into a range scan of its index): ~0.9 µs a date, 865 ms at 1M measures for an answer of no row. The
build (`write_announced_index`, called at the end of kb/query/summary.py's `write_summary`) reads every
`cq:announced` pair once and writes `announced.txt` in the snapshot folder:

- line 1: a JSON header: the format, the digest of the query text the index answers (`IMPLEMENTS`), the number of
  lines, the size of what follows (bytes) and its CRC-32;
- then one line per pair, sorted by day: `YYYY-MM-DD TAB subject`.

`announced_between` answers exactly that text with its `from` and `to` (plain dates): the file is read once per
process and checked whole (size, CRC), and its bytes are bisected for the lines of the days asked (no list of the
lines is built, so the first question in a process costs a read of the file, not a parse of every line); none,
and the answer is no row without the store; up to `MOST`, and the query's own
text runs on the store with those subjects as a VALUES block, so the store checks the dates, the type and every
shown property again and the rows are the SPARQL's, in its order. More than `MOST`, a folder without the file, a
damaged file (cut, unsorted, another format or text), a date that is not a plain YYYY-MM-DD in the store (no index
is written then), or parameters that are not plain dates give None: the query runs on the store as written
(tests/cli/test_query_announced.py compares the two).
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..fsio import write_atomic
from ..namespaces import PREFIXES, XSD_DATE
from .catalogue import get_named_query
from .run import QueryResult, bind_params, ordered_run, parse_term, select
from .summary import digest, read_once

ANNOUNCED = "announced.txt"
FORMAT = 1
NAME = "measures-announced-between"
# The digest of the query text this index answers (kb/queries/questions/measures-announced-between.rq).
IMPLEMENTS = "ef9d0591e323ea49b5239de5816c7880813804c2ac6ac0644627ea2241280f99"
MOST = 2000  # subjects put in a VALUES block; a wider range runs on the store (its scan is then the cheaper way)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PAIRS = "SELECT ?subject ?day WHERE { ?subject cq:announced ?day }"


def index_text(store: ox.Store) -> str | None:
    """The text of announced.txt for this store, or None when the index cannot stand for the query: another text of
    it, a subject that is not an IRI (a VALUES block cannot name a blank node), a date that is not a plain date."""
    if digest(get_named_query(NAME).text) != IMPLEMENTS:
        return None
    pairs = []
    for subject, day in select(store.query(_PAIRS, prefixes=PREFIXES, use_default_graph_as_union=True)):
        if not isinstance(subject, ox.NamedNode) or not isinstance(day, ox.Literal):
            return None
        if day.datatype.value != XSD_DATE or not _DAY.fullmatch(day.value):
            return None
        pairs.append(f"{day.value}\t{subject.value}\n")
    pairs.sort()
    body = "".join(pairs)
    data = body.encode("utf-8")
    header = {"format": FORMAT, "query": IMPLEMENTS, "lines": len(pairs), "size": len(data), "crc": zlib.crc32(data)}
    return json.dumps(header) + "\n" + body


def write_announced_index(store: ox.Store, folder: Path) -> None:
    """Read every announcement date of the store just built and keep them sorted in `folder`/announced.txt."""
    text = index_text(store)
    if text is not None:
        write_atomic(folder / ANNOUNCED, text)


@dataclass(frozen=True)
class _Index:
    """The file's bytes (read once per process and checked whole: size and CRC) and where its lines begin."""

    data: bytes
    body: int  # the offset of the first line

    def first(self, day: bytes, after: bool) -> int:
        """The offset of the first line whose day is at or after `day` (`after`: strictly after), by bisecting the
        bytes: each step finds the start of the line around its middle, so the lines are never split up."""
        data, low, high = self.data, self.body, len(self.data)
        while low < high:
            middle = (low + high) // 2
            start = data.rfind(b"\n", low, middle) + 1 or low
            line_day = data[start : start + 10]
            if line_day < day or (after and line_day == day):
                low = data.index(b"\n", start) + 1
            else:
                high = start
        return low

    def subjects(self, first: str, last: str) -> list[str] | None:
        """The subjects announced from `first` to `last` (days as YYYY-MM-DD), or None for a line that is not the
        build's (then the store answers)."""
        low, high = self.first(first.encode(), False), self.first(last.encode(), True)
        found = []
        for line in self.data[low:high].decode("utf-8").splitlines():
            day, tab, subject = line.partition("\t")
            if not tab or not subject or not _DAY.fullmatch(day) or not first <= day <= last:
                return None
            found.append(subject)
        return found


def _read(folder: Path) -> _Index | None:
    try:
        data = (folder / ANNOUNCED).read_bytes()
        first, newline, _ = data.partition(b"\n")
        header = json.loads(first)
    except (OSError, ValueError):
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("query") != IMPLEMENTS:
        return None
    body = len(first) + len(newline)
    if header.get("size") != len(data) - body or header.get("crc") != zlib.crc32(memoryview(data)[body:]):
        return None  # cut short, grown or changed: not the file the build wrote
    if body < len(data) and not data.endswith(b"\n"):
        return None
    return _Index(data, body)


_LOADED: dict[str, _Index | None] = {}  # per snapshot folder (a published folder never changes)
_LOADED_LOCK = threading.Lock()


def _index(folder: Path) -> _Index | None:
    return read_once(_LOADED, _LOADED_LOCK, folder, _read)


def announced_between(store: ox.Store, folder: Path, text: str, params: dict[str, str]) -> QueryResult | None:
    """The answer of `measures-announced-between` for `params`, the store reading only the subjects the index in
    `folder` finds announced within the days, or None (then the query runs on the store as written)."""
    if set(params) != {"from", "to"} or digest(text) != IMPLEMENTS:
        return None
    bindings = {name: parse_term(value) for name, value in params.items()}
    first, last = bindings["from"], bindings["to"]
    if not all(isinstance(day, ox.Literal) and day.datatype.value == XSD_DATE for day in (first, last)):
        return None  # not a plain date: what the store makes of it is the store's
    index = _index(folder)
    if index is None:
        return None
    subjects = index.subjects(first.value, last.value) if first.value <= last.value else []
    if subjects is None:
        return None
    found = sorted(set(subjects))
    if len(found) > MOST:
        return None
    code = bind_params(text, bindings)
    if not found:
        # No announcement within the days: no row; the variables are the text's, from an empty store.
        return ordered_run(ox.Store(), code)
    match = re.search(r"\bWHERE\s*\{", code, re.IGNORECASE)
    if match is None:
        return None
    try:
        values = " ".join(str(ox.NamedNode(subject)) for subject in found)
    except ValueError:
        return None  # a damaged line
    code = code[: match.end()] + f" VALUES ?measure {{ {values} }} " + code[match.end() :]
    return ordered_run(store, code)

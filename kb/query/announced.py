"""The named query `measures-announced-between` answered by way of a date index the build keeps beside the store.

On the store the question reads every `cq:announced` date and compares it with the two days (oxigraph does not turn
the FILTER into a range scan of its index): ~0.9 µs a date, 865 ms at 1M measures for an answer of no row. The
build (`write_announced_index`, called at the end of kb/query/summary.py's `write_summary`) reads every
`cq:announced` pair once and writes `announced.txt` in the snapshot folder:

- line 1: a JSON header: the format, the digest of the query text the index answers (`IMPLEMENTS`), the number of
  lines and the size of what follows (bytes);
- then one line per pair, sorted by day: `YYYY-MM-DD TAB subject`.

`announced_between` answers exactly that text with its `from` and `to` (plain dates): the days are bisected for the
subjects announced within them; none, and the answer is no row without the store; up to `MOST`, and the query's own
text runs on the store with those subjects as a VALUES block, so the store checks the dates, the type and every
shown property again and the rows are the SPARQL's, in its order. More than `MOST`, a folder without the file, a
damaged file (cut, unsorted, another format or text), a date that is not a plain YYYY-MM-DD in the store (no index
is written then), or parameters that are not plain dates give None: the query runs on the store as written
(tests/cli/test_query_announced.py compares the two).
"""

from __future__ import annotations

import bisect
import json
import re
import threading
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
    header = {"format": FORMAT, "query": IMPLEMENTS, "lines": len(pairs), "size": len(body.encode("utf-8"))}
    return json.dumps(header) + "\n" + body


def write_announced_index(store: ox.Store, folder: Path) -> None:
    """Read every announcement date of the store just built and keep them sorted in `folder`/announced.txt."""
    text = index_text(store)
    if text is not None:
        write_atomic(folder / ANNOUNCED, text)


@dataclass(frozen=True)
class _Index:
    days: list[str]  # sorted
    subjects: list[str]  # in the same order


def _read(folder: Path) -> _Index | None:
    try:
        data = (folder / ANNOUNCED).read_bytes()
        first, _, body = data.partition(b"\n")
        header = json.loads(first)
        text = body.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("query") != IMPLEMENTS:
        return None
    if header.get("size") != len(body):
        return None  # cut short, or grown: not the file the build wrote
    days, subjects = [], []
    for line in text.splitlines():
        day, tab, subject = line.partition("\t")
        if not tab or not _DAY.fullmatch(day) or not subject:
            return None
        days.append(day)
        subjects.append(subject)
    if len(days) != header.get("lines") or any(a > b for a, b in zip(days, days[1:], strict=False)):
        return None
    return _Index(days, subjects)


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
    low, high = bisect.bisect_left(index.days, first.value), bisect.bisect_right(index.days, last.value)
    found = sorted(set(index.subjects[low:high]))
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

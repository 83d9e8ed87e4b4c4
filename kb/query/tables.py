"""Full-table answers kept per snapshot: the first answer of a parameterless named query is written beside the store,
and every later answer of the same text on the same snapshot is read back from that file instead of the store.

The wide tables (`measures`, `export-measures-table`, the timeline's feeds …) are the whole KB's rows: on the on-disk
store each IRI and long literal of a row is a database read (docs/benchmarks.md, "Queries (issue 18)"), which caps
them far below 20k rows/s however the text is written. A published snapshot folder never changes (a build that sees a
changed input publishes a new one), so the rows the store gave once are the rows it gives again.

Which: every parameterless named query of the questions, the timeline feeds and the export feeds (`TABLED`), except
the summaries the build keeps already (kb/query/summary.py); the checks are kept by a full `kb validate`
(kb/query/checked.py). When: on the first answer, by `run_query` (so by `kb query`, `kb timeline`, `kb export`):
the first answer costs the store's run and the writing of its rows (measured in docs/benchmarks.md), the build
costs nothing more.

The file, `tables/<digest of the text>.rows` in the snapshot folder:
- line 1: a JSON header padded with spaces to a fixed length: the format, the digest of the query text, the store's
  digest (of the snapshot's manifest.json, which holds each input's sha256), the variables, the namespaces and
  datatypes the cells refer to, the number of rows, the size of the rows' bytes and their CRC-32;
- then one line per row, in the store's order: a JSON array of cells, each null (unbound) or a string whose first
  character says what it is (`terms`).

It is written to a temporary file in the same folder and renamed into place, so a reader sees the whole file or
none. A reader checks the header (format, text, store digest), the size and the CRC before it hands out a row: a
truncated, garbled or foreign file gives None and the query runs on the store (and writes the file again). A table
over `LIMIT` bytes is not kept. A folder that cannot be written keeps nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from ..namespaces import PREFIXES
from .catalogue import catalogue
from .run import QueryResult
from .summary import SUMMARISED, digest

TABLES = "tables"
FORMAT = 1
SUFFIX = ".rows"
KINDS = ("question", "timeline", "export")
LIMIT = 512 * 1024 * 1024  # bytes of rows one table may take on disk; a larger answer is not kept
MANIFEST = "manifest.json"  # the snapshot's list of inputs with their sha256 (written by kb/store.py)
_HEADER_ROOM = 2048  # bytes kept in the header for the datatypes, counts and CRC written once the rows are in
_XSD_STRING = PREFIXES["xsd"] + "string"

Term = ox.NamedNode | ox.BlankNode | ox.Literal | None


def tabled() -> dict[str, str]:
    """Digest of each text whose answer is kept → its name: the parameterless named queries of `KINDS`, less the
    summaries the build keeps."""
    return {
        digest(query.text): name
        for name, query in catalogue().items()
        if query.kind in KINDS and not query.params and name not in SUMMARISED
    }


_TABLED: dict[str, str] | None = None


def tabled_name(text: str) -> str | None:
    """The name of the kept table this exact text answers, or None."""
    global _TABLED
    if _TABLED is None:
        _TABLED = tabled()
    return _TABLED.get(digest(text))


def store_digest(folder: Path) -> str | None:
    """The snapshot's digest: of its manifest.json, the sha256 of every input it was built from (None without)."""
    try:
        return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return None


def _path(folder: Path, text: str) -> Path:
    return folder / TABLES / (digest(text) + SUFFIX)


# ---------------------------------------------------------------- cells


class _Codes:
    """The namespaces and datatypes a table's cells refer to by one character each."""

    def __init__(self, namespaces: list[str], datatypes: list[str]) -> None:
        self.namespaces = namespaces
        self.datatypes = datatypes
        self._namespace_code = {ns: chr(0x30 + i) for i, ns in enumerate(namespaces)}
        self._datatype_code = {dt: chr(0x30 + i) for i, dt in enumerate(datatypes)}
        self._datatype_nodes = [ox.NamedNode(dt) for dt in datatypes]

    def datatype_code(self, datatype: str) -> str:
        code = self._datatype_code.get(datatype)
        if code is None:
            code = self._datatype_code[datatype] = chr(0x30 + len(self.datatypes))
            self.datatypes.append(datatype)
            self._datatype_nodes.append(ox.NamedNode(datatype))
        return code

    def encode(self, term: Term) -> str | None:
        """A cell: `I` + namespace code + local name, `<` + a whole IRI, `_` + a blank node's id, `"` + a plain
        string, `@` + language + space + text, `^` + datatype code + lexical form."""
        if term is None:
            return None
        if isinstance(term, ox.NamedNode):
            iri = term.value
            # Any namespace the IRI starts with will do (the cell is namespace + local name again): the one that
            # ends at its last / or #, looked up at once, is the project's for nearly every IRI.
            cut = max(iri.rfind("/"), iri.rfind("#")) + 1
            code = self._namespace_code.get(iri[:cut]) if cut else None
            return "<" + iri if code is None else "I" + code + iri[cut:]
        if isinstance(term, ox.BlankNode):
            return "_" + term.value
        if term.language:
            return "@" + term.language + " " + term.value
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return '"' + term.value
        return "^" + self.datatype_code(datatype) + term.value

    def decode(self, cell: str | None) -> Term:
        if cell is None:
            return None
        kind = cell[0]
        if kind == '"':
            return ox.Literal(cell[1:])
        if kind == "I":
            return ox.NamedNode(self.namespaces[ord(cell[1]) - 0x30] + cell[2:])
        if kind == "^":
            return ox.Literal(cell[2:], datatype=self._datatype_nodes[ord(cell[1]) - 0x30])
        if kind == "@":
            language, _, value = cell[1:].partition(" ")
            return ox.Literal(value, language=language)
        if kind == "<":
            return ox.NamedNode(cell[1:])
        if kind == "_":
            return ox.BlankNode(cell[1:])
        raise ValueError(f"unknown cell {cell[:8]!r}")


# ---------------------------------------------------------------- writing


def keep_table(folder: Path, text: str, result: QueryResult) -> Path | None:
    """Write the rows of `result`, the store's answer to `text` on the snapshot in `folder`, as that text's kept
    table; its path, or None when the text is not a kept table or nothing could be written (a folder the user may
    not write, a full disk, a table over `LIMIT`): the answer stands either way."""
    if result.kind != "select" or tabled_name(text) is None:
        return None
    store = store_digest(folder)
    if store is None:
        return None
    target = _path(folder, text)
    tmp: str | None = None
    try:
        target.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            if not _write(handle, text, store, result):
                raise OSError("over the limit")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return None
    return target


def _umask() -> int:
    from ..fsio import current_umask

    return current_umask()


def _header(meta: dict[str, object], room: int) -> bytes | None:
    """The header line padded with spaces to `room` bytes (JSON allows them), or None when it does not fit."""
    line = json.dumps(meta, ensure_ascii=False).encode("utf-8")
    return None if len(line) + 1 > room else line + b" " * (room - len(line) - 1) + b"\n"


def _write(handle: BinaryIO, text: str, store: str, result: QueryResult) -> bool:
    """The file, one row at a time after a header with room for what is known only at the end (the datatypes met,
    the counts, the CRC), which is then written again in the same room; False when the rows pass `LIMIT` or the
    header its room (the caller throws the file away)."""
    codes = _Codes(sorted(set(PREFIXES.values())), [])
    meta: dict[str, object] = {
        "format": FORMAT,
        "query": digest(text),
        "store": store,
        "variables": result.variables,
        "namespaces": codes.namespaces,
        "datatypes": [],
        "rows": 0,
        "bytes": 0,
        "crc": 0,
    }
    room = len(json.dumps(meta, ensure_ascii=False).encode("utf-8")) + _HEADER_ROOM
    header = _header(meta, room)
    assert header is not None
    handle.write(header)
    size, crc = 0, 0
    encode, dumps = codes.encode, json.dumps
    for row in result.rows:
        line = (dumps([encode(term) for term in row], ensure_ascii=False) + "\n").encode("utf-8")
        size += len(line)
        if size > LIMIT:
            return False
        crc = zlib.crc32(line, crc)
        handle.write(line)
    header = _header({**meta, "datatypes": codes.datatypes, "rows": len(result.rows), "bytes": size, "crc": crc}, room)
    if header is None:
        return False
    handle.seek(0)
    handle.write(header)
    return True


# ---------------------------------------------------------------- reading


@dataclass
class KeptTable:
    """A checked kept table: its variables and rows, decoded one line at a time as they are iterated."""

    path: Path
    variables: list[str]
    count: int
    offset: int
    codes: _Codes

    def rows(self) -> Iterator[list[Term]]:
        """The rows in the store's order, read and decoded as they are asked for (the file is checked already;
        a line that still fails to decode raises ValueError)."""
        width = len(self.variables)
        decode, loads = self.codes.decode, json.loads
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            for line in handle:
                cells = loads(line)
                if not isinstance(cells, list) or len(cells) != width:
                    raise ValueError("a row of another width")
                yield [decode(cell) for cell in cells]

    def result(self, budget: int | None = None) -> QueryResult | None:
        """Every row, as `run_query` returns them; None when a row cannot be decoded. With a `budget` (characters of
        the terms' text, as kb/query/run.py counts them), reading stops as soon as the rows pass it: OverBudget."""
        try:
            if budget is None:
                rows = list(self.rows())
            else:
                rows, size = [], 0
                for row in self.rows():
                    size += sum(len(term.value) for term in row if term is not None)
                    if size > budget:
                        raise OverBudget(budget)
                    rows.append(row)
        except (ValueError, TypeError, IndexError, OSError):
            return None
        if len(rows) != self.count:
            return None
        return QueryResult("select", variables=list(self.variables), rows=rows)


def kept_table(folder: Path, text: str) -> KeptTable | None:
    """The kept table of exactly this text on this snapshot, checked whole (header, store digest, size, CRC), or
    None: no such file, another text or snapshot, a truncated or garbled file."""
    if tabled_name(text) is None:
        return None
    path = _path(folder, text)
    try:
        with open(path, "rb") as handle:
            first = handle.readline()
            meta = json.loads(first)
            offset = len(first)
            ok = (
                isinstance(meta, dict)
                and meta.get("format") == FORMAT
                and meta.get("query") == digest(text)
                and meta.get("store") == store_digest(folder)
                and os.fstat(handle.fileno()).st_size == offset + meta["bytes"]
            )
            if not ok:
                return None
            crc = 0
            while chunk := handle.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
            if crc != meta["crc"]:
                return None
            variables = [str(v) for v in meta["variables"]]
            codes = _Codes([str(n) for n in meta["namespaces"]], [str(d) for d in meta["datatypes"]])
            count = int(meta["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return KeptTable(path, variables, count, offset, codes)


class OverBudget(Exception):
    """A kept table whose rows pass the caller's budget: read no further than that."""


def kept_rows(folder: Path, text: str, budget: int | None = None) -> QueryResult | None:
    """The kept answer of this text on this snapshot, every row decoded, or None (`kept_table`); OverBudget when
    its rows pass `budget` (found before the rest of the file is decoded)."""
    table = kept_table(folder, text)
    return None if table is None else table.result(budget)


def kept_stream(store: ox.Store, text: str, params: dict[str, str] | None = None) -> KeptTable | None:
    """The kept table `run_query` would answer this text from, to be read a row at a time (kb query writes it as it
    reads it), or None: parameters given, no snapshot, no good kept file."""
    if params:
        return None
    from ..store import snapshot_folder  # the store module imports kb.query: import at call time

    folder = snapshot_folder(store)
    return None if folder is None else kept_table(folder, text)

"""Writing a query's result: an aligned table, CSV/TSV, SPARQL JSON results, or Turtle."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

import pyoxigraph as ox

from ..namespaces import PREFIXES, shorten
from .run import QueryResult

_XSD = PREFIXES["xsd"]


def _plain(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(getattr(term, "value", term))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _display(term: object) -> str:
    """A cell as a reader sees it: prefixed names, also for IRIs a query joined into a text (`cat:a | cat:b`)."""
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    text = _plain(term).replace("\n", " ")
    if isinstance(term, ox.Literal) and not term.language and "://" in text:
        text = _IRI_IN_TEXT.sub(lambda match: _short_or_same(match.group(0)), text)
    return text


_IRI_IN_TEXT = re.compile(r"https?://[^\s|<>\"]+")


def _short_or_same(iri: str) -> str:
    short = shorten(iri)
    return iri if short.startswith("<") else short


# The narrowest a column is cut to (its header stays whole); below that a table is shown one record at a time.
MIN_COLUMN = 16
GAP = 2


def _take(text: str, width: int) -> str:
    """The longest start of `text` that fits in `width` display columns (at least one character)."""
    used = 0
    for index, char in enumerate(text):
        used += _width(char)
        if used > width:
            return text[: max(index, 1)]
    return text


def _cut(text: str, width: int) -> str:
    """`text` cut to `width` display columns, ending in … when anything was left off."""
    return text if _width(text) <= width else _take(text, width - 1) + "…"


def wrap(text: str, width: int, indent: str = "", first: str = "") -> list[str]:
    """`text` as lines of at most `width` display columns (CJK double), broken at spaces and a word longer than
    a line anywhere; the first line starts with `first`, every later one with `indent`. Nothing is left off."""
    lines: list[str] = []
    lead, line = first, ""
    for word in text.split():
        while word:
            joined = f"{line} {word}" if line else word
            if _width(lead + joined) <= width:
                line, word = joined, ""
            elif line:
                lines.append(lead + line)
                lead, line = indent, ""
            else:
                piece = _take(word, width - _width(lead))
                lines.append(lead + piece)
                lead, word = indent, word[len(piece) :]
    lines.append(lead + line)
    return lines


def _fit(natural: list[int], floors: list[int], room: int) -> list[int]:
    """Column widths that share `room`: narrow columns keep their width, the widest are cut to a common cap."""
    low, high = 0, max(natural)
    while low < high:  # the largest cap at which every column fits
        cap = (low + high + 1) // 2
        if sum(max(f, min(n, cap)) for n, f in zip(natural, floors, strict=True)) <= room:
            low = cap
        else:
            high = cap - 1
    widths = [max(f, min(n, low)) for n, f in zip(natural, floors, strict=True)]
    spare = room - sum(widths)
    for i, n in enumerate(natural):  # what the cap left over goes to the cut columns, left to right
        extra = min(spare, n - widths[i])
        widths[i] += extra
        spare -= extra
    return widths


def _records(header: list[str], body: list[list[str]], width: int) -> list[str]:
    """One record at a time, `name  value` per line, values wrapped whole: for tables too wide for any cut."""
    key = min(max(_width(h) for h in header), max(MIN_COLUMN, width // 3))
    out = []
    for number, row in enumerate(body, start=1):
        out.append(f"-- row {number} " + "-" * max(0, width - len(f"-- row {number} ")))
        for name, cell in zip(header, row, strict=True):
            label = _cut(name, key)
            out.extend(line.rstrip() for line in wrap(cell, width, " " * (key + GAP), label.ljust(key + GAP)))
    return out


def format_table(result: QueryResult, width: int | None = None) -> str:
    """An aligned text table (CJK characters counted double width).

    With `width`, the table fits in that many columns: the widest columns are cut (… ends a cut cell, and the
    last line says so); when even cut columns cannot fit, each row is printed as a record with its values
    wrapped. Without, every cell is printed whole.
    """
    header = result.variables
    body = [[_display(t) for t in row] for row in result.rows]
    natural = [max([_width(h)] + [_width(r[i]) for r in body]) for i, h in enumerate(header)]
    count = f"{len(body)} row{'s' if len(body) != 1 else ''}"
    room = None if width is None else width - GAP * (len(header) - 1)
    if room is not None and body and sum(natural) > room:
        floors = [min(n, max(_width(h), MIN_COLUMN)) for n, h in zip(natural, header, strict=True)]
        if sum(floors) > room:
            return "\n".join([*_records(header, body, width or 0), f"({count})"]) + "\n"
        widths = _fit(natural, floors, room)
        note = f"; cells ending in … are cut to fit {width} columns: --full-width prints them whole"
    else:
        widths, note = natural, ""

    def line(cells: list[str]) -> str:
        cut = [_cut(c, w) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cut, widths, strict=True)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in body)
    out.extend(wrap(f"({count}{note})", width) if note and width else [f"({count})"])
    return "\n".join(out) + "\n"


def format_csv(result: QueryResult, delimiter: str = ",") -> str:
    """SPARQL 1.1 CSV results: a header of variable names, plain values."""
    return "".join(csv_chunks(result.variables, result.rows, delimiter))


def csv_chunks(variables: list[str], rows: Iterable[Sequence[object]], delimiter: str = ",") -> Iterator[str]:
    """`format_csv`'s text a piece at a time: the header, then a piece per batch of rows as they come."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(variables)
    for number, row in enumerate(rows, start=1):
        writer.writerow([_plain(t) for t in row])
        if number % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


_BATCH = 1000  # rows per piece of a streamed result


def _ntriples_term(term: object) -> str:
    if term is None:
        return ""
    return str(term)


def format_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 TSV results: ?variables, terms in N-Triples form."""
    return "".join(tsv_chunks(result.variables, result.rows))


def tsv_chunks(variables: list[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """`format_tsv`'s text a line at a time."""
    yield "\t".join("?" + v for v in variables) + "\n"
    for row in rows:
        yield "\t".join(_ntriples_term(t) for t in row) + "\n"


def _json_term(term: object) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    assert isinstance(term, ox.Literal)
    data = {"type": "literal", "value": term.value}
    if term.language:
        data["xml:lang"] = term.language
    elif term.datatype.value != _XSD + "string":
        data["datatype"] = term.datatype.value
    return data


def format_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON."""
    if result.kind == "ask":
        return json.dumps({"head": {}, "boolean": result.boolean}) + "\n"
    return "".join(json_chunks(result.variables, result.rows))


def json_chunks(variables: list[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """SPARQL JSON results of a SELECT a binding at a time, the same text as `json.dumps(…, indent=1)` of the
    whole document (its layout: the head, then each binding indented under results.bindings)."""
    head = json.dumps({"head": {"vars": variables}, "results": {"bindings": []}}, ensure_ascii=False, indent=1)
    before, after = head.rsplit("[]", 1)
    yield before
    first = True
    for row in rows:
        binding = {v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None}
        text = json.dumps(binding, ensure_ascii=False, indent=1).replace("\n", "\n   ")
        yield ("[\n   " if first else ",\n   ") + text
        first = False
    yield ("[]" if first else "\n  ]") + after + "\n"


def format_turtle(result: QueryResult) -> str:
    """CONSTRUCT/DESCRIBE results as Turtle with the project prefixes."""
    data = ox.serialize(result.triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    return (data or b"").decode("utf-8")


STREAMED = ("csv", "tsv", "json")  # the formats written a row at a time (a table's widths need every row first)


def select_chunks(variables: list[str], rows: Iterable[Sequence[object]], fmt: str) -> Iterator[str]:
    """A SELECT's rows in one of `STREAMED` formats, written as they come: the same text as `format_result`."""
    if fmt == "csv":
        return csv_chunks(variables, rows)
    if fmt == "tsv":
        return tsv_chunks(variables, rows)
    if fmt == "json":
        return json_chunks(variables, rows)
    raise ValueError(f"{fmt} is not written a row at a time")


def format_result(result: QueryResult, fmt: str, width: int | None = None) -> str:
    """The result in the requested format (graph results are always Turtle); a table fits `width` columns."""
    if result.kind == "graph":
        return format_turtle(result)
    if result.kind == "ask" and fmt != "json":
        return ("yes" if result.boolean else "no") + "\n"
    if fmt == "csv":
        return format_csv(result)
    if fmt == "tsv":
        return format_tsv(result)
    if fmt == "json":
        return format_json(result)
    return format_table(result, width)

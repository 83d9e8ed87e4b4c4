"""Writing a query's result: an aligned table, CSV/TSV, SPARQL JSON results, or Turtle."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

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
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    return _plain(term).replace("\n", " ")


def format_table(result: QueryResult) -> str:
    """An aligned text table (CJK characters counted double width)."""
    header = result.variables
    body = [[_display(t) for t in row] for row in result.rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in body]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in body)
    out.append(f"({len(body)} row{'s' if len(body) != 1 else ''})")
    return "\n".join(out) + "\n"


def format_csv(result: QueryResult, delimiter: str = ",") -> str:
    """SPARQL 1.1 CSV results: a header of variable names, plain values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow([_plain(t) for t in row])
    return buffer.getvalue()


def _ntriples_term(term: object) -> str:
    if term is None:
        return ""
    return str(term)


def format_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 TSV results: ?variables, terms in N-Triples form."""
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join(_ntriples_term(t) for t in row))
    return "\n".join(lines) + "\n"


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
    bindings = [
        {v: _json_term(t) for v, t in zip(result.variables, row, strict=True) if t is not None} for row in result.rows
    ]
    return (
        json.dumps(
            {"head": {"vars": result.variables}, "results": {"bindings": bindings}}, ensure_ascii=False, indent=1
        )
        + "\n"
    )


def format_turtle(result: QueryResult) -> str:
    """CONSTRUCT/DESCRIBE results as Turtle with the project prefixes."""
    data = ox.serialize(result.triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    return (data or b"").decode("utf-8")


def format_result(result: QueryResult, fmt: str) -> str:
    """The result in the requested format (graph results are always Turtle)."""
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
    return format_table(result)

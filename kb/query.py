"""Named SPARQL queries (the catalogue of kb/queries/), running them, and writing their results."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import QueryError
from .namespaces import PREFIXES, XSD_DATE, expand, shorten

QUERY_DIR = Path(__file__).resolve().parent / "queries"
# Folders by audience (kb/queries/README.md): what --list and the endpoint page show, then the plumbing.
QUESTIONS_DIR = QUERY_DIR / "questions"
KINDS = {
    "question": (QUESTIONS_DIR, ""),
    "check": (QUERY_DIR / "checks", ""),
    "summary": (QUERY_DIR / "summary", ""),
    "timeline": (QUERY_DIR / "timeline", "timeline-"),
    "export": (QUERY_DIR / "export", "export-"),
}
_XSD = PREFIXES["xsd"]


@dataclass(frozen=True)
class Param:
    """A parameter a named query takes: bound as ?name."""

    name: str
    description: str
    required: bool


@dataclass(frozen=True)
class NamedQuery:
    """A .rq file: its name, one-line description, parameters and text; a check also its severity and messages."""

    name: str
    path: Path
    description: str
    params: tuple[Param, ...]
    text: str
    kind: str = "question"
    severity: str = "violation"
    message_zh: str = ""
    hint: str = ""


def parse_header(name: str, path: Path, text: str, kind: str = "question") -> NamedQuery:
    """Read the comment header: the first line is the description, `# param: ?x — …` lines the parameters,
    and a check's `# severity:`, `# message_zh:` and `# hint:` lines what its findings say."""
    description = ""
    params = []
    fields = {"severity": "violation", "message_zh": "", "hint": ""}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        match = re.match(r"param:\s*\?(\w+)\s*(\(optional\))?\s*[—:-]*\s*(.*)", body)
        field_match = re.match(r"(severity|message_zh|hint):\s*(.*)", body)
        if match:
            params.append(Param(match.group(1), match.group(3).strip(), match.group(2) is None))
        elif field_match:
            fields[field_match.group(1)] = field_match.group(2).strip()
        elif body and not description:
            description = body
    return NamedQuery(name, path, description, tuple(params), text, kind, **fields)


def named_queries(directory: Path = QUESTIONS_DIR, kind: str = "question", prefix: str = "") -> dict[str, NamedQuery]:
    """The named queries of one folder, by name (the file name without .rq, after `prefix`): by default the
    user questions, which `kb query --list` and the endpoint page show."""
    queries = {}
    for path in sorted(directory.glob("*.rq")):
        name = prefix + path.stem
        queries[name] = parse_header(name, path, path.read_text("utf-8"), kind)
    return queries


def catalogue() -> dict[str, NamedQuery]:
    """Every query of the project: the questions, then the checks, summaries and the feeds of the page and exports."""
    queries: dict[str, NamedQuery] = {}
    for kind, (directory, prefix) in KINDS.items():
        queries.update(named_queries(directory, kind, prefix))
    return queries


def load_query(path: Path) -> NamedQuery:
    """One query file by its path, named by its file name (a feed outside the catalogue, e.g. queries/export/)."""
    return parse_header(path.stem, path, path.read_text("utf-8"))


def get_named_query(name: str) -> NamedQuery:
    """One query of the catalogue by name, or a QueryError listing near names."""
    queries = catalogue()
    if name not in queries:
        import difflib

        near = difflib.get_close_matches(name, list(queries), n=3)
        hint = f"did you mean {', '.join(near)}?" if near else "kb query --list shows the named queries"
        raise QueryError(f"no named query '{name}'", hint=hint)
    return queries[name]


def select(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> ox.QuerySolutions:
    """The solutions of a SELECT run directly on a store (narrows pyoxigraph's result type)."""
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError("expected a SELECT query")
    return result


def parse_term(value: str) -> ox.NamedNode | ox.Literal:
    """A --param value as an RDF term: <iri>, prefix:name, a date, an integer, or else a string."""
    iri = expand(value)
    if iri is not None:
        return ox.NamedNode(iri)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return ox.Literal(value, datatype=ox.NamedNode(XSD_DATE))
    if re.fullmatch(r"-?\d+", value):
        return ox.Literal(value, datatype=ox.NamedNode(_XSD + "integer"))
    if re.fullmatch(r"-?\d+\.\d*", value):
        return ox.Literal(value, datatype=ox.NamedNode(_XSD + "decimal"))
    return ox.Literal(value)


def parse_params(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`name=value` strings as a dict."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lstrip("?")
        if not sep or not name:
            raise QueryError(f"parameter '{pair}' is not name=value", hint="write --param day=2022-11-10")
        params[name] = value
    return params


@dataclass
class QueryResult:
    """Rows of a SELECT, the answer of an ASK, or the triples of a CONSTRUCT/DESCRIBE."""

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[list[ox.NamedNode | ox.BlankNode | ox.Literal | None]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)

    def records(self) -> list[dict[str, str | None]]:
        """Rows as dicts of plain values (IRIs and literal lexical forms), for tests and templates."""
        return [
            {v: (None if t is None else t.value) for v, t in zip(self.variables, row, strict=True)} for row in self.rows
        ]


def check_params(query: NamedQuery, params: dict[str, str]) -> None:
    """Refuse unknown parameters and missing required ones."""
    known = {p.name for p in query.params}
    for name in params:
        if name not in known:
            hint = f"it takes: {', '.join(sorted(known))}" if known else "it takes no parameters"
            raise QueryError(f"query '{query.name}' has no parameter '{name}'", hint=hint)
    for param in query.params:
        if param.required and param.name not in params:
            raise QueryError(f"query '{query.name}' needs --param {param.name}=…", hint=param.description or None)


def _sparql_term(term: ox.NamedNode | ox.Literal) -> str:
    return str(term)


# What the brace scan jumps over: string literals (long and short, either quote) and IRIs.
_SKIP = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^\s<>"{}|^`\\]*>'
)


def _union_branches(code: str, start: int) -> list[int]:
    """Positions just inside each `{` that opens a UNION branch directly in the group opened at `start`."""
    depth, i, groups = 1, start, []
    opened = None
    while i < len(code) and depth > 0:
        skip = _SKIP.match(code, i)
        if skip:
            i = skip.end()
            continue
        char = code[i]
        if char == "{":
            depth += 1
            if depth == 2:
                opened = i
        elif char == "}":
            if depth == 2 and opened is not None:
                groups.append((opened, i))
            depth -= 1
        i += 1
    branches = []
    for n, (first, last) in enumerate(groups):
        before = code[groups[n - 1][1] + 1 : first] if n else ""
        after = code[last + 1 : groups[n + 1][0]] if n + 1 < len(groups) else ""
        if before.strip().upper() == "UNION" or after.strip().upper() == "UNION":
            branches.append(first + 1)
    return branches


def bind_params(text: str, bindings: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """Bind parameters with a VALUES block at the start of the outermost WHERE group, and of its UNION branches.

    Unlike a trailing VALUES clause, this lets FILTERs in the group see the values, and unlike
    SEP-0007 substitution it does not need the variables in the projection. Repeating the one-row block in
    each top-level UNION branch changes no answer (a join distributes over a union), but lets the engine start
    each branch from the bound value: measure-history took 40 s at 100k measures without it.
    """
    code = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    match = re.search(r"\bWHERE\s*\{", code, re.IGNORECASE) or re.search(r"\{", code)
    if match is None:
        raise QueryError("this query has no WHERE clause to bind parameters in")
    names = " ".join("?" + name for name in bindings)
    values = " ".join(_sparql_term(term) for term in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }} "
    for position in reversed(_union_branches(code, match.end())):
        code = code[:position] + block + code[position:]
    return code[: match.end()] + block + code[match.end() :]


def run_query(store: ox.Store, text: str, params: dict[str, str] | None = None) -> QueryResult:
    """Run SPARQL over the union of all graphs, with the project prefixes pre-bound."""
    if params:
        text = bind_params(text, {k: parse_term(v) for k, v in params.items()})
    try:
        result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}", hint="check the query text at that place") from None
    except OSError as exc:
        raise QueryError(f"query failed: {exc}") from None
    if isinstance(result, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = [[solution[v] for v in result.variables] for solution in result]
        return QueryResult("select", variables=variables, rows=rows)
    return QueryResult("graph", triples=list(result))


# ---------------------------------------------------------------- writing results


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

"""Running a query on a store: parameters as RDF terms, bound into the text, and the result as plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import pyoxigraph as ox

from ..errors import QueryError
from ..namespaces import PREFIXES, XSD_DATE, expand
from .catalogue import FORMS, NamedQuery, Param, fits_form, parse_header
from .order import sort_rows, sort_rows_in_memory, split_order

_XSD = PREFIXES["xsd"]
Term = ox.NamedNode | ox.BlankNode | ox.Literal | None


def select(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> ox.QuerySolutions:
    """The solutions of a SELECT run directly on a store (narrows pyoxigraph's result type)."""
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError("expected a SELECT query")
    return result


def parse_term(value: str) -> ox.NamedNode | ox.Literal:
    """A --param value as an RDF term: <iri>, prefix:name, a date, an integer, or else a string."""
    iri = expand(value)
    if iri is not None:
        try:
            return ox.NamedNode(iri)
        except ValueError as exc:
            raise QueryError(f"{value!r} is not a valid IRI: {exc}", hint="write prefix:name or <https://…>") from None
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
    rows: list[list[Term]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)

    def records(self) -> list[dict[str, str | None]]:
        """Rows as dicts of plain values (IRIs and literal lexical forms), for tests and templates."""
        return [
            {v: (None if t is None else t.value) for v, t in zip(self.variables, row, strict=True)} for row in self.rows
        ]


def _usage(param: Param, flag: str) -> str:
    """How to give a parameter: its name and example (`--param measure=measure:central-daily-area-testing`)."""
    return f"{flag}{param.name}={param.example or '…'}"


def check_params(query: NamedQuery, params: dict[str, str], flag: str = "--param ") -> None:
    """Refuse unknown parameters, missing required ones, and a value not of the form the parameter's example shows
    (a date, a name, true/false: `Param.form`), naming each parameter with its example; `flag` is how the caller's
    users give one (`--param ` on the command line, `$` in a request to the endpoint)."""
    known = {p.name for p in query.params}
    which = f"query '{query.name}'" if query.name else "the query"
    for name in params:
        if name not in known:
            hint = f"it takes: {', '.join(sorted(known))}" if known else "it takes no parameters"
            raise QueryError(f"{which} has no parameter '{name}'", hint=hint)
    missing = [param for param in query.params if param.required and not params.get(param.name, "").strip()]
    if missing:
        needs = "; ".join(f"{p.name} ({p.description})" if p.description else p.name for p in missing)
        usage = " ".join(_usage(p, flag) for p in missing)
        raise QueryError(
            f"{which} needs the parameter{'s' if len(missing) > 1 else ''} {needs}",
            hint=f"give {'them' if len(missing) > 1 else 'it'}, for example: {usage}",
        )
    for param in query.params:
        value = params.get(param.name)
        if value is None or not value.strip() or fits_form(param.form, value):
            continue
        shown = value if len(value) <= 80 else value[:79] + "…"
        raise QueryError(
            f"{which}: parameter {param.name} is given {shown!r}, which is not {FORMS[param.form]}",
            hint=f"give it that way, for example: {_usage(param, flag)}",
        )


def declared_params(text: str) -> NamedQuery | None:
    """The query's header read as a named query's (with no name), when it declares parameters
    (`# param: ?x — …`), else None: a text copied from kb/queries/ keeps its header, so its parameters are
    checked wherever it is run."""
    query = parse_header("", Path("-"), text)
    return query if query.params else None


# What each project namespace of things holds, for "no such measure … did you mean …".
_KINDS = {
    "measure": "measure",
    "place": "place",
    "doc": "document",
    "agent": "agent",
    "ann": "announcement",
    "src": "source",
    "obs": "observation",
    "disc": "discrepancy",
    "cat": "category",
    "tg": "target group",
    "qk": "quantity kind",
    "stat": "statistic type",
    "cq": "term of the ontology",
}


def _kind_of(iri: str) -> str | None:
    """The prefix of the project namespace of things an IRI lies in (the longest that fits), or None."""
    fits = [prefix for prefix in _KINDS if iri.startswith(PREFIXES[prefix])]
    return max(fits, key=lambda prefix: len(PREFIXES[prefix])) if fits else None


def _mentioned(store: ox.Store, node: ox.NamedNode) -> bool:
    """Whether the store holds any triple with this IRI as its subject, object or predicate."""
    for pattern in ((node, None, None), (None, None, node), (None, node, None)):
        for _ in store.quads_for_pattern(*pattern):
            return True
    return False


def _names_in(store: ox.Store, namespace: str) -> list[str]:
    """The IRIs of one namespace the store mentions as a subject or an object (only when one is missing)."""
    text = (
        "SELECT DISTINCT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x } "
        f"FILTER(isIRI(?x) && STRSTARTS(STR(?x), {ox.Literal(namespace)})) }}"
    )
    solutions = select(store.query(text, use_default_graph_as_union=True))
    return [solution["x"].value for solution in solutions if isinstance(solution["x"], ox.NamedNode)]


def check_terms(store: ox.Store, params: dict[str, str]) -> None:
    """Refuse a parameter naming a thing of the knowledge base (a measure, place, document, agent …) that the
    store does not hold: "no such measure measure:x", with the nearest names of that kind as a hint.

    A mistyped IRI would otherwise answer "(0 rows)", which reads like "the sources are silent".
    """
    import difflib

    for name, value in params.items():
        iri = expand(value.strip())
        prefix = _kind_of(iri) if iri else None
        if iri is None or prefix is None:
            continue
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            raise QueryError(f"parameter {name}: {value!r} is not a valid IRI") from None
        if _mentioned(store, node):
            continue
        kind, namespace = _KINDS[prefix], PREFIXES[prefix]
        local = iri[len(namespace) :]
        names = [known[len(namespace) :] for known in _names_in(store, namespace)]
        near = difflib.get_close_matches(local, names, n=3, cutoff=0.5)
        hint = (
            f"did you mean {', '.join(f'{prefix}:{n}' for n in near)}?"
            if near
            else f"no {kind} of the {len(names)} in the store has a name close to it"
        )
        raise QueryError(f"no such {kind} {prefix}:{local} in the knowledge base (parameter {name})", hint=hint)


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


_DOLLAR = re.compile(_SKIP.pattern + r"|\$(\w+)")


def _substitute(code: str, bindings: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """`$name` written for a bound parameter replaced by its value (strings and IRIs left as they are)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return _sparql_term(bindings[name]) if name in bindings else match.group(0)

    return _DOLLAR.sub(value, code)


def bind_params(text: str, bindings: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """Bind parameters with a VALUES block at the start of the outermost WHERE group, and of its UNION branches;
    where the text writes a parameter `$name` (not `?name`), its value is put in that place.

    Unlike a trailing VALUES clause, this lets FILTERs in the group see the values, and unlike
    SEP-0007 substitution it does not need the variables in the projection. Repeating the one-row block in
    each top-level UNION branch changes no answer (a join distributes over a union), but lets the engine start
    each branch from the bound value: measure-history took 40 s at 100k measures without it.

    `$name` is the same variable as `?name` to SPARQL, so the text stays valid unbound. The value put in its place
    reaches where the VALUES block cannot: a sub-SELECT (which sees no outer binding) and a FILTER oxigraph then
    evaluates against a constant while it scans (kb/queries/README.md, "Writing for speed"). A parameter that is
    not given stays a variable there, unbound, as it is everywhere else.
    """
    code = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    code = _substitute(code, bindings)
    match = re.search(r"\bWHERE\s*\{", code, re.IGNORECASE) or re.search(r"\{", code)
    if match is None:
        raise QueryError("this query has no WHERE clause to bind parameters in")
    names = " ".join("?" + name for name in bindings)
    values = " ".join(_sparql_term(term) for term in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }} "
    for position in reversed(_union_branches(code, match.end())):
        code = code[:position] + block + code[position:]
    return code[: match.end()] + block + code[match.end() :]


def run_query(
    store: ox.Store, text: str, params: dict[str, str] | None = None, folder: Path | None = None
) -> QueryResult:
    """Run SPARQL over the union of all graphs, with the project prefixes pre-bound.

    What the build, a validation or an earlier answer kept answers first (`kept_answer`), else the query runs on the
    store (`fast_answer`'s ways first); the store's answer of a full table is then kept for the next time
    (kb/query/tables.py). `folder` is the snapshot folder the store reads, when the caller opened it itself (kb
    serve's workers); open_snapshot's stores know it."""
    folder = _snapshot(store, folder)
    kept = kept_answer(store, text, params, folder)
    if kept is not None:
        return kept
    result = _computed(store, text, params, None)
    if result is None:
        result = _run(store, bind_params(text, _terms(params)) if params else text)
    if not params and folder is not None:
        from .tables import keep_table  # the first answer of a full table, kept for the next (kb/query/tables.py)

        keep_table(folder, text, result)
    return result


def _terms(params: dict[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
    return {k: parse_term(v) for k, v in params.items()}


def _snapshot(store: ox.Store, folder: Path | None) -> Path | None:
    """The snapshot folder the store reads: the caller's, else the one open_snapshot opened it on, else None."""
    if folder is not None:
        return folder
    from ..store import snapshot_folder  # the store module imports kb.query: import at call time

    return snapshot_folder(store)


def kept_answer(
    store: ox.Store,
    text: str,
    params: dict[str, str] | None = None,
    folder: Path | None = None,
    budget: int | None = None,
) -> QueryResult | None:
    """The answer kept for exactly this text and these parameters on this store's snapshot, or None: a summary
    query without parameters (the build's, kb/query/summary.py), a check's rows (a full validation's,
    kb/query/checked.py), a full table (its first answer's, kb/query/tables.py), `search` from the folded-text index
    (kb/query/search.py), `measures-in-force-on-day` on the measures the day index finds (kb/query/days.py),
    `measures-announced-between` on the measures the date index finds (kb/query/announced.py). With a `budget`, a
    kept full table is read no further than the point where it passes it (tables.OverBudget)."""
    folder = _snapshot(store, folder)
    if folder is None:
        return None
    if not params:
        from .checked import checked  # a *-violation check's rows kept by a full kb validate (kb/query/checked.py)
        from .summary import summarised
        from .tables import kept_rows

        for way in (summarised, checked):
            kept = way(folder, text)
            if kept is not None:
                return kept
        return kept_rows(folder, text, budget)
    from .announced import announced_between
    from .days import in_force
    from .search import searched

    searched_answer = searched(folder, text, params)
    if searched_answer is not None:
        return searched_answer
    day_answer = in_force(store, folder, text, params)
    return day_answer if day_answer is not None else announced_between(store, folder, text, params)


def fast_answer(
    store: ox.Store,
    text: str,
    params: dict[str, str] | None = None,
    folder: Path | None = None,
    budget: int | None = None,
) -> QueryResult | None:
    """The answer by a way faster than the store's own, or None when there is none for this query.

    A kept answer (`kept_answer`), a slow check's rows computed in one pass (kb/query/onepass.py), or a final ORDER
    BY done in Python where that gives the store's order exactly (kb/query/order.py): sorting on the store decodes
    both terms of every comparison from the database. With a `budget`, a result whose terms' text passes that many
    characters is not collected (None)."""
    from .tables import OverBudget

    try:
        kept = kept_answer(store, text, params, folder, budget)
    except OverBudget:
        return None  # over the caller's budget: the store's run says so, as for any other answer
    if kept is not None:
        if budget is not None and _size(kept.rows) > budget:
            return None  # over the caller's budget: the store's run says so, as for any other answer
        return kept
    return _computed(store, text, params, budget)


def _computed(store: ox.Store, text: str, params: dict[str, str] | None, budget: int | None) -> QueryResult | None:
    """A slow check's rows computed in one pass, or the text run with its ORDER BY done in Python; None when
    neither applies (or the answer passed `budget`)."""
    if not params:
        from .onepass import answered  # a slow check's rows computed in one pass (kb/query/onepass.py)

        computed = answered(store, text)
        if computed is not None:
            return None if budget is not None and _size(computed.rows) > budget else computed
    if params:
        text = bind_params(text, _terms(params))
    return _ordered(store, text, budget)


def _size(rows: list[list[Term]]) -> int:
    """The text of a result's terms, in characters: what a budget counts."""
    return sum(len(term.value) for row in rows for term in row if term is not None)


def ordered_run(store: ox.Store, text: str) -> QueryResult:
    """Run a text (parameters already bound) with its final ORDER BY done in Python where that gives the store's
    order exactly, else as the store runs it."""
    result = _ordered(store, text, None)
    return result if result is not None else _run(store, text)


def _ordered(store: ox.Store, text: str, budget: int | None) -> QueryResult | None:
    order = split_order(text)
    if order is None:
        return None
    result = _run(store, order.text, budget)
    if result is None or result.kind != "select":
        return None
    if len(result.rows) <= 1:
        return result  # nothing to order (a check that finds nothing, a lookup of one thing)
    rows = sort_rows(result.variables, result.rows, order.keys)
    if rows is None:
        rows = sort_rows_in_memory(result.variables, result.rows, order.keys)
    if rows is None:
        return None
    result.rows = rows
    return result


class _OverBudget(Exception):
    """A result grew past the text budget it was collected under."""


def _collect(result: ox.QuerySolutions, budget: int | None) -> list[list[Term]]:
    variables = result.variables
    if budget is None:
        return [[solution[v] for v in variables] for solution in result]
    rows, size = [], 0
    for solution in result:
        row = [solution[v] for v in variables]
        size += _size([row])
        if size > budget:
            raise _OverBudget
        rows.append(row)
    return rows


@overload
def _run(store: ox.Store, text: str) -> QueryResult: ...
@overload
def _run(store: ox.Store, text: str, budget: int | None) -> QueryResult | None: ...
def _run(store: ox.Store, text: str, budget: int | None = None) -> QueryResult | None:
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
        try:
            rows = _collect(result, budget)
        except _OverBudget:
            return None
        return QueryResult("select", variables=variables, rows=rows)
    return QueryResult("graph", triples=list(result))

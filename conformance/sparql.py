"""Every named query on pyoxigraph (kb's engine) and on Jena ARQ, over the same dataset; results as multisets.

The dataset. kb runs every query over the union of the store's named graphs (`use_default_graph_as_union`).
Jena is given the same quads (an N-Quads dump of the store, blank node labels kept) and a default graph that is
the RDF merge of the named graphs: the set of their triples, blank nodes shared as in the store. SPARQL 1.1
Query §13.1 lets the service choose the default graph; §13 makes it an RDF graph, a set of triples.
The parameters. The harness binds a query's parameters once, textually, with kb.query.bind_params (a VALUES
block at the start of the WHERE group and of each top-level UNION branch, kb's own binding), and sends the
same text to both engines, the project's prefixes declared in front of it for Jena. What is compared is then
the two engines' evaluation of one query, never two ways of binding it.
The comparison. Rows are tuples of RDF terms, compared as multisets; with a top-level ORDER BY also in order
(ties left to the engine show as an order difference). Blank nodes compare equal (their labels are the
engine's). Numbers compare by datatype and value ("3645"^^xsd:decimal and "3645.0"^^xsd:decimal: the lexical
form of a computed number is the engine's, XPath F&O casting rules). The parts of a GROUP_CONCAT compare as a
set (§18.5.1, GroupConcat: the order of a group's values is undefined). CONSTRUCT results compare as graphs
(isomorphism).
"""

from __future__ import annotations

import decimal
import json
import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from kb.namespaces import PREFIXES
from kb.query import NamedQuery, bind_params, catalogue, parse_term, run_query

from .outcome import Outcome, outcome

# Values for parameters whose description gives no example ("e.g. …"), or a better one for the shipped facts.
PARAM_VALUES = {
    "strength": "cq:Mandatory",
    "include_unknown": "true",
    "text": "核酸",
    "kind": "qk:test-result-validity",
    "place": "place:shapingba",
}
# Differences that are expected (the reason, with the section of the spec that decides it); strict: a known
# difference that disappears is reported, so that it is removed from here.
KNOWN: dict[str, str] = {}

_NUMERIC = {PREFIXES["xsd"] + name for name in ("integer", "decimal", "double", "float", "int", "long")}
# the argument may hold calls of its own: GROUP_CONCAT(DISTINCT STR(?code); separator=" ")
_SEPARATOR = re.compile(
    r'GROUP_CONCAT\s*\((?:[^;()]|\([^()]*\))*;\s*separator\s*=\s*"((?:[^"\\]|\\.)*)"', re.IGNORECASE
)


def parameters(query: NamedQuery) -> dict[str, str]:
    """A value for every parameter of a query: the harness's choice, or the example in its description."""
    values = {}
    for param in query.params:
        example = re.search(r"e\.g\.\s+([^\s,;]+)", param.description)
        value = PARAM_VALUES.get(param.name) or (example.group(1).rstrip(":") if example else None)
        if value is None:
            raise ValueError(f"query {query.name}: give ?{param.name} an example ('e.g. …') or a value in PARAM_VALUES")
        values[param.name] = value
    return values


def bound_text(query: NamedQuery) -> str:
    params = parameters(query)
    return bind_params(query.text, {k: parse_term(v) for k, v in params.items()}) if params else query.text


def jena_text(text: str) -> str:
    """The query with the project's prefixes declared in front (a later PREFIX of the query itself wins)."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items()) + text


def _ordered(text: str) -> bool:
    """Whether the outermost query has ORDER BY (one inside a sub-select orders nothing of the result)."""
    code = "\n".join(line.split("#", 1)[0] if '"' not in line else line for line in text.splitlines())
    depth = 0
    for token in re.finditer(r"[{}]|\bORDER\s+BY\b", code, re.IGNORECASE):
        if token.group() == "{":
            depth += 1
        elif token.group() == "}":
            depth -= 1
        elif depth == 0:
            return True
    return False


def _canonical(term: ox.NamedNode | ox.BlankNode | ox.Literal | None, separators: list[str]) -> object:
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return "_:b"
    if isinstance(term, ox.Literal):
        if term.datatype.value in _NUMERIC:
            try:
                return ("number", term.datatype.value, decimal.Decimal(term.value))
            except decimal.InvalidOperation:
                pass
        for separator in separators:
            if separator in term.value:
                return ("parts", frozenset(term.value.split(separator)), term.language, term.datatype.value)
    return str(term)


def _rows(variables: list[str], solutions: ox.QuerySolutions, separators: list[str]) -> list[tuple[object, ...]]:
    return [tuple(_canonical(solution[v], separators) for v in variables) for solution in solutions]


def prepare(store: ox.Store, folder: Path) -> tuple[list[str], dict[str, NamedQuery]]:
    """The dataset and one query file per named query for Jena, and the batch lines that run them."""
    folder.mkdir(parents=True, exist_ok=True)
    dataset = folder / "kb.nq"
    store.dump(str(dataset), format=ox.RdfFormat.N_QUADS)
    queries = catalogue()
    lines = [f"dataset\t{dataset}"]
    for name, query in queries.items():
        path = folder / f"{name}.rq"
        path.write_text(jena_text(bound_text(query)), encoding="utf-8")
        lines.append(f"sparql\t{path}\t{folder / name}.out")
    return lines, queries


def run_oxigraph(store: ox.Store, queries: dict[str, NamedQuery]) -> dict[str, object]:
    """kb's own engine, through kb's own run_query (prefixes pre-bound, union default graph)."""
    return {name: run_query(store, bound_text(query)) for name, query in queries.items()}


def _graph_same(fast: list[ox.Triple], jena_file: Path) -> bool:
    import rdflib
    from rdflib.compare import isomorphic

    got = rdflib.Graph().parse(data=(ox.serialize(fast, format=ox.RdfFormat.N_TRIPLES) or b"").decode(), format="nt")
    return isomorphic(got, rdflib.Graph().parse(jena_file, format="nt"))


def compare(folder: Path, queries: dict[str, NamedQuery], results: dict[str, object]) -> list[Outcome]:
    outcomes = []
    for name, query in queries.items():
        same, detail = _compare_one(folder / f"{name}.out", query, results[name])
        outcomes.append(outcome("sparql", name, same, detail, KNOWN))
    return outcomes


def _compare_one(out: Path, query: NamedQuery, fast: object) -> tuple[bool, str]:
    error = out.with_name(out.name + ".err")
    if error.exists():
        return False, "ARQ: " + error.read_text("utf-8").splitlines()[0][:300]
    kind = getattr(fast, "kind", "")
    if kind == "graph":
        return _graph_same(fast.triples, out), "CONSTRUCT graphs isomorphic"  # type: ignore[attr-defined]
    answer = json.loads(out.read_text("utf-8"))
    if kind == "ask":
        return bool(fast.boolean) == answer["boolean"], f"ASK {fast.boolean} / {answer['boolean']}"  # type: ignore[attr-defined]
    separators = _SEPARATOR.findall(query.text)
    solutions = ox.parse_query_results(out.read_bytes(), format=ox.QueryResultsFormat.JSON)
    assert isinstance(solutions, ox.QuerySolutions)
    jena_vars = [v.value for v in solutions.variables]
    if jena_vars != fast.variables:  # type: ignore[attr-defined]
        return False, f"variables {fast.variables} / {jena_vars}"  # type: ignore[attr-defined]
    mine = [tuple(_canonical(t, separators) for t in row) for row in fast.rows]  # type: ignore[attr-defined]
    theirs = _rows(jena_vars, solutions, separators)
    if Counter(mine) != Counter(theirs):
        only_mine = Counter(mine) - Counter(theirs)
        only_theirs = Counter(theirs) - Counter(mine)
        sample = next(iter(only_mine or only_theirs))
        return False, (
            f"{len(mine)} rows / {len(theirs)} rows; {sum(only_mine.values())} only on pyoxigraph, "
            f"{sum(only_theirs.values())} only on ARQ, e.g. {sample}"
        )[:400]
    if _ordered(query.text) and mine != theirs:
        first = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
        return False, f"same {len(mine)} rows in another order from row {first + 1} (ties in ORDER BY)"
    return True, f"{len(mine)} rows"

"""The SHACL shapes evaluated on the pyoxigraph store itself: the SHACL Core subset ontology/shapes.ttl uses, read
from the shapes graph and run set-at-a-time over the store's indexes (one scan per predicate a path names, one
rdf:type lookup per target class), with the results pyshacl gives for the same graph.

"The same graph" is the one the pyshacl engine hands it (shacl.py): the union of the store's graphs as rdflib
sees it, where a typed literal has rdflib's lexical form ("01.50"^^xsd:decimal is "1.5") and an ill-typed one is a
plain string. Value comparisons (sh:minInclusive, sh:lessThanOrEquals) and datatype checks are made, as pyshacl
makes them, on rdflib literals (one per distinct literal that needs one).

A top-level shape whose constraints (followed through sh:property, sh:node, sh:not, sh:or and
sh:qualifiedValueShape) use anything this module does not evaluate, or that meets a value it cannot judge the way
pyshacl would, is never skipped: it is handed to the reference engine (`unsupported` below), the others' targets
removed from the shapes graph it is given.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import PREFIXES

_SH = PREFIXES["sh"]
_RDF = PREFIXES["rdf"]
_XSD = PREFIXES["xsd"]
RDF_TYPE = ox.NamedNode(_RDF + "type")
_SUBCLASS = ox.NamedNode(PREFIXES["rdfs"] + "subClassOf")
_FIRST, _REST, _NIL = ox.NamedNode(_RDF + "first"), ox.NamedNode(_RDF + "rest"), ox.NamedNode(_RDF + "nil")
_XSD_STRING = _XSD + "string"
_LANG_STRING = _RDF + "langString"
_VIOLATION = ox.NamedNode(_SH + "Violation")

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = ox.NamedNode | ox.BlankNode


def sh(name: str) -> ox.NamedNode:
    return ox.NamedNode(_SH + name)


# What a shape may say that is not a constraint (or that is read with the constraint it belongs to).
_NOT_CONSTRAINTS = {
    sh(n)
    for n in (
        "path",
        "message",
        "severity",
        "name",
        "description",
        "order",
        "group",
        "targetClass",
        "targetSubjectsOf",
        "property",
        "qualifiedMinCount",
    )
}
# The constraint parameters evaluated here, each a component of SHACL Core.
_COMPONENTS = {
    sh(param): sh(component + "ConstraintComponent")
    for param, component in (
        ("minCount", "MinCount"),
        ("maxCount", "MaxCount"),
        ("class", "Class"),
        ("datatype", "Datatype"),
        ("nodeKind", "NodeKind"),
        ("pattern", "Pattern"),
        ("minLength", "MinLength"),
        ("in", "In"),
        ("hasValue", "HasValue"),
        ("languageIn", "LanguageIn"),
        ("lessThanOrEquals", "LessThanOrEquals"),
        ("minInclusive", "MinInclusive"),
        ("node", "Node"),
        ("not", "Not"),
        ("or", "Or"),
        ("qualifiedValueShape", "QualifiedMinCount"),
    )
}
# SPARQL conditions on a value ?v that hold only for values passing the check (bad_values asks the store for the
# distinct values that fail them, then checks those in Python): the node kinds exactly; of the datatypes, the two
# whose test does not depend on rdflib's reading of the lexical form (a language-tagged string, a plain string)
_FINE_NODE_KIND = {
    sh("IRI"): "isIRI(?v)",
    sh("BlankNode"): "isBlank(?v)",
    sh("Literal"): "isLiteral(?v)",
    sh("BlankNodeOrIRI"): "(isBlank(?v) || isIRI(?v))",
    sh("BlankNodeOrLiteral"): "(isBlank(?v) || isLiteral(?v))",
    sh("IRIOrLiteral"): "(isIRI(?v) || isLiteral(?v))",
}
_FINE_DATATYPE = {
    _RDF + "langString": '(isLiteral(?v) && LANG(?v) != "")',
    _XSD + "string": f'(isLiteral(?v) && LANG(?v) = "" && DATATYPE(?v) = <{_XSD}string>)',
}
_NODE_KINDS = {
    sh("IRI"): (ox.NamedNode,),
    sh("BlankNode"): (ox.BlankNode,),
    sh("Literal"): (ox.Literal,),
    sh("BlankNodeOrIRI"): (ox.BlankNode, ox.NamedNode),
    sh("BlankNodeOrLiteral"): (ox.BlankNode, ox.Literal),
    sh("IRIOrLiteral"): (ox.NamedNode, ox.Literal),
}
# pyshacl's check of a well-typed literal's value, by datatype (others: any value passes)
_VALUE_TYPES: dict[str, type | tuple[type, ...]] = {
    _XSD + "integer": int,
    _XSD + "float": float,
    _XSD + "decimal": decimal.Decimal,
    _XSD + "boolean": bool,
    _XSD + "date": datetime.date,
    _XSD + "time": datetime.time,
    _XSD + "dateTime": datetime.datetime,
}


class Unsupported(Exception):
    """A shape, or a value met while evaluating it, that this module does not evaluate as pyshacl would."""


@dataclass(frozen=True)
class Result:
    """One top-level validation result, as pyshacl reports it."""

    focus: Node
    path: Node | None
    severity: ox.NamedNode
    value: Term | None
    shape: Node
    component: ox.NamedNode
    messages: tuple[ox.Literal, ...]


class ShapesGraph:
    """The shapes file's triples, by subject and predicate."""

    def __init__(self, path: Path) -> None:
        self.triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        self._index: dict[tuple[object, object], list[Term]] = defaultdict(list)
        self._predicates: dict[object, dict[ox.NamedNode, None]] = defaultdict(dict)
        for triple in self.triples:
            self._index[(triple.subject, triple.predicate)].append(triple.object)
            self._predicates[triple.subject][triple.predicate] = None

    def objects(self, subject: object, predicate: ox.NamedNode) -> list[Term]:
        return self._index.get((subject, predicate), [])

    def one(self, subject: object, predicate: ox.NamedNode) -> Term | None:
        values = self.objects(subject, predicate)
        if len(values) > 1:
            raise Unsupported(f"more than one {predicate.value} on a shape")
        return values[0] if values else None

    def items(self, head: Term) -> list[Term]:
        """The members of an RDF list."""
        items, seen = [], set()
        while head != _NIL:
            if head in seen or not isinstance(head, ox.BlankNode):
                raise Unsupported("a malformed RDF list")
            seen.add(head)
            first, rest = self.objects(head, _FIRST), self.objects(head, _REST)
            if len(first) != 1 or len(rest) != 1:
                raise Unsupported("a malformed RDF list")
            items.append(first[0])
            head = rest[0]
        return items

    def predicates(self, subject: object) -> list[ox.NamedNode]:
        return list(self._predicates.get(subject, ()))

    def closure(self, node: Term) -> Iterator[ox.Triple]:
        """The triples of a blank node and of the blank nodes it leads to (a path, a shape), for the report."""
        todo, seen = [node], set()
        while todo:
            current = todo.pop()
            if not isinstance(current, ox.BlankNode) or current in seen:
                continue
            seen.add(current)
            for triple in self.triples:
                if triple.subject == current:
                    yield triple
                    todo.append(triple.object)


def top_level_shapes(shapes: ShapesGraph) -> list[Node]:
    """The shapes with targets, in file order."""
    targets = (sh("targetClass"), sh("targetSubjectsOf"), sh("targetNode"), sh("targetObjectsOf"))
    seen: dict[Node, None] = {}
    for triple in shapes.triples:
        if triple.predicate in targets and isinstance(triple.subject, ox.NamedNode | ox.BlankNode):
            seen.setdefault(triple.subject)
    return list(seen)


class Data:
    """The store as pyshacl's rdflib graph holds it, read once per predicate a shape's path names."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self._canonical: dict[ox.Literal, ox.Literal] = {}
        self._rdflib: dict[ox.Literal, object] = {}
        self._subclasses: dict[ox.NamedNode, set[Term]] = {}
        self._types: dict[Node, list[Term]] = {}
        self._distinct_counts: dict[tuple[ox.NamedNode, bool], int] = {}
        self.counted: list[Targets] = []  # the focus-node sets whose counts by predicate have been taken
        self._distinct: dict[tuple[ox.NamedNode, bool], list[Term]] = {}

    def canonical(self, literal: ox.Literal) -> ox.Literal:
        """The literal as rdflib holds it: its normalised lexical form, or a plain string when it is ill-typed."""
        if literal.language or literal.datatype.value == _XSD_STRING:
            return literal
        known = self._canonical.get(literal)
        if known is None:
            import rdflib

            parsed = rdflib.Literal(literal.value, datatype=rdflib.URIRef(literal.datatype.value))
            if getattr(parsed, "ill_typed", False):
                known = ox.Literal(literal.value)
            else:
                known = ox.Literal(str(parsed), datatype=literal.datatype)
                self._rdflib[known] = parsed
            self._canonical[literal] = known
        return known

    def original(self, subject: Node, literal: ox.Literal) -> ox.Literal:
        """The data's own literal behind a plain string the shapes saw: itself, or the ill-typed one it stands for."""
        for quad in self.store.quads_for_pattern(subject, None, None, None):
            obj = quad.object
            if isinstance(obj, ox.Literal) and obj != literal and self.canonical(obj) == literal:
                return obj
        return literal

    def rdflib_literal(self, literal: ox.Literal) -> object:
        """The rdflib literal pyshacl compares (for a canonical literal)."""
        known = self._rdflib.get(literal)
        if known is None:
            import rdflib

            if literal.language:
                known = rdflib.Literal(literal.value, lang=literal.language)
            elif literal.datatype.value == _XSD_STRING:
                known = rdflib.Literal(literal.value)
            else:
                known = rdflib.Literal(literal.value, datatype=rdflib.URIRef(literal.datatype.value))
            self._rdflib[literal] = known
        return known

    def values(self, focus: Term, predicate: ox.NamedNode, inverse: bool) -> list[Term]:
        """The distinct objects (or, inverse, subjects) of `predicate` for one node, as rdflib holds them."""
        if isinstance(focus, ox.Literal):
            if not inverse:
                return []
            quads = self.store.quads_for_pattern(None, predicate, focus, None)
        else:
            quads = (
                self.store.quads_for_pattern(None, predicate, focus, None)
                if inverse
                else (self.store.quads_for_pattern(focus, predicate, None, None))
            )
        found: dict[Term, None] = {}
        for quad in quads:
            term = quad.subject if inverse else quad.object
            if isinstance(term, ox.Triple):
                raise Unsupported("RDF-star triples")
            found[self.canonical(term) if isinstance(term, ox.Literal) else term] = None
        return list(found)

    def subclasses(self, cls: ox.NamedNode) -> set[Term]:
        """`cls` and every class below it through rdfs:subClassOf in the data."""
        known = self._subclasses.get(cls)
        if known is None:
            known, todo = {cls}, [cls]
            while todo:
                for sub in self.values(todo.pop(), _SUBCLASS, True):
                    if sub not in known:
                        known.add(sub)
                        todo.append(sub)  # type: ignore[arg-type]
            self._subclasses[cls] = known
        return known

    def types(self, node: Term) -> list[Term]:
        known = self._types.get(node)  # type: ignore[arg-type]
        if known is None:
            known = self._types[node] = self.values(node, RDF_TYPE, False)  # type: ignore[index]
        return known

    def instances(self, cls: ox.NamedNode) -> list[Node]:
        found: dict[Node, None] = {}
        for sub in self.subclasses(cls):
            for quad in self.store.quads_for_pattern(None, RDF_TYPE, sub, None):
                if isinstance(quad.subject, ox.NamedNode | ox.BlankNode):
                    found[quad.subject] = None
        return list(found)

    def distinct_count(self, predicate: ox.NamedNode, inverse: bool) -> int:
        """How many distinct objects (subjects) the predicate has in the store, counted up to one more than
        _MAX_DISTINCT (all a caller asks is which side of that line it is on): one bounded scan of the predicate,
        where a count for every predicate of the store grouped at once read all of its triples."""
        known = self._distinct_counts.get((predicate, inverse))
        if known is None:
            term = "?s" if inverse else "?o"  # an inverse path's values are the predicate's subjects
            query = (
                f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT {term} WHERE {{ ?s {predicate} ?o }} "
                f"LIMIT {_MAX_DISTINCT + 1} }}"
            )
            known = self._distinct_counts[(predicate, inverse)] = next(
                int(row["n"].value) for row in self.select(query)
            )
        return known

    def distinct_values(self, predicate: ox.NamedNode, inverse: bool) -> list[Term]:
        """The distinct objects (subjects) of the predicate in the store, as the data has them."""
        known = self._distinct.get((predicate, inverse))
        if known is None:
            triple = f"?v {predicate} ?o" if inverse else f"?s {predicate} ?v"
            query = f"SELECT DISTINCT ?v WHERE {{ {triple} }}"
            known = self._distinct[(predicate, inverse)] = [row["v"] for row in self.select(query)]
        return known

    def ill_typed(self, predicate: ox.NamedNode) -> list[ox.Literal]:
        """The predicate's literals that rdflib finds ill-typed (and so hands to the shapes as plain strings)."""
        if self.distinct_count(predicate, False) > _MAX_DISTINCT:
            typed = f"isLiteral(?v) && datatype(?v) != <{_XSD_STRING}>"
            query = f"SELECT DISTINCT ?v WHERE {{ ?s {predicate} ?v FILTER({typed}) }}"
            values: Iterable[Term] = (row["v"] for row in self.select(query))
        else:
            values = self.distinct_values(predicate, False)
        return [
            v
            for v in values
            if isinstance(v, ox.Literal)
            and v.datatype.value != _XSD_STRING
            and self.canonical(v).datatype.value == _XSD_STRING
        ]

    def select(self, query: str) -> Iterator[ox.QuerySolution]:
        solutions = self.store.query(query, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions)
        yield from solutions


class Evaluator:
    """The shapes of one shapes graph over one store's data."""

    def __init__(self, shapes: ShapesGraph, data: Data) -> None:
        self.shapes = shapes
        self.data = data
        self._conforms: dict[tuple[Node, Term], bool] = {}
        self._compared: dict[tuple[Term, Term, str], bool] = {}
        self._plans: dict[Node, Plan] = {}
        self._bad: dict[tuple[Node, tuple[tuple[ox.NamedNode, bool], ...]], list[Term]] = {}
        self._checked: set[Node] = set()
        self._patterns: dict[Node, re.Pattern[str]] = {}
        self._tops = set(top_level_shapes(shapes))
        # a top-level shape → its targets and results (None: not evaluated here, or being evaluated)
        self._top: dict[Node, tuple[Targets, list[Result]] | None] = {}

    # -- reading a shape

    def check(self, shape: Node) -> None:
        """Raise Unsupported when the shape (or one it refers to) says something this module does not evaluate."""
        if shape in self._checked:
            return
        self._checked.add(shape)
        shapes = self.shapes
        for predicate in shapes.predicates(shape):
            if predicate.value.startswith(_SH) and predicate not in _NOT_CONSTRAINTS and predicate not in _COMPONENTS:
                raise Unsupported(f"{predicate.value} on a shape")
        if shapes.objects(shape, sh("deactivated")):
            raise Unsupported("sh:deactivated")
        path = shapes.one(shape, sh("path"))
        if path is not None:
            self._predicates(path)
        elif shapes.objects(shape, sh("minCount")) or shapes.objects(shape, sh("maxCount")):
            raise Unsupported("a cardinality on a node shape")
        severity = shapes.one(shape, sh("severity"))
        if severity is not None and not isinstance(severity, ox.NamedNode):
            raise Unsupported("a severity that is not an IRI")
        for param in (sh("minCount"), sh("maxCount"), sh("minLength"), sh("qualifiedMinCount")):
            for value in shapes.objects(shape, param):
                if not isinstance(value, ox.Literal) or value.datatype.value != _XSD + "integer":
                    raise Unsupported(f"{param.value} that is not an integer")
        if shapes.objects(shape, sh("qualifiedMinCount")) and not shapes.objects(shape, sh("qualifiedValueShape")):
            raise Unsupported("sh:qualifiedMinCount without a shape")
        for param in (sh("class"), sh("lessThanOrEquals"), sh("datatype"), sh("nodeKind")):
            for value in shapes.objects(shape, param):
                if not isinstance(value, ox.NamedNode) or (param == sh("nodeKind") and value not in _NODE_KINDS):
                    raise Unsupported(f"{param.value} {value}")
        members = [m for v in shapes.objects(shape, sh("in")) for m in shapes.items(v)]
        if any(not isinstance(m, ox.NamedNode) for m in members + shapes.objects(shape, sh("hasValue"))):
            raise Unsupported("sh:in or sh:hasValue with a literal or blank node")
        for value in shapes.objects(shape, sh("languageIn")):
            if any(not isinstance(m, ox.Literal) or m.datatype.value != _XSD_STRING for m in shapes.items(value)):
                raise Unsupported("sh:languageIn with a member that is not a string")
        for value in shapes.objects(shape, sh("pattern")):
            self._pattern(shape, value)
        for value in shapes.objects(shape, sh("minInclusive")):
            if not isinstance(value, ox.Literal):
                raise Unsupported("sh:minInclusive that is not a literal")
        nested = shapes.objects(shape, sh("node")) + shapes.objects(shape, sh("not"))
        nested += shapes.objects(shape, sh("qualifiedValueShape")) + shapes.objects(shape, sh("property"))
        for value in shapes.objects(shape, sh("or")):
            nested += shapes.items(value)
        for inner in nested:
            if not isinstance(inner, ox.NamedNode | ox.BlankNode):
                raise Unsupported("a nested shape that is a literal")
            self.check(inner)
        if path is not None and shapes.objects(shape, sh("property")):
            raise Unsupported("sh:property on a property shape")

    def _pattern(self, shape: Node, value: Term) -> re.Pattern[str]:
        known = self._patterns.get(shape)
        if known is None:
            if not isinstance(value, ox.Literal) or self.shapes.objects(shape, sh("flags")):
                raise Unsupported("sh:pattern with flags or not a string")
            if len(self.shapes.objects(shape, sh("pattern"))) > 1:
                raise Unsupported("more than one sh:pattern")
            known = self._patterns[shape] = re.compile(value.value)
        return known

    def _predicates(self, path: Term) -> list[tuple[ox.NamedNode, bool]]:
        """A path as its (predicate, inverse?) alternatives: a predicate, an inverse one, or alternatives of those."""
        shapes = self.shapes
        if isinstance(path, ox.NamedNode):
            return [(path, False)]
        if not isinstance(path, ox.BlankNode):
            raise Unsupported("a path that is a literal")
        predicates = shapes.predicates(path)
        if predicates == [sh("inversePath")]:
            inner = shapes.one(path, sh("inversePath"))
            if isinstance(inner, ox.NamedNode):
                return [(inner, True)]
        elif predicates == [sh("alternativePath")]:
            head = shapes.one(path, sh("alternativePath"))
            assert head is not None
            alternatives = []
            for member in shapes.items(head):
                if not isinstance(member, ox.NamedNode):
                    raise Unsupported("an alternative path of something other than predicates")
                alternatives.append((member, False))
            return alternatives
        raise Unsupported("a path other than a predicate, an inverse predicate or alternative predicates")

    # -- compiling: each shape once into a plan of checks over the data's indexes

    def plan(self, shape: Node) -> Plan:
        known = self._plans.get(shape)
        if known is None:
            known = self._plans[shape] = Plan(shape)  # registered first: a shape may refer to itself
            known.values = self._values(shape)
            known.checks = [
                (_COMPONENTS[param], check)
                for param in self.shapes.predicates(shape)
                if param in _COMPONENTS
                for rule in self.shapes.objects(shape, param)
                if (check := self._check(shape, param, rule)) is not None
            ]
            known.properties = [self.plan(p) for p in self.shapes.objects(shape, sh("property"))]  # type: ignore[arg-type]
        return known

    def _values(self, shape: Node) -> Callable[[Term], Sequence[Term]] | None:
        """The shape's value nodes for a focus node: the path's values (None: the focus node itself)."""
        path = self.shapes.one(shape, sh("path"))
        if path is None:
            return None
        predicates, data = self._predicates(path), self.data
        if len(predicates) == 1:
            predicate, inverse = predicates[0]
            return lambda focus: data.values(focus, predicate, inverse)
        return lambda focus: list(dict.fromkeys(v for p, i in predicates for v in data.values(focus, p, i)))

    def bad_values(
        self, plan: Plan, predicates: list[tuple[ox.NamedNode, bool]], tests: list, targets: Targets
    ) -> list[Term]:
        """The values of the path (the data's own terms) that fail one of the value checks: each distinct value in
        the store checked once, or, for a path with very many, those of the focus nodes. When every check can be
        pre-judged by the store (a class, a node kind, sh:in, a tagged or plain string: their `suspect` pattern),
        only the distinct values it keeps as possibly failing are checked (a value passing the pattern passes the
        check, so the result is the same)."""
        data = self.data
        key: tuple[Node, tuple[tuple[ox.NamedNode, bool], ...]] | None = (plan.shape, tuple(predicates))
        if key in self._bad:
            return self._bad[key]
        values: Iterable[Term]
        suspects = [getattr(check, "suspect", None) for _, check in plan.checks]
        suspects = [s for s in suspects if s]
        if len(suspects) == len(tests):  # the store lists the values that may fail a test; each is checked below
            distinct = f"{{ SELECT DISTINCT ?v WHERE {{ ?s {_sparql_path(predicates)} ?v }} }}"
            found: dict[Term, None] = {}
            for suspect in suspects:
                found.update((row["v"], None) for row in data.select(f"SELECT ?v WHERE {{ {distinct} {suspect} }}"))
            values = sorted(found, key=str)
        elif all(data.distinct_count(p, inverse) <= _MAX_DISTINCT for p, inverse in predicates):
            values = dict.fromkeys(v for p, i in predicates for v in data.distinct_values(p, i))
        else:
            query = f"SELECT DISTINCT ?v WHERE {{ {targets.hashed} {_values_of(predicates)} }}"
            values = [row["v"] for row in data.select(query)]
            key = None  # the values of these targets only
        bad = []
        for value in values:
            seen = data.canonical(value) if isinstance(value, ox.Literal) else value
            if not all(test(seen) for test in tests):
                bad.append(value)
        if key is not None:
            self._bad[key] = bad
        return bad

    def focus_queries(
        self, plan: Plan, targets: Targets, single: tuple[ox.NamedNode, bool] | None, path: str
    ) -> Iterator[str | None]:
        """For each constraint on a focus node's values as a whole that the store's counts do not settle: a query
        for the focus nodes that may break it (None: no such query, every focus node may)."""
        shapes, hashed = self.shapes, targets.hashed
        for param in shapes.predicates(plan.shape):
            name = param.value[len(_SH) :]
            for rule in shapes.objects(plan.shape, param):
                if name == "minCount":
                    if int(rule.value) <= 0 or (
                        single is not None and int(rule.value) == 1 and targets.having(*single) == targets.count()
                    ):
                        continue  # every focus node has a value
                    yield _without(hashed, f"?f {path} ?v") if int(rule.value) == 1 else None
                elif name == "maxCount":
                    if (
                        single is not None
                        and int(rule.value) >= 1
                        and targets.pairs(*single) == targets.having(*single)
                    ):
                        continue  # no focus node has two values
                    yield (
                        f"SELECT ?f WHERE {{ {hashed} {{ SELECT ?f ?v WHERE {{ ?f {path} ?v }} }} }} GROUP BY ?f "
                        f"HAVING (COUNT(DISTINCT ?v) > {int(rule.value)})"
                    )
                elif name == "hasValue":
                    yield _without(hashed, f"?f {path} {rule}")
                elif name == "qualifiedValueShape":
                    least = [int(v.value) for v in shapes.objects(plan.shape, sh("qualifiedMinCount"))]
                    inner = shapes.predicates(rule)
                    if least == [1] and [p for p in inner if p.value.startswith(_SH)] == [sh("languageIn")]:
                        wanted = {m.value.lower() for m in shapes.items(shapes.objects(rule, sh("languageIn"))[0])}
                        condition = _lang_condition(wanted, "?v")
                        if targets.count_with_language(path, wanted) == targets.count():
                            continue  # every focus node has a value in one of the languages
                        yield _without(hashed, f"?f {path} ?v FILTER({condition})")
                    elif least:
                        yield None
                elif name == "lessThanOrEquals":
                    # certainly conforming: two valid xsd:dates written YYYY-MM-DD in order (rdflib agrees on those);
                    # the pairs of any subject are looked at (their focus nodes are kept by the caller)
                    compared = ([single[0]] if single else []) + [rule]
                    ill = [bad for p in compared if isinstance(p, ox.NamedNode) for bad in self.data.ill_typed(p)]
                    fine = " && ".join(
                        [
                            f"isLiteral({var}) && datatype({var}) = xsd:date && REGEX(STR({var}), {_DATE_LEXICAL})"
                            for var in ("?v", "?w")
                        ]
                        + [f"!sameTerm({var}, {bad})" for bad in ill for var in ("?v", "?w")]
                        + ["STR(?v) <= STR(?w)"]
                    )
                    # each pattern its own sub-SELECT: the two scans joined by hashing, not a lookup per pair
                    body = (
                        f"{{ SELECT ?f ?v WHERE {{ ?f {path} ?v }} }} {{ SELECT ?f ?w WHERE {{ ?f {rule} ?w }} }} "
                        f"FILTER(!({fine}))"
                    )
                    scope = hashed if single is None else ""
                    yield f"PREFIX xsd: <{_XSD}> SELECT DISTINCT ?f WHERE {{ {scope} {body} }}"

    def top_results(self, top: Node) -> list[Result]:
        """A top-level shape's results over its focus nodes, evaluated once (Unsupported: left to the reference)."""
        if top in self._top:
            known = self._top[top]
            if known is None:
                raise Unsupported("a shape evaluated inside its own evaluation")
            return known[1]
        self._top[top] = None  # while it is evaluated: a shape met again inside is judged node by node
        shapes = self.shapes
        if isinstance(top, ox.NamedNode) and any(
            t.value in (PREFIXES["rdfs"] + "Class", PREFIXES["owl"] + "Class") for t in shapes.objects(top, RDF_TYPE)
        ):
            raise Unsupported("an implicit class target")
        self.check(top)
        targets = Targets(shapes, top, self.data)
        found = list(_top_results(self, top, targets))
        self._top[top] = (targets, found)
        return found

    def _failing(self, shape: Node) -> tuple[Targets, set[Term]] | None:
        """For a top-level shape evaluated set-at-a-time: its targets and the focus nodes with a result."""
        if shape not in self._tops:
            return None
        if shape not in self._top:
            try:
                self.top_results(shape)
            except Unsupported:
                return None
        known = self._top[shape]
        if known is None:
            return None
        failing = getattr(known[0], "failing", None)
        if failing is None:
            failing = known[0].failing = {r.focus for r in known[1]}  # type: ignore[attr-defined]
        return known[0], failing

    def conforms(self, shape: Node, node: Term) -> bool:
        """Whether a node conforms to a shape: for a focus node of a top-level shape, from that shape's results
        (the same constraints evaluated set-at-a-time), else by evaluating the shape on the node."""
        if isinstance(node, ox.Literal):
            return not any(True for _ in self.plan(shape).results(node))
        known = self._conforms.get((shape, node))
        if known is None:
            evaluated = self._failing(shape)
            if evaluated is not None and node in evaluated[0]:
                known = node not in evaluated[1]
            else:
                known = not any(True for _ in self.plan(shape).results(node))
            self._conforms[(shape, node)] = known
        return known

    def _check(self, shape: Node, param: ox.NamedNode, rule: Term) -> Check | None:
        """One constraint as a function of (focus, values) → the values that break it (None: a result without one)."""
        name, data = param.value[len(_SH) :], self.data

        def each(test: Callable[[Term], bool], fine: str | None = None) -> Check:
            check: Check = lambda focus, values: [v for v in values if not test(v)]  # noqa: E731
            check.test = test  # type: ignore[attr-defined]  # a check of each value on its own
            # SPARQL after a pattern binding ?v that keeps the values which may fail `test` (see bad_values)
            check.suspect = None if fine is None else f"FILTER(!{fine})"  # type: ignore[attr-defined]
            return check

        if name in ("minCount", "maxCount", "qualifiedValueShape"):
            if name == "qualifiedValueShape":
                least = [int(v.value) for v in self.shapes.objects(shape, sh("qualifiedMinCount"))]
                if not least:
                    return None
                inner, bound = rule, least[0]
                return lambda focus, values: (
                    [None] if sum(1 for v in values if self.conforms(inner, v)) < bound else []  # type: ignore[arg-type, misc]
                )
            bound = int(rule.value)
            if name == "minCount":
                return lambda focus, values: [None] if len(values) < bound else []
            return lambda focus, values: [None] if len(values) > bound else []
        if name == "class":
            classes = data.subclasses(rule)  # type: ignore[arg-type]
            check = each(lambda v: not isinstance(v, ox.Literal) and any(t in classes for t in data.types(v)))
            listed = " ".join(sorted(str(c) for c in classes))
            check.suspect = f"MINUS {{ VALUES ?class {{ {listed} }} ?v a ?class }}"  # type: ignore[attr-defined]
            return check
        if name == "datatype":
            return each(lambda v: self._datatype_matches(v, rule.value), _FINE_DATATYPE.get(rule.value))
        if name == "nodeKind":
            kinds = _NODE_KINDS[rule]  # type: ignore[index]
            return each(lambda v: isinstance(v, kinds), _FINE_NODE_KIND[rule])  # type: ignore[index]
        if name == "pattern":
            pattern = self._pattern(shape, rule)
            return each(lambda v: not isinstance(v, ox.BlankNode) and pattern.search(v.value) is not None)
        if name == "minLength":
            shortest = int(rule.value)
            return each(lambda v: shortest <= 0 or (not isinstance(v, ox.BlankNode) and len(v.value) >= shortest))
        if name == "in":
            members = set(self.shapes.items(rule))
            listed = " || ".join(f"sameTerm(?v, {m})" for m in sorted(members, key=str)) or "false"
            return each(lambda v: v in members, f"({listed})")
        if name == "hasValue":
            return lambda focus, values: [] if rule in values else [None]
        if name == "languageIn":
            wanted = {m.value.lower() for m in self.shapes.items(rule)}

            def matches(v: Term) -> bool:
                lang = v.language if isinstance(v, ox.Literal) else None
                if not lang:
                    return False
                return "*" in wanted or lang.lower() in wanted or lang.split("-")[0].lower() in wanted

            return each(matches)
        if name == "lessThanOrEquals":
            return lambda focus, values: [
                v
                for v in values
                for other in data.values(focus, rule, False)  # type: ignore[arg-type]
                if not self._less_or_equal(v, other)
            ]
        if name == "minInclusive":
            return each(lambda v: self._at_least(v, rule))  # type: ignore[arg-type]
        if name == "node":
            return each(lambda v: self.conforms(rule, v))  # type: ignore[arg-type]
        if name == "not":
            return each(lambda v: not self.conforms(rule, v))  # type: ignore[arg-type]
        if name == "or":
            alternatives = self.shapes.items(rule)
            return each(lambda v: any(self.conforms(a, v) for a in alternatives))  # type: ignore[arg-type]
        raise Unsupported(param.value)  # pragma: no cover - check() admits only the parameters above

    def _datatype_matches(self, value: Term, datatype: str) -> bool:
        if not isinstance(value, ox.Literal):
            return False
        if value.language:
            return datatype == _LANG_STRING or datatype == PREFIXES["rdfs"] + "Literal"
        if value.datatype.value == _XSD_STRING:  # a plain string, or an ill-typed literal's stand-in
            return datatype in (_XSD_STRING, PREFIXES["rdfs"] + "Literal")
        if datatype == value.datatype.value:
            expected = _VALUE_TYPES.get(datatype)
            return expected is None or isinstance(getattr(self.data.rdflib_literal(value), "value", None), expected)
        return datatype in (PREFIXES["rdfs"] + "Literal", PREFIXES["rdfs"] + "Datatype")

    def _at_least(self, value: Term, bound: ox.Literal) -> bool:
        if not isinstance(value, ox.Literal):
            return False
        known = self._compared.get((value, bound, "min"))
        if known is None:
            known = self._compared[(value, bound, "min")] = self._compare_at_least(value, bound)
        return known

    def _compare_at_least(self, value: ox.Literal, bound: ox.Literal) -> bool:
        import rdflib

        low, seen = self.data.rdflib_literal(bound), self.data.rdflib_literal(value)
        assert isinstance(low, rdflib.Literal) and isinstance(seen, rdflib.Literal)
        if isinstance(low.value, str) != isinstance(seen.value, str):
            return False
        try:  # pyshacl's compare_literal(value, bound) >= 0
            if seen.eq(low):
                return True
            if seen.value.__class__ in (datetime.datetime, datetime.time):
                return bool(seen.value == low.value or seen.value > low.value)
            return bool(seen > low)
        except (TypeError, NotImplementedError):
            return False

    def _less_or_equal(self, value: Term, other: Term) -> bool:
        known = self._compared.get((value, other, "le"))
        if known is None:
            if isinstance(value, ox.BlankNode) or isinstance(other, ox.BlankNode):
                raise Unsupported("sh:lessThanOrEquals on a blank node")  # pyshacl stops with an error
            (left_is_string, left), (right_is_string, right) = self._comparable(value), self._comparable(other)
            if left_is_string != right_is_string:
                known = False
            else:
                try:
                    known = bool(left <= right)  # type: ignore[operator]
                except TypeError:
                    raise Unsupported("sh:lessThanOrEquals on values pyshacl cannot compare") from None
            self._compared[(value, other, "le")] = known
        return known

    def _comparable(self, term: Term) -> tuple[bool, object]:
        """What pyshacl's sh:lessThanOrEquals compares: the string of an IRI or string literal (True), else the
        rdflib literal (False; an rdflib literal is a str too, hence the flag)."""
        if isinstance(term, ox.NamedNode):
            return True, term.value
        assert isinstance(term, ox.Literal)
        literal = self.data.rdflib_literal(term)
        value = getattr(literal, "value", None)
        return (True, value) if isinstance(value, str) else (False, literal)


Check = Callable[[Term, Sequence[Term]], list]


class Plan:
    """A shape compiled: how to get its value nodes, its constraints' checks, its property shapes' plans."""

    def __init__(self, shape: Node) -> None:
        self.shape = shape
        self.values: Callable[[Term], Sequence[Term]] | None = None
        self.checks: list[tuple[ox.NamedNode, Check]] = []
        self.properties: list[Plan] = []

    def results(self, focus: Term) -> Iterator[tuple[Node, ox.NamedNode, Term | None]]:
        """(shape, component, value or None) of each result of the shape (and of its property shapes) on `focus`."""
        values = [focus] if self.values is None else self.values(focus)
        for component, check in self.checks:
            for value in check(focus, values):
                yield self.shape, component, value
        for inner in self.properties:
            yield from inner.results(focus)


class Targets:
    """A top-level shape's focus nodes: as a SPARQL pattern binding ?f, as a membership test, and listed."""

    def __init__(self, shapes: ShapesGraph, shape: Node, data: Data) -> None:
        if shapes.objects(shape, sh("targetNode")) or shapes.objects(shape, sh("targetObjectsOf")):
            raise Unsupported("sh:targetNode and sh:targetObjectsOf")
        self.data = data
        self.classes: set[Term] = set()
        for cls in shapes.objects(shape, sh("targetClass")):
            if not isinstance(cls, ox.NamedNode):
                raise Unsupported("a target class that is not an IRI")
            self.classes |= data.subclasses(cls)
        self.subjects_of = shapes.objects(shape, sh("targetSubjectsOf"))
        if any(not isinstance(p, ox.NamedNode) for p in self.subjects_of):
            raise Unsupported("sh:targetSubjectsOf that is not an IRI")
        blocks = []
        if self.classes:
            blocks.append(f"{{ VALUES ?c {{ {' '.join(str(c) for c in sorted(self.classes, key=str))} }} ?f a ?c }}")
        blocks += [f"{{ ?f {p} ?target_value }}" for p in self.subjects_of]
        self.pattern = " UNION ".join(blocks) if blocks else "FILTER(false)"
        # the focus nodes as a sub-SELECT of their own: joined to another pattern's scan by hashing, where the
        # pattern itself would be looked up once per focus node (~20 us each in the on-disk store)
        self.hashed = f"{{ SELECT DISTINCT ?f WHERE {{ {self.pattern} }} }}"
        self._listed: list[Node] | None = None
        self._count: int | None = None
        self._by_predicate: dict[bool, dict[ox.NamedNode, tuple[int, int]]] = {}
        self._where: dict[tuple[str, str], int] = {}
        self._languages: dict[str, dict[str, int]] = {}

    def count(self) -> int:
        """How many focus nodes."""
        if self._count is None:
            self._count = self._number(f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {self.pattern} }}")
        return self._count

    def _number(self, query: str) -> int:
        return next(int(row["n"].value) for row in self.data.select(query))

    def _predicate_counts(self, inverse: bool) -> dict[ox.NamedNode, tuple[int, int]]:
        """predicate → (its triples with a focus node as subject (object), the focus nodes among those), one query."""
        known = self._by_predicate.get(inverse)
        if known is None:
            same = next((t for t in self.data.counted if inverse in t._by_predicate and t.same_nodes(self)), None)
            if same is not None:  # the same focus nodes (another shape's targets): their counts hold here too
                known = self._by_predicate[inverse] = same._by_predicate[inverse]
                return known
            self.data.counted.append(self)
            triple = "?o ?p ?f" if inverse else "?f ?p ?o"
            query = (
                f"SELECT ?p (COUNT(*) AS ?pairs) (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {self.pattern} {triple} }} "
                "GROUP BY ?p"
            )
            known = self._by_predicate[inverse] = {
                row["p"]: (int(row["pairs"].value), int(row["n"].value)) for row in self.data.select(query)
            }
        return known

    def same_nodes(self, other: Targets) -> bool:
        """Whether two target definitions select the same focus nodes: the same pattern, or as many nodes each as
        both together. The counts by predicate then serve both: `having` counts distinct focus nodes; `pairs`
        counts each triple once per time the pattern gives its focus node, so it is never below the true number
        and `pairs == having` still proves that no focus node has two values."""
        if other.pattern == self.pattern:
            return True
        if other.count() != self.count():
            return False
        both = self._number(
            f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {{ {self.pattern} }} UNION {{ {other.pattern} }} }}"
        )
        return both == self.count()

    def having(self, predicate: ox.NamedNode, inverse: bool) -> int:
        """How many focus nodes have a value for the predicate."""
        return self._predicate_counts(inverse).get(predicate, (0, 0))[1]

    def pairs(self, predicate: ox.NamedNode, inverse: bool) -> int:
        """How many (focus node, value) triples the predicate has (a triple in two graphs counted twice)."""
        return self._predicate_counts(inverse).get(predicate, (0, 0))[0]

    def languages(self, path: str) -> dict[str, int]:
        """Language tag (lower-cased; "" for none) → how many focus nodes have a value on the path with it."""
        known = self._languages.get(path)
        if known is None:
            query = (
                f"SELECT ?l (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {self.hashed} "
                f"{{ SELECT ?f ?v WHERE {{ ?f {path} ?v }} }} "
                'BIND(IF(isLiteral(?v), LCASE(LANG(?v)), "") AS ?l) } GROUP BY ?l'
            )
            known = self._languages[path] = {
                (row["l"].value if row["l"] is not None else ""): int(row["n"].value) for row in self.data.select(query)
            }
        return known

    def count_with_language(self, path: str, wanted: set[str]) -> int:
        """How many focus nodes have a value on the path whose tag sh:languageIn admits: from the counts by tag
        when one tag admitted occurs, else counted by the store."""
        admitted = [
            n for tag, n in self.languages(path).items() if tag and (tag in wanted or tag.split("-")[0] in wanted)
        ]
        if len(admitted) <= 1:
            return admitted[0] if admitted else 0
        return self.count_where(path, _lang_condition(wanted, "?v"))

    def count_where(self, path: str, condition: str) -> int:
        """How many focus nodes have a value on the path that meets the condition."""
        known = self._where.get((path, condition))
        if known is None:
            query = (
                f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {self.hashed} "
                f"{{ SELECT ?f ?v WHERE {{ ?f {path} ?v FILTER({condition}) }} }} }}"
            )
            known = self._where[(path, condition)] = self._number(query)
        return known

    def __contains__(self, node: object) -> bool:
        if isinstance(node, ox.Literal):
            return False
        if any(t in self.classes for t in self.data.types(node)):  # type: ignore[arg-type]
            return True
        return any(self.data.values(node, p, False) for p in self.subjects_of)  # type: ignore[arg-type]

    def listed(self) -> list[Node]:
        if self._listed is None:
            found: dict[Node, None] = {}
            for row in self.data.select(f"SELECT DISTINCT ?f WHERE {{ {self.pattern} }}"):
                found[row["f"]] = None
            self._listed = list(found)
        return self._listed


def _sparql_path(predicates: list[tuple[ox.NamedNode, bool]]) -> str:
    return "(" + "|".join(("^" if inverse else "") + str(p) for p, inverse in predicates) + ")"


def _values_of(predicates: list[tuple[ox.NamedNode, bool]]) -> str:
    """A sub-SELECT of every (?f, ?v) of a path (alternatives of predicates, inverse or not)."""
    return f"{{ SELECT ?f ?v WHERE {{ ?f {_sparql_path(predicates)} ?v }} }}"


def _without(focus: str, pattern: str) -> str:
    """The focus nodes (a sub-SELECT binding ?f) for which `pattern` has no match: a MINUS of the pattern's own
    sub-SELECT, joined by hashing (a FILTER NOT EXISTS looks the pattern up once per focus node; ?f is always
    bound, so the two give the same nodes)."""
    return f"SELECT ?f WHERE {{ {focus} MINUS {{ SELECT ?f WHERE {{ {pattern} }} }} }}"


def _lang_condition(wanted: set[str], var: str) -> str:
    """SPARQL for pyshacl's sh:languageIn test of one value (a tag, lower-cased, or its first part, in the list)."""
    listed = ", ".join(f'"{w}"' for w in sorted(wanted))
    return (
        f'(isLiteral({var}) && LANG({var}) != "" && (LCASE(LANG({var})) IN ({listed}) || '
        f'LCASE(STRBEFORE(CONCAT(LANG({var}), "-"), "-")) IN ({listed})))'
    )


_MAX_DISTINCT = 100_000  # a path with more distinct values in the store has its values read per target
_DATE_LEXICAL = '"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"'


def _candidates(evaluator: Evaluator, plan: Plan, targets: Targets) -> Iterable[Node]:
    """The focus nodes that may break one of the plan's constraints: a superset, found from counts the store
    computes without handing Python a term per triple (the plan's own checks then decide on each of them).

    A constraint is set aside when the counts prove that no focus node can break it: every focus node has a
    value (sh:minCount 1), none has two (sh:maxCount), every one has a label in the language (sh:languageIn in
    a qualified shape), no pair of dates is out of order (sh:lessThanOrEquals); the value checks are made once
    per distinct value of the path in the store. What no count settles is looked up with a SPARQL query for the
    focus nodes that may break it, or, failing that, every focus node is a candidate."""
    shapes, data = evaluator.shapes, evaluator.data
    if not plan.checks:
        return []
    path = shapes.one(plan.shape, sh("path"))
    if path is None:
        return targets.listed()
    predicates = evaluator._predicates(path)
    found: dict[Node, None] = {}
    tests = [check.test for _, check in plan.checks if hasattr(check, "test")]
    if tests:
        for value in evaluator.bad_values(plan, predicates, tests, targets):
            for predicate, inverse in predicates:  # the focus nodes that have the value
                for node in data.values(value, predicate, not inverse):
                    if node in targets:
                        found[node] = None  # type: ignore[index]
    single = predicates[0] if len(predicates) == 1 else None
    sparql_path = _sparql_path(predicates)
    for query in evaluator.focus_queries(plan, targets, single, sparql_path):
        if query is None:
            return targets.listed()
        for row in data.select(query):
            if row["f"] in targets:
                found[row["f"]] = None
    return list(found)


@dataclass
class Outcome:
    """The results of the shapes evaluated here, and the top-level shapes left to the reference engine."""

    results: list[Result]
    unsupported: list[Node]
    data: Data
    shapes: ShapesGraph


def evaluate(store: ox.Store, shapes_file: Path) -> Outcome:
    """Every top-level shape this module evaluates over the store; the others are listed, never skipped."""
    shapes = ShapesGraph(shapes_file)
    data = Data(store)
    evaluator = Evaluator(shapes, data)
    results: list[Result] = []
    unsupported: list[Node] = []
    for top in top_level_shapes(shapes):
        try:
            found = evaluator.top_results(top)
        except Unsupported:
            unsupported.append(top)
            continue
        results += found
    return Outcome(results, unsupported, data, shapes)


def _plan_results(
    evaluator: Evaluator, plan: Plan, targets: Targets
) -> Iterator[tuple[Node, Node, ox.NamedNode, Term | None]]:
    """(focus, shape, component, value) of a top-level shape, one of its property shapes at a time, over the focus
    nodes that may break it."""
    for node in _candidates(evaluator, plan, targets):
        values = [node] if plan.values is None else plan.values(node)
        for component, check in plan.checks:
            for value in check(node, values):
                yield node, plan.shape, component, value
    for inner in plan.properties:
        yield from _plan_results(evaluator, inner, targets)


def _top_results(evaluator: Evaluator, top: Node, targets: Targets) -> Iterator[Result]:
    shapes = evaluator.shapes
    described: dict[Node, tuple[Node | None, ox.NamedNode, tuple[ox.Literal, ...]]] = {}
    for node, shape, component, value in _plan_results(evaluator, evaluator.plan(top), targets):
        if True:
            about = described.get(shape)
            if about is None:
                messages = tuple(m for m in shapes.objects(shape, sh("message")) if isinstance(m, ox.Literal))
                if not messages:
                    raise Unsupported("a shape without sh:message (pyshacl words its own)")
                path = shapes.one(shape, sh("path"))
                severity = shapes.one(shape, sh("severity")) or _VIOLATION
                about = described[shape] = (path, severity, messages)  # type: ignore[assignment]
            path, severity, messages = about  # type: ignore[misc]
            yield Result(node, path, severity, value, shape, component, messages)


def report_ntriples(outcome: Outcome, results: list[Result]) -> bytes:
    """The results as a SHACL validation report in N-Triples, each value as the data has it (an ill-typed literal
    with its datatype), blank-node paths and shapes with their triples."""
    report = ox.BlankNode()
    triples = [ox.Triple(report, RDF_TYPE, sh("ValidationReport"))]
    conforms = not any(r.severity == _VIOLATION for r in results)
    triples.append(
        ox.Triple(report, sh("conforms"), ox.Literal(str(conforms).lower(), datatype=ox.NamedNode(_XSD + "boolean")))
    )
    copied: set[Node] = set()
    for found in results:
        node = ox.BlankNode()
        triples += [
            ox.Triple(report, sh("result"), node),
            ox.Triple(node, RDF_TYPE, sh("ValidationResult")),
            ox.Triple(node, sh("focusNode"), found.focus),
            ox.Triple(node, sh("resultSeverity"), found.severity),
            ox.Triple(node, sh("sourceConstraintComponent"), found.component),
            ox.Triple(node, sh("sourceShape"), found.shape),
        ]
        if found.path is not None:
            triples.append(ox.Triple(node, sh("resultPath"), found.path))
        if found.value is not None:
            value = found.value
            if isinstance(value, ox.Literal) and value.datatype.value == _XSD_STRING:
                value = outcome.data.original(found.focus, value)
            triples.append(ox.Triple(node, sh("value"), value))
        triples += [ox.Triple(node, sh("resultMessage"), m) for m in found.messages]
        for term in (found.path, found.shape):
            if isinstance(term, ox.BlankNode) and term not in copied:
                copied.add(term)
                triples += outcome.shapes.closure(term)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""

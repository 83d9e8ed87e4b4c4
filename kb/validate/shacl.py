"""The SHACL part of validation: the shapes of ontology/shapes.ttl evaluated on the store (compiled.py, the default),
or run by pyshacl (the reference) or pyshacl-turbo (same findings, a Rust core) over the store's quads, and the
results turned into findings."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from ..errors import UsageError
from ..namespaces import PREFIXES
from ..query import select
from . import compiled
from .places import Locator, key, term_text
from .report import Finding

_SH = PREFIXES["sh"]
_SEVERITY_OF = {_SH + "Violation": "violation", _SH + "Warning": "warning", _SH + "Info": "info"}
_XSD_STRING = PREFIXES["xsd"] + "string"
_SHACL_HINT = "the message names what the shapes require; docs/modelling.md shows a complete example"


_RDFLIB_LOGGERS = ("rdflib.term", "rdflib")


@contextlib.contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for each ill-typed literal; the validator reports those itself."""
    loggers = [logging.getLogger(name) for name in _RDFLIB_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple):
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Triple):
        raise TypeError("RDF-star triples are not supported")
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:
        return rdflib.Literal(term.value)
    literal = rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    # pyshacl's sh:lessThanOrEquals raises TypeError on an ill-typed date; the ill-typed-literal check
    # reports it, and as a plain string the shapes still see it is not a date.
    return rdflib.Literal(term.value) if getattr(literal, "ill_typed", False) else literal


def _shacl_graph(shapes_file: Path):
    import rdflib

    shapes = rdflib.Graph()
    shapes.parse(shapes_file, format="turtle")
    return shapes


def _prune_results(results, focus: set) -> None:
    """Remove the results whose focus node is not in `focus`, and what only they referred to."""
    from rdflib.namespace import RDF, SH

    for result in list(results.subjects(RDF.type, SH.ValidationResult)):
        if results.value(result, SH.focusNode) not in focus:
            results.remove((None, SH.result, result))
    reachable = set(results.subjects(RDF.type, SH.ValidationReport))
    todo = list(reachable)
    while todo:
        node = todo.pop()
        for obj in results.objects(node, None):
            if obj not in reachable:
                reachable.add(obj)
                todo.append(obj)
    for subject in set(results.subjects()) - reachable:
        results.remove((subject, None, None))


def _restore_ill_typed(results, ill_typed: dict) -> None:
    """Put back in the report the data's own ill-typed literals (the shapes saw plain strings in their place)."""
    from rdflib.namespace import SH

    for result in list(results.subjects(SH.value, None)):
        focus, path = results.value(result, SH.focusNode), results.value(result, SH.resultPath)
        for value in list(results.objects(result, SH.value)):
            original = ill_typed.get((focus, path, value))
            if original is not None:
                results.remove((result, SH.value, value))
                results.add((result, SH.value, original))


SHACL_ENGINES = ("auto", "compiled", "pyshacl", "turbo")
DEFAULT_ENGINE = "auto"


def _turbo_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyshacl_turbo") is not None


def resolve_engine(engine: str, fallback: bool = False) -> str:
    """The engine `auto` stands for: the shapes compiled over the store (compiled.py; its findings are proven
    identical to pyshacl's by tests/engines/test_shacl_engines.py). As the engine for the shapes compiled.py leaves
    to a reference engine (`fallback`): pyshacl-turbo when it is installed (proven identical likewise), else pyshacl."""
    if engine == "auto":
        return ("turbo" if _turbo_installed() else "pyshacl") if fallback else "compiled"
    return engine


def shacl_engine(engine: str):
    """pyshacl (the reference) or pyshacl-turbo (same API and findings, a Rust core, much faster); `auto` is the
    fastest installed."""
    engine = resolve_engine(engine)
    if engine == "compiled":
        return compiled
    if engine == "turbo":
        try:
            import pyshacl_turbo
        except ImportError:
            raise UsageError(
                "the turbo SHACL engine is not installed", hint="pip install pyshacl-turbo, or use --engine pyshacl"
            ) from None
        return pyshacl_turbo
    if engine != "pyshacl":
        raise UsageError(f"unknown SHACL engine '{engine}'", hint=f"use one of: {', '.join(SHACL_ENGINES)}")
    import pyshacl

    return pyshacl


def _rdflib_data(store: ox.Store) -> tuple[object, dict[tuple[object, object, object], object]]:
    """The store's quads as one rdflib graph (the union of its graphs) for pyshacl, and the ill-typed literals that
    were handed to the shapes as plain strings: (s, p, plain stand-in) → the data's literal."""
    import rdflib

    data = rdflib.Graph()
    ill_typed: dict[tuple[object, object, object], object] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        triple = (_to_rdflib(quad.subject), _to_rdflib(quad.predicate), _to_rdflib(quad.object))
        data.add(triple)
        literal = quad.object
        if not isinstance(literal, ox.Literal) or literal.language or literal.datatype.value == _XSD_STRING:
            continue
        if triple[2].datatype is None:  # an ill-typed literal, handed to the shapes as a plain string
            ill_typed[triple] = rdflib.Literal(literal.value, datatype=rdflib.URIRef(literal.datatype.value))
    return data, ill_typed


# A typed literal as the object of an N-Triples line that the store writes: `> "lexical"^^<datatype> .`
_TYPED_OBJECT = re.compile(r'> ("((?:[^"\\]|\\.)*)"\^\^<([^>]*)>) \.$', re.MULTILINE)
_NT_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_NT_CHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _nt_unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _NT_ESCAPE.sub(
        lambda m: (
            chr(int(m.group(1) or m.group(2), 16)) if m.group(3) is None else _NT_CHARS.get(m.group(3), m.group(3))
        ),
        text,
    )


def _ntriples_data(store: ox.Store) -> tuple[str, dict[tuple[object, object, object], object]]:
    """The store's quads as N-Triples text (the union of its graphs, written by the store itself: no Python object
    per triple) for pyshacl-turbo, with every typed literal as `_rdflib_data` hands it to the shapes: its lexical
    form as rdflib normalises it, and an ill-typed one as a plain string (returned like `_rdflib_data`'s)."""
    import rdflib

    graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.DefaultGraph(), *store.named_graphs()]
    text = "".join((store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b"").decode() for graph in graphs)
    changed: dict[str, str] = {}  # `"lexical"^^<datatype>` → what rdflib makes of it, where that differs
    stand_ins: dict[str, object] = {}  # the same key → the data's (ill-typed) literal
    for token, lexical, datatype in set(_TYPED_OBJECT.findall(text)):
        if datatype == _XSD_STRING:
            continue
        value = _nt_unescape(lexical)
        literal = rdflib.Literal(value, datatype=rdflib.URIRef(datatype))
        if getattr(literal, "ill_typed", False):
            changed[token] = rdflib.Literal(value).n3()
            stand_ins[token] = literal
        elif str(literal) != value:
            changed[token] = literal.n3()
    ill_typed: dict[tuple[object, object, object], object] = {}
    if changed:

        def replace(match: re.Match[str]) -> str:
            return "> " + changed.get(match.group(1), match.group(1)) + " ."

        for match in _TYPED_OBJECT.finditer(text) if stand_ins else ():
            if match.group(1) in stand_ins:  # its subject and predicate, to put the literal back in the report
                line = text[text.rfind("\n", 0, match.start()) + 1 : match.start() + 1]  # up to the predicate's >
                subject, predicate = line.split(" ")[:2]
                s_term = rdflib.BNode(subject[2:]) if subject.startswith("_:") else rdflib.URIRef(subject[1:-1])
                plain = rdflib.Literal(_nt_unescape(match.group(2)))
                ill_typed[(s_term, rdflib.URIRef(predicate[1:-1]), plain)] = stand_ins[match.group(1)]
        text = _TYPED_OBJECT.sub(replace, text)
    return text, ill_typed


def _run_turbo(shapes, text: str):
    """pyshacl-turbo over N-Triples text, handed to its Rust parser directly (its public entry points for text go
    through an rdflib graph first, which costs more than the validation; an in-memory store is the public fallback)."""
    try:
        from pyshacl_turbo.rdf import Input

        data: object = Input(text, "nt", None, {}, preserve_ids=True)
    except ImportError:  # pragma: no cover - another pyshacl-turbo layout
        memory = ox.Store()
        memory.load(text, format=ox.RdfFormat.N_TRIPLES)
        data = memory
    _, results, _ = shapes.validate(data, inference="none", allow_warnings=True)
    return results


def _reference_report(store: ox.Store, shapes, engine: str, focus: list[ox.NamedNode | ox.BlankNode] | None):
    """pyshacl or pyshacl-turbo over the store: the report for the findings (the values as the shapes saw them) and
    the report as N-Triples with the data's own ill-typed literals, pruned to the results about `focus`."""
    shacl = shacl_engine(engine)
    with _quiet_rdflib():
        # pyshacl's focus_nodes drops warning-severity results (0.40), so the small context graph is
        # validated whole and the results about nodes outside the new files are pruned.
        if resolve_engine(engine) == "turbo":
            text, ill_typed = _ntriples_data(store)
            compiled_shapes = shacl.compile_shapes(shapes, advanced=True)
            results = _run_turbo(compiled_shapes, text)
        else:
            data, ill_typed = _rdflib_data(store)
            _, results, _ = shacl.validate(
                data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
            )
        if focus is not None:
            _prune_results(results, {_to_rdflib(node) for node in focus})
        report_nt = results.serialize(format="nt", encoding="utf-8")
        if ill_typed:  # findings quote the value as the shapes saw it; the Turtle report shows the data's literal
            _restore_ill_typed(results, ill_typed)
            typed_nt = results.serialize(format="nt", encoding="utf-8")
        else:
            typed_nt = report_nt
    report = ox.Store()
    # parse keeps blank node labels (Store.load renames them): a blank focus node is then found in the data
    report.extend(ox.parse(report_nt, format=ox.RdfFormat.N_TRIPLES))
    return report, typed_nt


def _report_results(report: ox.Store) -> list[compiled.Result]:
    """The top-level results of a SHACL validation report (sh:detail nests their causes)."""
    query = """
    SELECT ?r ?focus ?path ?severity ?value ?shape ?component WHERE {
      ?report a sh:ValidationReport ; sh:result ?r .
      ?r sh:focusNode ?focus ; sh:resultSeverity ?severity ; sh:sourceShape ?shape ;
         sh:sourceConstraintComponent ?component .
      OPTIONAL { ?r sh:resultPath ?path } OPTIONAL { ?r sh:value ?value }
    }"""
    message = ox.NamedNode(_SH + "resultMessage")
    results = []
    for row in select(report.query(query, prefixes={"sh": _SH})):
        messages = tuple(
            q.object for q in report.quads_for_pattern(row["r"], message, None) if isinstance(q.object, ox.Literal)
        )
        results.append(
            compiled.Result(
                row["focus"], row["path"], row["severity"], row["value"], row["shape"], row["component"], messages
            )
        )
    return results


def _reduced_shapes(outcome: compiled.Outcome):
    """The shapes graph for the reference engine: the shapes compiled.py left to it keep their targets, the others
    lose theirs (N-Triples keeps the blank nodes' labels, so its results name the same shapes)."""
    import rdflib

    targets = {compiled.sh(n) for n in ("targetClass", "targetSubjectsOf", "targetNode", "targetObjectsOf")}
    left = set(outcome.unsupported)
    kept = [t for t in outcome.shapes.triples if t.predicate not in targets or t.subject in left]
    graph = rdflib.Graph()
    graph.parse(data=ox.serialize(kept, format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")
    return graph


def _compiled_results(
    store: ox.Store, shapes_file: Path, focus: list[ox.NamedNode | ox.BlankNode] | None
) -> tuple[list[compiled.Result], bytes]:
    """The compiled shapes over the store, and the reference engine (pyshacl-turbo if installed) for any shape
    they do not cover."""
    with _quiet_rdflib():
        outcome = compiled.evaluate(store, shapes_file)
    results = outcome.results
    if outcome.unsupported:
        report, _ = _reference_report(store, _reduced_shapes(outcome), resolve_engine("auto", fallback=True), None)
        results = results + _report_results(report)
    if focus is not None:
        wanted = set(focus)
        results = [r for r in results if r.focus in wanted]
    return results, compiled.report_ntriples(outcome, results)


def shacl_findings(
    store: ox.Store,
    locator: Locator,
    shapes_file: Path,
    focus: list[ox.NamedNode | ox.BlankNode] | None,
    engine: str = DEFAULT_ENGINE,
) -> tuple[list[Finding], bytes]:
    """The SHACL findings of the engine asked for, placed in files, and its report as N-Triples."""
    if resolve_engine(engine) == "compiled":
        results, typed_nt = _compiled_results(store, shapes_file, focus)
    else:
        report, typed_nt = _reference_report(store, _shacl_graph(shapes_file), engine, focus)
        results = _report_results(report)
    return [finding for result in results for finding in _findings(result, locator)], typed_nt


def _findings(result: compiled.Result, locator: Locator) -> list[Finding]:
    """One result as findings: at its focus node's (or its blank node's owner's) place in each file describing it."""
    messages = {"en": "", "zh": ""}
    for literal in result.messages:
        lang = (literal.language or "en")[:2]
        messages.setdefault(lang, "")
        if not messages[lang]:
            messages[lang] = literal.value
    focus_node = locator.owner(result.focus)
    path, value = result.path, result.value
    if not isinstance(path, ox.NamedNode) and value is not None:
        # an alternative path: name the predicate that actually links focus and value
        links = list(locator.store.quads_for_pattern(result.focus, None, value))
        path = links[0].predicate if links else path
    prop = path.value if isinstance(path, ox.NamedNode) else ""
    message = messages["en"] or "does not conform to the shapes"
    if value is not None and not isinstance(value, ox.BlankNode):
        message += f" (value: {term_text(value)})"
    return [
        Finding(
            file=file,
            line=line,
            severity=_SEVERITY_OF.get(result.severity.value, "violation"),
            subject=term_text(focus_node),
            property=term_text(path) if isinstance(path, ox.NamedNode) else "",
            message=message,
            message_zh=messages["zh"],
            hint=_SHACL_HINT,
            check="shacl",
        )
        for file, line in locator.where(key(focus_node), prop or None)
    ]

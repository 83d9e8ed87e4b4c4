"""Validation: SHACL shapes, evidence (quotes against sources), vocabulary and *-violation queries.

The outcome is a Report of findings, never an exception: "the facts do not conform" is a result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .derive import derive
from .errors import UsageError
from .evidence import QuoteProblem, SourceTexts, check_quotes
from .loader import Dataset, ParsedFile, load_file, printable
from .namespaces import GRAPH_BASE, PREFIXES, RDF_TYPE, STANDARD_NAMESPACES, expand, shorten
from .project import Project
from .query import QUERY_DIR, named_queries, run_query, select

CHECKS_DIR = QUERY_DIR / "checks"  # each *-violation.rq: a check, its severity, messages and hint in its header

_SH = PREFIXES["sh"]
_SEVERITY_OF = {_SH + "Violation": "violation", _SH + "Warning": "warning", _SH + "Info": "info"}
_LOCAL_NAMESPACES = tuple(PREFIXES[p] for p in ("cq", "cat", "tg", "qk", "stat"))
_XSD_STRING = PREFIXES["xsd"] + "string"
_SHACL_HINT = "the message names what the shapes require; docs/modelling.md shows a complete example"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: how bad, where, about what, and what to do."""

    file: str
    line: int
    severity: str
    subject: str
    property: str
    message: str
    message_zh: str = ""
    hint: str = ""
    check: str = "shacl"
    column: int = 0

    def as_dict(self) -> dict[str, str | int]:
        return {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "subject": self.subject,
            "property": self.property,
            "message": self.message,
            "message_zh": self.message_zh,
            "hint": self.hint,
            "check": self.check,
        }


@dataclass
class Report:
    """All findings of a validation run, sorted by file and line."""

    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    shacl_report: bytes = b""

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "violation" for f in self.findings)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


class _Locator:
    def __init__(self, dataset: Dataset, store: ox.Store) -> None:
        self.dataset = dataset
        self.store = store

    def owner(self, node: ox.NamedNode | ox.BlankNode) -> ox.NamedNode | ox.BlankNode:
        """The named subject a blank node hangs from (a parameter's measure)."""
        seen = set()
        while isinstance(node, ox.BlankNode) and node not in seen:
            seen.add(node)
            parents = [q.subject for q in self.store.quads_for_pattern(None, None, node)]
            if not parents or isinstance(parents[0], ox.Triple):
                break
            node = parents[0]
        return node

    def where(self, subject: str, prop: str | None, graph: str | None = None) -> list[tuple[str, int]]:
        """(file, line) of a subject's property in each file that describes the subject (or in `graph`'s file).

        `subject` is an IRI or _:id. A subject described in several files is reported in each, so that checking
        one of them in the context of the others gives the same findings for it as checking the whole knowledge
        base. Where no line can be found (a [] subject, an IRI written in a way the scan does not resolve),
        the place is the file, line 0: a finding is never dropped for want of a line.
        """
        places = []
        term = _node(subject)
        for parsed in self.dataset.files:
            if graph is not None and parsed.graph != graph:
                continue
            line = parsed.line_of(subject, prop) if subject else None
            if line is None:
                if term is None or not self._describes(parsed.graph, term):
                    continue
                line = _line(parsed, subject, prop)
            places.append((parsed.name, line))
        return places or [("", 0)]

    def _describes(self, graph: str, term: ox.NamedNode | ox.BlankNode) -> bool:
        quads = self.store.quads_for_pattern(term, None, None, ox.NamedNode(graph))
        return next(iter(quads), None) is not None


def _line(parsed: ParsedFile, subject: str, prop: str | None) -> int:
    """The line of a subject the file describes: the fast scan's, else the exact scan's, else 0 (unknown)."""
    line = parsed.line_of(subject, prop)
    if line is None and parsed.rescan():
        line = parsed.line_of(subject, prop)
    return line or 0


def _node(key: str) -> ox.NamedNode | ox.BlankNode | None:
    """The node an IRI or _:id stands for (None when it is neither)."""
    try:
        return ox.BlankNode(key[2:]) if key.startswith("_:") else ox.NamedNode(key) if key else None
    except ValueError:
        return None


def _key(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else "_:" + term.value


def _display(key: str) -> str:
    """How a subject is shown: its prefixed name, or [] for a blank node (its id differs from one parse to the next)."""
    return "[]" if key.startswith("_:") else shorten(key)


def _term_text(term: object) -> str:
    if isinstance(term, ox.NamedNode | ox.BlankNode):
        return _display(_key(term))
    return "" if term is None else str(term)


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


def _to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple):  # type: ignore[no-untyped-def]
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


def _shacl_graph(shapes_file: Path):  # type: ignore[no-untyped-def]
    import rdflib

    shapes = rdflib.Graph()
    shapes.parse(shapes_file, format="turtle")
    return shapes


def _prune_results(results, focus: set) -> None:  # type: ignore[no-untyped-def,type-arg]
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


SHACL_ENGINES = ("pyshacl", "turbo")


def _shacl_engine(engine: str):  # type: ignore[no-untyped-def]
    """pyshacl (the reference) or pyshacl-turbo (same API and findings, a Rust core, much faster)."""
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


def _shacl_findings(
    store: ox.Store,
    locator: _Locator,
    shapes_file: Path,
    focus: list[ox.NamedNode | ox.BlankNode] | None,
    engine: str = "pyshacl",
) -> tuple[list[Finding], bytes]:
    import rdflib

    shacl = _shacl_engine(engine)

    with _quiet_rdflib():
        data = rdflib.Graph()
        for quad in store.quads_for_pattern(None, None, None, None):
            data.add((_to_rdflib(quad.subject), _to_rdflib(quad.predicate), _to_rdflib(quad.object)))
        # pyshacl's focus_nodes drops warning-severity results (0.40), so the small context graph is
        # validated whole and the results about nodes outside the new files are pruned.
        _, results, _ = shacl.validate(
            data, shacl_graph=_shacl_graph(shapes_file), inference="none", advanced=True, allow_warnings=True
        )
        if focus is not None:
            _prune_results(results, {_to_rdflib(node) for node in focus})
        report_nt = results.serialize(format="nt", encoding="utf-8")
    report = ox.Store()
    # parse keeps blank node labels (Store.load renames them): a blank focus node is then found in the data
    report.extend(ox.parse(report_nt, format=ox.RdfFormat.N_TRIPLES))
    query = """
    SELECT ?r ?focus ?path ?severity ?value WHERE {
      ?r a sh:ValidationResult ; sh:focusNode ?focus ; sh:resultSeverity ?severity .
      OPTIONAL { ?r sh:resultPath ?path } OPTIONAL { ?r sh:value ?value }
    }"""
    findings = []
    for row in select(report.query(query, prefixes={"sh": _SH})):
        messages = {"en": "", "zh": ""}
        for quad in report.quads_for_pattern(row["r"], ox.NamedNode(_SH + "resultMessage"), None):
            literal = quad.object
            if not isinstance(literal, ox.Literal):
                continue
            lang = (literal.language or "en")[:2]
            messages.setdefault(lang, "")
            if not messages[lang]:
                messages[lang] = literal.value
        focus_node = locator.owner(row["focus"])
        path = row["path"]
        if not isinstance(path, ox.NamedNode) and row["value"] is not None:
            # an alternative path: name the predicate that actually links focus and value
            links = list(locator.store.quads_for_pattern(row["focus"], None, row["value"]))
            path = links[0].predicate if links else path
        prop = path.value if isinstance(path, ox.NamedNode) else ""
        value = row["value"]
        message = messages["en"] or "does not conform to the shapes"
        if value is not None and not isinstance(value, ox.BlankNode):
            message += f" (value: {_term_text(value)})"
        for file, line in locator.where(_key(focus_node), prop or None):
            findings.append(
                Finding(
                    file=file,
                    line=line,
                    severity=_SEVERITY_OF.get(row["severity"].value, "violation"),
                    subject=_term_text(focus_node),
                    property=_term_text(path) if isinstance(path, ox.NamedNode) else "",
                    message=message,
                    message_zh=messages["zh"],
                    hint=_SHACL_HINT,
                    check="shacl",
                )
            )
    return findings, report_nt


def _evidence_findings(store: ox.Store, locator: _Locator, project: Project) -> list[Finding]:
    quote, source = PREFIXES["cq"] + "quote", PREFIXES["cq"] + "source"
    texts = SourceTexts(project.sources_dir)
    findings = []
    for problem in check_quotes(store, texts):
        for file, line in locator.where(problem.subject, quote if problem.kind == "not-found" else source):
            findings.append(_evidence_finding(file, line, problem))
    return sorted(set(findings + _file_name_findings(store, locator, texts)))


def _file_name_findings(store: ox.Store, locator: _Locator, texts: SourceTexts) -> list[Finding]:
    """Each cq:fileName that names something other than a regular file inside facts/sources/."""
    file_name = PREFIXES["cq"] + "fileName"
    findings = []
    for quad in store.quads_for_pattern(None, ox.NamedNode(file_name), None, None):
        if not isinstance(quad.object, ox.Literal) or isinstance(quad.subject, ox.Triple):
            continue
        texts.get(quad.object.value)
        refusal = texts.refusal(quad.object.value)
        if refusal is None:
            continue
        subject = _key(quad.subject)
        for file, line in locator.where(subject, file_name):
            findings.append(
                Finding(
                    file,
                    line,
                    "violation",
                    _display(subject),
                    "cq:fileName",
                    f"cq:fileName «{quad.object.value}» {refusal}: the file was not read",
                    "来源文件名须指向 facts/sources/ 中的普通文件；该文件未被读取",
                    "give the name of the article's text file in facts/sources/ (e.g. 003_3f5591fb49c74a46.txt)",
                    "evidence",
                )
            )
    return findings


# kind → (property, message, message in Chinese, hint); {quote} and {detail} are filled in
_EVIDENCE_TEXTS = {
    "not-found": (
        "cq:quote",
        "quote not found in its source: «{quote}»",
        "引文在来源中未找到",
        "closest passage: «{detail}»",
    ),
    "no-source": (
        "cq:source",
        "a quote without a source",
        "引文缺少来源",
        "add cq:source src:… naming the article the quote is from",
    ),
    "source-file-missing": (
        "cq:source",
        "source text file is missing: {detail}",
        "来源文本文件缺失",
        "put the article's text in facts/sources/ or correct cq:fileName",
    ),
    "source-file-refused": (
        "cq:source",
        "the quote cannot be checked: its source's cq:fileName {detail}, so it was not read",
        "无法核对引文：来源文件名不合规，未读取该文件",
        "name a plain text file that lies in facts/sources/ itself",
    ),
}


def _evidence_finding(file: str, line: int, problem: QuoteProblem) -> Finding:
    prop, message, message_zh, hint = _EVIDENCE_TEXTS[problem.kind]
    fill = {"quote": problem.quote, "detail": problem.detail}
    return Finding(
        file,
        line,
        "violation",
        _display(problem.subject),
        prop,
        message.format(**fill),
        message_zh,
        hint.format(**fill),
        "evidence",
    )


_ONTOLOGY_GRAPHS = GRAPH_BASE + "ontology/"


def _declared_terms(store: ox.Store, exclude_graphs: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    """Terms declared in ontology/ (a declaration in a fact file does not count: see _declaration_findings)."""
    # VALUES, not FILTER(?k IN …): oxigraph then looks the kinds up in its index instead of scanning every
    # rdf:type triple (1 s → 3 ms against a 1M-measure store).
    rows = store.query(
        "SELECT DISTINCT ?t ?g WHERE { VALUES ?k { owl:Class owl:ObjectProperty owl:DatatypeProperty rdf:Property "
        "skos:Concept skos:ConceptScheme cq:Category cq:Strength cq:TargetGroup cq:QuantityKind cq:StatisticType "
        "cq:DateKind owl:Ontology } GRAPH ?g { ?t a ?k } }",
        prefixes=PREFIXES,
    )
    return {
        row["t"].value
        for row in select(rows)
        if row["g"].value.startswith(_ONTOLOGY_GRAPHS) and row["g"].value not in exclude_graphs
    }


# What declares vocabulary: being typed as one of these classes (or a subclass of a SKOS class in the
# ontology), or being the subject of one of these properties, or of any SHACL property.
def _iris(names: str) -> frozenset[str]:
    return frozenset(expand(name) or name for name in names.split())


_VOCABULARY_CLASSES = _iris(
    "owl:Class rdfs:Class rdfs:Datatype owl:Restriction owl:Ontology rdf:Property owl:ObjectProperty "
    "owl:DatatypeProperty owl:AnnotationProperty owl:FunctionalProperty owl:InverseFunctionalProperty "
    "owl:TransitiveProperty owl:SymmetricProperty owl:AsymmetricProperty owl:ReflexiveProperty "
    "owl:IrreflexiveProperty skos:Concept skos:ConceptScheme skos:Collection skos:OrderedCollection sh:NodeShape "
    "sh:PropertyShape sh:Shape cq:Category cq:Strength cq:TargetGroup cq:QuantityKind cq:StatisticType cq:DateKind"
)
_VOCABULARY_PROPERTIES = _iris(
    "rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range owl:equivalentClass owl:equivalentProperty "
    "owl:inverseOf owl:disjointWith skos:inScheme skos:topConceptOf skos:hasTopConcept skos:member skos:broader "
    "skos:narrower skos:broaderTransitive skos:narrowerTransitive skos:related skos:exactMatch skos:closeMatch "
    "skos:broadMatch skos:narrowMatch skos:relatedMatch"
)
_SKOS_CLASSES = _iris("skos:Concept skos:ConceptScheme skos:Collection")


def _vocabulary_classes(store: ox.Store) -> set[str]:
    """The classes whose instances are vocabulary: the fixed list and the ontology's subclasses of SKOS classes."""
    sub = PREFIXES["rdfs"] + "subClassOf"
    parents: dict[str, set[str]] = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(sub), None, None):
        graph = quad.graph_name
        in_ontology = isinstance(graph, ox.NamedNode) and graph.value.startswith(_ONTOLOGY_GRAPHS)
        if in_ontology and isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
            parents.setdefault(quad.subject.value, set()).add(quad.object.value)
    classes = set(_VOCABULARY_CLASSES)
    for start in parents:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node in _SKOS_CLASSES:
                classes.add(start)
                break
            if node not in seen:
                seen.add(node)
                todo.extend(parents.get(node, ()))
    return classes


def _declaration_findings(files: Iterable[ParsedFile], locator: _Locator) -> list[Finding]:
    """A fact file that declares a class, property, concept or shape: vocabulary belongs in ontology/."""
    classes = _vocabulary_classes(locator.store)
    findings = []
    for parsed in files:
        seen: set[tuple[str, str, str]] = set()
        for triple in parsed.triples:
            predicate, obj = triple.predicate.value, triple.object
            if predicate == RDF_TYPE and isinstance(obj, ox.NamedNode) and obj.value in classes:
                what = f"a {shorten(obj.value)}"
            elif predicate in _VOCABULARY_PROPERTIES or predicate.startswith(PREFIXES["sh"]):
                what = f"{shorten(predicate)} {_term_text(obj)}"
            else:
                continue
            subject = _key(locator.owner(triple.subject))  # type: ignore[arg-type]
            if (subject, predicate, what) in seen:
                continue
            seen.add((subject, predicate, what))
            findings.append(
                Finding(
                    parsed.name,
                    _line(parsed, subject, predicate),
                    "violation",
                    _display(subject),
                    shorten(predicate),
                    f"a fact file cannot declare vocabulary ({_display(subject)} {what}): classes, properties, "
                    "concepts, schemes and shapes belong in ontology/",
                    "事实文件不得声明词汇：类、属性、概念、概念体系和约束须在 ontology/ 中定义",
                    "use a term the ontology declares; a new term is proposed as a change to ontology/ "
                    "(docs/modelling.md)",
                    "vocabulary-declaration",
                )
            )
    return findings


# Literals: no control characters (but TAB, LF and CR in free text such as rdfs:comment), and no bidirectional
# overrides (they make text display other than it is); one-line text has no TAB, LF or CR either.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ONE_LINE = _iris("cq:quote rdfs:label skos:prefLabel skos:altLabel cq:fileName cq:position")
_QUOTE = PREFIXES["cq"] + "quote"
MIN_QUOTE_CHARS = 4


def _bad_characters(text: str, one_line: bool) -> list[str]:
    allowed = "" if one_line else "\t\n\r"
    return sorted({c for c in text if (unicodedata.category(c) == "Cc" and c not in allowed) or c in _BIDI_CONTROLS})


def _literal_findings(files: Iterable[ParsedFile], locator: _Locator) -> list[Finding]:
    """Control characters in literals, and quotes too short to be evidence."""
    findings = []
    for parsed in files:
        for triple in parsed.triples:
            literal = triple.object
            if not isinstance(literal, ox.Literal):
                continue
            predicate = triple.predicate.value
            subject = _key(locator.owner(triple.subject))  # type: ignore[arg-type]
            line = _line(parsed, subject, predicate)
            bad = _bad_characters(literal.value, predicate in _ONE_LINE)
            if bad:
                names = ", ".join(printable(c) for c in bad)
                findings.append(
                    Finding(
                        parsed.name,
                        line,
                        "violation",
                        _display(subject),
                        shorten(predicate),
                        f"the text contains control or invisible characters ({names}): "
                        + ("a quote or label is one line of plain text" if predicate in _ONE_LINE else "remove them"),
                        "文本含有控制字符或不可见字符",
                        "retype the text, or copy it again from the article without the hidden characters",
                        "control-character",
                    )
                )
            if predicate == _QUOTE:
                compact = re.sub(r"\s", "", literal.value)
                if len(compact) < MIN_QUOTE_CHARS or not any(unicodedata.category(c)[0] in "LN" for c in compact):
                    findings.append(
                        Finding(
                            parsed.name,
                            line,
                            "violation",
                            _display(subject),
                            "cq:quote",
                            f"quote too short to be evidence: «{literal.value}» (at least {MIN_QUOTE_CHARS} "
                            "characters without spaces, with a letter or digit)",
                            f"引文过短，不足以作为证据（去除空白后至少 {MIN_QUOTE_CHARS} 个字符，且含文字或数字）",
                            "quote the sentence or clause of the article that states the fact",
                            "short-quote",
                        )
                    )
    return findings


def _did_you_mean(iri: str, declared: list[str]) -> str:
    """A hint naming the declared term closest to a misspelt one (compared on prefixed names)."""
    names = {shorten(t): t for t in declared}
    near = difflib.get_close_matches(shorten(iri), list(names), n=1, cutoff=0.75)
    return f"did you mean {near[0]}?" if near else "declare it in ontology/ or use a declared term"


def _vocabulary_findings(files: Iterable[ParsedFile], declared: set[str]) -> list[Finding]:
    """Classes, properties and concepts used but declared neither in the ontology nor a standard vocabulary."""
    local = sorted(t for t in declared if t.startswith(_LOCAL_NAMESPACES))
    findings = []
    for parsed in files:
        seen: set[tuple[str, str]] = set()
        for triple in parsed.triples:
            used = [("property", triple.predicate.value)]
            if triple.predicate.value == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
                used.append(("class", triple.object.value))
            elif isinstance(triple.object, ox.NamedNode) and triple.object.value.startswith(_LOCAL_NAMESPACES):
                used.append(("term", triple.object.value))
            for kind, iri in used:
                if iri in declared or (iri.startswith(STANDARD_NAMESPACES) and not iri.startswith(_LOCAL_NAMESPACES)):
                    continue
                if (kind, iri) in seen:
                    continue
                seen.add((kind, iri))
                subject = _key(triple.subject)  # type: ignore[arg-type]
                hint = _did_you_mean(iri, local)
                findings.append(
                    Finding(
                        parsed.name,
                        _line(parsed, subject, iri),
                        "violation",
                        _display(subject),
                        shorten(iri),
                        f"{kind} {shorten(iri)} is not in the ontology",
                        f"{shorten(iri)} 不在本体中",
                        hint,
                        "vocabulary",
                    )
                )
    return findings


def _query_findings(store: ox.Store, locator: _Locator) -> list[Finding]:
    findings = []
    for check in named_queries(CHECKS_DIR, "check").values():
        path = check.path
        result = run_query(store, path.read_text("utf-8"))
        for row in result.rows:
            record = dict(zip(result.variables, row, strict=True))
            term = record.get("subject")
            subject = _key(term) if isinstance(term, ox.NamedNode | ox.BlankNode) else ""
            value = {k: (v.value if v is not None else "") for k, v in record.items()}
            prop = value.get("property", "")
            message = value.get("message") or path.stem
            message_zh = value.get("message_zh") or check.message_zh
            severity = value.get("severity") or check.severity
            short_prop = shorten(prop) if prop else ""
            for file, line in locator.where(subject, prop or None, value.get("graph") or None):
                findings.append(
                    Finding(
                        file,
                        line,
                        severity,
                        _display(subject) if subject else "",
                        short_prop,
                        message,
                        message_zh,
                        check.hint,
                        path.stem,
                    )
                )
    return findings


def _drop_shacl_duplicates(findings: list[Finding]) -> list[Finding]:
    """An ill-typed literal is reported once, by its own check, not again as a datatype mismatch."""
    ill_typed = {(f.subject, f.property) for f in findings if f.check == "ill-typed-literal-violation"}
    return [
        f for f in findings if not (f.check == "shacl" and (f.subject, f.property) in ill_typed and "xsd:" in f.message)
    ]


def _printable(finding: Finding) -> Finding:
    """A finding whose texts print on one line as they are: data from a file can carry control characters."""
    return dataclasses.replace(
        finding,
        subject=printable(finding.subject),
        property=printable(finding.property),
        message=printable(finding.message),
        message_zh=printable(finding.message_zh),
        hint=printable(finding.hint),
    )


def _run_checks(
    project: Project,
    store: ox.Store,
    dataset: Dataset,
    declared: set[str],
    focus: list[ox.NamedNode | ox.BlankNode] | None,
    report_files: set[str] | None,
    engine: str = "pyshacl",
) -> Report:
    locator = _Locator(dataset, store)
    shacl, report_nt = _shacl_findings(store, locator, project.shapes_file, focus, engine)
    findings = shacl + _evidence_findings(store, locator, project) + _query_findings(store, locator)
    fact_files = [f for f in dataset.files if not f.name.startswith("ontology/")]
    if report_files is not None:
        fact_files = [f for f in fact_files if f.name in report_files]
    findings += _vocabulary_findings(fact_files, declared)
    findings += _declaration_findings(fact_files, locator)
    checked = dataset.files if report_files is None else [f for f in dataset.files if f.name in report_files]
    findings += _literal_findings(checked, locator)
    findings = [_printable(f) for f in _drop_shacl_duplicates(findings)]
    if report_files is not None:
        findings = [f for f in findings if f.file in report_files]
    files = sorted(report_files) if report_files is not None else [f.name for f in dataset.files]
    return Report(sorted(set(findings)), files, _report_graph(report_nt, findings))


def _report_graph(shacl_nt: bytes, findings: list[Finding]) -> bytes:
    """The SHACL validation report as Turtle, with the evidence and query findings added as results."""
    import rdflib
    from rdflib.namespace import RDF, SH

    graph = rdflib.Graph()
    graph.parse(data=shacl_nt, format="nt")
    for name, iri in PREFIXES.items():
        graph.bind(name, iri)
    report = next(iter(graph.subjects(RDF.type, SH.ValidationReport)), None)
    if report is None:
        report = rdflib.BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
    for finding in findings:
        if finding.check == "shacl":
            continue
        result = rdflib.BNode()
        graph.add((report, SH.result, result))
        graph.add((result, RDF.type, SH.ValidationResult))
        severity = {"violation": SH.Violation, "warning": SH.Warning}.get(finding.severity, SH.Info)
        graph.add((result, SH.resultSeverity, severity))
        focus = expand(finding.subject) if finding.subject else None
        graph.add((result, SH.focusNode, rdflib.URIRef(focus) if focus else rdflib.Literal(finding.file)))
        prop = expand(finding.property) if finding.property else None
        if prop:
            graph.add((result, SH.resultPath, rdflib.URIRef(prop)))
        graph.add((result, SH.resultMessage, rdflib.Literal(finding.message, lang="en")))
        if finding.message_zh:
            graph.add((result, SH.resultMessage, rdflib.Literal(finding.message_zh, lang="zh")))
        graph.add((result, SH.sourceConstraint, rdflib.URIRef(PREFIXES["cqsh"] + finding.check)))
    graph.remove((report, SH.conforms, None))
    conforms = not any(f.severity == "violation" for f in findings)
    graph.add((report, SH.conforms, rdflib.Literal(conforms)))
    return graph.serialize(format="turtle", encoding="utf-8")


def validate_dataset(
    project: Project, dataset: Dataset, report_files: set[str] | None = None, engine: str = "pyshacl"
) -> Report:
    """Every check over a loaded dataset; keep only findings in `report_files` when given."""
    store = dataset.to_store()
    derive(store)  # the derived periods, as the build makes them: checks read them (e.g. unresolved repeals)
    return _run_checks(project, store, dataset, _declared_terms(store), None, report_files, engine)


# ---------------------------------------------------------------- validating new files in context

# What the shapes and checks follow from a new file's subjects into the rest of the knowledge base.
_CONTEXT_PROPERTIES = ("rdf:type", "skos:inScheme", "cq:fileName", "cq:coversFrom", "cq:coversUntil")
_CONTEXT_QUERY = """
SELECT ?g ?s ?p ?o WHERE {{
  {{ VALUES ?s {{ {referenced} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(?p IN ({properties})) }}
  UNION {{ VALUES ?s {{ {subjects} }} GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ VALUES ?x {{ {subjects} }} ?x ?link ?s . GRAPH ?g {{ ?s ?p ?o }}
          FILTER(isBlank(?s) || ?p IN ({properties})) }}
  UNION {{ VALUES ?start {{ {replaced} }} ?start cq:replaces* ?s .
          GRAPH ?g {{ ?s cq:replaces ?o }} BIND(cq:replaces AS ?p) }}
  UNION {{ GRAPH ?g {{ ?s rdfs:subClassOf ?o }} BIND(rdfs:subClassOf AS ?p) }}
}}"""


def _context_is_fresh(project: Project, ignored: set[str]) -> bool:
    """Whether the store was built from the current inputs, not counting the files being validated."""
    from . import store as kb_store

    manifest = kb_store._read_manifest(project)
    if manifest is None or not (project.state_dir / "store").is_dir():
        return False
    current = {k: v for k, v in kb_store._fingerprint(project).items() if k not in ignored}
    recorded = {k: v for k, v in manifest.get("files", {}).items() if k not in ignored}
    if set(current) != set(recorded):
        return False
    for name, (size, mtime, _) in current.items():
        old_size, old_mtime, old_digest = recorded[name]
        if size != old_size or (mtime != old_mtime and kb_store._digest(project.root / name) != old_digest):
            return False
    return True


def _open_context(project: Project, ignored: set[str]) -> ox.Store:
    """The persistent store; rebuilt only when a file other than those being validated changed."""
    from . import store as kb_store

    if not _context_is_fresh(project, ignored):
        kb_store.build(project, force=True)
    return ox.Store.read_only(str(project.state_dir / "store"))


def _values(terms: Iterable[str]) -> str:
    return " ".join(f"<{t}>" for t in sorted(terms)) or "<urn:kb:none>"


def _context_quads(kb: ox.Store, files: list[ParsedFile], exclude_graphs: set[str]) -> list[ox.Quad]:
    """From the knowledge base: what the new files' subjects and references need to be checked."""
    subjects: set[str] = set()
    referenced: set[str] = set()
    replaced: set[str] = set()
    replaces = PREFIXES["cq"] + "replaces"
    for parsed in files:
        for triple in parsed.triples:
            for term in (triple.subject, triple.object):
                if isinstance(term, ox.NamedNode):
                    referenced.add(term.value)
            if isinstance(triple.subject, ox.NamedNode):
                subjects.add(triple.subject.value)
            if triple.predicate.value == replaces and isinstance(triple.object, ox.NamedNode):
                replaced.add(triple.object.value)
    text = _CONTEXT_QUERY.format(
        referenced=_values(referenced),
        subjects=_values(subjects),
        replaced=_values(replaced),
        properties=", ".join(_CONTEXT_PROPERTIES),
    )
    quads = []
    for row in select(kb.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)):
        if row["g"].value not in exclude_graphs:
            quads.append(ox.Quad(row["s"], row["p"], row["o"], row["g"]))
    return quads


def _name_of(project: Project, path: Path) -> str:
    """How a file is named in findings: relative to the project inside it, else its full path.

    A file outside the project never takes the name (and so the graph) of one in ontology/ or facts/.
    """
    try:
        inside = path.resolve().is_relative_to(project.root.resolve())
    except (OSError, RuntimeError):  # a loop of links: load_file says so
        inside = False
    return project.relative(path) if inside else os.path.abspath(path)


def validate_in_context(project: Project, paths: list[Path], engine: str = "pyshacl") -> Report:
    """Validate new or changed files against the knowledge base in the store, without re-parsing it.

    Findings are those a validation of the whole knowledge base would report in these files.
    """
    given = {_name_of(project, p): p for p in paths}
    files = [load_file(path, name, project.root) for name, path in given.items()]
    own_graphs = {parsed.graph for parsed in files}
    kb = _open_context(project, set(given))
    dataset = Dataset(files)
    store = dataset.to_store()
    store.extend(_context_quads(kb, files, own_graphs))
    focus: dict[str, ox.NamedNode | ox.BlankNode] = {}
    for parsed in files:
        for triple in parsed.triples:
            if not isinstance(triple.subject, ox.Triple):
                focus.setdefault(str(triple.subject), triple.subject)
    declared = _declared_terms(kb, own_graphs) | _declared_terms(store)
    return _run_checks(project, store, dataset, declared, list(focus.values()), set(given), engine)


def validate_files(project: Project, paths: list[Path] | None = None, engine: str = "pyshacl") -> Report:
    """Validate the whole knowledge base, or the given files in its context (findings for those files only)."""
    _shacl_engine(engine)  # an unknown or missing engine is a usage error before any work
    if paths:
        return validate_in_context(project, paths, engine)
    files = [load_file(path, project.relative(path), project.root) for path in project.input_files()]
    return validate_dataset(project, Dataset(files), engine=engine)

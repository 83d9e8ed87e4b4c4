"""Validation: SHACL shapes, evidence (quotes against sources), vocabulary and *-violation queries.

The outcome is a Report of findings, never an exception: "the facts do not conform" is a result.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .derive import derive
from .errors import UsageError
from .evidence import QuoteProblem, SourceTexts, check_quotes
from .loader import Dataset, ParsedFile, load_file
from .namespaces import PREFIXES, RDF_TYPE, STANDARD_NAMESPACES, expand, shorten
from .project import Project
from .query import QUERY_DIR, run_query, select

SEVERITIES = ("violation", "warning", "info")
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

        A subject described in several files is reported in each, so that checking one of them in the
        context of the others gives the same findings for it as checking the whole knowledge base.
        """
        places = []
        for parsed in self.dataset.files:
            if graph is not None and parsed.graph != graph:
                continue
            line = parsed.line_of(subject, prop)
            if line is not None:
                places.append((parsed.name, line))
        return places or [("", 0)]


def _term_text(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
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
    report.load(report_nt, format=ox.RdfFormat.N_TRIPLES)
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
        subject = focus_node.value if isinstance(focus_node, ox.NamedNode) else ""
        value = row["value"]
        message = messages["en"] or "does not conform to the shapes"
        if value is not None and not isinstance(value, ox.BlankNode):
            message += f" (value: {_term_text(value)})"
        for file, line in locator.where(subject, prop or None) if subject else [("", 0)]:
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
    findings = []
    for problem in check_quotes(store, SourceTexts(project.sources_dir)):
        for file, line in locator.where(problem.subject, quote if problem.kind == "not-found" else source):
            findings.append(_evidence_finding(file, line, problem))
    return sorted(set(findings))


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
}


def _evidence_finding(file: str, line: int, problem: QuoteProblem) -> Finding:
    prop, message, message_zh, hint = _EVIDENCE_TEXTS[problem.kind]
    fill = {"quote": problem.quote, "detail": problem.detail}
    return Finding(
        file,
        line,
        "violation",
        shorten(problem.subject),
        prop,
        message.format(**fill),
        message_zh,
        hint.format(**fill),
        "evidence",
    )


def _declared_terms(store: ox.Store, exclude_graphs: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    # VALUES, not FILTER(?k IN …): oxigraph then looks the kinds up in its index instead of scanning every
    # rdf:type triple (1 s → 3 ms against a 1M-measure store).
    rows = store.query(
        "SELECT DISTINCT ?t ?g WHERE { VALUES ?k { owl:Class owl:ObjectProperty owl:DatatypeProperty rdf:Property "
        "skos:Concept skos:ConceptScheme cq:Category cq:Strength cq:TargetGroup cq:QuantityKind cq:StatisticType "
        "cq:DateKind owl:Ontology } GRAPH ?g { ?t a ?k } }",
        prefixes=PREFIXES,
    )
    return {row["t"].value for row in select(rows) if row["g"].value not in exclude_graphs}


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
                subject = triple.subject.value if isinstance(triple.subject, ox.NamedNode) else ""
                hint = _did_you_mean(iri, local)
                line = parsed.line_of(subject, iri) if subject else None
                findings.append(
                    Finding(
                        parsed.name,
                        line or 1,
                        "violation",
                        shorten(subject) if subject else "",
                        shorten(iri),
                        f"{kind} {shorten(iri)} is not in the ontology",
                        f"{shorten(iri)} 不在本体中",
                        hint,
                        "vocabulary",
                    )
                )
    return findings


_QUERY_HINTS = {
    "date-kind-violation": "a date kind other than cq:NotStated needs a value; cq:NotStated needs none",
    "date-outside-source-period-violation": "check the date against the article (a warning: it may be right)",
    "duplicate-conflict-violation": "describe each thing in one file, or give the same value in both",
    "ill-typed-literal-violation": "correct the literal so that it is valid for its datatype",
    "replaces-cycle-violation": "a measure replaces an earlier one: reverse or remove one link of the cycle",
    "self-change-violation": "point the link at the earlier measure it changes",
}

_QUERY_MESSAGES_ZH = {
    "date-kind-violation": "日期类型与日期值不一致",
    "date-outside-source-period-violation": "日期不在来源文章所报道的时段内",
    "duplicate-conflict-violation": "同一资源在两个文件中取值不同",
    "ill-typed-literal-violation": "字面量与其数据类型不符",
    "replaces-cycle-violation": "cq:replaces 形成循环",
    "self-change-violation": "措施不能调整自身",
}


def _query_findings(store: ox.Store, locator: _Locator) -> list[Finding]:
    findings = []
    for path in sorted(QUERY_DIR.glob("*-violation.rq")):
        result = run_query(store, path.read_text("utf-8"))
        for record in result.records():
            subject = record.get("subject") or ""
            prop = record.get("property") or ""
            message = record.get("message") or path.stem
            message_zh = record.get("message_zh") or _QUERY_MESSAGES_ZH.get(path.stem, "")
            severity = record.get("severity") or "violation"
            short_prop = shorten(prop) if prop else ""
            for file, line in locator.where(subject, prop or None, record.get("graph")):
                findings.append(
                    Finding(
                        file,
                        line,
                        severity,
                        shorten(subject),
                        short_prop,
                        message,
                        message_zh,
                        _QUERY_HINTS.get(path.stem, ""),
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
    findings = _drop_shacl_duplicates(findings)
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


def validate_in_context(project: Project, paths: list[Path], engine: str = "pyshacl") -> Report:
    """Validate new or changed files against the knowledge base in the store, without re-parsing it.

    Findings are those a validation of the whole knowledge base would report in these files.
    """
    given = {project.relative(p): p for p in paths}
    files = [load_file(path, name) for name, path in given.items()]
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
    files = [load_file(path, project.relative(path)) for path in project.input_files()]
    return validate_dataset(project, Dataset(files), engine=engine)

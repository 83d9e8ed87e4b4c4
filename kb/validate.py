"""Validation: SHACL shapes, evidence (quotes against sources), vocabulary and *-violation queries.

The outcome is a Report of findings, never an exception: "the facts do not conform" is a result.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .evidence import SourceTexts, check_quotes
from .loader import Dataset, ParsedFile, load_file
from .namespaces import PREFIXES, RDF_TYPE, STANDARD_NAMESPACES, shorten
from .project import Project
from .query import QUERY_DIR, run_query

SEVERITIES = ("violation", "warning", "info")
_SH = PREFIXES["sh"]
_SEVERITY_OF = {_SH + "Violation": "violation", _SH + "Warning": "warning", _SH + "Info": "info"}
_LOCAL_NAMESPACES = tuple(PREFIXES[p] for p in ("cq", "cat", "tg", "qk", "stat"))


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

    def as_dict(self) -> dict[str, str | int]:
        return {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
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
            if not parents:
                break
            node = parents[0]
        return node

    def where(self, subject: str, prop: str | None) -> tuple[str, int]:
        located = self.dataset.locate(subject, prop)
        if located is None:
            located = self.dataset.locate(subject)
        return located or ("", 0)


def _term_text(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return "" if term is None else str(term)


def _shacl_findings(dataset: Dataset, locator: _Locator, shapes_file: Path) -> tuple[list[Finding], bytes]:
    import pyshacl
    import rdflib

    data = rdflib.Graph()
    data.parse(data=dataset.to_ntriples(), format="nt")
    shapes = rdflib.Graph()
    shapes.parse(shapes_file, format="turtle")
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
    report_nt = results.serialize(format="nt", encoding="utf-8")
    store = ox.Store()
    store.load(report_nt, format=ox.RdfFormat.N_TRIPLES)
    query = """
    SELECT ?r ?focus ?path ?severity ?value WHERE {
      ?r a sh:ValidationResult ; sh:focusNode ?focus ; sh:resultSeverity ?severity .
      OPTIONAL { ?r sh:resultPath ?path } OPTIONAL { ?r sh:value ?value }
    }"""
    findings = []
    for row in store.query(query, prefixes={"sh": _SH}):
        messages = {"en": "", "zh": ""}
        for quad in store.quads_for_pattern(row["r"], ox.NamedNode(_SH + "resultMessage"), None):
            lang = (quad.object.language or "en")[:2]
            messages.setdefault(lang, "")
            if not messages[lang]:
                messages[lang] = quad.object.value
        focus = locator.owner(row["focus"])
        path = row["path"]
        if not isinstance(path, ox.NamedNode) and row["value"] is not None:
            # an alternative path: name the predicate that actually links focus and value
            links = list(locator.store.quads_for_pattern(row["focus"], None, row["value"]))
            path = links[0].predicate if links else path
        prop = path.value if isinstance(path, ox.NamedNode) else ""
        subject = focus.value if isinstance(focus, ox.NamedNode) else ""
        file, line = locator.where(subject, prop or None) if subject else ("", 0)
        value = row["value"]
        message = messages["en"] or "does not conform to the shapes"
        if value is not None and not isinstance(value, ox.BlankNode):
            message += f" (value: {_term_text(value)})"
        findings.append(
            Finding(
                file=file,
                line=line,
                severity=_SEVERITY_OF.get(row["severity"].value, "violation"),
                subject=_term_text(focus),
                property=_term_text(path) if isinstance(path, ox.NamedNode) else "",
                message=message,
                message_zh=messages["zh"],
                check="shacl",
            )
        )
    return findings, report_nt


def _evidence_findings(store: ox.Store, locator: _Locator, project: Project) -> list[Finding]:
    quote = PREFIXES["cq"] + "quote"
    findings = []
    for problem in check_quotes(store, SourceTexts(project.sources_dir)):
        file, line = locator.where(problem.subject, quote)
        subject = shorten(problem.subject)
        if problem.kind == "not-found":
            findings.append(
                Finding(file, line, "violation", subject, "cq:quote", f"quote not found in its source: «{problem.quote}»",
                        "引文在来源中未找到", f"closest passage: «{problem.detail}»", "evidence")
            )
        elif problem.kind == "no-source":
            findings.append(
                Finding(file, line, "violation", subject, "cq:source", "a quote without a source: add cq:source src:…",
                        "引文缺少来源", "", "evidence")
            )
        else:
            findings.append(
                Finding(file, line, "violation", subject, "cq:source", f"source text file is missing: {problem.detail}",
                        "来源文本文件缺失", "put the article's text in facts/sources/ or correct cq:fileName", "evidence")
            )
    return sorted(set(findings))


def _declared_terms(store: ox.Store) -> set[str]:
    rows = store.query(
        "SELECT DISTINCT ?t WHERE { ?t a ?k . FILTER(?k IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty, "
        "rdf:Property, skos:Concept, skos:ConceptScheme, cq:Category, cq:Strength, cq:TargetGroup, cq:QuantityKind, "
        "cq:StatisticType, cq:DateKind, owl:Ontology)) }",
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
    )
    return {row["t"].value for row in rows}


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
                    Finding(parsed.name, line or 1, "violation", shorten(subject) if subject else "", shorten(iri),
                            f"{kind} {shorten(iri)} is not in the ontology", f"{shorten(iri)} 不在本体中", hint, "vocabulary")
                )
    return findings


def _query_findings(store: ox.Store, locator: _Locator) -> list[Finding]:
    findings = []
    for path in sorted(QUERY_DIR.glob("*-violation.rq")):
        result = run_query(store, path.read_text("utf-8"))
        for record in result.records():
            subject = record.get("subject") or ""
            prop = record.get("property") or ""
            file, line = locator.where(subject, prop or None)
            findings.append(
                Finding(file, line, record.get("severity") or "violation", shorten(subject), shorten(prop) if prop else "",
                        record.get("message") or path.stem, record.get("message_zh") or "", "", path.stem)
            )
    return findings


def validate_dataset(project: Project, dataset: Dataset, report_files: set[str] | None = None) -> Report:
    """Every check over a loaded dataset; keep only findings in `report_files` when given."""
    store = dataset.to_store()
    locator = _Locator(dataset, store)
    shacl, report_nt = _shacl_findings(dataset, locator, project.shapes_file)
    findings = shacl + _evidence_findings(store, locator, project) + _query_findings(store, locator)
    fact_files = [f for f in dataset.files if not f.name.startswith("ontology/")]
    findings += _vocabulary_findings(fact_files, _declared_terms(store))
    if report_files is not None:
        findings = [f for f in findings if f.file in report_files]
    return Report(sorted(set(findings)), sorted(report_files or [f.name for f in dataset.files]), report_nt)


def validate_files(project: Project, paths: list[Path] | None = None) -> Report:
    """Validate the whole knowledge base, or the given files in its context (findings for those files only)."""
    given = {project.relative(p): p for p in paths or []}
    files = []
    for path in project.input_files():
        name = project.relative(path)
        if name not in given:
            files.append(load_file(path, name))
    for name, path in given.items():
        files.append(load_file(path, name))
    return validate_dataset(project, Dataset(files), set(given) if paths else None)

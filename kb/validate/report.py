"""The findings of a validation and how they are written: the Finding record, the Report, and the report as a
SHACL validation report in Turtle (built only when asked for)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

from ..loader import printable
from ..namespaces import PREFIXES, expand


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
    # The SHACL engine's own results (N-Triples) and every finding as reported, for the Turtle report
    shacl_results: bytes = b""
    reported: list[Finding] = field(default_factory=list)

    @functools.cached_property
    def shacl_report(self) -> bytes:
        """The whole report as a SHACL validation report in Turtle (the engine's results plus every other
        check's findings as sh:ValidationResult), written only when asked for: `kb validate --format ttl`."""
        return report_graph(self.shacl_results, self.reported)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "violation" for f in self.findings)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def printable_finding(finding: Finding) -> Finding:
    """A finding whose texts print on one line as they are: data from a file can carry control characters."""
    return dataclasses.replace(
        finding,
        subject=printable(finding.subject),
        property=printable(finding.property),
        message=printable(finding.message),
        message_zh=printable(finding.message_zh),
        hint=printable(finding.hint),
    )


def report_graph(shacl_nt: bytes, findings: list[Finding]) -> bytes:
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

"""The findings of a validation and how they are written: the Finding record, the Report, and the report as a
SHACL validation report in Turtle (built only when asked for)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import pyoxigraph as ox

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
    # The *-violation checks whose rows were read back from an earlier full validation of the same snapshot
    reused: list[str] = field(default_factory=list)

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


_SH = PREFIXES["sh"]
_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
_BOOLEAN = ox.NamedNode(PREFIXES["xsd"] + "boolean")


def _sh(name: str) -> ox.NamedNode:
    return ox.NamedNode(_SH + name)


def report_graph(shacl_nt: bytes, findings: list[Finding]) -> bytes:
    """The SHACL validation report as Turtle, with the evidence and query findings added as results.

    Written by pyoxigraph, each node's statements together (rdflib's serializer took ~10 s for 5k results)."""
    triples = [q.triple for q in ox.parse(shacl_nt, format=ox.RdfFormat.N_TRIPLES)]
    report: ox.NamedNode | ox.BlankNode = next(
        (t.subject for t in triples if t.predicate == _TYPE and t.object == _sh("ValidationReport")),
        ox.BlankNode(),
    )
    triples = [t for t in triples if not (t.subject == report and t.predicate == _sh("conforms"))]
    if not any(t.subject == report for t in triples):
        triples.append(ox.Triple(report, _TYPE, _sh("ValidationReport")))
    for finding in findings:
        if finding.check == "shacl":
            continue
        result = ox.BlankNode()
        severity = {"violation": "Violation", "warning": "Warning"}.get(finding.severity, "Info")
        focus = expand(finding.subject) if finding.subject else None
        prop = expand(finding.property) if finding.property else None
        triples += [
            ox.Triple(report, _sh("result"), result),
            ox.Triple(result, _TYPE, _sh("ValidationResult")),
            ox.Triple(result, _sh("resultSeverity"), _sh(severity)),
            ox.Triple(result, _sh("focusNode"), ox.NamedNode(focus) if focus else ox.Literal(finding.file)),
        ]
        if prop:
            triples.append(ox.Triple(result, _sh("resultPath"), ox.NamedNode(prop)))
        triples.append(ox.Triple(result, _sh("resultMessage"), ox.Literal(finding.message, language="en")))
        if finding.message_zh:
            triples.append(ox.Triple(result, _sh("resultMessage"), ox.Literal(finding.message_zh, language="zh")))
        triples.append(ox.Triple(result, _sh("sourceConstraint"), ox.NamedNode(PREFIXES["cqsh"] + finding.check)))
    conforms = "false" if any(f.severity == "violation" for f in findings) else "true"
    triples.append(ox.Triple(report, _sh("conforms"), ox.Literal(conforms, datatype=_BOOLEAN)))
    # each subject's statements together, the report first, then in order of appearance
    order: dict[object, int] = {report: -1}
    for t in triples:
        order.setdefault(t.subject, len(order))
    triples.sort(key=lambda t: order[t.subject])
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b""

"""`kb diff`: what changed between two versions of the knowledge base, per subject and field, in a curator's words.

Graphs are compared, not text: each version's store (curated graphs and the derived periods) is read into one
description per subject — its fields, each a multiset of values. A field is named by its property's English
label in the ontology; a date is shown with its kind (`cq:announced` with `cq:announcedKind`: any property P with
a P+"Kind" beside it), a derived bound with its basis in words (P with P+"Note"; P+"Basis" and P+"Evidence" are
then said by the note). A blank node is a value written as the canonical form of its whole tree, so blank-node
labels, reformatting and the order of statements never show as a change. A measure's derived status spans are
folded into it as the field "status by day", so that the diff is grouped per measure.

Values are compared by their terms (IRIs, literals) and only then put in words with labels, so a label change
of a concept shows once, at the concept, not at every measure that uses it.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..export import csv_bytes, union_triples
from ..namespaces import BASE_ID, CQ, PREFIXES, RDF_TYPE, RDFS_LABEL, shorten

FORMATS = ("text", "csv", "json")
STATUS_SPAN = CQ + "StatusSpan"
SPAN_FIELD = "status by day"  # a measure's derived status spans, folded into it
SPAN_PARTS = ("status", "spanFrom", "spanUntil", "spanReason")
BLANK_FIELD = "blank node"
XSD_STRING = PREFIXES["xsd"] + "string"
NONE = "(none)"
CSV_HEADER = ["change", "subject", "label", "field", "property", "old", "new", "where"]


@dataclass
class Words:
    """How one version puts terms in words: English labels first, then Chinese, else the prefixed name."""

    labels: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)  # value key → its words
    names: dict[str, str] = field(default_factory=dict)  # field key → the field's name

    def name(self, iri: str) -> str:
        if iri.startswith(BASE_ID):  # things are known to curators by their IRI: measure:…, place:…
            return shorten(iri)
        return self.labels.get(iri) or shorten(iri)

    def field(self, predicate: str, language: str = "") -> str:
        """The key of the field showing `predicate` (with a language: one field per language)."""
        key = shorten(predicate) + (f"@{language}" if language else "")
        label = self.labels.get(predicate) or re.split(r"[/#]", predicate)[-1] or shorten(predicate)
        self.names.setdefault(key, f"{label} ({language})" if language else label)
        return key


@dataclass
class Description:
    """One subject of one version: its label and its fields (by key), each a multiset of value keys."""

    label: str
    fields: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, name: str, key: str) -> None:
        self.fields.setdefault(name, Counter())[key] += 1


@dataclass
class Version:
    """What a version holds, per subject, and where each subject is written (file:line)."""

    label: str
    subjects: dict[str, Description]
    words: Words
    where: dict[str, str]


def _labels(triples: Iterable[ox.Triple]) -> dict[str, str]:
    ranked: dict[str, tuple[int, str]] = {}
    for triple in triples:
        if triple.predicate.value != RDFS_LABEL or not isinstance(triple.object, ox.Literal):
            continue
        if not isinstance(triple.subject, ox.NamedNode):
            continue
        language = triple.object.language or ""
        rank = 0 if language == "en" else 1 if language.startswith("zh") else 2
        current = ranked.get(triple.subject.value)
        if current is None or (rank, triple.object.value) < current:
            ranked[triple.subject.value] = (rank, triple.object.value)
    return {iri: text for iri, (_, text) in ranked.items()}


class _Reader:
    """Turns one version's triples into descriptions, blank-node trees written in canonical form."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.words = Words(_labels(triples))
        self.out: dict[object, list[tuple[str, object]]] = defaultdict(list)
        self.embedded: set[object] = set()
        for triple in triples:
            self.out[triple.subject].append((triple.predicate.value, triple.object))
            if isinstance(triple.object, ox.BlankNode):
                self.embedded.add(triple.object)

    def value(self, key: str, text: str) -> str:
        self.words.texts.setdefault(key, text)
        return key

    def term(self, term: object, trail: tuple[object, ...] = ()) -> str:
        """The key of a value; its words are kept in self.words.texts."""
        if isinstance(term, ox.NamedNode):
            return self.value(f"<{term.value}>", self.words.name(term.value))
        if isinstance(term, ox.Literal):
            plain = term.datatype.value == XSD_STRING and not term.language
            return self.value(str(term), f'"{term.value}"' if plain else term.value)
        if not isinstance(term, ox.BlankNode):  # a quoted triple: the loader refuses them
            return self.value(str(term), str(term))
        if term in trail:  # a cycle of blank nodes (kb fmt refuses them): say so, do not recurse
            return self.value("[…]", "[…]")
        inner = Description("")
        self.describe(inner, self.out.get(term, []), (*trail, term))
        parts = sorted((name, k) for name, keys in inner.fields.items() for k in keys.elements())
        key = "[" + "; ".join(f"{name}={k}" for name, k in parts) + "]"
        return self.value(key, "[" + "; ".join(f"{self.words.names[n]}: {self.words.texts[k]}" for n, k in parts) + "]")

    def describe(self, target: Description, pairs: list[tuple[str, object]], trail: tuple[object, ...] = ()) -> None:
        by_predicate: dict[str, list[object]] = defaultdict(list)
        for predicate, obj in pairs:
            by_predicate[predicate].append(obj)
        done: set[str] = set()
        for predicate in sorted(by_predicate):
            # P with P+"Kind" (a date and how it is known) or P+"Note" (a derived bound and its basis in words)
            base = predicate[:-4] if predicate.endswith(("Kind", "Note")) else ""
            known = base in self.words.labels or base in by_predicate or base + "Basis" in by_predicate
            if not base or not known:
                continue
            done.update((predicate, base))
            if predicate.endswith("Note"):
                done.update((base + "Basis", base + "Evidence"))
            extra = sorted(self.term(x, trail) for x in by_predicate[predicate])
            qualifier = ", ".join(self.words.texts[k].strip('"') for k in extra)
            name = self.words.field(base)
            for value in by_predicate.get(base, []) or [None]:
                if value is None:
                    target.add(name, self.value("|".join(extra), qualifier))
                    continue
                key = self.term(value, trail)
                target.add(name, self.value("|".join([key, *extra]), f"{self.words.texts[key]} ({qualifier})"))
        for predicate, objects in sorted(by_predicate.items()):
            if predicate in done:
                continue
            for obj in objects:
                language = obj.language if isinstance(obj, ox.Literal) and obj.language else ""
                target.add(self.words.field(predicate, language), self.term(obj, trail))

    def span(self, pairs: list[tuple[str, object]]) -> tuple[str | None, str]:
        """The measure a status span belongs to, and the span as one value (its key)."""
        values = dict(pairs)
        measure = values.get(CQ + "spanOf")
        keys = [self.term(values[CQ + p]) if CQ + p in values else "" for p in SPAN_PARTS]
        status, start, until, reason = (self.words.texts.get(k, "") for k in keys)
        text = f"{status} {start} – {until or 'open'}" + (f": {reason.strip(chr(34))}" if reason else "")
        return (measure.value if isinstance(measure, ox.NamedNode) else None), self.value("|".join(keys), text)

    def descriptions(self) -> dict[str, Description]:
        result: dict[str, Description] = {}
        spans: list[tuple[str, str]] = []
        for subject, pairs in self.out.items():
            if isinstance(subject, ox.BlankNode) and subject in self.embedded:
                continue
            if (RDF_TYPE, ox.NamedNode(STATUS_SPAN)) in pairs:
                measure, key = self.span(pairs)
                if measure is not None:
                    spans.append((measure, key))
                    continue
            if isinstance(subject, ox.NamedNode):
                described = Description(self.words.labels.get(subject.value, ""))
                self.describe(described, pairs)
                result[subject.value] = described
            else:  # a blank node nothing points to: known by its whole tree
                key = self.term(subject)
                self.words.names.setdefault(BLANK_FIELD, BLANK_FIELD)
                result["_:" + key] = Description("", {BLANK_FIELD: Counter([key])})
        self.words.names.setdefault(SPAN_FIELD, SPAN_FIELD)
        for measure, key in spans:
            result.setdefault(measure, Description(self.words.labels.get(measure, ""))).add(SPAN_FIELD, key)
        return result


def read_version(store: ox.Store, label: str, index: dict[str, list[list[str | int]]] | None = None) -> Version:
    """A version's descriptions, from its store; `index` is the build's location index (subject → files, lines)."""
    reader = _Reader(union_triples(store))
    descriptions = reader.descriptions()
    where = {}
    for iri, places in (index or {}).items():
        if places and iri in descriptions:
            where[iri] = f"{places[0][0]}:{places[0][1]}"
    return Version(label, descriptions, reader.words, where)


# ---------------------------------------------------------------- comparing


@dataclass
class FieldChange:
    """One field of one subject: the values it lost and gained, in words."""

    field: str
    property: str
    removed: list[str]
    added: list[str]

    def lines(self) -> list[str]:
        """One line for a single value that changed (A → B), else the field and one line per value (+ or -)."""
        if len(self.removed) <= 1 and len(self.added) <= 1:
            old = self.removed[0] if self.removed else NONE
            new = self.added[0] if self.added else NONE
            verb = " changed" if old.startswith('"') and new.startswith('"') else ""
            return [f"{self.field}{verb}: {old} → {new}"]
        return [f"{self.field}:", *(f"    + {v}" for v in self.added), *(f"    - {v}" for v in self.removed)]


@dataclass
class SubjectChange:
    """A subject added, removed or changed, with where it is written and the fields that differ."""

    change: str  # added | removed | changed
    subject: str  # the prefixed name (or the blank node's tree)
    iri: str
    label: str
    where: str
    fields: list[FieldChange]


@dataclass
class Diff:
    """Everything that differs between two versions, subjects in a stable order."""

    old: str
    new: str
    subjects: list[SubjectChange]

    @property
    def equal(self) -> bool:
        return not self.subjects

    def counts(self) -> dict[str, int]:
        counted = Counter(change.change for change in self.subjects)
        return {kind: counted.get(kind, 0) for kind in ("changed", "added", "removed")}


def _words(counter: Counter[str], words: Words) -> list[str]:
    return sorted(words.texts.get(key, key) for key in counter.elements())


def compare(old: Version, new: Version) -> Diff:
    """The differences from `old` to `new`, per subject and field."""
    changes = []
    for key in sorted(set(old.subjects) | set(new.subjects), key=lambda k: shorten(k) if "://" in k else k):
        before, after = old.subjects.get(key), new.subjects.get(key)
        fields = []
        for name in sorted(set(before.fields if before else {}) | set(after.fields if after else {})):
            was = before.fields.get(name, Counter()) if before else Counter()
            now = after.fields.get(name, Counter()) if after else Counter()
            if was == now:
                continue
            title = new.words.names.get(name) or old.words.names.get(name, name)
            prop = "" if name in (SPAN_FIELD, BLANK_FIELD) else name.partition("@")[0]
            fields.append(FieldChange(title, prop, _words(was - now, old.words), _words(now - was, new.words)))
        fields.sort(key=lambda f: f.field)
        if not fields:
            continue
        kind = "added" if before is None else "removed" if after is None else "changed"
        subject = key[2:] if key.startswith("_:") else shorten(key)
        label = (after.label if after else "") or (before.label if before else "")
        where = new.where.get(key, "") if after is not None else old.where.get(key, "")
        changes.append(SubjectChange(kind, subject, "" if key.startswith("_:") else key, label, where, fields))
    return Diff(old.label, new.label, changes)


# ---------------------------------------------------------------- writing


def summary(diff: Diff) -> str:
    """One line: the two versions and how many subjects differ."""
    if diff.equal:
        return f"{diff.old} → {diff.new}: no differences"
    counts = diff.counts()
    return f"{diff.old} → {diff.new}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())


def format_text(diff: Diff) -> str:
    """Per subject a header (change, name, label, where) and one indented line per field that differs."""
    lines = []
    for change in diff.subjects:
        label = f' "{change.label}"' if change.label and change.change != "changed" else ""
        where = f" ({change.where})" if change.where else ""
        lines.append(f"{change.change} {change.subject}{label}{where}")
        if change.change == "changed":
            lines.extend(f"    {line}" for field in change.fields for line in field.lines())
    lines.append(summary(diff))
    return "\n".join(lines) + "\n"


def format_csv(diff: Diff) -> str:
    """One row per field that differs (an added or removed subject: one row per field it has)."""
    rows = []
    for change in diff.subjects:
        for item in change.fields:
            old = " | ".join(item.removed)
            new = " | ".join(item.added)
            rows.append(
                [change.change, change.subject, change.label, item.field, item.property, old, new, change.where]
            )
    return csv_bytes(CSV_HEADER, rows, protect=False).decode("utf-8")


def as_data(diff: Diff) -> dict:
    """The diff as JSON-ready data."""
    return {
        "from": diff.old,
        "to": diff.new,
        "equal": diff.equal,
        "counts": diff.counts(),
        "subjects": [
            {
                "change": change.change,
                "subject": change.subject,
                "iri": change.iri,
                "label": change.label,
                "where": change.where,
                "fields": [
                    {"field": f.field, "property": f.property, "removed": f.removed, "added": f.added}
                    for f in change.fields
                ],
            }
            for change in diff.subjects
        ],
    }


def format_diff(diff: Diff, fmt: str) -> str:
    """The diff as text, csv or json."""
    if fmt == "csv":
        return format_csv(diff)
    if fmt == "json":
        return json.dumps(as_data(diff), ensure_ascii=False, indent=1) + "\n"
    return format_text(diff)

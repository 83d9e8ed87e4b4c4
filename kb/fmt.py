"""The canonical layout of fact files: one way to write the same triples, comments kept.

Layout: header comments; prefixes sorted, only those used; subjects grouped by kind and sorted; `a`
first, then rdfs:label, then the other predicates in a fixed order; objects sorted on one line; blank
nodes inline as [ … ]; 4-space indent; one blank line between subjects. A comment above a subject or
on a predicate's line is kept above it; a comment anywhere else makes the file refuse to format.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import KbError
from .loader import ParsedFile, parse_turtle
from .namespaces import PREFIXES, RDF_TYPE, RDFS_LABEL

_XSD = PREFIXES["xsd"]
_CQ = PREFIXES["cq"]
# Kinds of subject, in the order they are written; anything else comes last.
_CLASS_ORDER = [
    _CQ + n
    for n in ("Source", "Place", "Agent", "PolicyDocument", "Announcement", "Measure", "Observation", "Discrepancy")
]
_PREDICATE_ORDER = [RDF_TYPE, RDFS_LABEL, PREFIXES["skos"] + "prefLabel"] + [
    _CQ + n
    for n in (
        "category",
        "strength",
        "issuer",
        "announcedAt",
        "appliesTo",
        "targetGroup",
        "parameter",
        "cites",
        "implements",
        "relaxes",
        "tightens",
        "replaces",
        "restates",
        "statistic",
        "area",
        "date",
        "dateKind",
        "announced",
        "announcedKind",
        "inForceFrom",
        "inForceFromKind",
        "inForceUntil",
        "inForceUntilKind",
        "refDate",
        "refDateKind",
        "refPeriod",
        "quantityKind",
        "value",
        "unit",
    )
]
_EVIDENCE_LAST = [PREFIXES["rdfs"] + "comment", _CQ + "source", _CQ + "quote"]
_LOCAL_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
_BARE = {
    _XSD + "integer": re.compile(r"^[+-]?\d+$"),
    _XSD + "decimal": re.compile(r"^[+-]?\d*\.\d+$"),
    _XSD + "boolean": re.compile(r"^(true|false)$"),
}
SLEEP_HOOK = "KB_FMT_SLEEP_BEFORE_REPLACE"  # for the atomicity test: seconds to wait before the rename


class FormatError(KbError):
    """A file that cannot be put in canonical form without losing something."""


@dataclass(frozen=True)
class FormatResult:
    """One file: whether its canonical form differs from what is on disk."""

    name: str
    changed: bool


# ---------------------------------------------------------------- comments


def _comment_starts(text: str) -> dict[int, tuple[int, str]]:
    """Line number → (column, comment text) for every # comment outside IRIs and strings."""
    found: dict[int, tuple[int, str]] = {}
    i, line, col0, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line, col0 = line + 1, i + 1
        elif c == "<":
            end = text.find(">", i)
            i = n if end < 0 else end
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    if len(quote) == 1:
                        break
                    line, col0 = line + 1, j + 1
                j += 1
            i = j + len(quote) - 1
        elif c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            found[line] = (i - col0, text[i:end].rstrip())
            i = end - 1
        i += 1
    return found


@dataclass
class _Comments:
    header: list[str]
    above_subject: dict[str, list[str]]
    above_predicate: dict[tuple[str, str], list[str]]


def _attach_comments(parsed: ParsedFile) -> _Comments:
    comments = _comment_starts(parsed.text)
    lines = parsed.text.splitlines()
    starts = {block.start: subject for subject, block in parsed.blocks.items()}
    first_subject = min(starts, default=len(lines) + 1)
    result = _Comments([], {}, {})
    pending: list[str] = []
    for number in sorted(comments):
        column, comment = comments[number]
        code = lines[number - 1][:column].strip()
        target = number if code else _next_code_line(lines, comments, number)
        before_subjects = number < first_subject and (target is None or target not in starts)
        if before_subjects or code.lower().startswith(("@prefix", "prefix", "@base", "base")):
            result.header.extend(pending + [comment])
            pending = []
            continue
        key = _statement_at(parsed, starts, lines, target)
        if key is None:
            raise FormatError(
                "this comment cannot be kept in canonical form",
                file=parsed.name,
                line=number,
                column=column + 1,
                hint="move it to the file's header, above a subject, or onto a predicate's line; then run kb fmt again",
            )
        pending.append(comment)
        if isinstance(key, str):
            result.above_subject.setdefault(key, []).extend(pending)
        else:
            result.above_predicate.setdefault(key, []).extend(pending)
        pending = []
    return result


def _next_code_line(lines: list[str], comments: dict[int, tuple[int, str]], number: int) -> int | None:
    for following in range(number + 1, len(lines) + 1):
        text = lines[following - 1]
        if following in comments and not text[: comments[following][0]].strip():
            continue
        if text.strip():
            return following
    return None


def _statement_at(parsed: ParsedFile, starts: dict[int, str], lines: list[str], number: int | None):  # type: ignore[no-untyped-def]
    """The subject starting on line `number`, or (subject, predicate) of the predicate beginning it."""
    if number is None:
        return None
    if number in starts:
        return starts[number]
    for subject, block in parsed.blocks.items():
        if block.start < number <= block.end:
            token = lines[number - 1].split(None, 1)[0] if lines[number - 1].strip() else ""
            predicate = RDF_TYPE if token == "a" else _expand(token, parsed.prefixes)
            subject_node = ox.NamedNode(subject)
            if predicate and any(t.subject == subject_node and t.predicate.value == predicate for t in parsed.triples):
                return (subject, predicate)
    return None


def _expand(token: str, prefixes: dict[str, str]) -> str | None:
    if token.startswith("<") and token.endswith(">"):
        return token[1:-1]
    prefix, sep, local = token.partition(":")
    return prefixes[prefix] + local if sep and prefix in prefixes else None


# ---------------------------------------------------------------- writing


class _Writer:
    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self.prefixes = dict(sorted(parsed.prefixes.items()))
        self.used: set[str] = set()
        self.by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
        references: dict[ox.BlankNode, int] = {}
        for triple in parsed.triples:
            if isinstance(triple.subject, ox.Triple):
                raise FormatError("RDF-star triples are not supported", file=parsed.name)
            self.by_subject.setdefault(triple.subject, []).append(triple)
            if isinstance(triple.object, ox.BlankNode):
                references[triple.object] = references.get(triple.object, 0) + 1
        self.inline = {node for node, count in references.items() if count == 1}
        shared = [node for node, count in references.items() if count > 1]
        if shared:
            raise FormatError(
                "a blank node is the object of more than one triple and cannot be written inline",
                file=parsed.name,
                hint="give it an IRI",
            )
        self.active: set[ox.BlankNode] = set()

    def iri(self, value: str) -> str:
        best: str | None = None
        for prefix, ns in self.prefixes.items():
            fits = value.startswith(ns) and _LOCAL_RE.match(value[len(ns) :])
            if fits and (best is None or len(ns) > len(self.prefixes[best])):
                best = prefix
        if best is None:
            return f"<{value}>"
        self.used.add(best)
        return f"{best}:{value[len(self.prefixes[best]) :]}"

    def term(self, term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
        if isinstance(term, ox.Triple):
            raise FormatError("RDF-star triples are not supported", file=self.parsed.name)
        if isinstance(term, ox.NamedNode):
            return "a" if term.value == RDF_TYPE else self.iri(term.value)
        if isinstance(term, ox.BlankNode):
            if term not in self.inline or term in self.active:
                raise FormatError("a blank node refers to itself", file=self.parsed.name, hint="give it an IRI")
            self.active.add(term)
            body = " ; ".join(self.predicates(self.by_subject.get(term, [])))
            self.active.discard(term)
            return f"[ {body} ]" if body else "[]"
        text = term.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        if term.language:
            return f'"{text}"@{term.language}'
        datatype = term.datatype.value
        if datatype == _XSD + "string":
            return f'"{text}"'
        pattern = _BARE.get(datatype)
        if pattern and pattern.match(term.value):
            return term.value
        return f'"{text}"^^{self.iri(datatype)}'

    def predicates(
        self, triples: list[ox.Triple], subject: str | None = None, comments: _Comments | None = None
    ) -> list[str]:
        grouped: dict[str, list[ox.Triple]] = {}
        for triple in triples:
            grouped.setdefault(triple.predicate.value, []).append(triple)
        parts = []
        for predicate in sorted(grouped, key=_predicate_key):
            objects = sorted({self.term(t.object) for t in grouped[predicate]}, key=_object_key)
            name = "a" if predicate == RDF_TYPE else self.iri(predicate)
            text = f"{name} {', '.join(objects)}"
            if comments is not None and subject is not None:
                above = comments.above_predicate.get((subject, predicate), [])
                text = "".join(f"{c}\n    " for c in above) + text
            parts.append(text)
        return parts


def _predicate_key(predicate: str) -> tuple[int, int, str]:
    if predicate in _PREDICATE_ORDER:
        return (0, _PREDICATE_ORDER.index(predicate), "")
    if predicate in _EVIDENCE_LAST:
        return (2, _EVIDENCE_LAST.index(predicate), "")
    return (1, 0, predicate)


def _object_key(text: str) -> tuple[int, str]:
    return (0 if text == "a" else 1 if not text.startswith("[") else 2, text)


def format_text(parsed: ParsedFile) -> str:
    """The canonical form of a parsed file."""
    comments = _attach_comments(parsed)
    writer = _Writer(parsed)
    subjects = [s for s in writer.by_subject if isinstance(s, ox.NamedNode) or s not in writer.inline]
    types = {
        s: {str(getattr(t.object, "value", "")) for t in writer.by_subject[s] if t.predicate.value == RDF_TYPE}
        for s in subjects
    }

    def rank(subject: ox.NamedNode | ox.BlankNode) -> tuple[int, int, str]:
        kinds = [_CLASS_ORDER.index(k) for k in types[subject] if k in _CLASS_ORDER]
        return (
            min(kinds, default=len(_CLASS_ORDER)),
            isinstance(subject, ox.BlankNode),
            writer.term(subject) if isinstance(subject, ox.NamedNode) else "",
        )

    blocks = []
    for subject in sorted(subjects, key=rank):
        lines = list(comments.above_subject.get(subject.value, [])) if isinstance(subject, ox.NamedNode) else []
        parts = writer.predicates(writer.by_subject[subject], subject.value, comments)
        if isinstance(subject, ox.BlankNode):
            lines.append("[")
        else:
            lines.append(writer.term(subject))
        lines.append("    " + " ;\n    ".join(parts) + (" ] ." if isinstance(subject, ox.BlankNode) else " ."))
        blocks.append("\n".join(lines))
    header = "\n".join(comments.header)
    prefix_lines = "\n".join(f"@prefix {p}: <{writer.prefixes[p]}> ." for p in sorted(writer.used))
    out = "\n\n".join([part for part in (header, prefix_lines) if part] + blocks) + "\n"
    kept = _comment_starts(out)
    lost = [c for c in comments.header + _all_attached(comments) if c not in {text for _, text in kept.values()}]
    if lost:
        raise FormatError(f"a comment would be lost: {lost[0]}", file=parsed.name, hint="move it above a subject")
    return out


def _all_attached(comments: _Comments) -> list[str]:
    return [c for group in (*comments.above_subject.values(), *comments.above_predicate.values()) for c in group]


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` by `text` all at once: a temporary file in the same folder, fsync, rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        delay = os.environ.get(SLEEP_HOOK)
        if delay:
            time.sleep(float(delay))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def format_file(path: Path, name: str, check: bool = False) -> FormatResult:
    """Put one file in canonical form (or, with `check`, only say whether it is)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read file: {exc.strerror}", file=name, hint="check the path") from None
    parsed = parse_turtle(data, name)
    text = format_text(parsed)
    changed = text.encode("utf-8") != data
    if changed and not check:
        write_atomic(path, text)
    return FormatResult(name, changed)

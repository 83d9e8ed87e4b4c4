"""The canonical layout of fact files: one way to write the same triples, comments kept.

Layout: header comments; prefixes sorted, only those used; subjects grouped by kind and sorted; `a`
first, then rdfs:label, then the other predicates in a fixed order; objects sorted on one line; blank
nodes inline as [ … ]; 4-space indent; one blank line between subjects. A comment above a subject or
on a predicate's line is kept above it; a comment anywhere else makes the file refuse to format.
A section comment — a comment block followed by a blank line, above a subject — opens a section: the subjects
from there to the next section comment are sorted within it, and the sections keep their order in the file, so
that a section's heading stays above the subjects it describes.

No triple is ever dropped: what cannot be written inline (shared blank nodes, blank-node cycles), RDF-star
and directional literals are refused, and the result is parsed back and compared (isomorphism) before it
is returned.
"""

from __future__ import annotations

import bisect
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..errors import FormatError
from ..fsio import write_atomic
from ..loader import MAX_FILE_BYTES as LOADER_MAX_FILE_BYTES
from ..loader import ParsedFile, parse_turtle
from ..namespaces import PREFIXES, RDF_TYPE, RDFS_LABEL

_XSD = PREFIXES["xsd"]
_CQ = PREFIXES["cq"]
# Kinds of subject, in the order they are written; anything else comes last.
_CLASS_ORDER = [
    _CQ + n
    for n in (
        "Source",
        "Place",
        "Agent",
        "PolicyDocument",
        "Announcement",
        "DocumentPart",
        "Measure",
        "Observation",
        "Discrepancy",
    )
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
        "mentionsPlace",
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
        "valueQualifier",
        "hasPart",
        "number",
        "states",
    )
]
_EVIDENCE_LAST = [PREFIXES["rdfs"] + "comment", _CQ + "source", _CQ + "quote"]
_LOCAL_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
_BARE = {
    _XSD + "integer": re.compile(r"^[+-]?\d+$"),
    _XSD + "decimal": re.compile(r"^[+-]?\d*\.\d+$"),
    _XSD + "boolean": re.compile(r"^(true|false)$"),
}
# The largest file fmt reads; local to fmt (the loader has no limit of its own yet).
MAX_FILE_BYTES = LOADER_MAX_FILE_BYTES  # one limit for every reader of fact files
# Deeper nesting of inline [ … ] (e.g. a long RDF list) is refused: the writer recurses once per level.
MAX_NESTING = 100
_IRIREF = re.compile(r'<[^\x00-\x20<>"{}|^`\\]*>')
_STAR = re.compile(r"<<|\{\||~")


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
    # subject → the section comment above it ("" between two blocks): it opens the section the subject starts
    section: dict[str, list[str]] = field(default_factory=dict)


def _blank_between(lines: list[str], first: int, last: int) -> bool:
    """Whether a blank line lies strictly between line numbers `first` and `last`."""
    return any(not lines[n - 1].strip() for n in range(first + 1, last))


def _attach_comments(parsed: ParsedFile) -> _Comments:
    comments = _comment_starts(parsed.text)
    lines = parsed.text.splitlines()
    starts = {block.start: subject for subject, block in parsed.blocks.items()}
    first_subject = min(starts, default=len(lines) + 1)
    result = _Comments([], {}, {})
    pending: list[str] = []
    last_section_line = 0
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
        if isinstance(key, str) and not code and target is not None and _blank_between(lines, number, target):
            block = result.section.setdefault(key, [])
            if block and _blank_between(lines, last_section_line, number):
                block.append("")
            block.extend(pending)
            last_section_line = number
        elif isinstance(key, str):
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


def _statement_at(parsed: ParsedFile, starts: dict[int, str], lines: list[str], number: int | None):
    """The subject starting on line `number`, or (subject, predicate) of the predicate beginning it."""
    if number is None:
        return None
    if number in starts:
        return starts[number]
    for subject, block in parsed.blocks.items():
        if block.start < number <= block.end:
            token = lines[number - 1].split(None, 1)[0] if lines[number - 1].strip() else ""
            predicate = RDF_TYPE if token == "a" else _expand(token, parsed.prefixes)
            # compare strings: a "subject" found inside a multi-line string may not be a valid IRI
            if predicate and any(
                isinstance(t.subject, ox.NamedNode) and t.subject.value == subject and t.predicate.value == predicate
                for t in parsed.triples
            ):
                return (subject, predicate)
    return None


def _expand(token: str, prefixes: dict[str, str]) -> str | None:
    if token.startswith("<") and token.endswith(">"):
        return token[1:-1]
    prefix, sep, local = token.partition(":")
    return prefixes[prefix] + local if sep and prefix in prefixes else None


def _code_only(text: str) -> str:
    """`text` with strings, IRIs and comments blanked (same length, newlines kept), to find syntax in."""
    out = list(text)
    i, n = 0, len(text)

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "<":
            match = _IRIREF.match(text, i)
            if match:
                blank(i, match.end())
                i = match.end()
                continue
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and len(quote) == 1:
                    break
                j += 1
            blank(i, j + len(quote))
            i = j + len(quote)
            continue
        elif c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
            continue
        i += 1
    return "".join(out)


def _line_of(code: str, pattern: re.Pattern[str] | str) -> int | None:
    """The line of the first match of `pattern` in code-only text, if any."""
    match = re.search(pattern, code)
    return None if match is None else code.count("\n", 0, match.start()) + 1


def _label_pattern(node: ox.BlankNode) -> str:
    return "_:" + re.escape(node.value) + r"(?![\w.-]*[\w-])"


# ---------------------------------------------------------------- writing


class _Writer:
    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self.prefixes = dict(sorted(parsed.prefixes.items()))
        self.used: set[str] = set()
        self.by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
        references: dict[ox.BlankNode, int] = {}
        self._code: str | None = None
        for triple in dict.fromkeys(parsed.triples):  # a triple written twice is one triple
            if isinstance(triple.subject, ox.Triple) or isinstance(triple.object, ox.Triple):
                raise FormatError(
                    "RDF-star (quoted triples, triple terms or reifiers) cannot be formatted",
                    file=parsed.name,
                    line=_line_of(self.code(), _STAR),
                    hint="state the fact with ordinary triples (a subject with properties); the knowledge base "
                    "has no RDF-star",
                )
            if isinstance(triple.object, ox.Literal) and triple.object.direction:
                raise FormatError(
                    f"a literal with a base direction (@{triple.object.language}--{triple.object.direction}) "
                    "cannot be formatted",
                    file=parsed.name,
                    line=_line_of(self.code(), r"@[A-Za-z0-9-]*--"),
                    hint="use a plain language tag (remove --ltr / --rtl)",
                )
            self.by_subject.setdefault(triple.subject, []).append(triple)
            if isinstance(triple.object, ox.BlankNode):
                references[triple.object] = references.get(triple.object, 0) + 1
        shared = [node for node, count in references.items() if count > 1]
        if shared:
            node = shared[0]
            raise FormatError(
                f"blank node {self.label(node)} is the object of {references[node]} triples; kb fmt writes blank "
                "nodes inline as [ … ], once, so it cannot be written without losing triples",
                file=parsed.name,
                line=self.line(node),
                hint=f"give the node an IRI (write a prefixed name or <…> instead of {self.label(node)}), "
                "then run kb fmt again",
            )
        self.inline = set(references)
        looped = self.unreachable(references)
        if looped:
            node = min(looped, key=lambda b: (self.line(b) or 0, b.value))
            names = ", ".join(sorted({self.label(b) for b in looped}))
            raise FormatError(
                f"blank nodes in a cycle ({names}): none of them hangs off a subject with an IRI, so written "
                "inline as [ … ] they would be lost",
                file=parsed.name,
                line=self.line(node),
                hint=f"give the node {self.label(node)} an IRI (a prefixed name or <…>), then run kb fmt again",
            )
        self.active: set[ox.BlankNode] = set()

    def code(self) -> str:
        if self._code is None:
            self._code = _code_only(self.parsed.text)
        return self._code

    def line(self, node: ox.BlankNode) -> int | None:
        return _line_of(self.code(), _label_pattern(node))

    def label(self, node: ox.BlankNode) -> str:
        return f"_:{node.value}" if self.line(node) else "a blank node"

    def unreachable(self, references: dict[ox.BlankNode, int]) -> set[ox.BlankNode]:
        """Blank nodes not reachable from a subject with an IRI or a top-level [ … ]: they form cycles."""
        seen: set[ox.BlankNode] = set()
        level = [s for s in self.by_subject if isinstance(s, ox.NamedNode) or s not in references]
        for depth in range(len(references) + 1):
            if not level:
                break
            if depth > MAX_NESTING:
                raise FormatError(
                    f"blank nodes are nested more than {MAX_NESTING} levels deep (a long RDF list?)",
                    file=self.parsed.name,
                    hint="kb fmt writes blank nodes and lists inline as nested [ … ]: give some of the nodes IRIs, "
                    "or split the list",
                )
            following: list[ox.NamedNode | ox.BlankNode] = []
            for subject in level:
                for triple in self.by_subject.get(subject, []):
                    if isinstance(triple.object, ox.BlankNode) and triple.object not in seen:
                        seen.add(triple.object)
                        following.append(triple.object)
            level = following
        return set(references) - seen

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
            return self.iri(term.value)  # `a` only stands for rdf:type as a predicate
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
            # a list, not a set: two blank nodes with the same properties are still two nodes
            objects = sorted((self.term(t.object) for t in grouped[predicate]), key=_object_key)
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
    return (2 if text.startswith("[") else 1, text)


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
    for section, members in _sections(parsed, comments, subjects):
        if section:
            blocks.append("\n".join(section))
        for subject in sorted(members, key=rank):
            blocks.append(_subject_block(writer, comments, subject))
    header = "\n".join(comments.header)

    prefix_lines = "\n".join(f"@prefix {p}: <{writer.prefixes[p]}> ." for p in sorted(writer.used))
    out = "\n\n".join([part for part in (header, prefix_lines) if part] + blocks) + "\n"
    kept = _comment_starts(out)
    lost = [c for c in comments.header + _all_attached(comments) if c not in {text for _, text in kept.values()}]
    if lost:
        raise FormatError(f"a comment would be lost: {lost[0]}", file=parsed.name, hint="move it above a subject")
    _check_same_graph(parsed, out)
    return out


def _sections(
    parsed: ParsedFile, comments: _Comments, subjects: list[ox.NamedNode | ox.BlankNode]
) -> list[tuple[list[str], list[ox.NamedNode | ox.BlankNode]]]:
    """The subjects by section, in the file's order of sections: (section comment, members); the first section,
    before any section comment, has none. A subject belongs to the last section opened at or above its line."""
    opened = sorted((parsed.blocks[s].start, s) for s in comments.section if s in parsed.blocks)
    sections: list[tuple[list[str], list[ox.NamedNode | ox.BlankNode]]] = [([], [])]
    sections += [(comments.section[s], []) for _, s in opened]
    starts = [line for line, _ in opened]
    for subject in subjects:
        block = parsed.blocks.get(subject.value) if isinstance(subject, ox.NamedNode) else None
        sections[bisect.bisect_right(starts, block.start) if block else 0][1].append(subject)
    return [section for section in sections if section[0] or section[1]]


def _subject_block(writer: _Writer, comments: _Comments, subject: ox.NamedNode | ox.BlankNode) -> str:
    lines = list(comments.above_subject.get(subject.value, [])) if isinstance(subject, ox.NamedNode) else []
    parts = writer.predicates(writer.by_subject[subject], subject.value, comments)
    if isinstance(subject, ox.BlankNode):
        lines.append("[")
    else:
        lines.append(writer.term(subject))
    lines.append("    " + " ;\n    ".join(parts) + (" ] ." if isinstance(subject, ox.BlankNode) else " ."))
    return "\n".join(lines)


def _check_same_graph(parsed: ParsedFile, out: str) -> None:
    """The safety net: the canonical text must parse back to a graph isomorphic to the file's."""
    hint = "nothing was written; this is a kb fmt bug: please report it with the file"
    try:
        after = list(ox.parse(out.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:
        raise FormatError(f"the canonical form would not parse back: {exc}", file=parsed.name, hint=hint) from None
    if not isomorphic_triples(parsed.triples, after):
        raise FormatError("the canonical form would not hold the same triples as the file", file=parsed.name, hint=hint)


def isomorphic_triples(before: list[ox.Triple], after: list[ox.Triple]) -> bool:
    """Whether two graphs are the same up to blank-node names, when both are forests of blank nodes.

    kb fmt only writes blank nodes that hang, each once and without cycles, off a subject with an IRI or a
    top-level [ … ]; such graphs are compared exactly by a canonical form of each blank-node tree (linear,
    unlike a general isomorphism test). A graph that is not such a forest is reported as not isomorphic.
    """
    shapes: dict[tuple[tuple[str, _Key], ...], int] = {}
    one, two = _forest_signature(before, shapes), _forest_signature(after, shapes)
    return one is not None and one == two


_Key = tuple[int, str | int]  # a term's N-Triples form, or a blank-node tree's shape number


def _forest_signature(
    triples: list[ox.Triple], shapes: dict[tuple[tuple[str, _Key], ...], int]
) -> dict[tuple[str, str, _Key], int] | None:
    """Each triple of a named subject with its object's canonical form, and each top-level tree's shape."""
    edges: dict[object, set[tuple[ox.NamedNode, object]]] = {}
    parents: dict[ox.BlankNode, int] = {}
    for t in triples:
        edges.setdefault(t.subject, set()).add((t.predicate, t.object))
    for pairs in edges.values():
        for _, obj in pairs:
            if isinstance(obj, ox.BlankNode):
                parents[obj] = parents.get(obj, 0) + 1
    if any(count > 1 for count in parents.values()):
        return None
    roots = [s for s in edges if isinstance(s, ox.BlankNode) and s not in parents]
    order: list[object] = []  # breadth first, so every node comes before its children
    level = roots + [o for s in edges if not isinstance(s, ox.BlankNode) for _, o in edges[s] if _blank(o)]
    while level:
        order.extend(level)
        level = [o for node in level for _, o in edges.get(node, ()) if _blank(o)]
    if len(order) != len(roots) + len(parents):
        return None  # a cycle: some blank node hangs off no root
    shape: dict[object, int] = {}

    def key(obj: object) -> _Key:
        return (1, shape[obj]) if isinstance(obj, ox.BlankNode) else (0, str(obj))

    for node in reversed(order):
        form = tuple(sorted((p.value, key(o)) for p, o in edges.get(node, ())))
        shape[node] = shapes.setdefault(form, len(shapes))
    signature: dict[tuple[str, str, _Key], int] = {}
    for subject, pairs in edges.items():
        entries: list[tuple[str, str, _Key]]
        if isinstance(subject, ox.BlankNode):
            if subject in parents:
                continue
            entries = [("", "", (1, shape[subject]))]
        else:
            entries = [(str(subject), p.value, key(o)) for p, o in pairs]
        for entry in entries:
            signature[entry] = signature.get(entry, 0) + 1
    return signature


def _blank(term: object) -> bool:
    return isinstance(term, ox.BlankNode)


def _all_attached(comments: _Comments) -> list[str]:
    groups = (*comments.section.values(), *comments.above_subject.values(), *comments.above_predicate.values())
    return [c for group in groups for c in group if c]


def _size(count: int) -> str:
    return f"{count // 2**20} MB" if count % 2**20 == 0 else f"{count:,} bytes"


def _check_kind(mode: int, size: int, name: str) -> None:
    if stat.S_ISDIR(mode):
        raise FormatError("is a folder, not a file", file=name, hint="name the .ttl files inside it")
    if not stat.S_ISREG(mode):
        raise FormatError(
            "is not a regular file (a device, FIFO or socket)", file=name, hint="kb fmt only rewrites ordinary files"
        )
    if size > MAX_FILE_BYTES:
        raise FormatError(
            f"file is larger than kb fmt's limit of {_size(MAX_FILE_BYTES)}",
            file=name,
            hint="split it into several files",
        )


def read_regular(path: Path, name: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; folders, devices and FIFOs are refused unopened."""
    try:
        info = os.stat(path)
        _check_kind(info.st_mode, info.st_size, name)
        # O_NONBLOCK: should a FIFO be swapped in after the stat, opening it must not hang
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FormatError("file not found", file=name, hint="check the path") from None
    except OSError as exc:
        raise FormatError(f"cannot read file: {exc.strerror}", file=name, hint="check the path") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        _check_kind(info.st_mode, info.st_size, name)
        data = handle.read(MAX_FILE_BYTES + 1)
    _check_kind(stat.S_IFREG, len(data), name)
    return data


def format_file(path: Path, name: str, check: bool = False) -> FormatResult:
    """Put one file in canonical form (or, with `check`, only say whether it is)."""
    data = read_regular(path, name)
    parsed = parse_turtle(data, name, scope_blank_labels=False)
    text = format_text(parsed)
    changed = text.encode("utf-8") != data
    if changed and not check:
        write_atomic(Path(os.path.realpath(path)), text)  # through a symlink: rewrite its target, keep the link
    return FormatResult(name, changed)

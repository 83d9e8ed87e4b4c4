"""The one loader: every Turtle file is read here, keeping which file and line each subject came from.

Every input file is checked before it is read: a regular file (not a folder, device, FIFO or socket),
at most MAX_FILE_BYTES long, with a printable name. RDF-star (quoted triples) is refused.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urljoin

import pyoxigraph as ox

from .errors import LoadError
from .namespaces import GRAPH_BASE, RDF_TYPE

# The largest input file read (fact, ontology or source text). The biggest shipped file is 0.1 MB and a
# generated 1000-measure file 0.9 MB; validating an 8 MB file takes about 0.6 GB and 80 s.
MAX_FILE_BYTES = 8 * 1024 * 1024

_NAME_RE = re.compile(r"<[^>\s]*>|(?<![\w\"'])([A-Za-z][\w.-]*)?:((?:[\w-]|\\.|\.(?=[\w-]))*)")


def printable(text: str) -> str:
    """`text` with control, format and unassigned characters escaped, so that it prints on one line as it is."""
    out = []
    for char in text:
        if unicodedata.category(char)[0] != "C":
            out.append(char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
    return "".join(out)


def check_name(name: str) -> None:
    """Refuse a file name that would not print as itself: line breaks, control or invisible characters."""
    if printable(name) != name:
        raise LoadError(
            "the file name contains a line break, control or invisible character (shown escaped)",
            file=printable(name),
            hint="rename the file: letters, digits, spaces, '-', '_' and '.' are safe",
        )


def read_input(path: Path, name: str | None = None) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; anything else is a LoadError, nothing read."""
    label = name or str(path)
    check_name(label)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise LoadError("file not found", file=label, hint="check the path") from None
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", file=label) from None
    _check_kind(info, label)
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the check, opening it does not hang
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", file=label) from None
    with os.fdopen(fd, "rb") as handle:
        _check_kind(os.fstat(handle.fileno()), label)
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise LoadError(f"cannot read file: {exc.strerror}", file=label) from None
    if len(data) > MAX_FILE_BYTES:
        _too_large(label)
    return data


def check_inside(path: Path, root: Path, name: str | None = None) -> None:
    """Refuse a file that sits in the folder `root` but is a link leading out of it (nothing of it is read)."""
    try:
        real_root = root.resolve()
        if path.resolve().is_relative_to(real_root):
            return
        lexical = Path(os.path.abspath(path))
        sits_inside = (
            lexical.is_relative_to(Path(os.path.abspath(root)))
            or lexical.is_relative_to(real_root)
            or lexical.parent.resolve().is_relative_to(real_root)
        )
    except (OSError, RuntimeError):  # a loop of links
        sits_inside = True
    if sits_inside:
        raise LoadError(
            "is a symbolic link leading outside the knowledge base folder: it was not read",
            file=printable(name or str(path)),
            hint="put the file itself in the folder instead of a link to it",
        )


def _check_kind(info: os.stat_result, label: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise LoadError("is a folder, not a file", file=label, hint="name the .ttl files inside it")
    if not stat.S_ISREG(info.st_mode):
        raise LoadError(
            "is not a regular file (a device, FIFO or socket): it was not read",
            file=label,
            hint="name a Turtle file saved on disk",
        )
    if info.st_size > MAX_FILE_BYTES:
        _too_large(label)


def _too_large(label: str) -> None:
    raise LoadError(
        f"file is larger than the limit of {MAX_FILE_BYTES // (1024 * 1024)} MB per file: it was not read",
        file=label,
        hint="split it into several files (one per article is the project's layout)",
    )


@dataclass
class Block:
    """The lines a subject's statements occupy in its file."""

    start: int
    end: int


@dataclass
class ParsedFile:
    """One Turtle file: its triples and where each subject and property stands in it."""

    path: Path
    name: str
    graph: str
    text: str
    triples: list[ox.Triple]
    prefixes: dict[str, str]
    blocks: dict[str, Block] = field(default_factory=dict)
    # (subject, predicate) → line of the predicate, for the subjects' own statements
    predicate_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    # blank node label (as in _:label) → line where it starts a statement
    blank_lines: dict[str, int] = field(default_factory=dict)
    exact: bool = True
    # added to the labels of the file's _:label blank nodes, so that two files' _:x never become one node
    blank_suffix: str = ""
    # the text split into lines, once: line_of looks a property up in it for each finding it places
    _lines: list[str] | None = field(default=None, repr=False, compare=False)

    def lines(self) -> list[str]:
        """The file's lines (split on the first call; the text of a parsed file does not change)."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def rescan(self) -> bool:
        """Place the subjects with the exact scan when the fast one was used; False when it already was exact."""
        if self.exact:
            return False
        layout = scan(self.text)
        self.prefixes, self.blocks = layout.prefixes, layout.blocks
        self.predicate_lines, self.blank_lines, self.exact = layout.predicate_lines, layout.blank_lines, True
        return True

    def line_of(self, subject: str, predicate: str | None = None) -> int | None:
        """The line of the subject, or of one of its properties where that can be found."""
        if subject.startswith("_:"):
            label = subject[2:]
            if self.blank_suffix and label.endswith(self.blank_suffix):
                label = label[: -len(self.blank_suffix)]
            return self.blank_lines.get(label)
        block = self.blocks.get(subject)
        if block is None:
            return None
        if predicate:
            line = self.predicate_lines.get((subject, predicate))
            if line is not None:
                return line
            lines = self.lines()
            for number in range(block.start, min(block.end, len(lines)) + 1):
                if predicate in _names_on(lines[number - 1], self.prefixes):
                    return number
        return block.start


def _resolve(token: str, prefixes: dict[str, str]) -> str | None:
    if token.startswith("<"):
        return token[1:-1]
    if token == "a":
        return RDF_TYPE
    prefix, _, local = token.partition(":")
    base = prefixes.get(prefix)
    return None if base is None else base + local.replace("\\", "")


def _names_on(line: str, prefixes: dict[str, str]) -> set[str]:
    names = {RDF_TYPE} if re.match(r"^\s*a\s", line) else set()
    code = line.split(" #", 1)[0]
    for match in _NAME_RE.finditer(code):
        iri = _resolve(match.group(0), prefixes)
        if iri:
            names.add(iri)
    return names


# ---------------------------------------------------------------- locating subjects

# Turtle tokens, enough to find where statements start: the text has already been parsed, so it is valid.
_NAME_CHARS = r"[^\s<>\"'{}|^`\\\[\]();,#.]"
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|\\.))*\"\"\"
              | '''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              | "(?:[^"\\\n\r]|\\.)*"
              | '(?:[^'\\\n\r]|\\.)*')
  | (?P<star><<\(?|\)?>>|\{\||\|\})
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<directive>@prefix\b|@base\b|@version\b|(?i:prefix|base|version)(?=[\s<"']))
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<datatype>\^\^)
  | (?P<punct>[\[\]();,])
  | (?P<name>(?:NAME|\\.|\.(?=NAME|\\))+)
  | (?P<dot>\.)
  | (?P<other>.)
    """.replace("NAME", _NAME_CHARS),
    re.VERBOSE | re.DOTALL,
)
_UCHAR_RE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass
class Layout:
    """Where a Turtle text's statements, subjects and their predicates are."""

    prefixes: dict[str, str]
    blocks: dict[str, Block]
    predicate_lines: dict[tuple[str, str], int]
    blank_lines: dict[str, int]
    star_line: int | None
    exact: bool = True  # from `scan`, not the fast line scan


def _iri(token: str, base: str | None) -> str:
    value = _UCHAR_RE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), token[1:-1])
    return urljoin(base, value) if base else value


def _term(token: str, kind: str, prefixes: dict[str, str], base: str | None) -> str | None:
    """The IRI (or `_:label`) a subject or predicate token stands for."""
    if kind == "iri":
        return _iri(token, base)
    if token == "a":
        return RDF_TYPE
    if token.startswith("_:"):
        return token
    prefix, colon, local = token.partition(":")
    if not colon or prefix not in prefixes:
        return None
    return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)


def scan(text: str) -> Layout:
    """Tokenise a (valid) Turtle text: its prefixes, where each statement starts and each predicate stands."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    prefixes: dict[str, str] = {}
    base: str | None = None
    starts: list[tuple[int, str | None]] = []
    predicate_lines: dict[tuple[str, str], int] = {}
    star_line = None
    depth = 0
    expect_subject = True
    subject: str | None = None
    want_predicate = False
    directive: list[str] = []  # the directive being read and its arguments
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        token = match.group()
        line = bisect.bisect_right(line_starts, match.start())
        if directive:
            directive.append(token)
            if kind == "string":
                directive = []
            elif kind == "iri":
                iri = _iri(token, base)
                if directive[0].lower().endswith("base"):
                    base = iri
                elif len(directive) == 3:
                    prefixes[directive[1][:-1]] = iri
                directive = []
            continue
        if kind == "directive":
            directive = [token]
            continue
        if kind == "star" or (kind == "name" and token.startswith("~")):
            star_line = star_line or line
        if depth == 0 and expect_subject and kind not in ("dot",):
            expect_subject = False
            if kind in ("iri", "name"):
                subject = _term(token, kind, prefixes, base)
                starts.append((line, subject))
                want_predicate = subject is not None
                continue
            starts.append((line, None))
            subject = None
        if token in ("[", "(", "<<", "<<(", "{|"):
            depth += 1
        elif token in ("]", ")", ">>", ")>>", "|}"):
            depth -= 1
        elif depth == 0 and kind == "dot":
            expect_subject, subject, want_predicate = True, None, False
        elif depth == 0 and token == ";":
            want_predicate = subject is not None
        elif depth == 0 and want_predicate and kind in ("iri", "name"):
            want_predicate = False
            predicate = _term(token, kind, prefixes, base)
            if subject is not None and predicate is not None:
                predicate_lines.setdefault((subject, predicate), line)
    blank_lines: dict[str, int] = {}
    for number, key in starts:
        if key is not None and key.startswith("_:"):
            blank_lines.setdefault(key[2:], number)
    blocks = _blocks(starts, len(text.splitlines()))
    return Layout(prefixes, blocks, predicate_lines, blank_lines, star_line)


_PREFIX_RE = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)


def _scan_lines(text: str) -> tuple[dict[str, str], list[tuple[int, str]], bool]:
    """The fast scan of the project's layout (one subject per statement, at column 0).

    Also says whether the text has what it may misplace: an @base, a blank node starting a statement, an
    indented statement after one that ended with ".", a statement after " . " on the same line, or a long
    string (whose lines may look like statements).
    """
    prefixes: dict[str, str] = {}
    starts: list[tuple[int, str]] = []
    ended = False  # the last line ended with "." (comments included: that only costs the exact scan)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line:
            continue
        if " . " in line or '"""' in line or "'''" in line:  # long strings can hold lines that look like code
            return prefixes, starts, True
        first = line[0]
        if first in " \t":
            if ended and line.strip() and not line.lstrip().startswith("#"):
                return prefixes, starts, True
            ended = line.rstrip().endswith(".")
            continue
        ended = line.rstrip().endswith(".")
        match = _PREFIX_RE.match(line)
        if match:
            prefixes[match.group(1) or ""] = match.group(2)
            continue
        if first in "[(" or line.startswith(("@base", "_:")) or line[:4].upper() == "BASE":
            return prefixes, starts, True
        if first in "#@]).;,\"'" or line[:6].upper() == "PREFIX":
            continue
        token = line.split(None, 1)[0]
        if token.startswith("<"):
            token = token[: token.find(">") + 1] if ">" in token else token
        iri = _resolve(token, prefixes)
        if iri:
            starts.append((number, iri))
    return prefixes, starts, False


def _blocks(starts: list[tuple[int, str | None]], total: int) -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    for index, (number, key) in enumerate(starts):
        if key is None or key.startswith("_:"):
            continue
        end = starts[index + 1][0] - 1 if index + 1 < len(starts) else total
        blocks.setdefault(key, Block(number, max(end, number)))
    return blocks


def layout_of(text: str) -> Layout:
    """Where the statements of a Turtle text stand: the fast line scan for the project's layout, else `scan`."""
    prefixes, starts, unusual = _scan_lines(text)
    if unusual:
        return scan(text)
    return Layout(prefixes, _blocks(list(starts), len(text.splitlines())), {}, {}, None, exact=False)


def scan_layout(text: str) -> tuple[dict[str, str], dict[str, Block]]:
    """Prefixes and subject blocks of a Turtle text."""
    layout = scan(text)
    return layout.prefixes, layout.blocks


def graph_iri(name: str) -> str:
    """The named graph a file's triples go into: one per file, named after its path (percent-encoded where needed)."""
    stem = name[:-4] if name.endswith(".ttl") else name
    safe = "".join(c if c.isalnum() or c in "-._~/:@!$&'()*+,;=" else quote(c, safe="") for c in stem.lstrip("/"))
    return GRAPH_BASE + safe


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LoadError(
            "file is not UTF-8 text",
            file=name,
            line=line,
            column=column,
            hint="save the file as UTF-8 (Turtle files must be UTF-8)",
        ) from None


def parse_turtle(data: bytes, name: str, scope_blank_labels: bool = True) -> ParsedFile:
    """Parse Turtle bytes; `name` is how messages refer to the file. `scope_blank_labels=False` keeps _:labels as
    written (kb fmt names them in its messages); everything that merges files keeps the default."""
    check_name(name)
    if len(data) > MAX_FILE_BYTES:
        _too_large(name)
    text = _decode(data, name)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise LoadError("file is empty", file=name, line=1, hint="add triples to it, or delete it")
    try:
        triples = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:
        message = str(exc.msg if hasattr(exc, "msg") else exc)
        message = re.sub(r"^Parser error at line \d+ between columns \d+ and \d+: ", "", message)
        message = re.sub(r"^Parser error at line \d+ column \d+: ", "", message)
        hint = "check the Turtle syntax at that place (a missing '.', ';' or quote is the usual cause)"
        if "prefix" in message.lower() and "declared" in message.lower():
            hint = "declare the prefix at the top of the file: @prefix name: <iri> ."
        elif "absolute IRI" in message:
            hint = "write full IRIs or prefixed names (measure:…); relative IRIs need an @base, which facts do not use"
        raise LoadError(
            f"Turtle syntax error: {printable(message)}",
            file=name,
            line=exc.lineno or None,
            column=exc.offset or None,
            hint=hint,
        ) from None
    if not triples:
        raise LoadError("file has no triples", file=name, line=1, hint="add triples to it, or delete it")
    # RDF 1.2 (RDF-star) puts a triple term in an object, whichever syntax wrote it; each syntax has << {| or ~
    star_syntax = "<<" in text or "{|" in text or "~" in text
    if star_syntax and any(isinstance(t.object, ox.Triple) for t in triples):
        raise LoadError(
            "RDF-star (quoted triples << … >>, annotations {| … |} or reifiers ~) is not supported",
            file=name,
            line=scan(text).star_line,
            hint="state the triple itself, or describe it with a node of its own (a cq:Discrepancy, a cq:Parameter)",
        )
    layout = layout_of(text)
    triples, suffix = _scope_blank_labels(triples, text, name) if scope_blank_labels else (triples, "")
    return ParsedFile(
        Path(name),
        name,
        graph_iri(name),
        text,
        triples,
        layout.prefixes,
        layout.blocks,
        layout.predicate_lines,
        layout.blank_lines,
        layout.exact,
        suffix,
    )


def _scope_blank_labels(triples: list[ox.Triple], text: str, name: str) -> tuple[list[ox.Triple], str]:
    """Blank nodes written as _:label keep their label in a parse, so two files using _:x would share one node in
    the store; RDF scopes a label to its document. Each such label gets a suffix made from the file's name."""
    if "_:" not in text:
        return triples, ""
    suffix = "_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    renamed: dict[ox.BlankNode, ox.BlankNode] = {}

    def scoped(term: Any) -> Any:
        if not isinstance(term, ox.BlankNode):
            return term
        if term not in renamed:
            labelled = f"_:{term.value}" in text
            renamed[term] = ox.BlankNode(term.value + suffix) if labelled else term
        return renamed[term]

    return [ox.Triple(scoped(t.subject), t.predicate, scoped(t.object)) for t in triples], suffix


def load_file(path: Path, name: str | None = None, root: Path | None = None) -> ParsedFile:
    """Read and parse one Turtle file (with `root`: refused when it is a link leading out of that folder)."""
    label = name or str(path)
    if root is not None:
        check_inside(path, root, label)
    parsed = parse_turtle(read_input(path, label), label)
    parsed.path = path
    return parsed


@dataclass
class Dataset:
    """Parsed files, each its own named graph, with subject locations for messages."""

    files: list[ParsedFile]

    def quads(self) -> Iterator[ox.Quad]:
        for parsed in self.files:
            graph = ox.NamedNode(parsed.graph)
            for triple in parsed.triples:
                yield ox.Quad(triple.subject, triple.predicate, triple.object, graph)

    def to_store(self) -> ox.Store:
        """An in-memory oxigraph store with one named graph per file."""
        store = ox.Store()
        store.extend(self.quads())
        return store

    def to_ntriples(self) -> bytes:
        """All triples as N-Triples (the union of the files), for rdflib and pyshacl."""
        return ox.serialize((t for parsed in self.files for t in parsed.triples), format=ox.RdfFormat.N_TRIPLES) or b""


# What sends a file to the full parse instead of the store's own: a _:label (the parse scopes it with the file's
# suffix, which places findings on it; the store's loader would give it a random id) and the RDF-star syntaxes.
_FULL_PARSE_MARKS = ("_:", "<<", "{|", "~")


def load_into(store: ox.Store, path: Path, name: str, root: Path | None = None) -> tuple[bytes, dict[str, Block]]:
    """Load one Turtle file into `store` as its own named graph, refusing what `load_file` refuses; its bytes (for
    the digest) and its subject blocks.

    The store parses the file itself (`bulk_load`, no triple becomes a Python object); the blocks come from the
    line scan. A file the store's parser cannot take is parsed again by `parse_turtle` only to report its error at
    its line; a file with blank-node labels or RDF-star syntax is parsed by `parse_turtle` and its triples loaded
    from Python, as they always were.
    """
    if root is not None:
        check_inside(path, root, name)
    data = read_input(path, name)
    text = _decode(data, name)
    body = data[3:] if text.startswith("\ufeff") else data
    text = text.removeprefix("\ufeff")
    layout = layout_of(text) if text.strip() and not any(mark in text for mark in _FULL_PARSE_MARKS) else None
    if layout is None or not layout.blocks:  # empty, no statement found, or what only the full parse handles
        parsed = parse_turtle(data, name)
        store.bulk_extend(Dataset([parsed]).quads())
        return data, parsed.blocks
    try:
        store.bulk_load(input=body, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph_iri(name)))
    except SyntaxError as exc:
        parse_turtle(data, name)  # raises the LoadError with the file's line
        raise LoadError(f"Turtle syntax error: {printable(str(exc))}", file=name) from None
    return data, layout.blocks


def load_dataset(paths: Iterable[tuple[Path, str]], root: Path | None = None) -> Dataset:
    """Load (path, display name) pairs into one dataset; the first bad file stops the load."""
    return Dataset([load_file(path, name, root) for path, name in paths])


def open_table(path: Path, name: str | None = None) -> TextIO:
    """A regular file opened as UTF-8 text (a byte-order mark dropped), after the same checks as read_input but of
    any size: for a tracker's CSV file, which its reader streams row by row instead of holding it whole."""
    label = name or str(path)
    check_name(label)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise LoadError("file not found", file=label, hint="check the path") from None
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", file=label) from None
    if not stat.S_ISREG(info.st_mode):
        _check_kind(info, label)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", file=label) from None
    handle = os.fdopen(fd, "r", encoding="utf-8-sig", errors="strict", newline="")
    opened = os.fstat(handle.fileno())
    if not stat.S_ISREG(opened.st_mode):
        handle.close()
        _check_kind(opened, label)
    return handle

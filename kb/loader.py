"""The one loader: every Turtle file is read here, keeping which file and line each subject came from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import LoadError
from .namespaces import GRAPH_BASE, RDF_TYPE

_PREFIX_RE = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_NAME_RE = re.compile(r"<[^>\s]*>|(?<![\w\"'])([A-Za-z][\w.-]*)?:((?:[\w-]|\\.|\.(?=[\w-]))*)")


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

    def line_of(self, subject: str, predicate: str | None = None) -> int | None:
        """The line of the subject, or of one of its properties where that can be found."""
        block = self.blocks.get(subject)
        if block is None:
            return None
        if predicate:
            lines = self.text.splitlines()
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


def scan_layout(text: str) -> tuple[dict[str, str], dict[str, Block]]:
    """Prefixes and subject blocks of a Turtle text in the project's layout (subjects at column 0)."""
    prefixes: dict[str, str] = {}
    starts: list[tuple[int, str]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        match = _PREFIX_RE.match(line)
        if match:
            prefixes[match.group(1) or ""] = match.group(2)
            continue
        if not line or line[0] in " \t#@[]().;,\"'" or line.upper().startswith(("PREFIX", "BASE")):
            continue
        token = line.split(None, 1)[0]
        if token.startswith("<"):
            token = token[: token.find(">") + 1] if ">" in token else token
        iri = _resolve(token, prefixes)
        if iri:
            starts.append((number, iri))
    blocks: dict[str, Block] = {}
    for index, (number, iri) in enumerate(starts):
        end = starts[index + 1][0] - 1 if index + 1 < len(starts) else len(lines)
        blocks.setdefault(iri, Block(number, end))
    return prefixes, blocks


def graph_iri(name: str) -> str:
    """The named graph a file's triples go into: one per file, named after its path."""
    stem = name[:-4] if name.endswith(".ttl") else name
    return GRAPH_BASE + stem.lstrip("/")


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


def parse_turtle(data: bytes, name: str) -> ParsedFile:
    """Parse Turtle bytes; `name` is how messages refer to the file."""
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
        raise LoadError(
            f"Turtle syntax error: {message}",
            file=name,
            line=exc.lineno or None,
            column=exc.offset or None,
            hint=hint,
        ) from None
    if not triples:
        raise LoadError("file has no triples", file=name, line=1, hint="add triples to it, or delete it")
    prefixes, blocks = scan_layout(text)
    return ParsedFile(Path(name), name, graph_iri(name), text, triples, prefixes, blocks)


def load_file(path: Path, name: str | None = None) -> ParsedFile:
    """Read and parse one Turtle file."""
    label = name or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError("file not found", file=label, hint="check the path") from None
    except IsADirectoryError:
        raise LoadError("is a folder, not a file", file=label, hint="name the .ttl files inside it") from None
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", file=label) from None
    parsed = parse_turtle(data, label)
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

    def triple_count(self) -> int:
        return sum(len(parsed.triples) for parsed in self.files)

    def locate(self, subject: str, predicate: str | None = None) -> tuple[str, int] | None:
        """(file, line) of a subject (and of its property where it can be found)."""
        for parsed in self.files:
            line = parsed.line_of(subject, predicate)
            if line is not None:
                return parsed.name, line
        return None

    def to_store(self) -> ox.Store:
        """An in-memory oxigraph store with one named graph per file."""
        store = ox.Store()
        store.extend(self.quads())
        return store

    def to_ntriples(self) -> bytes:
        """All triples as N-Triples (the union of the files), for rdflib and pyshacl."""
        return ox.serialize((t for parsed in self.files for t in parsed.triples), format=ox.RdfFormat.N_TRIPLES) or b""


def load_dataset(paths: Iterable[tuple[Path, str]]) -> Dataset:
    """Load (path, display name) pairs into one dataset; the first bad file stops the load."""
    return Dataset([load_file(path, name) for path, name in paths])

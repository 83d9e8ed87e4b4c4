"""Dereferenceable IRIs: what `GET /id/<kind>/<slug>` answers, as an HTML page, Turtle or JSON-LD.

As the W3C note "Cool URIs for the Semantic Web" describes for slash URIs ("303 URIs forwarding to different
documents"): the IRI of a thing answers 303 See Other, chosen by the Accept header, to one of its documents —
`<iri>.html` for browsers, `<iri>.ttl`, `<iri>.jsonld` — and each document answers 200. `kb site` writes the same
documents as static files (kb/release/site.py calls this module), so a static host behind the w3id redirect
serves the same pages.

A thing's description is its concise bounded description: its own statements and, through blank nodes, theirs.
The page adds the labels of what it links to, the things that link to it, a measure's status by day, and each
quote in its sentence from the source text. Pages share the timeline's look: the template includes
kb/timeline/templates/timeline.css (a file read by the template loader, not an import of kb.timeline).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..evidence import SourceTexts, quote_context
from ..namespaces import BASE_ID, CQ, GRAPH_BASE, PREFIXES, RDF_TYPE, RDFS_LABEL, shorten
from ..store import open_snapshot, store_generation
from .config import ServeConfig
from .negotiate import accepted_types

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TIMELINE_TEMPLATES = Path(__file__).resolve().parent.parent / "timeline" / "templates"  # its CSS, shared
PREFIX = "/id/"
DOCUMENTS = {
    ".html": "text/html; charset=utf-8",
    ".ttl": "text/turtle; charset=utf-8",
    ".jsonld": "application/ld+json",
}
# Media type a client asks for → the document that answers it; browsers' */* gets the page.
WANTED = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/turtle": ".ttl",
    "application/x-turtle": ".ttl",
    "application/ld+json": ".jsonld",
    "application/json": ".jsonld",
    "*/*": ".html",
    "text/*": ".html",
    "application/*": ".jsonld",
}
_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*(?:/[A-Za-z0-9][A-Za-z0-9._~-]*)+")
STATUS_SPAN, SPAN_OF = CQ + "StatusSpan", CQ + "spanOf"
QUOTE, SOURCE, FILE_NAME, COMMENT = CQ + "quote", CQ + "source", CQ + "fileName", PREFIXES["rdfs"] + "comment"
# (a thing's path such as measure/slug, a document's suffix or "" for the thing itself) → the href
Link = Callable[[str, str], str]


def serves(path: str) -> bool:
    """Whether an HTTP path is one the resource application answers (/id and everything under /id/)."""
    return path == PREFIX.rstrip("/") or path.startswith(PREFIX)


def resource_path(iri: str) -> str | None:
    """The path of a thing under /id/ (measure/central-daily-area-testing), or None for any other IRI."""
    if not iri.startswith(BASE_ID):
        return None
    rest = iri[len(BASE_ID) :]
    return rest if _PATH.fullmatch(rest) and ".." not in rest else None


def resources(store: ox.Store) -> list[str]:
    """Every thing the store describes under /id/ (each IRI once), in a stable order."""
    query = f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), {json.dumps(BASE_ID)})) }}"
    found = {row[0].value for row in store.query(query)}  # type: ignore[union-attr]
    return sorted(iri for iri in found if resource_path(iri))


def description(store: ox.Store, iri: str) -> list[ox.Triple]:
    """The thing's concise bounded description: its statements, and those of the blank nodes they reach."""
    seen: set[ox.Triple] = set()
    todo: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(iri)]
    visited: set[ox.NamedNode | ox.BlankNode] = set()
    while todo:
        node = todo.pop()
        if node in visited:
            continue
        visited.add(node)
        for quad in store.quads_for_pattern(node, None, None, None):
            seen.add(quad.triple)
            if isinstance(quad.object, ox.BlankNode):
                todo.append(quad.object)
    return sorted(seen, key=str)


def as_turtle(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b""


def as_jsonld(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.JSON_LD) or b"[]"


# ---------------------------------------------------------------- the page's model


@dataclass(frozen=True)
class Label:
    """A text in English and Chinese (either may be empty)."""

    en: str = ""
    zh: str = ""

    @property
    def main(self) -> str:
        return self.en or self.zh


@dataclass(frozen=True)
class Value:
    """One value on a page: words (with a language), a link to a page, the term itself, or a nested description."""

    text: str
    lang: str = ""
    href: str = ""
    code: str = ""  # an IRI's prefixed name, shown small
    note: str = ""  # a date's kind, a derived bound's basis
    rows: tuple[Row, ...] = ()


@dataclass(frozen=True)
class Row:
    """A property and its values."""

    name: Label
    prop: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class QuoteView:
    """A quote with the rest of its sentence from the source text (when found there)."""

    text: str
    before: str
    after: str
    found: bool
    source: Value | None


@dataclass
class Page:
    """Everything the resource template shows of one thing."""

    iri: str
    name: str  # the prefixed name
    label: Label
    types: list[Value]
    rows: list[Row]
    quotes: list[QuoteView]
    comments: list[Value]
    spans: list[Row]
    incoming: list[Row]
    graphs: list[str]
    documents: dict[str, str] = field(default_factory=dict)  # format name → href


@dataclass
class Cache:
    """Labels and which things are described, kept across the pages of one store (kb site writes them all)."""

    labels: dict[str, Label] = field(default_factory=dict)
    described: dict[str, bool] = field(default_factory=dict)


class _Terms:
    """Labels and page links of the terms a page shows, read from the store as they are needed."""

    def __init__(self, store: ox.Store, link: Link, cache: Cache | None = None) -> None:
        self.store = store
        self.link = link
        cache = cache if cache is not None else Cache()
        self._labels, self._described = cache.labels, cache.described

    def label(self, iri: str) -> Label:
        if iri not in self._labels:
            texts: dict[str, str] = {}
            for quad in self.store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(RDFS_LABEL), None, None):
                if isinstance(quad.object, ox.Literal):
                    key = "zh" if (quad.object.language or "").startswith("zh") else "en"
                    texts.setdefault(key, quad.object.value)
            self._labels[iri] = Label(texts.get("en", ""), texts.get("zh", ""))
        return self._labels[iri]

    def href(self, iri: str) -> str:
        path = resource_path(iri)
        if path is None:
            return ""
        if iri not in self._described:
            self._described[iri] = any(True for _ in self.store.quads_for_pattern(ox.NamedNode(iri), None, None, None))
        return self.link(path, "") if self._described[iri] else ""

    def field(self, iri: str) -> Label:
        label = self.label(iri)
        return label if label.main else Label(re.split(r"[/#]", iri)[-1] or shorten(iri))

    def value(self, term: object, trail: tuple[object, ...] = ()) -> Value:
        if isinstance(term, ox.NamedNode):
            label = self.label(term.value)
            name = shorten(term.value)
            return Value(
                label.main or name, "en" if label.en else "zh" if label.zh else "", self.href(term.value), name
            )
        if isinstance(term, ox.Literal):
            return Value(term.value, term.language or "")
        if isinstance(term, ox.BlankNode) and term not in trail:
            pairs = [(q.predicate.value, q.object) for q in self.store.quads_for_pattern(term, None, None, None)]
            return Value("", rows=tuple(self.rows(pairs, (*trail, term))))
        return Value(str(term))

    def rows(self, pairs: Iterable[tuple[str, object]], trail: tuple[object, ...] = ()) -> list[Row]:
        """The rows of a description: a date with its kind, a derived bound with its basis, then each property."""
        by_predicate: dict[str, list[object]] = defaultdict(list)
        for predicate, obj in pairs:
            if obj not in by_predicate[predicate]:
                by_predicate[predicate].append(obj)
        rows: list[tuple[str, Row]] = []
        done = {RDF_TYPE, RDFS_LABEL, QUOTE, COMMENT}
        for predicate in sorted(by_predicate):
            base = predicate[:-4] if predicate.endswith(("Kind", "Note")) else ""
            if not base or not (base in by_predicate or self.label(base).main or base + "Basis" in by_predicate):
                continue
            note = ", ".join(self.value(x).text for x in by_predicate[predicate])
            found = [self.value(v, trail) for v in by_predicate.get(base, [])]
            shown = tuple(Value(v.text, v.lang, v.href, v.code, note) for v in found) or (Value("", note=note),)
            done.update(
                (predicate, base, base + "Basis", base + "Evidence")
                if predicate.endswith("Note")
                else (predicate, base)
            )
            rows.append((self.field(base).main, Row(self.field(base), shorten(base), shown)))
        for predicate, objects in by_predicate.items():
            if predicate in done:
                continue
            values = tuple(sorted((self.value(o, trail) for o in objects), key=lambda v: (v.text, v.code)))
            rows.append((self.field(predicate).main, Row(self.field(predicate), shorten(predicate), values)))
        return [row for _, row in sorted(rows, key=lambda item: item[0])]


def _quotes(store: ox.Store, terms: _Terms, node: ox.NamedNode, texts: SourceTexts | None) -> list[QuoteView]:
    sources = [q.object for q in store.quads_for_pattern(node, ox.NamedNode(SOURCE), None, None)]
    files = []
    for source in sources:
        for quad in store.quads_for_pattern(source, ox.NamedNode(FILE_NAME), None, None):  # type: ignore[arg-type]
            if isinstance(quad.object, ox.Literal):
                files.append((source, quad.object.value))
    views = []
    quads = store.quads_for_pattern(node, ox.NamedNode(QUOTE), None, None)
    quotes = sorted({q.object.value for q in quads if isinstance(q.object, ox.Literal)})
    for quote in quotes:
        view = QuoteView(quote, "", "", False, terms.value(sources[0]) if sources else None)
        for source, name in files:
            context = quote_context(quote, texts.get(name)) if texts is not None else None
            if context is not None:
                view = QuoteView(quote, context[0], context[1], True, terms.value(source))
                break
        views.append(view)
    return views


def _spans(store: ox.Store, terms: _Terms, node: ox.NamedNode) -> list[Row]:
    """A measure's derived status spans, in day order."""
    spans = []
    for quad in store.quads_for_pattern(None, ox.NamedNode(SPAN_OF), node, None):
        values = {q.predicate.value: q.object for q in store.quads_for_pattern(quad.subject, None, None, None)}
        start, until = values.get(CQ + "spanFrom"), values.get(CQ + "spanUntil")
        status, reason = values.get(CQ + "status"), values.get(CQ + "spanReason")
        first = start.value if isinstance(start, ox.Literal) else "?"
        days = f"{first} – {until.value if isinstance(until, ox.Literal) else 'open'}"
        label = terms.label(status.value) if isinstance(status, ox.NamedNode) else Label("?")
        subject = quad.subject.value if isinstance(quad.subject, ox.NamedNode) else ""
        note = reason.value if isinstance(reason, ox.Literal) else ""
        spans.append((days, Row(label, shorten(subject), (Value(days, href=terms.href(subject), note=note),))))
    return [row for _, row in sorted(spans, key=lambda item: item[0])]


def _incoming(store: ox.Store, terms: _Terms, node: ox.NamedNode) -> list[Row]:
    """The things that link to this one, by property (spans aside: they are shown as the status by day)."""
    linked: dict[str, set[str]] = defaultdict(set)
    for quad in store.quads_for_pattern(None, None, node, None):
        if isinstance(quad.subject, ox.NamedNode) and quad.predicate.value != SPAN_OF:
            linked[quad.predicate.value].add(quad.subject.value)
    rows = []
    for predicate, subjects in linked.items():
        values = tuple(sorted((terms.value(ox.NamedNode(s)) for s in subjects), key=lambda v: (v.text, v.code)))
        rows.append(Row(terms.field(predicate), shorten(predicate), values))
    return sorted(rows, key=lambda row: row.name.main)


def resource_page(
    store: ox.Store, iri: str, link: Link, texts: SourceTexts | None = None, cache: Cache | None = None
) -> Page | None:
    """The page of one thing, or None when the store does not describe it."""
    if resource_path(iri) is None:
        return None
    node = ox.NamedNode(iri)
    quads = list(store.quads_for_pattern(node, None, None, None))
    if not quads:
        return None
    terms = _Terms(store, link, cache)
    pairs = [(q.predicate.value, q.object) for q in quads]
    types = sorted((terms.value(o) for p, o in pairs if p == RDF_TYPE), key=lambda v: v.text)
    comments = sorted((terms.value(o) for p, o in pairs if p == COMMENT), key=lambda v: v.text)
    graphs = sorted({q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)})
    return Page(
        iri,
        shorten(iri),
        terms.label(iri),
        types,
        terms.rows(pairs),
        _quotes(store, terms, node, texts),
        comments,
        _spans(store, terms, node),
        _incoming(store, terms, node),
        [g[len(GRAPH_BASE) :] if g.startswith(GRAPH_BASE) else g for g in graphs],
    )


# ---------------------------------------------------------------- rendering


@functools.cache
def _environment() -> Any:
    import jinja2

    loader = jinja2.FileSystemLoader([str(TEMPLATE_DIR), str(TIMELINE_TEMPLATES)])
    return jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )


def render_page(page: Page, index_href: str) -> str:
    """The HTML page of one thing (self-contained: the shared CSS is inlined, no script, no request)."""
    return _environment().get_template("resource.html.j2").render(page=page, index=index_href)


@dataclass(frozen=True)
class Entry:
    """One thing in the index."""

    href: str
    name: str
    label: Label


def render_index(store: ox.Store, link: Link) -> str:
    """The index of every thing, by kind (measure, place, …)."""
    terms = _Terms(store, link)
    kinds: dict[str, list[Entry]] = defaultdict(list)
    for iri in resources(store):
        path = resource_path(iri) or ""
        kinds[path.split("/", 1)[0]].append(Entry(link(path, ""), shorten(iri), terms.label(iri)))
    return _environment().get_template("resources.html.j2").render(kinds=sorted(kinds.items()))


def document(
    store: ox.Store,
    iri: str,
    suffix: str,
    link: Link,
    index_href: str,
    texts: SourceTexts | None,
    cache: Cache | None = None,
) -> bytes:
    """The bytes of one of a thing's documents (.html, .ttl, .jsonld); b"" when the store does not describe it."""
    if suffix == ".html":
        page = resource_page(store, iri, link, texts, cache)
        if page is None:
            return b""
        path = resource_path(iri) or ""
        page.documents = {"Turtle": link(path, ".ttl"), "JSON-LD": link(path, ".jsonld")}
        return render_page(page, index_href).encode("utf-8")
    triples = description(store, iri)
    if not triples:
        return b""
    return as_turtle(triples) if suffix == ".ttl" else as_jsonld(triples)


# ---------------------------------------------------------------- serving /id/


def choose_document(accept: str | None) -> str | None:
    """The document suffix for an Accept header (best first; browsers get the page), None when none fits."""
    for media in accepted_types(accept, None):
        if media in WANTED:
            return WANTED[media]
    return None


class ResourceApp:
    """The WSGI application under /id/: a thing's IRI → 303 to its document; documents → 200; /id/ → the index."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.texts = SourceTexts(config.sources_dir) if config.sources_dir else None
        self._lock = threading.Lock()
        self._open: tuple[tuple[int, int, int] | None, ox.Store | None] = (None, None)

    def store(self) -> ox.Store:
        """The current store, reopened (pinned) when a build has swapped in a new one."""
        with self._lock:
            generation = store_generation(self.config.store_path)
            if generation != self._open[0] or self._open[1] is None:
                self._open = (generation, open_snapshot(self.config.store_path))
            store = self._open[1]
            assert store is not None
            return store

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, headers, body = self.answer(environ)
        headers = [*headers, ("Content-Length", str(len(body))), ("X-Content-Type-Options", "nosniff")]
        start_response(status, headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    def answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", [("Allow", "GET, HEAD"), *_text()], b"only GET and HEAD are allowed here\n"
        path = environ.get("PATH_INFO") or ""
        try:
            store = self.store()
        except Exception as exc:  # no store right now: a build may be replacing it
            return (
                "503 Service Unavailable",
                [("Retry-After", "1"), *_text()],
                f"the store cannot be opened: {exc}\n".encode(),
            )

        def link(rest: str, suffix: str) -> str:  # pages link to the things' IRIs on this host
            return PREFIX + rest + suffix

        if path in (PREFIX.rstrip("/"), PREFIX):
            return "200 OK", [("Content-Type", DOCUMENTS[".html"])], render_index(store, link).encode("utf-8")
        rest = path[len(PREFIX) :]
        suffix = next((s for s in DOCUMENTS if rest.endswith(s)), "")
        iri = BASE_ID + rest[: len(rest) - len(suffix)]
        if resource_path(iri) is None:
            return _not_found(path)
        if suffix:
            body = document(store, iri, suffix, link, PREFIX, self.texts)
            return ("200 OK", [("Content-Type", DOCUMENTS[suffix])], body) if body else _not_found(path)
        if not any(True for _ in store.quads_for_pattern(ox.NamedNode(iri), None, None, None)):
            return _not_found(path)
        wanted = choose_document(environ.get("HTTP_ACCEPT"))
        if wanted is None:
            offered = ", ".join(sorted(set(WANTED) - {"*/*", "text/*", "application/*"}))
            return (
                "406 Not Acceptable",
                [("Vary", "Accept"), *_text()],
                f"this thing can be sent as: {offered}\n".encode(),
            )
        location = path + wanted
        headers = [("Location", location), ("Vary", "Accept"), *_text()]
        return "303 See Other", headers, f"see {location}\n".encode()


def _text() -> list[tuple[str, str]]:
    return [("Content-Type", "text/plain; charset=utf-8")]


def _not_found(path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    shown = path if len(path) <= 200 else path[:200] + "…"
    return "404 Not Found", _text(), f"nothing is described at {shown} (the index of things is /id/)\n".encode()

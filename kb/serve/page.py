"""The query page: the template rendered with the questions and their parameters, the vendored editor's files
under static/, and what a request names (a question, or a text with its header) turned into a text and bindings.

Bindings travel as `$name=value` fields beside `query=` (the convention of RDF4J's protocol); `name=` instead of
`query=` runs one of the questions of kb/queries/questions/. Parameters a text declares in its header
(`# param: ?x — …`) are checked here, before any worker is asked: a required one missing is refused with 400,
naming it and its example, so that an example run without its value can never answer with every row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .answer import Reply, clip, text_reply
from .config import ServeConfig

if TYPE_CHECKING:
    from ..query import NamedQuery

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
# The vendored editor (static/README.md says what it is, where it comes from and why it was chosen).
EDITOR = "codemirror-5.65.21"
_STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE
}


def static_files() -> dict[str, Reply]:
    """Every file the page loads, by its path on the server (`/static/…`), read once: nothing else is served."""
    files = {}
    for path in sorted((STATIC_DIR / EDITOR).iterdir()):
        if path.is_file() and path.suffix in _STATIC_TYPES:
            files[f"/static/{EDITOR}/{path.name}"] = Reply(200, _STATIC_TYPES[path.suffix], path.read_bytes())
    return files


def _param_fields(query: NamedQuery) -> list[dict[str, object]]:
    return [
        {"name": p.name, "description": p.description, "required": p.required, "example": p.example}
        for p in query.params
    ]


def query_page(config: ServeConfig, queries: Iterable[NamedQuery] | None = None) -> bytes:
    """The query page (jinja2, autoescaped): the questions as examples, each with its declared parameters."""
    import jinja2

    from ..namespaces import PREFIXES

    if queries is None:
        from ..query import named_queries

        queries = named_queries().values()
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True, undefined=jinja2.StrictUndefined
    )
    examples = list(queries)
    page = environment.get_template("query.html.j2").render(
        timeout=f"{config.timeout:g}",
        max_bytes=config.max_result_bytes,
        examples=examples,
        texts={query.name: query.text for query in examples},
        params={query.name: _param_fields(query) for query in examples},
        prefixes=PREFIXES,
        editor=f"static/{EDITOR}",
    )
    return page.encode("utf-8")


@functools.cache
def _questions() -> dict[str, NamedQuery]:
    """The questions by name, read once: they are files of the package, not of the knowledge base."""
    from ..query import named_queries

    return named_queries()


@dataclass(frozen=True)
class Request:
    """What to run: the query text and its bindings (name, value as written), empty values left out."""

    text: str
    bindings: tuple[tuple[str, str], ...]


def read_request(params: dict[str, list[str]]) -> Request | Reply:
    """The query text (`query=`, or the question `name=`) and `$name=value` bindings of a request; a Reply
    (400) when the request gives no or two queries, an unknown question, or lacks a declared parameter."""
    from ..errors import QueryError
    from ..query import check_params, declared_params

    texts, names = params.get("query", []), params.get("name", [])
    if len(texts) + len(names) != 1 or not (texts or names)[0].strip():
        return text_reply(
            400,
            "give one query: ?query=…, a query= form field, an application/sparql-query body, "
            "or name= for one of the questions of the query page",
        )
    bindings: dict[str, str] = {}
    for key, values in params.items():
        if key.startswith("$") and values and values[-1].strip():
            bindings[key[1:]] = values[-1].strip()
    named: NamedQuery | None = None
    if names:
        questions = _questions()
        named = questions.get(names[0].strip())
        if named is None:
            import difflib

            near = difflib.get_close_matches(names[0].strip(), list(questions), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else "; the query page lists them"
            return text_reply(400, f"there is no question named {clip(names[0], 100)!r}{hint}")
    text = named.text if named else texts[0]
    declared = named or declared_params(text)
    if declared is not None:
        try:
            check_params(declared, bindings, flag="$")
        except QueryError as error:
            return text_reply(400, str(error))
    return Request(text, tuple(bindings.items()))

"""Content negotiation: the media types a client takes (Accept or format=) and the format that answers it."""

from __future__ import annotations

from ..media import GRAPH_TYPES, RESULTS_TYPES

# The short names `format=` accepts, and the media types each stands for.
FORMAT_NAMES = {
    "json": ["application/sparql-results+json", "application/ld+json"],
    "xml": ["application/sparql-results+xml"],
    "csv": ["text/csv"],
    "tsv": ["text/tab-separated-values"],
    "turtle": ["text/turtle"],
    "ttl": ["text/turtle"],
    "ntriples": ["application/n-triples"],
    "nt": ["application/n-triples"],
    "jsonld": ["application/ld+json"],
    "json-ld": ["application/ld+json"],
}


def accepted_types(accept: str | None, format_override: str | None) -> list[str]:
    """Media types the client takes, best first; '*/*' stands for the endpoint's defaults."""
    if format_override:
        name = format_override.strip().lower()
        if name in FORMAT_NAMES:
            return FORMAT_NAMES[name]
        return [name.split(";")[0].strip()]
    if not accept:
        return ["*/*"]
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, index, media))
    return [media for _, _, media in sorted(ranked)]


def choose_format(types: list[str], graph: bool) -> str | None:
    """The pyoxigraph format name for the first acceptable type, or None when none fits."""
    table = GRAPH_TYPES if graph else RESULTS_TYPES
    for media in types:
        if media in table:
            return table[media]
        if media in ("*/*", "application/*", "text/*"):
            if media == "text/*":
                return "TURTLE" if graph else "CSV"
            return "TURTLE" if graph else "JSON"
    return None

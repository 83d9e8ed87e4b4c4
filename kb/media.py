"""Media types of SPARQL results and RDF, and the pyoxigraph format each one names: one table for serve and remote."""

from __future__ import annotations

# SPARQL results: media type → pyoxigraph QueryResultsFormat name.
RESULTS_TYPES = {
    "application/sparql-results+json": "JSON",
    "application/json": "JSON",
    "application/sparql-results+xml": "XML",
    "application/xml": "XML",
    "text/xml": "XML",
    "text/csv": "CSV",
    "text/tab-separated-values": "TSV",
}
# RDF graphs (CONSTRUCT, DESCRIBE): media type → pyoxigraph RdfFormat name.
GRAPH_TYPES = {
    "text/turtle": "TURTLE",
    "application/n-triples": "N_TRIPLES",
    "text/plain": "N_TRIPLES",
    "application/ld+json": "JSON_LD",
    "application/json": "JSON_LD",
}
# What each format is sent as.
CONTENT_TYPES = {
    "JSON": "application/sparql-results+json",
    "XML": "application/sparql-results+xml",
    "CSV": "text/csv; charset=utf-8",
    "TSV": "text/tab-separated-values; charset=utf-8",
    "TURTLE": "text/turtle; charset=utf-8",
    "N_TRIPLES": "application/n-triples",
    "JSON_LD": "application/ld+json",
}
# The formats a remote answer is read from: CSV results cannot be read back (they drop the kind of each term),
# and graphs are read in the two forms `kb query --endpoint` asks for.
READ_RESULTS = ("JSON", "XML", "TSV")
READ_GRAPHS = ("N_TRIPLES", "TURTLE")

# The result formats of `kb query --format` (the CLI's choices; kb.query writes each).
QUERY_FORMATS = ("table", "csv", "tsv", "json")

"""Named SPARQL queries: the catalogue of kb/queries/ (catalogue.py), running one on a store (run.py) and
writing its result (results.py). The names below are the package's public face."""

from .catalogue import (
    KINDS,
    QUERY_DIR,
    QUESTIONS_DIR,
    NamedQuery,
    Param,
    catalogue,
    get_named_query,
    load_query,
    named_queries,
    param_example,
    parse_header,
)
from .results import format_csv, format_json, format_result, format_table, format_tsv, format_turtle
from .run import (
    QueryResult,
    bind_params,
    check_params,
    check_terms,
    declared_params,
    parse_params,
    parse_term,
    run_query,
    select,
)

__all__ = [
    "KINDS",
    "QUERY_DIR",
    "QUESTIONS_DIR",
    "NamedQuery",
    "Param",
    "QueryResult",
    "bind_params",
    "catalogue",
    "check_params",
    "check_terms",
    "declared_params",
    "format_csv",
    "format_json",
    "format_result",
    "format_table",
    "format_tsv",
    "format_turtle",
    "get_named_query",
    "load_query",
    "named_queries",
    "param_example",
    "parse_header",
    "parse_params",
    "parse_term",
    "run_query",
    "select",
]

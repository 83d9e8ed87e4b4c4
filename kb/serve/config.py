"""How the endpoint runs: the configuration `kb serve` builds from its options, and the fixed limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MB = 1_000_000
MAX_REQUEST_BYTES = 1_000_000
# Longest query text: with QUERY_STACK_BYTES, every nesting form tried (braces, parentheses, UNION,
# OPTIONAL, BIND, paths, subqueries…) up to this length is evaluated without overflowing the stack.
MAX_QUERY_CHARS = 100_000
QUERY_STACK_BYTES = 512 * 2**20


@dataclass(frozen=True)
class ServeConfig:
    """How the endpoint runs: the store folder, limits and pool size."""

    store_path: Path
    timeout: float = 10.0
    max_result_bytes: int = 50 * MB
    workers: int = 2
    threads: int = 8
    # Address space a worker may add to its idle size while it answers a query; None: no ceiling.
    max_memory_bytes: int | None = 1024 * MB
    # SPARQL SERVICE makes this host send requests elsewhere: refused unless explicitly allowed.
    allow_service: bool = False
    # Open connections waitress keeps (idle and half-open ones included) and how long an idle one may stay.
    connection_limit: int = 1000
    channel_timeout: float = 30.0
    # facts/sources/: the resource pages at /id/ show each quote in its sentence (None: the quote alone).
    sources_dir: Path | None = None

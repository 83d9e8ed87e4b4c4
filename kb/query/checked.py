"""The rows of the *-violation checks that a full `kb validate` found, kept in the store's snapshot folder.

A full validation of a built store runs every check of kb/queries/checks/ on that store; it keeps each check's
rows in `checked.json` beside the database (`write_checked`), keyed by the digest of the query's text, with the
name of the snapshot folder they were computed on. A published folder never changes (a build that sees a changed
input publishes a new one), so those rows are the ones the same SPARQL gives on that store: `run_query` answers
exactly such a text without parameters from the file (`checked`, by way of kb/query/run.py's `kept_answer`), and a
second `kb validate` of the same snapshot reuses them. Only rows that are the query's own answer are kept (the
validation writes what `run_query` gave it); a check whose rows it computed some other way is left out, and runs
on the store. A file that cannot be read, names another folder or has another format is ignored.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from ..errors import FileWriteError
from ..fsio import write_atomic
from .run import QueryResult
from .summary import decode_term, digest, encode_term

CHECKED = "checked.json"
FORMAT = 1

# snapshot folder → (the file's identity when read, its answers); re-read when a validation rewrote the file
_LOADED: dict[str, tuple[tuple[int, int, int], dict]] = {}
_LOCK = threading.Lock()


def write_checked(folder: Path, answers: dict[str, tuple[str, QueryResult]]) -> bool:
    """Keep the checks' rows (query text → (check name, its answer)) in `folder`/checked.json, all at once.

    False when the folder cannot be written (a store the user may read but not write): nothing is kept then."""
    entries = {
        digest(text): {
            "name": name,
            "variables": result.variables,
            "rows": [[encode_term(term) for term in row] for row in result.rows],
        }
        for text, (name, result) in answers.items()
        if result.kind == "select"
    }
    data = {"format": FORMAT, "snapshot": folder.name, "answers": entries}
    try:
        write_atomic(folder / CHECKED, json.dumps(data, ensure_ascii=False))
    except FileWriteError:
        return False
    return True


def _read(path: Path, snapshot: str) -> dict:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    ok = (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and data.get("snapshot") == snapshot
        and isinstance(data.get("answers"), dict)
    )
    return data["answers"] if ok else {}


def _answers(folder: Path) -> dict:
    path = folder / CHECKED
    try:
        stat = os.stat(path)
    except OSError:
        return {}
    identity = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    key = str(folder)
    with _LOCK:
        known = _LOADED.get(key)
        if known is None or known[0] != identity:
            for gone in [k for k in _LOADED if not Path(k).exists()]:
                del _LOADED[gone]
            known = _LOADED[key] = (identity, _read(path, folder.name))
        return known[1]


def checked(folder: Path, text: str) -> QueryResult | None:
    """The rows a full validation of this snapshot kept for exactly this query text, or None."""
    entry = _answers(folder).get(digest(text))
    if not isinstance(entry, dict):
        return None
    try:
        variables = [str(v) for v in entry["variables"]]
        rows = [[decode_term(cell) for cell in row] for row in entry["rows"]]
    except (KeyError, TypeError, IndexError, ValueError):
        return None  # a damaged entry: the query runs on the store
    if any(len(row) != len(variables) for row in rows):
        return None
    return QueryResult("select", variables=variables, rows=rows)

"""Exports of the store: CSV tables, JSON-LD with the published @context, N-Quads, Turtle, tracker layouts.

Every exporter takes the store and returns the bytes of one file; `write_output` puts them in place
atomically, so a failed export never leaves a half-written file. The rows come from the export's own
feeds in kb/queries/export/, never from the user questions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from ..errors import ExportError, UsageError
from ..fsio import FileWriteError, write_atomic
from .coronanet import CORONANET_HEADER, coronanet_table
from .feeds import QUERY_DIR, feed
from .oxcgrt import measure_id, oxcgrt_district_table, oxcgrt_header, oxcgrt_table
from .rdf import CONTEXT_FILE, export_jsonld, export_nquads, export_turtle, load_context, union_triples
from .tables import CSV_TABLES, csv_bytes, measures_table, protect_cell, statistics_table

FORMATS = ("csv", "jsonld", "nq", "ttl", "oxcgrt", "coronanet")
CSV_FORMATS = ("csv", "oxcgrt", "coronanet")
# The tables of each CSV format: the first is the default.
TABLES = {"csv": CSV_TABLES, "oxcgrt": ("chongqing", "districts"), "coronanet": ("records",)}

__all__ = [
    "CONTEXT_FILE",
    "CORONANET_HEADER",
    "CSV_FORMATS",
    "CSV_TABLES",
    "FORMATS",
    "QUERY_DIR",
    "TABLES",
    "ExportError",
    "check_output_path",
    "coronanet_table",
    "csv_bytes",
    "export",
    "export_jsonld",
    "export_nquads",
    "export_turtle",
    "feed",
    "load_context",
    "measure_id",
    "measures_table",
    "oxcgrt_district_table",
    "oxcgrt_header",
    "oxcgrt_table",
    "protect_cell",
    "statistics_table",
    "union_triples",
    "write_output",
]


# ---------------------------------------------------------------- writing


def check_output_path(path: Path) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder", hint="give a file name for -o, e.g. -o measures.csv")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"folder {parent} does not exist", hint="create it first, or write to another place with -o")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"folder {parent} is not writable", hint="write to another place with -o")


def write_output(data: bytes, path: Path) -> None:
    """Write the file atomically (a temporary file next to it, renamed over it), with normal permissions."""
    check_output_path(path)
    try:
        write_atomic(path, data)
    except FileWriteError as exc:
        raise ExportError(exc.message, hint=exc.hint) from None


# ---------------------------------------------------------------- entry point


def export(store: ox.Store, fmt: str, table: str | None = None, excel: bool = False, raw_csv: bool = False) -> bytes:
    """The export in format `fmt` as the bytes of one file (CSV cells protected against formulas unless raw)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format '{fmt}'", hint=f"choose one of: {', '.join(FORMATS)}")
    if excel and fmt not in CSV_FORMATS:
        raise UsageError(f"--excel applies to CSV output, not to {fmt}", hint="leave out --excel")
    if raw_csv and fmt not in CSV_FORMATS:
        raise UsageError(f"--raw-csv applies to CSV output, not to {fmt}", hint="leave out --raw-csv")
    tables = TABLES.get(fmt, ())
    if table is not None and table not in tables:
        if len(tables) < 2:
            raise UsageError(f"--table applies to --format csv and oxcgrt, not to {fmt}", hint="leave out --table")
        raise UsageError(f"unknown table '{table}' for --format {fmt}", hint=f"choose one of: {', '.join(tables)}")
    if fmt == "jsonld":
        return export_jsonld(store)
    if fmt == "nq":
        return export_nquads(store)
    if fmt == "ttl":
        return export_turtle(store)
    table = table or tables[0]
    layout: tuple[Sequence[str], Sequence[Sequence[object]]]
    if fmt == "csv":
        layout = measures_table(store) if table == "measures" else statistics_table(store)
    elif fmt == "oxcgrt":
        layout = oxcgrt_table(store) if table == "chongqing" else oxcgrt_district_table(store)
    else:
        layout = coronanet_table(store)
    header, rows = layout
    return csv_bytes(header, rows, excel=excel, protect=not raw_csv)

"""The CSV tables of the store (measures, statistics) and the CSV writing every CSV export shares."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

import pyoxigraph as ox

from ..namespaces import PREFIXES, shorten
from .feeds import feed

CSV_TABLES = ("measures", "statistics")
BOM = "\ufeff"
SEPARATOR = " | "

# Extra columns of the measures CSV, after those of measures-table.rq: column → link in measure-links.rq.
LINK_COLUMNS = {
    "target_group": PREFIXES["cq"] + "targetGroup",
    "ends": PREFIXES["cq"] + "ends",
    "replaces": PREFIXES["cq"] + "replaces",
    "amends": PREFIXES["cq"] + "amends",
    "restates": PREFIXES["cq"] + "restates",
    "implements": PREFIXES["cq"] + "implements",
    "relaxes": PREFIXES["cq"] + "relaxes",
    "tightens": PREFIXES["cq"] + "tightens",
    "changed_by": "changed_by",
    "cites": PREFIXES["cq"] + "cites",
}

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def protect_cell(value: str) -> str:
    """The cell with a leading ' when a spreadsheet would run it as a formula; plain numbers such as -3 stay."""
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_bytes(
    header: Sequence[str], rows: Iterable[Sequence[object]], excel: bool = False, protect: bool = True
) -> bytes:
    """RFC 4180 CSV in UTF-8 (with a byte-order mark for Excel when asked), formula cells neutralised unless not."""
    buffer = io.StringIO()
    if excel:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")

    def cells(row: Iterable[object]) -> list[str]:
        texts = ["" if value is None else str(value) for value in row]
        return [protect_cell(text) for text in texts] if protect else texts

    writer.writerow(cells(header))
    for row in rows:
        writer.writerow(cells(row))
    return buffer.getvalue().encode("utf-8")


def _parameter_text(kind: str | None, value: str | None, unit: str | None, symbol: str | None = None) -> str:
    """qk:kind = value unit, with the qualifier's symbol for the = when the value is a bound (qk:count > 1500)."""
    parts = [shorten(kind) if kind else "?", symbol or "=", value or "?"]
    if unit:
        parts.append(shorten(unit))
    return " ".join(parts)


def measures_table(store: ox.Store) -> tuple[list[str], list[list[str | None]]]:
    """One row per measure: the columns of measures-table.rq, then parameters, target groups and links."""
    base = feed(store, "measures-table")
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in feed(store, "measure-links").records():
        links[record["measure"] or ""][record["link"] or ""].add(record["target"] or "")
    parameters: dict[str, list[str]] = defaultdict(list)
    for record in feed(store, "measure-parameters").records():
        parameters[record["measure"] or ""].append(
            _parameter_text(record["kind"], record["value"], record["unit"], record["symbol"])
        )
    header = [*base.variables, "parameters", *LINK_COLUMNS]
    rows = []
    for record in base.records():
        measure = record["measure"] or ""
        row: list[str | None] = [record[v] for v in base.variables]
        row.append(SEPARATOR.join(sorted(set(parameters.get(measure, [])))))
        for link in LINK_COLUMNS.values():
            row.append(SEPARATOR.join(sorted(links[measure][link])) if measure in links else "")
        rows.append(row)
    return header, rows


def statistics_table(store: ox.Store) -> tuple[list[str], list[list[str | None]]]:
    """One row per observation (reported statistic)."""
    result = feed(store, "statistics")
    return result.variables, [[record[v] for v in result.variables] for record in result.records()]

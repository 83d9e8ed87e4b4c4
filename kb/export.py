"""Exports of the store: CSV tables, JSON-LD with the published @context, N-Quads, Turtle, tracker layouts.

Every exporter takes the store and returns the bytes of one file; `write_output` puts them in place
atomically, so a failed export never leaves a half-written file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyoxigraph as ox

from .errors import KbError, UsageError
from .fsio import FileWriteError, write_atomic
from .namespaces import PREFIXES, shorten
from .query import get_named_query, run_query

CONTEXT_FILE = Path(__file__).resolve().parent / "context.jsonld"
FORMATS = ("csv", "jsonld", "nq", "ttl", "oxcgrt", "coronanet")
CSV_FORMATS = ("csv", "oxcgrt", "coronanet")
CSV_TABLES = ("measures", "statistics")
BOM = "\ufeff"
SEPARATOR = " | "

# Extra columns of the measures CSV, after those of the `measures` query: column → link in export-measure-links.rq.
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


class ExportError(KbError):
    """An export cannot be made or written."""


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


# ---------------------------------------------------------------- CSV tables


def _named(store: ox.Store, name: str):  # type: ignore[no-untyped-def]
    return run_query(store, get_named_query(name).text)


def _parameter_text(kind: str | None, value: str | None, unit: str | None) -> str:
    parts = [shorten(kind) if kind else "?", "=", value or "?"]
    if unit:
        parts.append(shorten(unit))
    return " ".join(parts)


def measures_table(store: ox.Store) -> tuple[list[str], list[list[str | None]]]:
    """One row per measure: the columns of the `measures` query, then parameters, target groups and links."""
    base = _named(store, "measures")
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in _named(store, "export-measure-links").records():
        links[record["measure"] or ""][record["link"] or ""].add(record["target"] or "")
    parameters: dict[str, list[str]] = defaultdict(list)
    for record in _named(store, "export-measure-parameters").records():
        parameters[record["measure"] or ""].append(_parameter_text(record["kind"], record["value"], record["unit"]))
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
    result = _named(store, "export-statistics")
    return result.variables, [[record[v] for v in result.variables] for record in result.records()]


# ---------------------------------------------------------------- RDF


def union_triples(store: ox.Store) -> list[ox.Triple]:
    """Every triple of every named graph, once, in a stable order."""
    return sorted({quad.triple for quad in store.quads_for_pattern(None, None, None, None)}, key=str)


def export_nquads(store: ox.Store) -> bytes:
    """N-Quads: one named graph per input file, sorted lines, for bulk loading into a SPARQL store."""
    data = store.dump(format=ox.RdfFormat.N_QUADS) or b""
    lines = sorted(line for line in data.decode("utf-8").splitlines() if line)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def export_turtle(store: ox.Store) -> bytes:
    """The union of all graphs as Turtle with the project prefixes."""
    return ox.serialize(union_triples(store), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b""


def load_context(path: Path = CONTEXT_FILE) -> dict:
    """The published JSON-LD @context (the value of the file's "@context")."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read the JSON-LD context: {exc}", file=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("@context"), dict):
        raise ExportError('the JSON-LD context file has no "@context" object', file=str(path))
    return data["@context"]


class _Compactor:
    """Compacts triples into JSON-LD node objects with the terms of one @context.

    A term is used only where its coercion fits the value (an IRI for "@type": "@id", the datatype for a typed
    term, a language for a language map); any other value is written in full under the compact property IRI,
    so nothing is lost and the document expands back to the same triples.
    """

    def __init__(self, context: dict) -> None:
        self.prefixes = {
            name: iri
            for name, iri in context.items()
            if isinstance(iri, str) and iri.endswith(("/", "#")) and ":" in iri
        }
        self.aliases = {
            value: name for name, value in context.items() if isinstance(value, str) and value.startswith("@")
        }
        self.terms: dict[tuple[str, str], str] = {}
        for name, definition in context.items():
            if name.startswith("@") or name in self.prefixes or name in self.aliases.values():
                continue
            if isinstance(definition, str):
                definition = {"@id": definition}
            iri = self.expand(definition["@id"])
            if "@container" in definition:
                kind = "lang" if definition["@container"] == "@language" else "other"
            else:
                kind = "type:" + self.expand(definition.get("@type", "")) if "@type" in definition else "plain"
                kind = "iri" if definition.get("@type") == "@id" else kind
            self.terms.setdefault((iri, kind), name)
        self.blank_ids: dict[str, str] = {}

    def expand(self, name: str) -> str:
        prefix, sep, local = name.partition(":")
        return self.prefixes[prefix] + local if sep and prefix in self.prefixes else name

    def iri(self, iri: str) -> str:
        best = ""
        for prefix, namespace in self.prefixes.items():
            if (
                iri.startswith(namespace)
                and len(iri) > len(namespace)
                and len(namespace) > len(self.prefixes.get(best, ""))
            ):
                best = prefix
        return f"{best}:{iri[len(self.prefixes[best]) :]}" if best else iri

    def node_id(self, term: object) -> str:
        if isinstance(term, ox.BlankNode):
            return self.blank_ids.setdefault(term.value, f"_:b{len(self.blank_ids)}")
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        raise ExportError(f"JSON-LD cannot hold the quoted triple {term}", hint="export this data as nq or ttl")

    def key_and_value(self, predicate: str, obj: object) -> tuple[str, object, str]:
        """(property key, JSON value, language for a language map or "")."""
        if isinstance(obj, ox.Literal):
            if obj.language:
                term = self.terms.get((predicate, "lang"))
                if term:
                    return term, obj.value, obj.language
                return self.iri(predicate), {"@value": obj.value, "@language": obj.language}, ""
            datatype = obj.datatype.value
            term = self.terms.get((predicate, "type:" + datatype))
            if term is None and datatype == PREFIXES["xsd"] + "string":
                term = self.terms.get((predicate, "plain"))
                if term:
                    return term, obj.value, ""
            if term:
                return term, obj.value, ""
            if datatype == PREFIXES["xsd"] + "string":
                return self.iri(predicate), obj.value, ""
            return self.iri(predicate), {"@value": obj.value, "@type": self.iri(datatype)}, ""
        term = self.terms.get((predicate, "iri"))
        if term:
            return term, self.node_id(obj), ""
        return self.iri(predicate), {"@id": self.node_id(obj)}, ""

    def nodes(self, triples: Iterable[ox.Triple]) -> list[dict]:
        subjects: dict[str, dict] = {}
        type_key = self.aliases.get("@type", "@type")
        id_key = self.aliases.get("@id", "@id")
        for triple in triples:
            node = subjects.setdefault(self.node_id(triple.subject), {})
            predicate = triple.predicate.value
            if predicate == PREFIXES["rdf"] + "type" and not isinstance(triple.object, ox.Literal):
                node.setdefault(type_key, []).append(self.node_id(triple.object))
                continue
            key, value, language = self.key_and_value(predicate, triple.object)
            if language:
                node.setdefault(key, {}).setdefault(language, []).append(value)
            else:
                node.setdefault(key, []).append(value)
        result = []
        for node_id in sorted(subjects):
            node = {id_key: node_id}
            for key in sorted(subjects[node_id]):
                node[key] = _single_or_list(subjects[node_id][key])
            result.append(node)
        return result


def _single_or_list(values: list | dict) -> object:
    if isinstance(values, dict):
        return {language: _single_or_list(v) for language, v in sorted(values.items())}
    ordered = sorted(values, key=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))
    return ordered[0] if len(ordered) == 1 else ordered


def export_jsonld(store: ox.Store) -> bytes:
    """The union of all graphs as compacted JSON-LD, with the published @context inlined."""
    context = load_context()
    document = {"@context": context, "@graph": _Compactor(context).nodes(union_triples(store))}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


# ---------------------------------------------------------------- tracker layouts

# The two periods the knowledge base covers; the daily table runs over the measures' dates inside each, never between.
PERIODS = ((date(2020, 1, 1), date(2020, 2, 29)), (date(2022, 11, 1), date(2022, 12, 31)))
ANNOUNCED_START = "announced"
# CoronaNet's update_type from the link's effect, update_level from its direction.
UPDATE_TYPES = {"ends": "End of Policy", "replaces": "Change of Policy", "amends": "Change of Policy", "restates": ""}
UPDATE_LEVELS = {"relaxes": "Relaxing", "tightens": "Strengthening"}


def measure_id(iri: str | None) -> str:
    """A measure's id in the tracker layouts: its IRI without the measure namespace."""
    if not iri:
        return ""
    return iri[len(PREFIXES["measure"]) :] if iri.startswith(PREFIXES["measure"]) else iri


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _period_of(day: date) -> int | None:
    return next((i for i, (first, last) in enumerate(PERIODS) if first <= day <= last), None)


def tracker_days(store: ox.Store) -> list[date]:
    """Each period's days from the first to the last date any measure has in it (announced, start or end)."""
    dates: dict[int, list[date]] = defaultdict(list)
    for record in _named(store, "measures").records():
        for column in ("announced", "in_force_from", "in_force_until"):
            day = _day(record[column])
            period = None if day is None else _period_of(day)
            if day is not None and period is not None:
                dates[period].append(day)
    days: list[date] = []
    for period in sorted(dates):
        first, last = min(dates[period]), max(dates[period])
        days.extend(first + timedelta(n) for n in range((last - first).days + 1))
    return days


@dataclass(frozen=True)
class Support:
    """A measure supporting an indicator level in a place over one span of days it is in force or presumed so."""

    measure: str
    level: int
    start: date
    until: date | None
    from_announcement: bool

    def in_force(self, day: date) -> bool:
        if day < self.start or _period_of(day) != _period_of(self.start):
            return False
        return self.until is None or day <= self.until


def oxcgrt_table(store: ox.Store) -> tuple[list[str], list[list[str]]]:
    """A daily row per place: each indicator's derived level and the ids of the measures that justify it."""
    codes = [(r["indicator"] or "", r["code"] or "") for r in _named(store, "export-oxcgrt-indicators").records()]
    supports: dict[tuple[str, str], list[Support]] = defaultdict(list)
    for record in _named(store, "export-oxcgrt").records():
        start = _day(record["span_from"])
        if start is None or _period_of(start) is None:
            continue
        support = Support(
            measure_id(record["measure"]),
            int(record["level"] or 0),
            start,
            _day(record["span_until"]),
            record["start_basis"] == ANNOUNCED_START,
        )
        supports[(record["place"] or "", record["indicator"] or "")].append(support)
    header = ["place", "place_label_en", "place_label_zh", "date"]
    for _, code in codes:
        header += [code, f"{code}_measures"]
    header.append("start_from_announcement")
    days = tracker_days(store)
    rows = []
    for place in _named(store, "export-oxcgrt-places").records():
        iri = place["place"] or ""
        for day in days:
            row = [iri, place["label_en"] or "", place["label_zh"] or "", day.isoformat()]
            flagged: set[str] = set()
            for indicator, _ in codes:
                active = [s for s in supports.get((iri, indicator), []) if s.in_force(day)]
                if not active:
                    row += ["", ""]
                    continue
                level = max(s.level for s in active)
                justifying = sorted({s.measure for s in active if s.level == level})
                flagged.update(s.measure for s in active if s.level == level and s.from_announcement)
                row += [str(level), " ".join(justifying)]
            row.append(" ".join(sorted(flagged)))
            rows.append(row)
    return header, rows


CORONANET_HEADER = [
    "record_id",
    "policy_id",
    "entry_type",
    "update_type",
    "update_level",
    "updates",
    "change_link",
    "description",
    "description_zh",
    "date_announced",
    "date_start",
    "date_start_basis",
    "date_end",
    "date_end_basis",
    "type",
    "compliance",
    "country",
    "province",
    "target_place",
    "target_who_what",
    "link",
    "measure",
]


def coronanet_table(store: ox.Store) -> tuple[list[str], list[list[str]]]:
    """One event row per measure; an update keeps the policy_id of the measure its change links lead back to."""
    rows = []
    for record in _named(store, "export-coronanet").records():
        change = (record["change"] or "").rpartition("#")[2]
        direction = (record["direction"] or "").rpartition("#")[2]
        update_type, update_level = UPDATE_TYPES.get(change, ""), UPDATE_LEVELS.get(direction, "")
        updates = " ".join(sorted(measure_id(iri) for iri in (record["updates"] or "").split()))
        values = {
            "record_id": measure_id(record["measure"]),
            "policy_id": measure_id(record["policy"] or record["measure"]),
            "entry_type": "update" if change else "new_entry",
            "update_type": update_type,
            "update_level": update_level,
            "updates": updates,
            "change_link": change,
            "description": record["description"],
            "description_zh": record["description_zh"],
            "date_announced": record["date_announced"],
            "date_start": record["date_start"],
            "date_start_basis": record["date_start_basis"],
            "date_end": record["date_end"],
            "date_end_basis": record["date_end_basis"],
            "type": record["type"],
            "compliance": record["compliance"],
            "country": "China",
            "province": "Chongqing",
            "target_place": record["target_place"],
            "target_who_what": record["target_who_what"],
            "link": record["link_"],
            "measure": record["measure"],
        }
        rows.append([values[column] or "" for column in CORONANET_HEADER])
    return CORONANET_HEADER, rows


# ---------------------------------------------------------------- entry point


def export(store: ox.Store, fmt: str, table: str = "measures", excel: bool = False, raw_csv: bool = False) -> bytes:
    """The export in format `fmt` as the bytes of one file (CSV cells protected against formulas unless raw)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format '{fmt}'", hint=f"choose one of: {', '.join(FORMATS)}")
    if excel and fmt not in CSV_FORMATS:
        raise UsageError(f"--excel applies to CSV output, not to {fmt}", hint="leave out --excel")
    if raw_csv and fmt not in CSV_FORMATS:
        raise UsageError(f"--raw-csv applies to CSV output, not to {fmt}", hint="leave out --raw-csv")
    if table != "measures" and fmt != "csv":
        raise UsageError(f"--table applies to --format csv, not to {fmt}", hint="leave out --table")
    if fmt == "csv":
        if table not in CSV_TABLES:
            raise UsageError(f"unknown table '{table}'", hint=f"choose one of: {', '.join(CSV_TABLES)}")
        header, rows = measures_table(store) if table == "measures" else statistics_table(store)
        return csv_bytes(header, rows, excel, protect=not raw_csv)
    if fmt == "jsonld":
        return export_jsonld(store)
    if fmt == "nq":
        return export_nquads(store)
    if fmt == "ttl":
        return export_turtle(store)
    layout = oxcgrt_table(store) if fmt == "oxcgrt" else coronanet_table(store)
    return csv_bytes(*layout, excel=excel, protect=not raw_csv)

"""`kb reconcile`: a tracker's published rows for Chongqing set beside what the knowledge base derives.

OxCGRT: a daily file (fullwithnotes, compact or simplified: one row per jurisdiction and day) is compared per day and
indicator; a time-series index file (one row per jurisdiction, a column per day) per day and index; a per-indicator
time series of countries (the legacy `timeseries/c1_school_closing.csv` …, with its `c1_flag.csv` beside it) gives
China's national level, which bounds Chongqing's by the codebook's aggregation rules. CoronaNet: the
release's records for Chongqing are matched with the knowledge base's by type (and sub-type, where both give one) and
dates. Every line says whether the
two agree, disagree or the knowledge base has no evidence, with the measure and quote behind the knowledge base's side.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyoxigraph as ox

from ..errors import LoadError
from ..loader import open_table, printable
from .coronanet import coronanet_rows
from .oxcgrt import BY_CODE, INDICATORS, INDICES, Cell, chongqing_rows, compute_index, read_facts, value_column

AGREES, DISAGREES, NO_EVIDENCE, TRACKER_BLANK = "agrees", "disagrees", "no evidence", "tracker blank"
WITHIN, BELOW = "within bound", "below bound"  # a national row bounds Chongqing's level: from above, or both ways
TRACKER_SILENT = "tracker has no record"
_DAY_COLUMN = re.compile(r"^\d{2}[A-Z][a-z]{2}\d{4}$")
_INDICATOR_FILE = re.compile(r"^([ceh]\d)_(.+)\.csv$")


@dataclass(frozen=True)
class Line:
    """One comparison: the day (or record), what is compared, the verdict, both sides and the evidence."""

    day: str
    item: str
    status: str
    tracker: str
    kb: str
    evidence: str = ""


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The file's rows as dicts, with their line numbers; a file that is not CSV with a header is a clear error."""
    label = printable(str(path))
    with open_table(path) as handle:
        reader = csv.DictReader(handle)
        try:
            if not reader.fieldnames:
                raise LoadError("the file is empty", file=label, hint="give a tracker's CSV file with its header row")
            for row in reader:
                yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}
        except (csv.Error, UnicodeDecodeError) as exc:
            raise LoadError(
                f"not a readable CSV file: {exc}",
                file=label,
                line=reader.line_num,
                hint="give the CSV file as downloaded",
            ) from None


def _header(path: Path) -> list[str]:
    with open_table(path) as handle:
        try:
            return next(csv.reader(handle), [])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise LoadError(f"not a readable CSV file: {exc}", file=printable(str(path)), line=1) from None


def _in_range(day: date, first: date | None, last: date | None) -> bool:
    return (first is None or day >= first) and (last is None or day <= last)


def _level(text: str) -> int | None:
    try:
        return int(float(text)) if text.strip() else None
    except ValueError:
        return None


def _kb_side(cell: Cell | None) -> tuple[str, str]:
    if cell is None:
        return "", "outside the days the sources cover"
    if cell.level is None:
        return "", cell.note or "the sources report no measure for this indicator"
    flag = "" if cell.flag is None else f" flag {cell.flag}"
    return f"{cell.level}{flag}", cell.note


def _indicator_column(indicator_code: str, header: list[str]) -> tuple[str, str] | None:
    """The value and flag columns of an indicator in a daily file: the majority version, else everyone, else plain."""
    indicator = BY_CODE[indicator_code]
    candidates = [value_column(indicator, "M"), value_column(indicator, "E"), f"{indicator.code}_{indicator.name}"]
    for column in candidates:
        if column in header:
            prefix = column.split("_", 1)[0]
            return column, f"{prefix}_Flag"
    return None


def reconcile_oxcgrt(store: ox.Store, path: Path, first: date | None = None, last: date | None = None) -> list[Line]:
    """Chongqing's published rows beside the knowledge base's, per day and indicator (or index)."""
    header = _header(path)
    facts = read_facts(store)
    ours = {day: cells for day, cells, _ in chongqing_rows(facts)}
    if first is None and last is None:
        covered = sorted(ours)
        first, last = (covered[0], covered[-1]) if covered else (None, None)
    if "Date" in header and "RegionCode" in header:
        return _daily(path, header, ours, first, last)
    if "RegionCode" in header and any(_DAY_COLUMN.match(column) for column in header):
        return _timeseries(path, header, ours, first, last)
    if "country_code" in header and any(_DAY_COLUMN.match(column) for column in header):
        return _national(path, header, ours, first, last)
    raise LoadError(
        "not an OxCGRT file: no Date and RegionCode columns, and no day columns such as 01Jan2020",
        file=printable(str(path)),
        line=1,
        hint=(
            "give a file of OxCGRT/covid-policy-dataset: a daily file (compact, fullwithnotes) or a timeseries file, "
            "or a national per-indicator series such as c1_school_closing.csv with its flag file beside it"
        ),
    )


def _is_chongqing(row: dict[str, str]) -> bool:
    return row.get("RegionCode") == "CHN_CQ" and row.get("Jurisdiction", "STATE_TOTAL") == "STATE_TOTAL"


def _daily(
    path: Path, header: list[str], ours: dict[date, dict[str, Cell]], first: date | None, last: date | None
) -> list[Line]:
    lines: list[Line] = []
    columns = {ind.code: _indicator_column(ind.code, header) for ind in INDICATORS if ind.max_level}
    for _, row in _rows(path):
        if not _is_chongqing(row):
            continue
        try:
            day = datetime.strptime(row.get("Date", ""), "%Y%m%d").date()
        except ValueError:
            continue
        if not _in_range(day, first, last):
            continue
        cells = ours.get(day)
        for code, found in columns.items():
            if found is None:
                continue
            value_col, flag_col = found
            theirs = _level(row.get(value_col, ""))
            their_flag = row.get(flag_col, "").strip()
            tracker = "" if theirs is None else f"{theirs}" + (f" flag {their_flag}" if their_flag else "")
            cell = None if cells is None else cells[code]
            kb, evidence = _kb_side(cell)
            if theirs is None:
                status = TRACKER_BLANK
            elif cell is None or cell.level is None:
                status = NO_EVIDENCE
            else:
                same_flag = cell.flag is None or not their_flag or str(cell.flag) == their_flag
                status = AGREES if cell.level == theirs and same_flag else DISAGREES
            lines.append(Line(day.isoformat(), code, status, tracker, kb, evidence))
        lines += _index_lines(day, row, cells)
    return lines


def _index_lines(day: date, row: dict[str, str], cells: dict[str, Cell] | None) -> list[Line]:
    lines = []
    for name in INDICES:
        column = next(
            (c for c in (f"{name}_Average", f"{name}_SimpleAverage", name, f"{name}ForDisplay") if c in row), None
        )
        if column is None:
            continue
        lines.append(_index_line(day, name, row[column], cells))
    return lines


def _index_line(day: date, name: str, published: str, cells: dict[str, Cell] | None) -> Line:
    try:
        theirs = float(published) if published.strip() else None
    except ValueError:
        theirs = None
    if cells is None:
        return Line(day.isoformat(), name, NO_EVIDENCE, published, "", "outside the days the sources cover")
    levels = {code: (cell.level, cell.flag) for code, cell in cells.items() if cell.level is not None}
    value = compute_index(name, levels)
    known = ", ".join(code for code in INDICES[name] if code in levels) or "none"
    if theirs is None:
        return Line(
            day.isoformat(), name, TRACKER_BLANK, published, "" if value.value is None else f"{value.value:.2f}"
        )
    if value.value is not None:
        status = AGREES if abs(value.value - theirs) < 0.01 else DISAGREES
        return Line(day.isoformat(), name, status, f"{theirs:.2f}", f"{value.value:.2f}", f"components: {known}")
    consistent = "within" if value.partial <= theirs + 0.005 else "above"
    evidence = (
        f"{value.known} of {value.components} indicators have a level ({known}); they contribute {value.partial:.2f}, "
        f"{consistent} the published value"
    )
    return Line(day.isoformat(), name, NO_EVIDENCE, f"{theirs:.2f}", "", evidence)


def _timeseries(
    path: Path, header: list[str], ours: dict[date, dict[str, Cell]], first: date | None, last: date | None
) -> list[Line]:
    name = next((n for n in INDICES if n in path.name), None)
    if name is None:
        raise LoadError(
            "cannot tell which index this time series holds",
            file=printable(str(path)),
            hint="keep the published file name, e.g. OxCGRT_timeseries_StringencyIndex_v1.csv",
        )
    lines = []
    for _, row in _rows(path):
        if not _is_chongqing(row):
            continue
        for column in header:
            if not _DAY_COLUMN.match(column):
                continue
            day = datetime.strptime(column, "%d%b%Y").date()
            if _in_range(day, first, last):
                lines.append(_index_line(day, name, row.get(column, ""), ours.get(day)))
    return lines


def _national_row(path: Path) -> dict[str, str]:
    return next((row for _, row in _rows(path) if row.get("country_code") == "CHN"), {})


def national_verdict(code: str, kb: int | None, theirs: int | None, flag: str) -> tuple[str, str]:
    """What China's national level (and flag) says of Chongqing's, and whether the knowledge base's level fits.

    The national row reports "the most stringent government policy" anywhere in China, with flag 0 when it is
    targeted and 1 when general, so Chongqing's level is at most the national one, and equal to it when the flag is 1;
    an indicator without a geographic flag reports the value that applies everywhere, so Chongqing's is at least it.
    """
    if theirs is None:
        return TRACKER_BLANK, ""
    if not BY_CODE[code].geographic:
        bound, low, high = f"Chongqing ≥ {theirs} (China's common value)", theirs, None
    elif theirs == 0 or flag == "1":
        bound, low, high = f"Chongqing = {theirs} (China's level is general)", theirs, theirs
    else:
        bound, low, high = f"Chongqing ≤ {theirs} (China's level is targeted)", None, theirs
    if kb is None:
        return NO_EVIDENCE, bound
    if high is not None and kb > high:
        return DISAGREES, bound
    if low is not None and kb < low:
        return BELOW, bound
    return (AGREES if low == high else WITHIN), bound


def _national(
    path: Path, header: list[str], ours: dict[date, dict[str, Cell]], first: date | None, last: date | None
) -> list[Line]:
    found = _INDICATOR_FILE.match(path.name)
    code = found.group(1).upper() if found else ""
    if code not in BY_CODE or not BY_CODE[code].max_level or found is None or found.group(2) == "flag":
        raise LoadError(
            "cannot tell which indicator this time series holds",
            file=printable(str(path)),
            hint="give an indicator's file under its published name, e.g. c7_movementrestrictions.csv "
            "(its flag file, c7_flag.csv, is read from beside it)",
        )
    row = _national_row(path)
    flag_path = path.with_name(f"{found.group(1)}_flag.csv")
    flags = _national_row(flag_path) if flag_path.exists() else {}
    lines = []
    for column in header:
        if not _DAY_COLUMN.match(column):
            continue
        day = datetime.strptime(column, "%d%b%Y").date()
        if not _in_range(day, first, last) or not row:
            continue
        theirs = _level(row.get(column, "").replace("NA", ""))
        flag = flags.get(column, "").replace("NA", "").strip()
        cells = ours.get(day)
        cell = None if cells is None else cells[code]
        kb, evidence = _kb_side(cell)
        status, bound = national_verdict(code, None if cell is None else cell.level, theirs, flag)
        tracker = "" if theirs is None else f"China {theirs}" + (f" flag {flag}" if flag else "")
        lines.append(Line(day.isoformat(), code, status, tracker, kb, f"{bound}; {evidence}" if bound else evidence))
    return lines


# ---------------------------------------------------------------- CoronaNet


def _span(record: dict[str, str]) -> tuple[date, date] | None:
    try:
        start = date.fromisoformat(record["date_start"][:10])
    except (KeyError, ValueError):
        return None
    try:
        end = date.fromisoformat(record.get("date_end", "")[:10])
    except ValueError:
        end = date.max
    return start, end


def _about_chongqing(record: dict[str, str]) -> bool:
    return record.get("province") == "Chongqing" or "Chongqing" in record.get("target_province", "").split(",")


def reconcile_coronanet(store: ox.Store, path: Path, first: date | None = None, last: date | None = None) -> list[Line]:
    """The release's Chongqing records beside the knowledge base's, matched by type and overlapping dates."""
    header = _header(path)
    if not {"record_id", "type", "date_start"} <= set(header):
        raise LoadError(
            "not a CoronaNet release file: no record_id, type and date_start columns",
            file=printable(str(path)),
            line=1,
            hint="give a file of CoronaNetDataScience/corona_tscs, e.g. coronanet_release_China.csv",
        )
    ours = [row for row in coronanet_rows(store) if row.get("province") == "Chongqing" and _span(row)]
    spans = [s for s in (_span(row) for row in ours) if s]
    first = first or (min(s[0] for s in spans) if spans else None)
    last = last or (max(s[0] for s in spans) if spans else None)
    theirs = []
    for _, record in _rows(path):
        span = _span(record)
        if span and _about_chongqing(record) and _overlaps(span, first, last):
            theirs.append((record, span))
    lines = []
    matched: set[str] = set()
    for row in ours:
        span = _span(row)
        assert span is not None
        hits = [
            r
            for r, s in theirs
            if r.get("type") == row["type"] and _same_sub_type(r, row) and s[0] <= span[1] and span[0] <= s[1]
        ]
        matched.update(r.get("record_id", "") for r in hits)
        tracker = ", ".join(sorted(r.get("record_id", "") for r in hits)[:3])
        evidence = f"“{row['description']}” {row['link']}"
        lines.append(
            Line(
                row["date_start"], row["type"], AGREES if hits else TRACKER_SILENT, tracker, row["record_id"], evidence
            )
        )
    for record, span in theirs:
        if record.get("record_id", "") in matched:
            continue
        evidence = (record.get("description", "")[:160]).replace("\n", " ")
        lines.append(
            Line(span[0].isoformat(), record.get("type", ""), NO_EVIDENCE, record.get("record_id", ""), "", evidence)
        )
    return sorted(lines, key=lambda line: (line.day, line.item, line.kb))


def _same_sub_type(theirs: dict[str, str], ours: dict[str, str]) -> bool:
    """Records of one type match unless both name a sub-type and the two differ."""
    a, b = theirs.get("type_sub_cat", ""), ours.get("type_sub_cat", "")
    return not a or not b or a == b


def _overlaps(span: tuple[date, date], first: date | None, last: date | None) -> bool:
    return (first is None or span[1] >= first) and (last is None or span[0] <= last)

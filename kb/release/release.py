"""`kb release VERSION`: one folder with everything a user of this version needs, and what changed since the last.

The folder holds the knowledge base as N-Quads (one graph per file), Turtle and JSON-LD (the exporters of
kb/export/), the CSV tables with a Frictionless `datapackage.json` (typed columns, so pandas and R read dates
as dates and values as numbers), the timeline page (kb/timeline/), the DCAT/VoID description (describe.py),
CITATION.cff with this version and date, CHANGES.md — the data changelog, from `kb diff` against the previous
release — and SHA256SUMS over all of them. It is written beside its destination and renamed into place at the
end, so a failed release leaves nothing behind; an existing release folder is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from ..errors import ReleaseError, UsageError
from ..export import (
    CSV_TABLES,
    csv_bytes,
    export_jsonld,
    export_nquads,
    export_turtle,
    measures_table,
    statistics_table,
)
from ..project import Project
from ..timeline import write_timeline
from .describe import DATASET, LICENCE, FileEntry, describe_release
from .diff import Diff, format_text

VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}")
NAME = "cq-covid-kb"
CITATION = "CITATION.cff"
MEDIA = {
    ".nq": "application/n-quads",
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
    ".csv": "text/csv",
    ".json": "application/json",
    ".html": "text/html",
    ".md": "text/markdown",
    ".cff": "application/x-yaml",
}
# Column types of the CSV tables (Frictionless Table Schema); every other column is a string. A column holding
# one IRI per row is a string in the "uri" format; columns joining several values with " | " are plain strings.
DATE_COLUMNS = {"announced", "in_force_from", "in_force_until", "effective_from", "effective_until", "ref_date"}
NUMBER_COLUMNS = {"value"}
IRI_COLUMNS = {
    "measure",
    "observation",
    "strength",
    "statistic",
    "area",
    "unit",
    "announced_at",
    "announced_kind",
    "in_force_from_kind",
    "in_force_until_kind",
    "ref_date_kind",
}


@dataclass(frozen=True)
class ReleaseResult:
    """What `kb release` wrote: the folder, its files, and the data changes since the previous release."""

    folder: Path
    files: list[FileEntry]
    previous: str | None
    diff: Diff | None


def check_version(version: str) -> None:
    if not VERSION_RE.fullmatch(version):
        raise UsageError(
            f"{version!r} is not a version name", hint="letters, digits and . + _ - (e.g. 1.0.0 or 2024.1), at most 64"
        )


def field_schema(name: str) -> dict[str, str]:
    """The Table Schema field of one CSV column."""
    if name in DATE_COLUMNS:
        return {"name": name, "type": "date"}
    if name in NUMBER_COLUMNS:
        return {"name": name, "type": "number"}
    if name in IRI_COLUMNS:
        return {"name": name, "type": "string", "format": "uri"}
    return {"name": name, "type": "string"}


def _tables(store: ox.Store) -> dict[str, tuple[list[str], list[list[str | None]]]]:
    makers = {"measures": measures_table, "statistics": statistics_table}
    return {name: makers[name](store) for name in CSV_TABLES}


def _citation(project: Project, version: str, issued: date) -> bytes | None:
    """The top-level CITATION.cff with this release's version and date (top-level keys replaced line by line)."""
    path = project.root / CITATION
    if not path.is_file():
        return None
    lines = path.read_text("utf-8").splitlines()
    wanted = {"version": f'version: "{version}"', "date-released": f'date-released: "{issued.isoformat()}"'}
    out = []
    for line in lines:
        key = line.split(":", 1)[0]
        out.append(wanted.pop(key) if key in wanted and not line.startswith((" ", "-")) else line)
    out.extend(wanted.values())
    return ("\n".join(out) + "\n").encode("utf-8")


def changelog(version: str, issued: date, previous: str | None, diff: Diff | None) -> bytes:
    """CHANGES.md: the data changes since the previous release, and the lines for CHANGELOG.md's "Data" section."""
    lines = [f"# Data changes in {version} ({issued.isoformat()})", ""]
    if diff is None:
        lines += ["First release: there is no previous release to compare with.", ""]
    else:
        counts = diff.counts()
        lines += [
            f"Compared with the previous release ({previous}) by `kb diff {previous}`: the graphs, not the text, so",
            "reformatting and reordering are no change. Derived effective periods are included.",
            "",
            "## For CHANGELOG.md",
            "",
            "### Data",
            f"- {counts['changed']} subjects changed, {counts['added']} added, {counts['removed']} removed since "
            f"{previous} (the release's CHANGES.md lists each field).",
            "",
            "## Every change",
            "",
            "```",
            format_text(diff).rstrip("\n"),
            "```",
            "",
        ]
    return "\n".join(lines).encode("utf-8")


def _datapackage(version: str, issued: date, tables: dict, files: list[FileEntry]) -> bytes:
    resources = []
    for entry in files:
        resource: dict[str, object] = {
            "name": entry.name.replace(".", "-").lower(),
            "path": entry.name,
            "mediatype": entry.media_type,
            "bytes": entry.size,
            "hash": f"sha256:{entry.sha256}",
        }
        stem = entry.name.removesuffix(".csv")
        if entry.name.endswith(".csv") and stem in tables:
            header = tables[stem][0]
            resource.update(
                {
                    "name": stem,
                    "profile": "tabular-data-resource",
                    "format": "csv",
                    "encoding": "utf-8",
                    "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
                    "schema": {
                        "fields": [field_schema(name) for name in header],
                        "primaryKey": [header[0]],
                        "missingValues": [""],
                    },
                }
            )
        resources.append(resource)
    package = {
        "profile": "data-package",
        "name": NAME,
        "id": f"{DATASET}/{version}",
        "title": "Chongqing COVID-19 policy knowledge base",
        "description": "Every COVID-19 measure, policy document, announcement and statistic in five newspaper "
        "articles about Chongqing, each with its source and verbatim quote. Empty cells are values the sources "
        "do not state. A text cell starting with = + - @ has a ' put before it (spreadsheet formula protection).",
        "version": version,
        "created": f"{issued.isoformat()}T00:00:00Z",
        "licenses": [{"name": "CC-BY-4.0", "path": LICENCE, "title": "Creative Commons Attribution 4.0"}],
        "resources": resources,
    }
    return (json.dumps(package, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _entry(folder: Path, name: str) -> FileEntry:
    data = (folder / name).read_bytes()
    return FileEntry(name, MEDIA[Path(name).suffix], len(data), hashlib.sha256(data).hexdigest())


def write_release(
    store: ox.Store,
    project: Project,
    version: str,
    folder: Path,
    issued: date,
    previous: str | None = None,
    diff: Diff | None = None,
    base_url: str | None = None,
    endpoint: str | None = None,
) -> ReleaseResult:
    """Write the release folder; `diff` is what changed since the previous release (None for a first release)."""
    check_version(version)
    if folder.exists():
        raise ReleaseError(f"{folder} already exists", hint="a release is never overwritten: give a new folder with -o")
    parent = folder.resolve().parent
    if not parent.is_dir():
        raise ReleaseError(f"folder {parent} does not exist", hint="create it first")
    fresh = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.new."))
    try:
        written = {
            f"{NAME}.nq": export_nquads(store),
            f"{NAME}.ttl": export_turtle(store),
            f"{NAME}.jsonld": export_jsonld(store),
        }
        tables = _tables(store)
        for name, (header, rows) in tables.items():
            written[f"{name}.csv"] = csv_bytes(header, rows)
        written["CHANGES.md"] = changelog(version, issued, previous, diff)
        citation = _citation(project, version, issued)
        if citation is not None:
            written[CITATION] = citation
        for name, data in written.items():
            (fresh / name).write_bytes(data)
        write_timeline(store, project, fresh / "timeline.html")
        files = [_entry(fresh, name) for name in [*written, "timeline.html"]]
        (fresh / "datapackage.json").write_bytes(_datapackage(version, issued, tables, files))
        files.append(_entry(fresh, "datapackage.json"))
        url = base_url or f"{DATASET}/{version}/"
        (fresh / "void.ttl").write_bytes(describe_release(store, version, issued, files, url, endpoint))
        files.append(_entry(fresh, "void.ttl"))
        sums = "".join(f"{entry.sha256}  {entry.name}\n" for entry in sorted(files, key=lambda e: e.name))
        (fresh / "SHA256SUMS").write_text(sums, "utf-8")
        fresh.chmod(0o755)
        fresh.rename(folder)
    except OSError as exc:
        raise ReleaseError(f"cannot write the release in {folder}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return ReleaseResult(folder, files, previous, diff)

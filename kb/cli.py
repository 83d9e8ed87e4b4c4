"""The `kb` command: parses options, calls one function, prints what comes back.

This is the only module that prints or exits. Heavy libraries (rdflib, pyshacl, jinja2) are imported
inside the commands that need them, so `kb query` starts fast.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import KbError
from .media import QUERY_FORMATS

if TYPE_CHECKING:  # for annotations only: the commands import what they use when they run
    import pyoxigraph as ox

    from .project import Project
    from .validate import Finding

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Context:
    def __init__(self, root: str | None) -> None:
        self.root = root

    def project(self) -> Project:
        from .project import find_project

        return find_project(self.root)


def _fail(error: KbError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


class _Group(click.Group):
    """Turns the project's own errors into clean messages with their exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KbError as error:
            _fail(error)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def _progress(enabled: bool) -> Callable[[str, int, int], None] | None:
    if not enabled:
        return None

    def report(name: str, index: int, total: int) -> None:
        click.echo(f"[{index}/{total}] {name}", err=True)

    return report


DEFAULT_WIDTH = 100
# --full-width of the commands that print aligned tables (kb query, kb build, kb stats): tables fit the terminal.
_full_width = click.option(
    "--full-width",
    is_flag=True,
    help="Print table cells whole, however wide the table gets (default: fit the terminal, $COLUMNS or "
    f"{DEFAULT_WIDTH} columns when not a terminal, cutting long cells with …).",
)


def _table_format(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The --format option of the commands that print tables (kb stats, kb terms)."""
    return click.option(
        "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True, help=help
    )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kb")
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    envvar="KB_ROOT",
    help="Knowledge base folder (with ontology/ and facts/). Default: found from the working directory.",
)
@click.pass_context
def main(ctx: click.Context, root: str | None) -> None:
    """Chongqing COVID-19 policy knowledge base: build, query and validate facts with their evidence."""
    from .fsio import report_waits

    ctx.obj = _Context(root)
    report_waits(lambda message: click.echo(message, err=True))


@main.command()
@click.option("--force", is_flag=True, help="Rebuild even if no input file changed.")
@click.option(
    "--progress/--no-progress", default=None, help="Show each file as it loads (default: when stderr is a terminal)."
)
@_full_width
@click.pass_obj
def build(obj: _Context, force: bool, progress: bool | None, full_width: bool) -> None:
    """Compile ontology/ and facts/ into the persistent store and print what it holds.

    The store (in .kb/) is rebuilt automatically by every command when an input file changes;
    run this to build ahead of time or to see the counts.

    Builds run one at a time: a build that finds another one running says so on stderr and waits for
    it, up to $KB_LOCK_TIMEOUT seconds (default 300; 0 fails at once), then exits 2. Each build is
    published in one atomic step, so a command reading the store meanwhile sees the old or the new
    store, never a mix; folders left by an interrupted build are removed by the next one.
    """
    from .query import format_table, get_named_query, run_query
    from .store import build as build_store
    from .store import open_store

    project = obj.project()
    show = sys.stderr.isatty() if progress is None else progress
    result = build_store(project, force=force, progress=_progress(show))
    state = "built" if result.rebuilt else "up to date"
    click.echo(f"store {state}: {result.files} files, {result.triples} triples ({project.relative(project.state_dir)})")
    counts = run_query(open_store(project), get_named_query("counts-by-class").text)
    click.echo(format_table(counts, None if full_width else _terminal_width()), nl=False)


def _terminal_width() -> int:
    """How wide tables may be: the terminal's width, else $COLUMNS, else DEFAULT_WIDTH (at least 20)."""
    import os
    import shutil

    if sys.stdout.isatty():
        return max(20, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    columns = os.environ.get("COLUMNS", "")
    return max(20, int(columns)) if columns.isdigit() else DEFAULT_WIDTH


def _echo_wrapped(text: str, width: int | None, indent: str, margin: int = 0) -> None:
    """Print `text` whole, wrapped to `width` (not at all when None), `margin` spaces before its first line."""
    from .query.results import wrap

    first = " " * margin
    click.echo("\n".join(wrap(text, width, indent, first)) if width else first + text)


def _looks_inline(text: str) -> bool:
    return any(c.isspace() for c in text.strip()) or "{" in text


@main.command()
@click.argument("query", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.Path(dir_okay=False),
    help="Read the SPARQL from a file ('-' for standard input).",
)
@click.option(
    "--list", "list_queries", is_flag=True, help="List the questions (named queries) with descriptions and parameters."
)
@click.option(
    "--all",
    "list_all",
    is_flag=True,
    help="With --list: also the integrity checks, summaries and the feeds of the timeline and the exports.",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Bind ?NAME to VALUE (a date, number, prefix:name, <iri> or text). Repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUERY_FORMATS),
    default="table",
    show_default=True,
    help="Output for SELECT/ASK (json is SPARQL 1.1 Results JSON); CONSTRUCT/DESCRIBE print Turtle. "
    "csv and tsv are written exactly, for programs; for a spreadsheet use kb export (formula cells neutralised).",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="Run the query on a remote SPARQL 1.1 endpoint (e.g. http://127.0.0.1:7878/query) instead of the local store.",
)
@_full_width
@click.pass_obj
def query(
    obj: _Context,
    query: str | None,
    query_file: str | None,
    list_queries: bool,
    list_all: bool,
    params: tuple[str, ...],
    fmt: str,
    endpoint: str | None,
    full_width: bool,
) -> None:
    """Run SPARQL: a named query such as `measures`, inline text, or a file.

    Common prefixes (cq:, measure:, place:, rdfs:, xsd:, …) are pre-bound, and the query sees the
    union of all graphs. A malformed query exits with 2, and so does a missing required parameter (the
    message names it with an example) or a parameter naming a measure, place, document, agent … that the
    local store does not hold ("no such measure …", with the nearest names). A query text whose header
    declares parameters (`# param: ?x`, as in kb/queries/) has them checked too.

    Tables fit the terminal: the widest columns are cut (… marks a cut cell and the last line says so), or,
    when there are too many columns for that, each row is printed as a record with its values wrapped.

    The first answer of a full table (a named question or feed without parameters, such as `measures`) is
    kept with the build and later answers of the same build read it back, in CSV, TSV and JSON a row at
    a time; a rebuilt store answers afresh.
    """
    from .errors import QueryError
    from .query import (
        catalogue,
        check_params,
        check_terms,
        declared_params,
        format_result,
        get_named_query,
        named_queries,
        parse_params,
        run_query,
    )
    from .store import open_store

    width = None if full_width else _terminal_width()
    if list_all and not list_queries:
        raise QueryError("--all goes with --list", hint="kb query --list --all")
    if list_queries:
        for listed in (catalogue() if list_all else named_queries()).values():
            kind = f"[{listed.kind}] " if list_all and listed.kind != "question" else ""
            _echo_wrapped(f"{listed.name}: {kind}{listed.description}", width, " " * 4)
            for param in listed.params:
                optional = "" if param.required else " (optional)"
                _echo_wrapped(f"--param {param.name}=…{optional}: {param.description}", width, " " * 8, 4)
        return
    bindings = parse_params(params)
    named = None
    if query_file is not None:
        if query is not None:
            raise QueryError("give a query or --file, not both")
        try:
            text = sys.stdin.read() if query_file == "-" else Path(query_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"cannot read query file {query_file}: {exc}") from None
    elif query is None:
        raise QueryError("no query given", hint="name one (kb query --list), give SPARQL text, or use --file")
    elif _looks_inline(query):
        text = query
    else:
        named = get_named_query(query)
        text = named.text
    declared = named or declared_params(text)
    if declared is not None:
        check_params(declared, bindings)
    if endpoint:
        from .remote import query_remote

        result = query_remote(endpoint, text, bindings)
    else:
        store = open_store(obj.project())
        check_terms(store, bindings)
        if _stream_kept(store, text, bindings, fmt):
            return
        result = run_query(store, text, bindings)
    click.echo(format_result(result, fmt, width), nl=False)


def _stream_kept(store: ox.Store, text: str, bindings: dict[str, str], fmt: str) -> bool:
    """Write a full table kept by an earlier answer a row at a time as it is read (kb/query/tables.py), in the
    formats that allow it; False when there is none, and the query is answered as usual."""
    from .errors import QueryError
    from .query.results import STREAMED, select_chunks
    from .query.tables import kept_stream

    table = kept_stream(store, text, bindings) if fmt in STREAMED else None
    if table is None:
        return False
    try:
        for chunk in select_chunks(table.variables, table.rows(), fmt):
            click.echo(chunk, nl=False)
    except (ValueError, OSError) as exc:  # a file whose checksum held but whose rows do not: written by a bug
        table.path.unlink(missing_ok=True)  # the next answer runs on the store and keeps a good one
        raise QueryError(
            f"the kept answer {table.path} broke off after part of its rows: {exc}",
            hint="it is removed; run the query again (it runs on the store)",
        ) from None
    return True


def _finding_line(finding: Finding) -> str:
    where = f"{finding.file}:{finding.line}" if finding.file else "-"
    if finding.file and not finding.line:
        where = f"{finding.file} (line unknown)"
    elif finding.file and finding.column:
        where += f":{finding.column}"
    text = f"{finding.severity:<9} {where}  {finding.subject or '-'}  {finding.property or '-'}  {finding.message}"
    if finding.message_zh:
        text += f" / {finding.message_zh}"
    if finding.hint:
        text += f"\n          hint: {finding.hint}"
    return text


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "ttl"]),
    default="text",
    show_default=True,
    help="text: one finding per line; json: {conforms, findings}; ttl: the SHACL validation report graph (Turtle).",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "compiled", "pyshacl", "turbo"]),
    default="auto",
    show_default=True,
    help="SHACL engine: compiled (the shapes evaluated on the store; same findings, proven by tests; fastest), "
    "pyshacl (the reference), pyshacl-turbo (same findings; a Rust core), or auto: compiled.",
)
@click.pass_obj
def validate(obj: _Context, files: tuple[str, ...], fmt: str, engine: str) -> None:
    """Check facts against the shapes, their quotes against the sources, and the integrity queries.

    With FILES (new or changed fact files), they are checked in the context of the knowledge base in
    the store: their references to places, documents, agents and measures resolve, a subject that
    another file describes with other values is reported, and only their findings are listed.

    Each finding gives its severity, file:line, subject, property, a message in English and Chinese
    and a hint.

    Without FILES, the rows of the *-violation checks (each one that ran as its own query) are kept with
    the build (checked.json in its snapshot), when its folder can be written: the next kb validate of the
    same build reuses them (it says so on stderr), and kb query and kb serve answer those checks from
    them. A rebuilt store has none until it is validated again.

    \b
    Exit 0 when everything conforms (warnings allowed),
         1 when there are violations,
         2 when a file cannot be read or parsed, or the command is misused.
    """
    from .validate import validate_files

    project = obj.project()
    report = validate_files(project, [Path(f) for f in files] or None, engine=engine)
    if report.reused:  # on stderr: the findings on stdout are the same either way
        click.echo(f"{len(report.reused)} checks' rows reused from an earlier kb validate of this build", err=True)
    if fmt == "json":
        click.echo(
            json.dumps(
                {"conforms": report.conforms, "findings": [f.as_dict() for f in report.findings]},
                ensure_ascii=False,
                indent=1,
            )
        )
    elif fmt == "ttl":
        click.echo(report.shacl_report.decode("utf-8"), nl=False)
    else:
        for finding in report.findings:
            click.echo(_finding_line(finding))
        verdict = "conforms" if report.conforms else "does not conform"
        click.echo(
            f"{report.count('violation')} violations, {report.count('warning')} warnings in "
            f"{len(report.files)} files: {verdict}"
        )
    sys.exit(EXIT_OK if report.conforms else EXIT_FINDINGS)


@main.command()
@_table_format("Output format of the tables.")
@_full_width
@click.pass_obj
def stats(obj: _Context, fmt: str, full_width: bool) -> None:
    """Summarise the knowledge base: counts by class, source article, category, month and strength.

    Tables fit the terminal (the widest columns cut, … marking a cut cell), unless --full-width.
    """
    from .query import format_csv, format_table
    from .stats import compute_stats
    from .store import open_store

    summary = compute_stats(open_store(obj.project()))
    if fmt == "json":
        data = {title: result.records() for title, result in summary.tables.items()}
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    for title, result in summary.tables.items():
        if fmt == "csv":
            click.echo(f"# {title}")
            click.echo(format_csv(result), nl=False)
        else:
            click.echo(f"== {title}")
            click.echo(format_table(result, None if full_width else _terminal_width()))


TERM_LISTS = ("categories", "targets", "quantities", "statistics", "units", "strengths", "date-kinds")


@main.command()
@click.argument("which", required=False, type=click.Choice(TERM_LISTS))
@_table_format("table: aligned text; csv: full IRIs; json: a list of records.")
@click.pass_obj
def terms(obj: _Context, which: str | None, fmt: str) -> None:
    """List the vocabulary a fact may use, with Chinese and English labels (default: every list).

    \b
    categories  measure categories (cq:category)
    targets     target groups (cq:targetGroup), with the other Chinese names a quote may use
    quantities  quantity kinds of parameters (cq:quantityKind)
    statistics  statistic types (cq:statistic)
    units       the QUDT units of ontology/units.ttl (cq:unit)
    strengths   strengths (cq:strength)
    date-kinds  how a date is known (cq:announcedKind, cq:inForceFromKind, …)

    The terms come from the ontology in the store. A term that is missing is a change to the ontology,
    proposed to its maintainers; a fact file never declares one.
    """
    from .query import format_csv, format_table, get_named_query, run_query
    from .store import open_store

    result = run_query(open_store(obj.project()), get_named_query("terms").text, {"list": which} if which else None)
    if fmt == "json":
        click.echo(json.dumps(result.records(), ensure_ascii=False, indent=1))
    else:
        click.echo((format_csv if fmt == "csv" else format_table)(result), nl=False)


# Further commands (timeline, export, fmt, new, serve, push) are defined below, one block each.


@main.command()
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["csv", "jsonld", "nq", "ttl", "oxcgrt", "coronanet"]),
    help="csv: one row per measure (or --table statistics); jsonld: compacted with the published @context; "
    "nq: N-Quads, one graph per file; ttl: the union as Turtle; oxcgrt: Chongqing's daily rows in the columns of the "
    "published OxCGRT files (CSV); coronanet: policy records in the columns of the CoronaNet release (CSV).",
)
@click.option("-o", "--output", type=click.Path(), help="Write to this file (atomically) instead of standard output.")
@click.option(
    "--table",
    type=click.Choice(["measures", "statistics", "chongqing", "districts"]),
    default=None,
    help="With --format csv: measures (the default, one row per measure) or statistics (one per reported statistic); "
    "with --format oxcgrt: chongqing (the default, Chongqing's daily rows) or districts (a row per district and day).",
)
@click.option("--excel", is_flag=True, help="Start CSV output with a byte-order mark so Excel shows Chinese correctly.")
@click.option(
    "--raw-csv",
    is_flag=True,
    help="Write CSV cells exactly as stored, without the ' put before a cell starting with = + - @ TAB or CR; "
    "for programs only, never for a spreadsheet.",
)
@click.pass_obj
def export(obj: _Context, fmt: str, output: str | None, table: str | None, excel: bool, raw_csv: bool) -> None:
    """Export the knowledge base as CSV, JSON-LD, N-Quads, Turtle or a tracker layout (OxCGRT, CoronaNet).

    See docs/crosswalks.md for how the tracker layouts are derived and what they cannot express.
    Bad options or an unwritable output path exit with 2 and write nothing.

    In CSV output (csv, oxcgrt, coronanet) a cell that starts with = + - @ TAB or CR, which a spreadsheet
    would run as a formula, gets a leading ' (the OWASP advice against CSV injection); plain numbers such
    as -3 are left as they are. --raw-csv turns this off for programs that need the exact text.
    Files written with -o get the usual permissions of a new file (0644 with umask 022).
    """
    from .export import check_output_path, write_output
    from .export import export as make_export
    from .store import open_store

    project = obj.project()
    if output is not None:
        check_output_path(Path(output))
    data = make_export(open_store(project), fmt, table=table, excel=excel, raw_csv=raw_csv)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_output(data, Path(output))
        click.echo(f"wrote {output} ({len(data)} bytes, {fmt})", err=True)


@main.command()
@click.option(
    "--oxcgrt",
    "oxcgrt_file",
    type=click.Path(),
    help="An OxCGRT file: daily rows, a time-series index, or a national per-indicator time series "
    "(e.g. c1_school_closing.csv, its flag file beside it: bounds for Chongqing's level).",
)
@click.option("--coronanet", "coronanet_file", type=click.Path(), help="A CoronaNet release file (e.g. China's).")
@click.option(
    "--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day compared (default: the sources' first)."
)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day compared (default: the sources' last).")
@click.pass_obj
def reconcile(
    obj: _Context,
    oxcgrt_file: str | None,
    coronanet_file: str | None,
    first: datetime.datetime | None,
    last: datetime.datetime | None,
) -> None:
    """Set a tracker file you downloaded beside the knowledge base, for Chongqing.

    Prints one line per day and indicator (OxCGRT) or per record (CoronaNet): whether the two agree, disagree,
    or the knowledge base has no evidence (against China's national levels: within or below the bound they set
    for Chongqing), with the measure and quote behind the knowledge base's value.
    See docs/crosswalks.md for the reconciliation of Chongqing's published indices.
    """
    from .errors import UsageError
    from .export.reconcile import reconcile_coronanet, reconcile_oxcgrt
    from .store import open_store

    if (oxcgrt_file is None) == (coronanet_file is None):
        raise UsageError("give one of --oxcgrt FILE or --coronanet FILE", hint="kb reconcile --oxcgrt OxCGRT_file.csv")
    store = open_store(obj.project())
    days = (first.date() if first else None, last.date() if last else None)
    if oxcgrt_file is not None:
        lines = reconcile_oxcgrt(store, Path(oxcgrt_file), *days)
    else:
        lines = reconcile_coronanet(store, Path(coronanet_file or ""), *days)
    for line in lines:
        click.echo("\t".join((line.day, line.item, line.status, line.tracker or "-", line.kb or "-", line.evidence)))
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.status] = counts.get(line.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to compare"
    click.echo(f"{len(lines)} comparisons: {summary}", err=True)


@main.command()
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, writable=False),
    default="timeline.html",
    show_default=True,
    help="Where to write the page (written atomically; an existing file is replaced).",
)
@click.pass_obj
def timeline(obj: _Context, output: str) -> None:
    """Write the timeline page: one self-contained HTML file that needs no network and works from file://.

    Every measure is drawn on a broken time axis with lanes by category or place, the announcements
    as markers and the statistics as a chart; filters, search (simplified or traditional Chinese, or
    English), a zh/en switch, and a permalink per measure (#slug of its IRI).
    """
    from .store import open_store
    from .timeline import write_timeline

    project = obj.project()
    result = write_timeline(open_store(project), project, Path(output))
    click.echo(
        f"wrote {result.path} ({result.size:,} bytes): {result.measures} measures, "
        f"{result.events} announcements, {result.statistics} statistics"
    )


@main.command("fmt")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--check", is_flag=True, help="Write nothing; list the files that are not in canonical form and exit 1 if any."
)
@click.pass_obj
def fmt_command(obj: _Context, files: tuple[str, ...], check: bool) -> None:
    """Write fact files in canonical form (default: every file under facts/).

    Prefixes sorted and only those used, subjects in a stable order, `a` then rdfs:label first,
    objects sorted, blank nodes inline, 4-space indent. Comments in the header, above a subject or on
    a predicate's line are kept; a section comment (a comment block followed by a blank line) stays
    above the subjects that follow it, which are sorted within their section only; a file with a
    comment elsewhere is refused and left as it is. No
    triple is ever dropped: shared blank nodes, blank-node cycles, RDF-star, and anything whose
    canonical form would not parse back to the same graph are refused, as are folders, devices,
    FIFOs and files over 64 MB. Files are replaced atomically, keeping their permissions. Exit 0 when
    done (or, with --check, when all are canonical), 1 when --check finds files to format, 2 when a
    file cannot be read, parsed or formatted.
    """
    from .authoring.canonical import format_file

    project = obj.project()
    paths = [Path(f) for f in files] or project.fact_files()
    failed, changed = 0, 0
    for path in paths:
        name = project.relative(path)
        try:
            result = format_file(path, name, check=check)
        except KbError as error:
            click.echo(f"error: {error}", err=True)
            failed += 1
            continue
        if result.changed:
            changed += 1
            click.echo(f"{'would reformat' if check else 'reformatted'} {result.name}")
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"{changed} of {len(paths)} files {verb}" + (f", {failed} failed" if failed else ""), err=True)
    if failed:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if check and changed else EXIT_OK)


SKELETON_KINDS = ("measure", "announcement", "statistic", "document", "agent", "source")


@main.command("new")
@click.argument("kind", required=False, type=click.Choice(SKELETON_KINDS))
@click.option(
    "--kind",
    "kind_option",
    type=click.Choice(SKELETON_KINDS),
    help="What to write a skeleton for (the same as the KIND argument; default: measure).",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the skeleton to this file instead of printing it."
)
@click.option("--force", is_flag=True, help="With -o, replace an existing file.")
def new_command(kind: str | None, kind_option: str | None, output: str | None, force: bool) -> None:
    """Print a skeleton for a new fact, each required property commented: `kb new KIND` or `kb new --kind KIND`.

    KIND is measure (the default), announcement, statistic, document, agent or source (a new article's
    registration for facts/sources.ttl). Replace every «PLACEHOLDER», then run `kb validate FILE`. With -o
    an existing file is left alone unless --force is given (exit 2).
    """
    from .authoring.skeleton import skeleton
    from .errors import UsageError
    from .fsio import write_atomic

    if kind and kind_option and kind != kind_option:
        raise UsageError(f"two kinds given: {kind} and --kind {kind_option}", hint="give one of them")
    text = skeleton(kind or kind_option or "measure")
    if output is None:
        click.echo(text, nl=False)
        return
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{output} already exists", hint="choose another file name, or add --force to replace it")
    if not path.parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist", hint="create it first, or write elsewhere")
    write_atomic(path, text)
    click.echo(f"wrote {output}: replace every «…» placeholder, then run kb validate {output}", err=True)


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback by default; the endpoint has no authentication).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a query may run before it is stopped (HTTP 503).",
)
@click.option(
    "--max-result-mb",
    default=50.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Largest result sent, in megabytes (larger ones get HTTP 422).",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Query worker processes (queries run in parallel up to this many).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="HTTP threads (connections served at once).",
)
@click.option(
    "--max-memory-mb",
    default=1024,
    show_default=True,
    type=click.IntRange(min=0),
    help="Memory a query worker may take on top of its idle size; a query needing more is stopped "
    "(HTTP 503). 0: no limit.",
)
@click.option(
    "--max-connections",
    default=1000,
    show_default=True,
    type=click.IntRange(10, 100_000),
    help="Open connections kept at once, idle ones included (idle ones are closed after 30 s).",
)
@click.option(
    "--allow-service",
    is_flag=True,
    help="Let queries use SPARQL SERVICE, i.e. make this host send requests to any address (off: HTTP 400).",
)
@click.pass_obj
def serve(
    obj: _Context,
    host: str,
    port: int,
    timeout: float,
    max_result_mb: float,
    workers: int,
    threads: int,
    max_memory_mb: int,
    max_connections: int,
    allow_service: bool,
) -> None:
    """Serve the store as a read-only SPARQL 1.1 endpoint, with a query page, until Ctrl-C.

    The endpoint is /sparql (GET or POST; results as JSON, XML, CSV or TSV, graphs as Turtle,
    N-Triples or JSON-LD, chosen by the Accept header or format=); / is a query page and /health
    a health check. UPDATE is refused, and so is SERVICE unless --allow-service is given.
    """
    from .serve import ServeConfig, create_server
    from .store import open_store, store_link

    project = obj.project()
    open_store(project)
    config = ServeConfig(
        store_link(project),
        timeout=timeout,
        max_result_bytes=int(max_result_mb * 1_000_000),
        workers=workers,
        threads=threads,
        max_memory_bytes=max_memory_mb * 1_000_000 or None,
        allow_service=allow_service,
        connection_limit=max_connections,
        sources_dir=project.sources_dir,
    )
    server = create_server(config, host=host, port=port)
    click.echo(f"serving {server.url} (SPARQL endpoint: {server.url}sparql); Ctrl-C stops", err=True)
    if allow_service:
        click.echo("warning: --allow-service: queries can make this host send requests to any address", err=True)
    try:
        server.serve_forever()
    finally:
        server.close()
    click.echo("stopped", err=True)


@main.command()
@click.option(
    "--endpoint",
    required=True,
    metavar="URL",
    help="Graph Store Protocol URL of the remote store (e.g. http://127.0.0.1:7878/store).",
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds to wait for each request.",
)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show each graph as it is sent.")
@click.pass_obj
def push(obj: _Context, endpoint: str, timeout: float, progress: bool) -> None:
    """Load the knowledge base into an external SPARQL store, one named graph per file.

    Each graph is sent with HTTP PUT (SPARQL 1.1 Graph Store Protocol), so it replaces what the
    remote store held under that graph name. Exits 2 when the store cannot be reached or refuses.
    """
    from .remote import push_store
    from .store import open_store

    def report(graph: str, triples: int, index: int, total: int) -> None:
        click.echo(f"[{index}/{total}] {graph} ({triples} triples)", err=True)

    result = push_store(open_store(obj.project()), endpoint, report if progress else None, timeout=timeout)
    click.echo(f"pushed {result.graphs} graphs, {result.triples} triples to {endpoint}")


@main.command("docs")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 and name the documents that are out of date.")
@click.pass_obj
def docs_command(obj: _Context, check: bool) -> None:
    """Regenerate docs/cli.md (this reference) and docs/coverage.md (facts per source article)."""
    from .docs import cli_reference, coverage_table
    from .fsio import write_atomic
    from .store import open_store

    project = obj.project()
    wanted = {
        project.root / "docs" / "cli.md": cli_reference(main),
        project.root / "docs" / "coverage.md": coverage_table(open_store(project)),
    }
    stale = [path for path, text in wanted.items() if not path.is_file() or path.read_text("utf-8") != text]
    if check:
        for path in stale:
            click.echo(f"out of date: {project.relative(path)} (run `make docs`)")
        sys.exit(EXIT_FINDINGS if stale else EXIT_OK)
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, wanted[path])
        click.echo(f"wrote {project.relative(path)}")


# ---------------------------------------------------------------- versions: kb diff, kb release, kb site


@main.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
    help="text: per subject, one line per field; csv: one row per field; json: {from, to, equal, counts, subjects}.",
)
@click.pass_obj
def diff_command(obj: _Context, old: str, new: str | None, fmt: str) -> None:
    """List what changed from git revision OLD to NEW (default: the working tree), per subject and field.

    Both versions are built (the revision in a temporary folder, never touching the store) and their
    graphs compared, derived effective periods included: reformatting, reordering statements and
    blank-node labels are no change. Dates are shown with their kinds, derived bounds with their basis.

    \b
    Exit 0 when the versions hold the same facts,
         1 when they differ,
         2 when a revision cannot be read or built.
    """
    from .release import diff_revisions, format_diff

    result = diff_revisions(obj.project(), old, new)
    click.echo(format_diff(result, fmt), nl=False)
    sys.exit(EXIT_OK if result.equal else EXIT_FINDINGS)


@main.command("site")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default="site",
    show_default=True,
    help="Folder to write (a folder kb site wrote before is replaced at once; any other non-empty folder is refused).",
)
@click.pass_obj
def site_command(obj: _Context, output: str) -> None:
    """Write the resource pages as a static site: one page per thing (with its Turtle and JSON-LD) and an index.

    The same documents kb serve answers under /id/: id/<kind>/<slug>.html, .ttl and .jsonld, linked
    relatively, so the folder works on any static web host behind the w3id redirect, and from file://.
    """
    from .release.site import write_site
    from .store import open_store

    project = obj.project()
    result = write_site(open_store(project), project, Path(output))
    click.echo(f"wrote {result.folder}: {result.things} things, {result.files} files ({result.size:,} bytes)")


@main.command("release")
@click.argument("version")
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Folder to create. Default: releases/VERSION.")
@click.option(
    "--previous",
    metavar="REV",
    help="Git revision of the previous release, for the data changelog. Default: the newest tag reachable from HEAD.",
)
@click.option("--first", is_flag=True, help="This is the first release: no previous release, no changelog.")
@click.option("--date", "issued", metavar="YYYY-MM-DD", help="Release date (default: today).")
@click.option(
    "--base-url",
    metavar="URL",
    help="Where the folder will be published (download URLs in void.ttl). Default: https://w3id.org/cq-covid/dataset/VERSION/.",
)
@click.option("--endpoint", metavar="URL", help="The public SPARQL endpoint serving this release, if there is one.")
@click.pass_obj
def release_command(
    obj: _Context,
    version: str,
    output: str | None,
    previous: str | None,
    first: bool,
    issued: str | None,
    base_url: str | None,
    endpoint: str | None,
) -> None:
    """Write a release folder of the working tree: N-Quads, Turtle, JSON-LD, CSV tables with datapackage.json,
    the timeline page, void.ttl (DCAT/VoID), CITATION.cff, CHANGES.md and SHA256SUMS.

    CHANGES.md lists what changed since the previous release (kb diff against it) and gives the lines for
    the "Data" section of CHANGELOG.md. An existing folder is never overwritten.
    """
    from datetime import date

    from .errors import UsageError
    from .release import latest_tag, make_release

    project = obj.project()
    if first and previous:
        raise UsageError("--first and --previous contradict each other", hint="give one of them")
    try:
        day = date.fromisoformat(issued) if issued else date.today()
    except ValueError:
        raise UsageError(f"--date {issued!r} is not a date", hint="write YYYY-MM-DD, e.g. 2024-05-01") from None
    if not first and previous is None:
        previous = latest_tag(project.root)
        if previous is None:
            raise UsageError(
                "no previous release found (no git tag reachable from HEAD)",
                hint="name it with --previous REV, or say --first for the first release",
            )
    folder = Path(output) if output else project.root / "releases" / version
    if not output:
        folder.parent.mkdir(exist_ok=True)
    result = make_release(project, version, folder, day, previous, base_url, endpoint)
    size = sum(entry.size for entry in result.files)
    click.echo(f"wrote {folder}: {len(result.files) + 1} files ({size:,} bytes)")
    if result.diff is not None:
        from .release import summary

        click.echo(f"data changes: {summary(result.diff)} (CHANGES.md)")

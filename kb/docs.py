"""Documents generated from the code and the data: the CLI reference and the coverage table.

`make docs` writes them; tests/data/test_docs.py fails when a committed copy drifts from what this produces.
"""

from __future__ import annotations

import click
import pyoxigraph as ox

from .query import get_named_query, run_query


def cli_reference(group: click.Group) -> str:
    """Markdown with the --help text of `kb` and of every command."""
    parts = ["# `kb` command reference\n", "Generated from `--help` by `make docs`; do not edit by hand.\n"]
    ctx = click.Context(
        group, info_name="kb", terminal_width=100, max_content_width=100, help_option_names=["-h", "--help"]
    )
    parts.append(f"## kb\n\n```\n{group.get_help(ctx)}\n```\n")
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        sub = click.Context(
            command,
            info_name=name,
            parent=ctx,
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],
        )
        parts.append(f"## kb {name}\n\n```\n{command.get_help(sub)}\n```\n")
    return "\n".join(parts)


def coverage_table(store: ox.Store) -> str:
    """Markdown: what the knowledge base holds per source article, for reviewing completeness."""
    rows = run_query(store, get_named_query("counts-by-source").text).records()
    columns = ["measures", "statistics", "documents", "announcements", "discrepancies"]
    lines = [
        "# Coverage per source article\n",
        "Generated from the named query `counts-by-source` by `make docs`; do not edit by hand.",
        "A fact citing two articles counts in both. What each re-review of the facts changed, counted per kind",
        "of correction (issuers, strengths, removed non-measures, links, tags, dates, places, bounds), is in the",
        "`### Data` section of CHANGELOG.md; the rules the re-reviews apply are in docs/curation.md.\n",
        "| article | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    totals = dict.fromkeys(columns, 0)
    for row in rows:
        lines.append(f"| {row['file']} | " + " | ".join(str(row[c]) for c in columns) + " |")
        for column in columns:
            totals[column] += int(str(row[column]))
    lines.append("| all (with double counting) | " + " | ".join(str(totals[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"

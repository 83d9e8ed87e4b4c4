"""Releases and versions, built on the rooms: `kb diff`, `kb release` and `kb site`.

This package stands above the rooms: it calls the exporters (kb/export/), the timeline (kb/timeline/) and the
resource pages of kb/serve/resources.py, and no room imports it. Modules: revision (a git revision built in a
temporary folder), diff (the semantic diff), describe (the DCAT/VoID description), release (the release
folder), site (the static resource pages).
"""

from __future__ import annotations

from ..project import Project
from ..store import open_store, read_index
from .diff import FORMATS, Diff, Version, compare, format_diff, read_version, summary
from .revision import built_revision, latest_tag, resolve

WORKING_TREE = "working tree"

__all__ = [
    "FORMATS",
    "WORKING_TREE",
    "Diff",
    "Version",
    "compare",
    "diff_revisions",
    "format_diff",
    "latest_tag",
    "read_version",
    "resolve",
    "revision_version",
    "summary",
]


def revision_version(project: Project, revision: str | None) -> Version:
    """A version of the knowledge base: a git revision (built in a temporary folder) or, for None, the working tree."""
    if revision is None:
        return read_version(open_store(project), WORKING_TREE, read_index(project))
    with built_revision(project.root, revision) as (store, checkout):
        return read_version(store, revision, read_index(checkout))


def diff_revisions(project: Project, old: str, new: str | None = None) -> Diff:
    """What changed from revision `old` to revision `new` (default: the working tree)."""
    return compare(revision_version(project, old), revision_version(project, new))

"""Releases and versions, built on the rooms: `kb diff`, `kb release` and `kb site`.

This package stands above the rooms: it calls the exporters (kb/export/), the timeline (kb/timeline/) and the
resource pages of kb/serve/resources.py, and no room imports it. Modules: revision (a git revision built in a
temporary folder), diff (the semantic diff), describe (the DCAT/VoID description), release (the release
folder), site (the static resource pages).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..project import Project
from ..store import open_store, read_index
from .diff import FORMATS, Diff, Version, compare, format_diff, read_version, summary
from .release import ReleaseResult, check_version, write_release
from .revision import built_revision, latest_tag, resolve

WORKING_TREE = "working tree"

__all__ = [
    "FORMATS",
    "WORKING_TREE",
    "Diff",
    "ReleaseResult",
    "Version",
    "compare",
    "diff_revisions",
    "format_diff",
    "latest_tag",
    "make_release",
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


def make_release(
    project: Project,
    version: str,
    folder: Path,
    issued: date,
    previous: str | None,
    base_url: str | None = None,
    endpoint: str | None = None,
) -> ReleaseResult:
    """Release the working tree as `version` into `folder`; its data changelog is the diff against the git
    revision `previous` (None: a first release, with no changelog to make)."""
    check_version(version)  # before any work
    store = open_store(project)
    if previous is None:
        return write_release(store, project, version, folder, issued, base_url=base_url, endpoint=endpoint)
    with built_revision(project.root, previous) as (old, checkout):
        diff = compare(
            read_version(old, previous, read_index(checkout)), read_version(store, version, read_index(project))
        )
    return write_release(store, project, version, folder, issued, previous, diff, base_url, endpoint)

"""`kb validate`: SHACL shapes, evidence, vocabulary and the *-violation checks, as a Report of findings.

The outcome is a Report, never an exception: "the facts do not conform" is a result. The whole knowledge base
is validated from the store (built first when an input changed, as for every reader); new or changed files are
validated in its context (in_context.py). The modules: report (Finding, Report), places (file:line of a
subject), shacl (the engines), compiled (the shapes evaluated on the store, the default), checks (the project's own
checks), onepass (checks computed in one pass with their query's rows), prefilter, run (one run of them all),
in_context.
"""

from __future__ import annotations

from pathlib import Path

from .. import store as kb_store
from ..loader import load_file
from ..project import Project
from ..query import checked
from ..query.run import QueryResult
from .checks import CHECKS_DIR, declared_terms
from .in_context import validate_in_context
from .places import IndexedFiles, Locator
from .report import Finding, Report
from .run import run_checks
from .shacl import DEFAULT_ENGINE, SHACL_ENGINES, shacl_engine

__all__ = [
    "CHECKS_DIR",
    "SHACL_ENGINES",
    "Finding",
    "Report",
    "validate_files",
    "validate_in_context",
    "validate_store",
]


def validate_store(project: Project, engine: str = DEFAULT_ENGINE) -> Report:
    """Every check over the knowledge base as the store holds it (the derived periods included).

    Findings are placed through the store's location index; a file is parsed again only when a finding needs a
    line inside it that the index does not keep. The *-violation checks' rows are kept in the snapshot folder
    (kb/query/checked.py) for `kb query` and for the next validation of the same snapshot (`Report.reused`).
    """
    store = kb_store.open_store(project)
    names = [project.relative(path) for path in project.input_files()]
    files = IndexedFiles(
        store,
        names,
        kb_store.read_index(project),
        lambda name: load_file(project.root / name, name, project.root),
    )
    answers: dict[str, tuple[str, QueryResult]] = {}
    report = run_checks(project, store, Locator(files, store), declared_terms(store), None, None, engine, None, answers)
    folder = kb_store.snapshot_folder(store)
    if folder is not None:
        # the checks answered from the rows an earlier validation kept (query_findings reads them first)
        report.reused = sorted(name for text, (name, rows) in answers.items() if checked.checked(folder, text) == rows)
        if len(report.reused) < len(answers):  # rows not kept yet (or not all): keep this run's for this snapshot
            checked.write_checked(folder, answers)
    return report


def validate_files(project: Project, paths: list[Path] | None = None, engine: str = DEFAULT_ENGINE) -> Report:
    """Validate the whole knowledge base, or the given files in its context (findings for those files only)."""
    shacl_engine(engine)  # an unknown or missing engine is a usage error before any work
    if paths:
        return validate_in_context(project, paths, engine)
    return validate_store(project, engine)

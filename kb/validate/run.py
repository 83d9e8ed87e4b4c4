"""One validation run: every check over a store, its findings placed in files, merged and sorted into a Report."""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from ..evidence import Quotes
from ..project import Project
from ..query.run import QueryResult
from .checks import (
    FileTriples,
    declaration_findings,
    drop_shacl_duplicates,
    evidence_findings,
    literal_findings,
    query_findings,
    reference_findings,
    target_group_findings,
    target_terms,
    vocabulary_findings,
)
from .places import IndexedFiles, Locator, ParsedFiles, StoredFile
from .prefilter import GraphObjects, StoreCandidates
from .report import Finding, Report, printable_finding
from .shacl import DEFAULT_ENGINE, shacl_findings


def _files(names: Sequence[str], files: ParsedFiles | IndexedFiles) -> list[FileTriples]:
    """The named files' triples: as parsed, or as the store holds them (no file is read for the per-file checks;
    they are order-independent, so both give the same findings)."""
    if isinstance(files, ParsedFiles):
        return [files.parsed(name) for name in names]
    return [StoredFile(name, files) for name in names]


def _file_findings(
    fact_files: list[str],
    checked: list[str],
    declared: set[str],
    locator: Locator,
    reference: ox.Store,
    objects: GraphObjects | None = None,
) -> list[Finding]:
    """The per-file checks: over the parsed files, or over what each can report on in the store (prefilter.py)."""
    files = locator.files
    own = {files.graph(n) for n in checked} if reference is not locator.store else set()
    if isinstance(files, IndexedFiles):
        candidates = StoreCandidates(files, checked, objects)
        linked = candidates.references(fact_files) if reference is locator.store else _files(fact_files, locator.files)
        return (
            reference_findings(linked, locator, reference, own)
            + vocabulary_findings(candidates.vocabulary(fact_files, declared), declared, locator)
            + declaration_findings(candidates.declarations(fact_files), locator)
            + literal_findings(candidates.literals(checked), locator)
        )
    return (
        reference_findings(_files(fact_files, files), locator, reference, own)
        + vocabulary_findings(_files(fact_files, files), declared, locator)
        + declaration_findings(_files(fact_files, files), locator)
        + literal_findings(_files(checked, files), locator)
    )


def run_checks(
    project: Project,
    store: ox.Store,
    locator: Locator,
    declared: set[str],
    focus: list[ox.NamedNode | ox.BlankNode] | None,
    report_files: set[str] | None,
    engine: str = DEFAULT_ENGINE,
    reference: ox.Store | None = None,
    answers: dict[str, tuple[str, QueryResult]] | None = None,
) -> Report:
    """Every check over `store`; with `report_files`, only the findings in those files.

    `reference` is the knowledge base the checked files are read against when it is not `store` itself (new files
    validated in the context of the built store): the target groups' names and the IRIs a misspelt link is
    compared with come from it, without the graphs of the files being checked. `answers`: see query_findings.
    """
    shacl, report_nt = shacl_findings(store, locator, project.shapes_file, focus, engine)
    # the curated graphs' distinct objects, read once for the checks that look for objects of one kind
    objects = GraphObjects(store) if isinstance(locator.files, IndexedFiles) else None
    quotes = Quotes(store)  # every quote read once, for evidence, the sibling check and the target groups
    findings = shacl + evidence_findings(store, locator, project, quotes)
    findings += query_findings(store, locator, None if objects is None else objects.pairs, answers, quotes)
    names = locator.files.names
    checked = names if report_files is None else [n for n in names if n in report_files]
    fact_files = [n for n in checked if not n.startswith("ontology/")]
    reference = store if reference is None else reference
    own = {locator.files.graph(n) for n in checked} if reference is not store else set()
    terms = target_terms([reference, store] if reference is not store else [store], own)
    findings += target_group_findings(store, terms, locator, quotes)
    findings += _file_findings(fact_files, checked, declared, locator, reference, objects)
    findings = [printable_finding(f) for f in drop_shacl_duplicates(findings)]
    if report_files is not None:
        findings = [f for f in findings if f.file in report_files]
    files = sorted(report_files) if report_files is not None else list(names)
    return Report(sorted(set(findings)), files, report_nt, findings)

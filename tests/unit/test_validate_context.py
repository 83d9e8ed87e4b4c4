"""`kb validate NEW.ttl` checks new files in the context of the store: same findings as the whole KB."""

from __future__ import annotations

from pathlib import Path

import pytest
from samples import MEASURE

from kb import store as kb_store
from kb.project import Project
from kb.validate import validate_files

# A base file already in the knowledge base, and a new file with one planted error of each kind that
# depends on the context: a reference to the base measure, a conflict with it, a replaces cycle through
# it, a missing place, a false quote, dates in the wrong order and a missing strength.
BASE = MEASURE.replace("cq:cites doc:control-plan-9th-edition", "cq:replaces measure:test-new")
NEW = (
    MEASURE.replace("test-measure", "test-new")
    .replace("cq:cites doc:control-plan-9th-edition", "cq:replaces measure:test-measure")
    .replace("    cq:strength cq:Mandatory ;\n", "")
    .replace('"2022-11-20"^^xsd:date', '"2022-11-01"^^xsd:date')
    .replace("place:central-urban-districts", "place:atlantis")
    + """
measure:test-measure
    cq:announced "2022-11-08"^^xsd:date .

measure:test-quoted
    a cq:Measure ;
    rdfs:label "测试"@zh ;
    cq:category cat:testing ;
    cq:strength cq:Advisory ;
    cq:appliesTo place:shapingba ;
    cq:amends measure:test-measure ;
    cq:relaxes measure:test-measure ;
    cq:announced "2022-11-09"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天两次的区域核酸检测" .
"""
)


@pytest.fixture
def planted(mini_project: Project) -> Path:
    (mini_project.facts_dir / "base.ttl").write_text(BASE, "utf-8")
    path = mini_project.facts_dir / "new.ttl"
    path.write_text(NEW, "utf-8")
    return path


def test_findings_match_the_whole_knowledge_base(mini_project: Project, planted: Path) -> None:
    whole = {f for f in validate_files(mini_project).findings if f.file == "facts/new.ttl"}
    in_context = set(validate_files(mini_project, [planted]).findings)
    assert in_context == whole
    checks = {(f.subject, f.property, f.check) for f in in_context}
    assert {
        ("measure:test-new", "cq:strength", "shacl"),
        ("measure:test-new", "cq:appliesTo", "shacl"),
        ("measure:test-new", "cq:inForceFrom", "shacl"),
        ("measure:test-new", "cq:replaces", "replaces-cycle-violation"),
        ("measure:test-measure", "cq:announced", "duplicate-conflict-violation"),
        ("measure:test-quoted", "cq:quote", "evidence"),
        ("measure:test-quoted", "rdfs:label", "shacl"),
    } <= checks
    # references into the rest of the knowledge base resolve: no finding about them
    assert not any(f.property in {"cq:relaxes", "cq:issuer", "cq:cites", "cq:source"} for f in in_context)


def test_only_the_new_files_are_reported(mini_project: Project, planted: Path) -> None:
    report = validate_files(mini_project, [planted])
    assert {f.file for f in report.findings} == {"facts/new.ttl"}
    assert report.files == ["facts/new.ttl"]


def test_the_knowledge_base_is_not_reparsed_when_only_the_new_file_changed(
    mini_project: Project, planted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validate_files(mini_project, [planted])  # the first run builds the store
    planted.write_text(NEW.replace("一天两次", "一天三次"), "utf-8")

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the store was rebuilt although only the validated file changed")

    monkeypatch.setattr(kb_store, "build", no_build)
    report = validate_files(mini_project, [planted])
    assert any("一天三次" in f.message for f in report.findings)


def test_a_changed_context_file_rebuilds_the_store(mini_project: Project, planted: Path) -> None:
    validate_files(mini_project, [planted])
    (mini_project.facts_dir / "base.ttl").write_text(
        BASE.replace("cq:replaces measure:test-new", "cq:cites doc:control-plan-9th-edition"), "utf-8"
    )
    report = validate_files(mini_project, [planted])
    assert not any(f.check == "replaces-cycle-violation" for f in report.findings)
    assert kb_store.is_fresh(mini_project)

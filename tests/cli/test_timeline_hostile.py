"""The timeline reads source texts only through kb/evidence.py: a hostile cq:fileName never reaches the page."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kb.cli import main
from kb.namespaces import turtle_prefixes
from kb.project import Project

SECRET = "KB_TIMELINE_SECRET_4217"


def test_a_source_file_name_outside_the_sources_is_not_read_into_the_page(
    mini_project: Project, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text(f"学校一律不得开展线下教学 {SECRET}", "utf-8")
    sources = mini_project.facts_dir / "sources.ttl"
    text = sources.read_text("utf-8")
    assert 'cq:fileName "003_3f5591fb49c74a46.txt"' in text
    sources.write_text(text.replace("003_3f5591fb49c74a46.txt", str(outside)), "utf-8")
    (mini_project.facts_dir / "article-test.ttl").write_text(
        turtle_prefixes("cq", "cat", "measure", "place", "rdfs", "src", "xsd")
        + """
measure:test-schools-closed
    a cq:Measure ;
    rdfs:label "学校一律不得开展线下教学"@zh, "no in-person teaching"@en ;
    cq:category cat:schools ;
    cq:strength cq:Prohibition ;
    cq:appliesTo place:central-urban-districts ;
    cq:announced "2022-11-10"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-003 ;
    cq:quote "学校一律不得开展线下教学" .
""",
        "utf-8",
    )
    page = tmp_path / "page.html"
    result = CliRunner().invoke(main, ["--root", str(mini_project.root), "timeline", "-o", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text("utf-8")
    assert "学校一律不得开展线下教学" in html and SECRET not in html

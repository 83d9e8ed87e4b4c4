"""`kb diff` on a temporary git repository of two commits: exact output, and no diff from reformatting alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import copy_knowledge_base, git

from kb.cli import main
from kb.namespaces import turtle_prefixes
from kb.release import diff_revisions, format_diff
from kb.release.revision import Checkout

HEAD = turtle_prefixes("cq", "cat", "measure", "place", "qk", "src", "unit", "rdfs", "xsd")


def _measure(slug: str, labels: tuple[str, str], strength: str, quote: str, extra: str = "") -> str:
    """A measure of article 003 in the central urban districts (a real quote), announced on its event's day."""
    return (
        f"\nmeasure:{slug}\n    a cq:Measure ;\n"
        f'    rdfs:label "{labels[0]}"@zh, "{labels[1]}"@en ;\n'
        f"    cq:category cat:testing ;\n    cq:strength cq:{strength} ;\n"
        f"    cq:appliesTo place:central-urban-districts ;\n{extra}"
        "    cq:inForceFromKind cq:NotStated ;\n    cq:inForceUntilKind cq:NotStated ;\n"
        f'    cq:source src:article-003 ;\n    cq:quote "{quote}" .\n'
    )


ANNOUNCED = '    cq:announced "2022-11-{day}"^^xsd:date ;\n    cq:announcedKind cq:EventDate ;\n'
PARAMETER = (
    "    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-frequency ; cq:value 1.0 ; cq:unit unit:PER-DAY ] ;\n"
)
ONE = _measure(
    "d-one",
    ("中心城区各区实行一天一次的区域核酸检测", "daily area testing"),
    "Advisory",
    "中心城区各区将实行一天一次的区域核酸检测",
    PARAMETER + ANNOUNCED.format(day="09"),
)
TWO = _measure(
    "d-two",
    ("关怀帮助一线工作人员", "care for front-line workers"),
    "Mandatory",
    "要关怀帮助一线工作人员,做好安全防护和服务保障",
    ANNOUNCED.format(day="10"),
)
THREE = _measure(
    "d-three",
    ("全面贯彻落实党的二十大精神", "carry out the spirit of the 20th congress"),
    "Principle",
    "全面贯彻落实党的二十大精神",
    "    cq:announcedKind cq:NotStated ;\n",
)
# The same measure as ONE, written another way: statements reordered, the parameter as a labelled blank node.
ONE_REFORMATTED = """
_:frequency cq:unit unit:PER-DAY ; cq:value 1.0 ; cq:quantityKind qk:test-frequency ; a cq:Parameter .
measure:d-one cq:quote "中心城区各区将实行一天一次的区域核酸检测" ; cq:source src:article-003 ;
    cq:inForceUntilKind cq:NotStated ; cq:inForceFromKind cq:NotStated ; cq:announcedKind cq:EventDate ;
    cq:announced "2022-11-09"^^xsd:date ; cq:parameter _:frequency ; cq:appliesTo place:central-urban-districts ;
    cq:strength cq:Advisory ; cq:category cat:testing ;
    rdfs:label "daily area testing"@en, "中心城区各区实行一天一次的区域核酸检测"@zh ; a cq:Measure .
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two commits: the second changes a strength, removes a measure and adds a link; a third only reformats."""
    root = copy_knowledge_base(tmp_path_factory.mktemp("diff") / "kb")
    article = root / "facts" / "article-900.ttl"
    other = root / "facts" / "article-901.ttl"
    article.write_text(HEAD + ONE + TWO + THREE, "utf-8")
    other.write_text(HEAD + ONE.replace("d-one", "d-four").replace("daily area", "another daily area"), "utf-8")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    relaxed = ONE.replace("cq:Advisory", "cq:Relaxation")
    linked = TWO.replace("cq:strength cq:Mandatory ;", "cq:strength cq:Mandatory ;\n    cq:ends measure:d-one ;")
    article.write_text(HEAD + relaxed + linked, "utf-8")
    git(root, "commit", "-q", "-am", "second")
    other.write_text(HEAD + ONE_REFORMATTED.replace("d-one", "d-four").replace("daily area", "another daily area"))
    git(root, "commit", "-q", "-am", "reformatted, no change")
    return root


EXPECTED = """\
changed measure:d-one (facts/article-900.ttl:11)
    effective until: 2022-12-01 (coverage ends on 2022-12-01: unknown after) → 2022-11-09 (ended by measure:d-two on 2022-11-10)
    status by day:
        + presumed in force 2022-11-09 – 2022-11-09: presumed: from 2022-11-09, no end known, sources cover to 2022-12-01
        - presumed in force 2022-11-09 – 2022-12-01: presumed: from 2022-11-09, no end known, sources cover to 2022-12-01
        - unknown 2022-12-02 – open: outside the sources' coverage
    strength: advisory → relaxation
removed measure:d-three "carry out the spirit of the 20th congress" (facts/article-900.ttl:38)
changed measure:d-two (facts/article-900.ttl:25)
    ends: (none) → measure:d-one
HEAD~2 → HEAD~1: 2 changed, 0 added, 1 removed
"""  # noqa: E501 (the lines as printed)


def test_diff_lists_each_change_by_subject_and_field(repo: Path) -> None:
    result = CliRunner().invoke(main, ["--root", str(repo), "diff", "HEAD~2", "HEAD~1"])
    assert result.output == EXPECTED
    assert result.exit_code == 1


def test_reformatting_reordering_and_blank_node_labels_make_no_diff(repo: Path) -> None:
    assert (repo / "facts" / "article-901.ttl").read_text("utf-8") != (HEAD + ONE).replace("d-one", "d-four")
    result = CliRunner().invoke(main, ["--root", str(repo), "diff", "HEAD~1", "HEAD"])
    assert result.output == "HEAD~1 → HEAD: no differences\n"
    assert result.exit_code == 0


def test_the_working_tree_is_the_default_and_the_diff_has_csv_and_json(repo: Path) -> None:
    project = Checkout(repo)  # its build folder inside the repository's root, like any revision
    data = json.loads(format_diff(diff_revisions(project, "HEAD~2"), "json"))
    assert (data["from"], data["to"], data["counts"]) == (
        "HEAD~2",
        "working tree",
        {"changed": 2, "added": 0, "removed": 1},
    )
    strength = next(
        f for s in data["subjects"] if s["subject"] == "measure:d-one" for f in s["fields"] if f["field"] == "strength"
    )
    assert strength == {
        "field": "strength",
        "property": "cq:strength",
        "removed": ["advisory"],
        "added": ["relaxation"],
    }
    rows = format_diff(diff_revisions(project, "HEAD~2", "HEAD~1"), "csv").splitlines()
    assert rows[0] == "change,subject,label,field,property,old,new,where"
    assert (
        "changed,measure:d-two,care for front-line workers,ends,cq:ends,,measure:d-one,facts/article-900.ttl:25" in rows
    )
    removed = [row for row in rows if row.startswith("removed,measure:d-three,")]
    assert any(",strength,cq:strength,principle,," in row for row in removed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "no-such-branch"], "unknown revision 'no-such-branch'"),
        (["diff", "--", "-x"], "is not a git revision"),
    ],
)
def test_a_bad_revision_is_a_clear_error(repo: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["--root", str(repo), *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_a_folder_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "ontology").mkdir()
    (tmp_path / "facts").mkdir()
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "diff", "HEAD"])
    assert result.exit_code == 2
    assert "is not in a git repository" in result.output


def test_a_revision_that_does_not_build_names_itself(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone, ignore=shutil.ignore_patterns(".kb"))
    (clone / "facts" / "article-900.ttl").write_text(HEAD + "measure:x a cq:Measure ; rdfs:label 'x' \n", "utf-8")
    git(clone, "commit", "-q", "-am", "broken")
    result = CliRunner().invoke(main, ["--root", str(clone), "diff", "HEAD~1", "HEAD"])
    assert result.exit_code == 2
    assert "revision HEAD" in result.output and "facts/article-900.ttl" in result.output

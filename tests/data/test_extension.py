"""The extension path of the README ("Adding an article"), followed step by step on a copy of the project: a sixth
article's text, its registration, its fact file; then validate, build, query, timeline, docs and the data tests.

The article is a real one, abridged: the report of the 157th municipal COVID-19 press conference (3 Dec 2022)
that the Ningbo broadcaster's site republished from 重庆发布 (http://www.cloud.nbtv.cn/nbtv/xwdsg/gn/30763521.shtml).
Like the five shipped articles it is quoted as evidence; the copyright stays with its publisher.
"""

# ruff: noqa: E501 — the article's paragraphs and the Turtle labels are kept on one line each, as a curator writes them

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import ROOT, run

from kb.project import Project

ARTICLE = """据“重庆发布”微信公众号消息,12月3日,重庆市政府新闻办举行第157场重庆市新冠肺炎疫情防控工作新闻发布会。

有记者提问,现在市民普遍反映做核酸的点位较少,排队耗时长,请问对此有什么回应?

重庆市政府新闻办徐祖国介绍,目前各个区县正在按照市委、市政府部署,组织安排合理设置常态化核酸检测点,以方便市民群众愿检尽检。

重庆市卫生健康委副主任李畔介绍, 现在只是在一些公共场所需要72小时的核酸阴性证明,还有就是出重庆、出中心城区需要48小时核酸阴性证明,其他的就是基于对隔离点、对高风险区等有一些核酸检测的要求。

各区县将根据群众的需求,合理的、适当的增设一些便民核酸检测点,以满足大家的需求。
"""
URL = "http://www.cloud.nbtv.cn/nbtv/xwdsg/gn/30763521.shtml"
FILE_NAME = f"005_{hashlib.sha256(ARTICLE.encode('utf-8')).hexdigest()[:16]}.txt"  # the naming rule of step 1

REGISTRATION = f"""
src:article-005
    a cq:Source ;
    rdfs:label "157th municipal COVID-19 press conference (3 Dec 2022), as republished by nbtv.cn"@en, "第157场重庆市新冠肺炎疫情防控工作新闻发布会（2022年12月3日）"@zh ;
    cq:coversFrom "2022-12-03"^^xsd:date ;
    cq:coversPlace place:chongqing ;
    cq:coversUntil "2022-12-03"^^xsd:date ;
    cq:fileName "{FILE_NAME}" ;
    cq:script "simplified" ;
    cq:url "{URL}"^^xsd:anyURI .
"""

FACTS = """# Article 005: the 157th municipal COVID-19 press conference, 3 Dec 2022 (abridged republication).

@prefix agent: <https://w3id.org/cq-covid/id/agent/> .
@prefix ann: <https://w3id.org/cq-covid/id/announcement/> .
@prefix cat: <https://w3id.org/cq-covid/def/category/> .
@prefix cq: <https://w3id.org/cq-covid/def#> .
@prefix measure: <https://w3id.org/cq-covid/id/measure/> .
@prefix place: <https://w3id.org/cq-covid/id/place/> .
@prefix qk: <https://w3id.org/cq-covid/def/quantity/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix src: <https://w3id.org/cq-covid/id/source/> .
@prefix tg: <https://w3id.org/cq-covid/def/target/> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

# Stated by 李畔 (deputy director, municipal health commission); the health commission is recorded as issuer.
measure:pc157-public-places-72h-negative-test
    a cq:Measure ;
    rdfs:label "a negative test of the last 72 hours for some public places"@en, "一些公共场所需要72小时的核酸阴性证明"@zh ;
    cq:category cat:testing ;
    cq:strength cq:Mandatory ;
    cq:issuer agent:chongqing-health-commission ;
    cq:announcedAt ann:press-conference-157 ;
    cq:appliesTo place:chongqing ;
    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-result-validity ; cq:value 72.0 ; cq:unit unit:HR ] ;
    cq:announced "2022-12-03"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:attestedInForce "2022-12-03"^^xsd:date ;
    cq:attestedInForceKind cq:EventDate ;
    cq:source src:article-005 ;
    cq:quote "现在只是在一些公共场所需要72小时的核酸阴性证明" .

measure:pc157-leaving-48h-negative-test
    a cq:Measure ;
    rdfs:label "a negative test of the last 48 hours to leave Chongqing or the central urban districts"@en, "出重庆、出中心城区需要48小时核酸阴性证明"@zh ;
    cq:category cat:testing ;
    cq:strength cq:Mandatory ;
    cq:issuer agent:chongqing-health-commission ;
    cq:announcedAt ann:press-conference-157 ;
    cq:appliesTo place:chongqing ;
    cq:targetGroup tg:people-leaving-area ;
    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-result-validity ; cq:value 48.0 ; cq:unit unit:HR ] ;
    cq:announced "2022-12-03"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:attestedInForce "2022-12-03"^^xsd:date ;
    cq:attestedInForceKind cq:EventDate ;
    cq:source src:article-005 ;
    cq:quote "还有就是出重庆、出中心城区需要48小时核酸阴性证明" .

agent:xu-zuguo
    a cq:Person ;
    rdfs:label "Xu Zuguo"@en, "徐祖国"@zh ;
    cq:memberOf agent:chongqing-information-office .

ann:press-conference-157
    a cq:PressConference ;
    rdfs:label "157th Chongqing COVID-19 press conference"@en, "第157场重庆市新冠肺炎疫情防控工作新闻发布会"@zh ;
    cq:date "2022-12-03"^^xsd:date ;
    cq:dateKind cq:StatedDate ;
    cq:organiser agent:chongqing-information-office ;
    cq:sequenceNumber 157 ;
    cq:speaker agent:li-pan, agent:xu-zuguo ;
    cq:source src:article-005 ;
    cq:quote "12月3日,重庆市政府新闻办举行第157场重庆市新冠肺炎疫情防控工作新闻发布会" .
"""


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A copy of the project with a sixth article added as the README says, with a build folder of its own."""
    root = tmp_path_factory.mktemp("extended") / "kb"
    patch = pytest.MonkeyPatch()
    patch.setenv("KB_STATE_DIR", str(root.parent / "state"))
    for folder in ("ontology", "facts", "docs"):
        shutil.copytree(ROOT / folder, root / folder)
    # 1. the text, named NNN_<first 16 hex digits of its SHA-256>.txt
    (root / "facts" / "sources" / FILE_NAME).write_text(ARTICLE, encoding="utf-8")
    # 2. its registration, with its URL and the days it reports on, and its row in facts/sources/README.md
    with (root / "facts" / "sources.ttl").open("a", encoding="utf-8") as sources:
        sources.write(REGISTRATION)
    with (root / "facts" / "sources" / "README.md").open("a", encoding="utf-8") as table:
        table.write(f"| {FILE_NAME} | simplified | 157th municipal press conference (abridged) | 3 Dec 2022 |\n")
    # 3. the fact file
    (root / "facts" / "article-005.ttl").write_text(FACTS, encoding="utf-8")
    yield Project(root)
    patch.undo()


def test_the_sixth_article_validates_builds_and_answers(extended: Project, tmp_path: Path) -> None:
    runner = CliRunner()
    assert run(runner, extended, "fmt", str(extended.facts_dir / "article-005.ttl")).exit_code == 0
    assert run(runner, extended, "fmt", "--check").exit_code == 0
    alone = run(runner, extended, "validate", str(extended.facts_dir / "article-005.ttl"))
    assert alone.exit_code == 0 and "0 violations, 0 warnings in 1 files: conforms" in alone.output, alone.output
    whole = run(runner, extended, "validate")
    assert whole.exit_code == 0, whole.output
    assert not [line for line in whole.output.splitlines() if "article-005" in line or "sources.ttl" in line]
    built = run(runner, extended, "build")
    assert built.exit_code == 0, built.output
    assert any(line.split() == ["cq:Source", "6"] for line in built.output.splitlines()), built.output
    announced = run(
        runner,
        extended,
        "query",
        "measures-announced-at",
        "-p",
        "announcement=ann:press-conference-157",
        "--full-width",
    )
    assert announced.exit_code == 0
    assert "pc157-public-places-72h-negative-test" in announced.output
    assert "pc157-leaving-48h-negative-test" in announced.output
    url = run(runner, extended, "query", "SELECT ?url WHERE { src:article-005 cq:url ?url }", "--full-width")
    assert URL in url.output
    stats = run(runner, extended, "stats", "--full-width")
    assert "src:article-005" in stats.output and FILE_NAME in stats.output
    page = tmp_path / "timeline.html"
    timeline = run(runner, extended, "timeline", "-o", str(page))
    assert timeline.exit_code == 0, timeline.output
    assert "pc157-leaving-48h-negative-test" in page.read_text("utf-8")
    counted = run(runner, extended, "query", "SELECT (COUNT(*) AS ?n) WHERE { ?m a cq:Measure }", "--format", "csv")
    assert f"{int(counted.output.split()[1])} measures" in timeline.output
    assert run(runner, extended, "docs", "--check").exit_code == 1  # the coverage table has a new row
    assert run(runner, extended, "docs").exit_code == 0
    assert FILE_NAME in (extended.root / "docs" / "coverage.md").read_text("utf-8")
    assert run(runner, extended, "docs", "--check").exit_code == 0


def test_the_data_tests_pass_on_the_sixth_article(extended: Project, tmp_path: Path) -> None:
    """The data-integrity tests and the generated docs, run on the extended copy: none counts the articles."""
    runner = CliRunner()
    assert run(runner, extended, "docs").exit_code == 0
    env = {**os.environ, "KB_TEST_ROOT": str(extended.root), "KB_STATE_DIR": str(tmp_path / "state")}
    tests = ["tests/data/test_data.py", "tests/data/test_docs.py::test_generated_docs_are_up_to_date"]
    # -n 0: in one process (workers would cost more than they save on two files)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (f'"{URL}"^^xsd:anyURI', f'"{URL}"', "cq:url"),  # a plain string
        (f'"{URL}"^^xsd:anyURI', '"ftp://example.org/a.txt"^^xsd:anyURI', "cq:url"),  # not http(s)
        (f'"{URL}"^^xsd:anyURI', f'"{URL}"^^xsd:anyURI, "https://example.org/b"^^xsd:anyURI', "cq:url"),  # two
    ],
    ids=["untyped", "not-http", "two-urls"],
)
def test_a_bad_source_url_is_a_violation(extended: Project, old: str, new: str, says: str) -> None:
    from kb.validate import validate_files

    sources = extended.facts_dir / "sources.ttl"
    text = sources.read_text("utf-8")
    try:
        sources.write_text(text.replace(old, new), "utf-8")
        findings = [f for f in validate_files(extended, [sources]).findings if f.property == says]
    finally:
        sources.write_text(text, "utf-8")
    assert len(findings) == 1, findings
    assert findings[0].severity == "violation" and findings[0].subject == "src:article-005"
    assert "http or https" in findings[0].message

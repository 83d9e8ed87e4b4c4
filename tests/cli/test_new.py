"""`kb new`: skeletons that validate once their placeholders are filled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import main
from kb.project import Project

FILLS = {
    "measure": {
        "SLUG": "test-new-measure",
        "LABEL-ZH": "测试",
        "LABEL-EN": "a test",
        "CATEGORY": "testing",
        "STRENGTH": "Mandatory",
        "PLACE": "central-urban-districts",
        "ANNOUNCED": "2022-11-09",
        "SOURCE": "article-003",
        "QUOTE": "中心城区各区将实行一天一次的区域核酸检测",
    },
    "statistic": {
        "SLUG": "a003-test",
        "LABEL-EN": "new cases",
        "STATISTIC": "new-confirmed-cases",
        "PLACE": "chongqing",
        "REF-DATE": "2022-11-09",
        "VALUE": "109.0",
        "SOURCE": "article-003",
        "QUOTE": "重庆市新增本土确诊病例109例",
    },
    "document": {
        "SLUG": "test-plan",
        "LABEL-ZH": "第九版防控方案",
        "LABEL-EN": "the plan",
        "SOURCE": "article-003",
        "QUOTE": "严格执行第九版防控方案",
    },
    "announcement": {
        "SLUG": "test-press-conference",
        "CLASS": "PressConference",
        "LABEL-ZH": "第136场新冠肺炎疫情防控工作新闻发布会",
        "LABEL-EN": "the 136th press conference",
        "DATE": "2022-11-09",
        "ORGANISER": "chongqing-information-office",
        "SOURCE": "article-003",
        "QUOTE": "市政府新闻办举行第136场新冠肺炎疫情防控工作新闻发布会",
    },
    "agent": {
        "SLUG": "test-bureau",
        "LABEL-ZH": "测试局",
        "LABEL-EN": "test bureau",
        "PARENT": "chongqing-government",
        "PLACE": "chongqing",
    },
    "source": {
        "NNN": "903",
        "HASH": "3f5591fb49c74a46",
        "LABEL-ZH": "测试文章",
        "LABEL-EN": "a test article",
        "COVERS-FROM": "2022-11-07",
        "COVERS-UNTIL": "2022-11-10",
        "PLACE": "chongqing",
        "URL": "https://example.org/article",
    },
}


@pytest.mark.parametrize("kind", sorted(FILLS))
def test_filled_skeleton_validates(runner: CliRunner, mini_project: Project, kind: str) -> None:
    path = mini_project.facts_dir / f"new-{kind}.ttl"
    result = runner.invoke(main, ["--root", str(mini_project.root), "new", kind, "-o", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text("utf-8")
    assert text.count("\n    # ") >= 3
    for name, value in FILLS[kind].items():
        text = text.replace(f"«{name}»", value)
    assert "«" not in text
    if kind == "source":  # the skeleton's file name, pointed at a text that exists
        (mini_project.sources_dir / "903_3f5591fb49c74a46.txt").write_bytes(
            (mini_project.sources_dir / "003_3f5591fb49c74a46.txt").read_bytes()
        )
    path.write_text(text, "utf-8")
    result = runner.invoke(main, ["--root", str(mini_project.root), "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 violations" in result.output
    formatted = runner.invoke(main, ["--root", str(mini_project.root), "fmt", str(path)])
    assert formatted.exit_code == 0, formatted.output
    assert "# the article it is from" in path.read_text("utf-8") or kind in ("document", "agent", "source")


def test_prints_without_output(runner: CliRunner) -> None:
    result = runner.invoke(main, ["new", "measure"])
    assert result.exit_code == 0, result.output
    assert "a cq:Measure" in result.output and "cq:strength cq:«STRENGTH»" in result.output


def test_refuses_to_overwrite_unless_forced(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "mine.ttl"
    path.write_text("keep me", "utf-8")
    result = runner.invoke(main, ["new", "document", "-o", str(path)])
    assert result.exit_code == 2, result.output
    assert "already exists" in result.output and "--force" in result.output
    assert path.read_text("utf-8") == "keep me"
    result = runner.invoke(main, ["new", "document", "-o", str(path), "--force"])
    assert result.exit_code == 0, result.output
    assert "a cq:PolicyDocument" in path.read_text("utf-8")


def test_unknown_kind_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(main, ["new", "person"])
    assert result.exit_code == 2, result.output
    assert "measure" in result.output


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_skeleton_gets_normal_permissions(runner: CliRunner, tmp_path: Path, umask: int) -> None:
    path = tmp_path / "new.ttl"
    old = os.umask(umask)
    try:
        result = runner.invoke(main, ["new", "measure", "-o", str(path)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert not list(tmp_path.glob(".new.ttl.*"))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where nobody can create a file")
def test_unwritable_folder_exits_2_cleanly(runner: CliRunner) -> None:
    result = runner.invoke(main, ["new", "measure", "-o", "/proc/kb-new.ttl"])
    assert result.exit_code == 2, result.output
    assert "error: cannot write /proc/kb-new.ttl" in result.output and "Traceback" not in result.output
    assert not Path("/proc/kb-new.ttl").exists()

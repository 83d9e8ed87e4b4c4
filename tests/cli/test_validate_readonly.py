"""No command but `kb fmt` writes into facts/: build, query, validate and stats leave it byte-identical."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from samples import MEASURE

from kb.cli import main
from kb.project import Project


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_commands_leave_facts_untouched(runner: CliRunner, mini_project: Project) -> None:
    (mini_project.facts_dir / "test.ttl").write_text(MEASURE.replace("cq:Mandatory", "cq:Optional"), "utf-8")
    before = snapshot(mini_project.facts_dir)
    for args in (
        ["build"],
        ["query", "measures"],
        ["validate"],
        ["validate", str(mini_project.facts_dir / "test.ttl")],
        ["stats"],
    ):
        result = runner.invoke(main, ["--root", str(mini_project.root), *args])
        assert result.exit_code in (0, 1), (args, result.output)
    assert snapshot(mini_project.facts_dir) == before

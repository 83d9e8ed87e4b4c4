"""Generated documents (CLI reference, coverage table) must match the code and the data: run `make docs`."""

from __future__ import annotations

from click.testing import CliRunner

from kb.cli import main
from kb.project import Project


def test_generated_docs_are_up_to_date(runner: CliRunner, project: Project) -> None:
    result = runner.invoke(main, ["--root", str(project.root), "docs", "--check"])
    assert result.exit_code == 0, result.output + "\nrun `make docs` and commit the result"


def test_docs_check_names_a_stale_document(runner: CliRunner, mini_project: Project) -> None:
    result = runner.invoke(main, ["--root", str(mini_project.root), "docs", "--check"])
    assert result.exit_code == 1, result.output
    assert "out of date: docs/cli.md" in result.output
    written = runner.invoke(main, ["--root", str(mini_project.root), "docs"])
    assert written.exit_code == 0, written.output
    articles = len(list(mini_project.sources_dir.glob("*.txt")))
    assert (mini_project.root / "docs" / "coverage.md").read_text("utf-8").count(".txt |") == articles
    again = runner.invoke(main, ["--root", str(mini_project.root), "docs", "--check"])
    assert again.exit_code == 0, again.output


def test_readme_documents_every_command(project: Project) -> None:
    readme = (project.root / "README.md").read_text("utf-8")
    import click

    ctx = click.Context(main)
    missing = [name for name in main.list_commands(ctx) if f"kb {name}" not in readme]
    assert missing == []

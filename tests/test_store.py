"""The persistent store: a failed build leaves no half-written folder and keeps the last good store."""

from __future__ import annotations

from click.testing import CliRunner
from test_cli_core import MEASURE, add_fact, run

from kb.project import Project


def test_failed_build_keeps_the_last_good_store_and_leaves_no_debris(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    assert run(runner, mini_project, "build").exit_code == 0
    state = mini_project.state_dir
    good_index = (state / "store" / "index.json").read_text("utf-8")
    add_fact(mini_project, MEASURE.replace("cq:strength cq:Mandatory ;", "cq:strength cq:Mandatory"), "broken.ttl")
    failed = run(runner, mini_project, "build")
    assert failed.exit_code == 2, failed.output
    assert "facts/broken.ttl:" in failed.output and "Traceback" not in failed.output
    assert sorted(p.name for p in state.iterdir()) == ["manifest.json", "store"]
    assert (state / "store" / "index.json").read_text("utf-8") == good_index


def test_removing_a_file_rebuilds_without_its_facts(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE)
    assert "test-daily-testing" in run(runner, mini_project, "query", "measures").output
    path.unlink()
    output = run(runner, mini_project, "query", "measures").output
    assert "test-daily-testing" not in output and "(0 rows)" in output

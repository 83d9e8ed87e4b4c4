"""pyshacl-turbo gives the same findings as pyshacl (the reference) before `--engine turbo` may be used."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from samples import CLI_MEASURE as MEASURE
from samples import add_fact, run

from kb.errors import UsageError
from kb.project import Project
from kb.validate import Report, validate_files

PLANTED = (
    MEASURE.replace("cq:Mandatory", "cq:Compulsory")
    .replace(', "daily area testing in the central urban districts"@en', "")
    .replace('"2022-11-09"^^xsd:date', '"2022-13-45"^^xsd:date')
    .replace(
        "    cq:inForceFromKind cq:NotStated ;\n",
        '    cq:inForceFromKind cq:NotStated ;\n    cq:inForceUntil "2022-01-01"^^xsd:date ;\n',
    )
    .replace("cq:appliesTo place:central-urban-districts", "cq:appliesTo place:nowhere")
)


def _keys(report: Report) -> list[tuple[str, int, str, str, str, str]]:
    return [(f.file, f.line, f.severity, f.subject, f.property, f.message) for f in report.findings]


def test_turbo_finds_exactly_what_pyshacl_finds_in_a_planted_error_file(mini_project: Project) -> None:
    path = add_fact(mini_project, PLANTED)
    reference = validate_files(mini_project, [path], engine="pyshacl")
    turbo = validate_files(mini_project, [path], engine="turbo")
    assert len(reference.findings) >= 5
    assert _keys(turbo) == _keys(reference)


def test_turbo_agrees_on_the_whole_knowledge_base(project: Project) -> None:
    assert _keys(validate_files(project, engine="turbo")) == _keys(validate_files(project, engine="pyshacl"))


def test_engine_option_on_the_command_line(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, PLANTED)
    reference = run(runner, mini_project, "validate", "--format", "json", str(path))
    turbo = run(runner, mini_project, "validate", "--format", "json", "--engine", "turbo", str(path))
    assert reference.exit_code == turbo.exit_code == 1, turbo.output
    assert reference.output == turbo.output


def test_unknown_engine_is_a_usage_error(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "validate", "--engine", "fastest")
    assert result.exit_code == 2, result.output
    with pytest.raises(UsageError, match="unknown SHACL engine"):
        validate_files(mini_project, engine="fastest")

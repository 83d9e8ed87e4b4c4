"""Property-based robustness: random and mutated inputs never crash load, fmt or validate."""

from __future__ import annotations

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samples import MEASURE, ROOT

from kb.authoring.canonical import format_text
from kb.cli import main
from kb.errors import KbError
from kb.loader import parse_turtle
from kb.project import Project

settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci")
DOCUMENTS = (ROOT / "facts" / "documents.ttl").read_text("utf-8")
SEEDS = [MEASURE, DOCUMENTS]
FAST = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(SEEDS)).splitlines(keepends=True)
    kind = draw(st.sampled_from(["drop", "swap", "date", "truncate", "bytes"]))
    if kind == "drop" and len(lines) > 1:
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif kind == "swap" and len(lines) > 1:
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "date":
        text = "".join(lines).replace("2022-11-", draw(st.sampled_from(["2022-13-", "20-11-", "2022-11-x", "x"])), 1)
        lines = [text]
    data = "".join(lines).encode("utf-8")
    if kind == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    if kind == "bytes":
        data = draw(st.binary(max_size=200))
    return data


@FAST
@given(mutated())
def test_load_and_fmt_raise_only_project_errors(data: bytes) -> None:
    try:
        parsed = parse_turtle(data, "fuzz.ttl")
        out = format_text(parsed)
    except KbError as error:
        assert error.file == "fuzz.ttl" and str(error)
        return
    assert format_text(parse_turtle(out.encode("utf-8"), "fuzz.ttl")) == out


@SLOW
@given(data=mutated())
def test_validate_and_fmt_cli_exit_cleanly(mini_project: Project, data: bytes) -> None:
    runner = CliRunner()
    path = mini_project.facts_dir / "fuzz.ttl"
    for command in ("validate", "fmt"):
        path.write_bytes(data)
        result = runner.invoke(main, ["--root", str(mini_project.root), command, str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output

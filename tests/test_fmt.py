"""`kb fmt`: canonical, deterministic, idempotent, isomorphic, comments kept, atomic writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic
from test_validate_checks import MEASURE

from kb.cli import main
from kb.fmt import SLEEP_HOOK, format_text
from kb.loader import parse_turtle
from kb.project import Project

ROOT = Path(__file__).resolve().parent.parent
# Every fact file must be in canonical form.
FMT_ENFORCED = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "facts").rglob("*.ttl"))

MESSY = """# Header: why this file exists.
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix unused: <http://example.org/unused#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix cq: <https://w3id.org/cq-covid/def#> .
@prefix measure: <https://w3id.org/cq-covid/id/measure/> .
@prefix qk: <https://w3id.org/cq-covid/def/quantity/> .
@prefix unit: <http://qudt.org/vocab/unit/> .

# the second measure, with a comment above it
measure:b cq:value 2.0; rdfs:label "乙"@zh, "B"@en ; a cq:Measure ;
  cq:parameter [ cq:unit unit:HR ; a cq:Parameter ; cq:value 48.0 ] ;  # a trailing comment on a predicate
  cq:quote "say \\"hi\\" # not a comment" .
measure:a a cq:Measure ; cq:announced "2022-11-09"^^xsd:date ; rdfs:label "A"@en .
"""


def canonical(text: str, name: str = "t.ttl") -> str:
    return format_text(parse_turtle(text.encode("utf-8"), name))


def graph(text: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=text, format="turtle")


def run(runner: CliRunner, project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(main, ["--root", str(project.root), *args])


def test_layout() -> None:
    out = canonical(MESSY)
    assert out.startswith("# Header: why this file exists.\n\n@prefix cq: ")
    assert "unused" not in out
    prefixes = [line for line in out.splitlines() if line.startswith("@prefix")]
    assert prefixes == sorted(prefixes)
    body = out.split("\n\n", 2)[2]
    assert body.index("measure:a\n") < body.index("measure:b\n")
    assert (
        '# the second measure, with a comment above it\nmeasure:b\n    a cq:Measure ;\n    rdfs:label "B"@en, "乙"@zh ;'
        in out
    )
    assert (
        "    # a trailing comment on a predicate\n"
        "    cq:parameter [ a cq:Parameter ; cq:value 48.0 ; cq:unit unit:HR ] ;" in out
    )
    assert '"say \\"hi\\" # not a comment"' in out
    assert "\n\n\n" not in out and out.endswith(" .\n")


def test_idempotent_and_isomorphic() -> None:
    once = canonical(MESSY)
    assert canonical(once) == once
    assert isomorphic(graph(once), graph(MESSY))


def test_deterministic_whatever_the_input_order() -> None:
    parsed = parse_turtle(MEASURE.encode("utf-8"), "t.ttl")
    prefixes = "".join(line + "\n" for line in MEASURE.splitlines() if line.startswith("@prefix"))
    one_per_line = prefixes + "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in reversed(parsed.triples))
    assert isomorphic(graph(one_per_line), graph(MEASURE))
    assert canonical(one_per_line) == canonical(MEASURE)


@pytest.mark.parametrize("name", FMT_ENFORCED)
def test_shared_files_round_trip(name: str) -> None:
    text = (ROOT / name).read_text("utf-8")
    out = canonical(text, name)
    assert isomorphic(graph(out), graph(text))
    assert canonical(out, name) == out


def test_comment_that_cannot_be_kept_is_refused(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "test.ttl"
    text = MESSY.replace(
        "  cq:parameter [ cq:unit unit:HR ;", "  cq:parameter [\n  # inside a blank node\n  cq:unit unit:HR ;"
    )
    path.write_text(text, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2, result.output
    assert "facts/test.ttl:13:3: this comment cannot be kept" in result.output and "hint:" in result.output
    assert path.read_text("utf-8") == text


def test_check_lists_files_and_exits_1_then_fmt_fixes_them(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MESSY, "utf-8")
    canonical_file = mini_project.facts_dir / "ok.ttl"
    canonical_file.write_text(canonical(MEASURE), "utf-8")
    result = run(runner, mini_project, "fmt", "--check", str(path), str(canonical_file))
    assert result.exit_code == 1, result.output
    assert "would reformat facts/test.ttl" in result.output and "ok.ttl" not in result.output.split("files")[0]
    assert path.read_text("utf-8") == MESSY
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_text("utf-8") == canonical(MESSY)
    assert run(runner, mini_project, "fmt", "--check", str(path)).exit_code == 0


def test_default_is_every_fact_file(runner: CliRunner, mini_project: Project) -> None:
    (mini_project.facts_dir / "test.ttl").write_text(MESSY, "utf-8")
    result = run(runner, mini_project, "fmt", "--check")
    assert result.exit_code == 1, result.output
    assert "facts/test.ttl" in result.output and "of 5 files" in result.output


@pytest.mark.parametrize(
    ("data", "says"), [(b"", "file is empty"), (b"a b c", "Turtle syntax error"), (b"\xff\xfe", "not UTF-8")]
)
def test_bad_files_exit_2_untouched(runner: CliRunner, mini_project: Project, data: bytes, says: str) -> None:
    path = mini_project.facts_dir / "bad.ttl"
    path.write_bytes(data)
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2, result.output
    assert "facts/bad.ttl" in result.output and says in result.output and "Traceback" not in result.output
    assert path.read_bytes() == data


def test_killed_mid_write_leaves_the_original_intact(mini_project: Project) -> None:
    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MESSY, "utf-8")
    env = {**os.environ, SLEEP_HOOK: "30", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "kb", "--root", str(mini_project.root), "fmt", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # wait until the temporary file is written, then kill
            if any(p.name.endswith(".tmp") and p.stat().st_size > 0 for p in mini_project.facts_dir.iterdir()):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the temporary file never appeared")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert path.read_text("utf-8") == MESSY


@pytest.mark.parametrize("name", FMT_ENFORCED)
def test_committed_fact_files_are_canonical(name: str) -> None:
    text = (ROOT / name).read_text("utf-8")
    assert canonical(text, name) == text, f"{name} is not in canonical form: run `make fmt`"

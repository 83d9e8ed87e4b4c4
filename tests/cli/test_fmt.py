"""`kb fmt`: canonical, deterministic, idempotent, isomorphic, comments kept, atomic writes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic
from samples import MEASURE, ROOT, run

import kb.authoring.canonical as canonical_module
from kb import loader
from kb.authoring.canonical import MAX_FILE_BYTES, MAX_NESTING, format_text, isomorphic_triples
from kb.loader import parse_turtle
from kb.project import Project

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
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The child stalls just before the atomic rename (os.replace patched in that process only), then is killed.
    stall = (
        "import os, sys, time; from kb.cli import main; "
        "os.replace = lambda *a, **k: time.sleep(30); "
        "sys.exit(main(sys.argv[1:]))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", stall, "--root", str(mini_project.root), "fmt", str(path)],
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


# ---------------------------------------------------------------- nothing is ever dropped (issue 10)

X = "@prefix x: <http://example.org/x#> .\n"
# The repro: two blank nodes pointing at each other; fmt kept 1 of 5 triples and said "reformatted".
CYCLE = (
    X
    + """x:s x:p "keep" .
_:a x:n "lost" ; x:next _:b .
_:b x:n "lost" ; x:next _:a .
"""
)
REFUSED = [
    (CYCLE, 3, "blank nodes in a cycle (_:a, _:b)", "give the node _:a an IRI"),
    (X + 'x:s x:p "keep" .\n_:a x:self _:a .\n', 3, "blank nodes in a cycle (_:a)", "give the node _:a an IRI"),
    (X + "x:s x:p _:shared .\nx:t x:p _:shared .\n", 2, "blank node _:shared is the object of 2 triples", "IRI"),
    (X + 'x:s x:p _:b .\n_:b x:q "v" .\n_:c x:r _:b .\n', 2, "blank node _:b is the object of 2 triples", "IRI"),
    (X + "x:s x:p x:o .\n<< x:a x:b x:c >> x:d x:e .\n", 3, "RDF-star", "describe it with a node of its own"),
    (X + "x:s x:p x:o .\nx:a x:b x:c {| x:d x:e |} .\n", 3, "RDF-star", "describe it with a node of its own"),
    (X + "x:s x:p x:o .\nx:r x:says <<( x:a x:b x:c )>> .\n", 3, "RDF-star", "describe it with a node of its own"),
    (X + 'x:s x:p "right to left"@ar--rtl .\n', 2, "base direction (@ar--rtl)", "plain language tag"),
]


@pytest.mark.parametrize(("text", "line", "says", "hint"), REFUSED)
@pytest.mark.parametrize("check", [False, True])
def test_what_cannot_be_written_is_refused_and_the_file_untouched(
    runner: CliRunner, mini_project: Project, text: str, line: int, says: str, hint: str, check: bool
) -> None:
    path = mini_project.facts_dir / "lossy.ttl"
    path.write_text(text, "utf-8")
    result = run(runner, mini_project, "fmt", *(["--check"] if check else []), str(path))
    assert result.exit_code == 2, result.output
    assert f"error: facts/lossy.ttl:{line}: " in result.output and says in result.output, result.output
    assert "hint:" in result.output and hint in result.output and "Traceback" not in result.output
    assert "1 failed" in result.output and "reformatted facts/lossy.ttl" not in result.output
    assert path.read_text("utf-8") == text


def test_the_cycle_repro_keeps_all_five_triples_on_disk(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "cycle.ttl"
    path.write_text(CYCLE, "utf-8")
    assert run(runner, mini_project, "fmt", str(path)).exit_code == 2
    assert len(graph(path.read_text("utf-8"))) == 5


def test_a_refused_file_does_not_stop_the_others(runner: CliRunner, mini_project: Project) -> None:
    bad, good = mini_project.facts_dir / "bad.ttl", mini_project.facts_dir / "good.ttl"
    bad.write_text(CYCLE, "utf-8")
    good.write_text(MESSY, "utf-8")
    result = run(runner, mini_project, "fmt", str(bad), str(good))
    assert result.exit_code == 2, result.output
    assert "reformatted facts/good.ttl" in result.output and "1 of 2 files reformatted, 1 failed" in result.output
    assert bad.read_text("utf-8") == CYCLE and good.read_text("utf-8") == canonical(MESSY)


@pytest.mark.parametrize(
    "text",
    [
        # blank nodes used once, in any order, nested, as lists, top-level, or with the same properties
        X + "x:s x:p _:b .\n_:b x:q _:c .\n_:c x:r 1 .\n",
        X + "_:c x:r 1 .\n_:b x:q _:c .\nx:s x:p _:b .\n",
        X + "x:s x:p [ x:q 1 ], [ x:q 1 ], [ x:q [ x:r 2 ] ], [ x:q [ x:r 2 ] ] .\n",
        X + "x:s x:p (1 (2 3) [ x:q 4 ] ()), () .\n(5 6) x:p x:o .\n",
        X + "[ x:p 1 ] .\n[ x:p 1 ] .\n[] x:p [ x:q 2 ] .\n_:top x:p 3 .\n",
        X + "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\nx:s x:p rdf:type .\n",
        X + 'x:s x:p "a\\"b\\\\c\\nd\\re\\tf #g <h> \'i\'", """multi\nline "quoted" """, \'\'\'x\'\'\'@en-gb .\n',
        X + 'x:s x:p "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n',
        X + 'x:s x:p "1."^^<http://www.w3.org/2001/XMLSchema#decimal> .\n',
        X + "x:s x:p x:o .\nx:s x:p x:o .\n",
    ],
)
def test_blank_node_trees_lists_and_literals_round_trip(text: str) -> None:
    out = canonical(text)
    assert isomorphic(graph(out), graph(text)), out
    assert canonical(out) == out


def test_language_tags_are_written_in_lower_case() -> None:
    # the loader (oxigraph) reads tags case-folded, as RDF compares them; fmt writes what the KB holds
    assert '"x"@en-gb .' in canonical(X + 'x:s x:p "x"@en-GB .\n')


def test_identical_blank_nodes_are_both_kept() -> None:
    out = canonical(X + "x:s x:p [ x:q 1 ], [ x:q 1 ] .\n")
    assert out.count("[ x:q 1 ]") == 2 and len(graph(out)) == 4


def test_rdf_type_as_an_object_is_not_written_as_a() -> None:
    out = canonical(X + "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\nx:s x:p rdf:type .\n")
    assert "x:p rdf:type ." in out


def test_a_too_deep_list_is_refused_not_a_crash(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "deep.ttl"
    text = X + "x:s x:p (" + " ".join(str(i) for i in range(MAX_NESTING + 5)) + ") .\n"
    path.write_text(text, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2, result.output
    assert f"nested more than {MAX_NESTING} levels" in result.output and "Traceback" not in result.output
    assert path.read_text("utf-8") == text
    short = X + "x:s x:p (" + " ".join(str(i) for i in range(MAX_NESTING - 5)) + ") .\n"
    assert isomorphic(graph(canonical(short)), graph(short))


def test_safety_net_refuses_output_that_lost_a_triple(
    runner: CliRunner, mini_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = canonical_module._Writer.predicates

    def lossy(
        self: canonical_module._Writer,
        triples: list[ox.Triple],
        subject: str | None = None,
        comments: canonical_module._Comments | None = None,
    ) -> list[str]:
        return original(self, triples, subject, comments)[:-1] or ["a <http://example.org/x#Other>"]

    monkeypatch.setattr(canonical_module._Writer, "predicates", lossy)
    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MESSY, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2, result.output
    assert "facts/test.ttl: the canonical form would not hold the same triples" in result.output
    assert "nothing was written" in result.output and path.read_text("utf-8") == MESSY


def test_safety_net_refuses_output_that_does_not_parse(
    runner: CliRunner, mini_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(canonical_module._Writer, "iri", lambda self, value: f"<{value} >")
    path = mini_project.facts_dir / "test.ttl"
    path.write_text(MESSY, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2, result.output
    assert "the canonical form would not parse back" in result.output and path.read_text("utf-8") == MESSY


def _triples(text: str) -> list[ox.Triple]:
    return parse_turtle(text.encode("utf-8"), "t.ttl").triples


@pytest.mark.parametrize(
    ("one", "two", "same"),
    [
        ("x:s x:p [ x:q [ x:r 1 ] ] .", "_:z x:r 1 . _:y x:q _:z . x:s x:p _:y .", True),
        ("x:s x:p [ x:q 1 ], [ x:q 1 ] .", "x:s x:p [ x:q 1 ] .", False),
        ("x:s x:p [ x:q 1 ; x:r 2 ] .", "x:s x:p [ x:q 1 ], [ x:r 2 ] .", False),
        ("x:s x:p [ x:q 1 ] .", "x:s x:p [ x:q 1 ] . [ x:q 1 ] .", False),
        ('x:s x:p "1" .', "x:s x:p 1 .", False),
        ('x:s x:p "a"@en .', 'x:s x:p "a"@en--ltr .', False),
        ("x:s x:p _:a . _:a x:q _:b . _:b x:q _:a .", "x:s x:p _:a . _:a x:q _:b . _:b x:q _:a .", False),
    ],
)
def test_isomorphism_check(one: str, two: str, same: bool) -> None:
    assert isomorphic_triples(_triples(X + one), _triples(X + two)) is same


def test_rewrite_keeps_permission_bits(runner: CliRunner, mini_project: Project) -> None:
    for mode in (0o644, 0o664, 0o640):
        path = mini_project.facts_dir / f"mode-{mode:o}.ttl"
        path.write_text(MESSY, "utf-8")
        path.chmod(mode)
        result = run(runner, mini_project, "fmt", str(path))
        assert result.exit_code == 0, result.output
        assert path.read_text("utf-8") == canonical(MESSY) and stat.S_IMODE(path.stat().st_mode) == mode


def test_rewrite_through_a_symlink_keeps_the_link(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.ttl"
    target.write_text(MESSY, "utf-8")
    link = mini_project.facts_dir / "link.ttl"
    link.symlink_to(target)
    result = run(runner, mini_project, "fmt", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and target.read_text("utf-8") == canonical(MESSY)


@pytest.mark.parametrize("filename", ["with space.ttl", "重庆 措施.ttl"])
def test_file_names_with_spaces_newlines_or_chinese(runner: CliRunner, mini_project: Project, filename: str) -> None:
    path = mini_project.facts_dir / filename
    path.write_text(MESSY, "utf-8")
    result = run(runner, mini_project, "fmt", "--check", str(path))
    assert result.exit_code == 1, result.output
    assert f"would reformat facts/{filename}" in result.output
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_text("utf-8") == canonical(MESSY)
    assert run(runner, mini_project, "fmt", str(path)).exit_code == 0
    path.write_text(CYCLE, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2 and f"facts/{filename}:3: blank nodes in a cycle" in result.output, result.output


def test_a_file_name_with_a_line_break_is_refused_untouched(runner: CliRunner, mini_project: Project) -> None:
    # a line break in a name could forge lines of the report: the loader refuses such names everywhere
    path = mini_project.facts_dir / "new\nline.ttl"
    path.write_text(MESSY, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2 and "line break" in result.output and "Traceback" not in result.output
    assert path.read_text("utf-8") == MESSY


def test_a_folder_argument_is_refused(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "fmt", str(mini_project.facts_dir))
    assert result.exit_code == 2, result.output
    assert "is a directory" in result.output and "Traceback" not in result.output


def test_a_folder_named_ttl_under_facts_is_refused(runner: CliRunner, mini_project: Project) -> None:
    (mini_project.facts_dir / "folder.ttl").mkdir()
    result = run(runner, mini_project, "fmt", "--check")
    assert result.exit_code == 2, result.output
    assert "facts/folder.ttl: is a folder, not a file" in result.output and "Traceback" not in result.output


def test_dev_zero_is_refused_without_reading_it(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "fmt", "/dev/zero")
    assert result.exit_code == 2, result.output
    assert "/dev/zero: is not a regular file" in result.output and "Traceback" not in result.output


def test_a_fifo_is_refused_without_hanging(mini_project: Project) -> None:
    fifo = mini_project.facts_dir / "pipe.ttl"
    os.mkfifo(fifo)
    # a subprocess with a timeout: a hang fails the test instead of blocking the suite
    for args in ([str(fifo)], []):
        done = subprocess.run(
            [sys.executable, "-m", "kb", "--root", str(mini_project.root), "fmt", "--check", *args],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "facts/pipe.ttl: is not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_a_file_over_the_size_limit_is_refused(runner: CliRunner, mini_project: Project) -> None:
    assert MAX_FILE_BYTES == loader.MAX_FILE_BYTES == 8 * 2**20  # one limit for every reader of fact files
    path = mini_project.facts_dir / "big.ttl"
    path.write_text(MESSY, "utf-8")
    os.truncate(path, MAX_FILE_BYTES + 1)  # sparse: no 8 MB written to disk, and none read
    result = run(runner, mini_project, "fmt", str(path))
    assert result.exit_code == 2, result.output
    assert "facts/big.ttl: file is larger than kb fmt's limit of 8 MB" in result.output
    assert "split it" in result.output and path.stat().st_size == MAX_FILE_BYTES + 1
    with path.open("rb") as handle:
        assert handle.read(len(MESSY.encode("utf-8"))) == MESSY.encode("utf-8")


def test_a_missing_file_is_refused(runner: CliRunner, mini_project: Project) -> None:
    result = run(runner, mini_project, "fmt", str(mini_project.facts_dir / "missing.ttl"))
    assert result.exit_code == 2, result.output
    assert "facts/missing.ttl: file not found" in result.output


def test_a_subject_lookalike_in_a_long_string_is_no_crash(runner: CliRunner, mini_project: Project) -> None:
    path = mini_project.facts_dir / "long.ttl"
    text = X + 'x:s x:p """text\n<a\\\\b> not a subject""" ;\n    # on a predicate\n    x:q 1 .\n'
    path.write_text(text, "utf-8")
    result = run(runner, mini_project, "fmt", str(path))
    assert "Traceback" not in result.output
    if result.exit_code == 2:  # refused: the file is untouched
        assert "facts/long.ttl:4:5: this comment cannot be kept" in result.output
        assert path.read_text("utf-8") == text
    else:  # the loader's exact scan places it: formatted with nothing lost
        assert result.exit_code == 0, result.output
        assert "# on a predicate" in path.read_text("utf-8")
        assert isomorphic(rdflib.Graph().parse(data=text, format="turtle"), rdflib.Graph().parse(path, format="turtle"))

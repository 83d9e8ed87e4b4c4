"""`kb validate` on a stranger's files: nothing outside facts/sources/ is read, no finding is dropped, no check
is silenced by the file itself, and every odd file ends in a clean message (issue 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import LINE, MEASURE, PREFIXES, ROOT, STATISTIC, add_fact, run

from kb.loader import MAX_FILE_BYTES
from kb.namespaces import turtle_prefixes
from kb.project import Project
from kb.validate import Finding, validate_files

EXTRA_PREFIXES = turtle_prefixes("owl", "rdf")
ANNOUNCEMENT = (
    PREFIXES
    + """
@prefix ann: <https://w3id.org/cq-covid/id/announcement/> .

ann:test-letter
    a cq:Letter ;
    rdfs:label "致广大北碚市民朋友的一封信"@zh, "letter to the residents of Beibei"@en ;
    cq:date "2022-11-10"^^xsd:date ;
    cq:dateKind cq:StatedDate ;
    cq:source src:article-003 ;
    cq:quote "致广大北碚市民朋友的一封信" .
"""
)


def both_modes(project: Project, text: str, name: str = "test.ttl") -> set[Finding]:
    """The findings in the file, the same whether it is checked alone (in context) or with the whole KB."""
    path = add_fact(project, text, name)
    in_context = set(validate_files(project, [path]).findings)
    whole = {f for f in validate_files(project).findings if f.file == f"facts/{name}"}
    assert in_context == whole
    return in_context


def of_check(findings: set[Finding] | list[Finding], check: str) -> list[Finding]:
    return sorted(f for f in findings if f.check == check)


def kb_process(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`kb` in its own process, bounded in time: for inputs that could make a reader hang."""
    env = {**os.environ, "KB_STATE_DIR": str(project.root.parent / "state")}
    return subprocess.run(
        [sys.executable, "-m", "kb", "--root", str(project.root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


# ---------------------------------------------------------------- source files: only facts/sources/ is read

SECRET = "TOP-SECRET-7f3a9c 中心城区各区将实行一天一次"


def _citing(file_name: str) -> str:
    # without cq:cites: the cited document lists the real articles, not this test source
    cited = MEASURE.replace("    cq:cites doc:control-plan-9th-edition ;\n", "")
    return cited.replace("src:article-003 ;", "src:test-source ;") + (
        f'\nsrc:test-source\n    a cq:Source ;\n    rdfs:label "测试来源"@zh, "a test source"@en ;\n'
        f'    cq:fileName "{file_name}" .\n'
    )


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n", "utf-8")
    return path


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "proc", "symlink-out", "fifo", "folder", "too-large"])
def test_a_file_name_outside_the_sources_is_refused_and_not_read(
    runner: CliRunner, mini_project: Project, secret_file: Path, kind: str
) -> None:
    sources = mini_project.sources_dir
    name = {
        "absolute": str(secret_file),
        "dotdot": "../../../" + secret_file.name,
        "proc": "/proc/self/environ",
        "symlink-out": "link.txt",
        "fifo": "pipe.txt",
        "folder": "folder.txt",
        "too-large": "huge.txt",
    }[kind]
    (mini_project.root.parent / secret_file.name).write_text(SECRET, "utf-8")  # where ../../../ would lead
    if kind == "symlink-out":
        (sources / name).symlink_to(secret_file)
    elif kind == "fifo":
        os.mkfifo(sources / name)
    elif kind == "folder":
        (sources / name).mkdir()
    elif kind == "too-large":
        with open(sources / name, "wb") as handle:
            handle.truncate(MAX_FILE_BYTES + 1)
    path = add_fact(mini_project, _citing(name))
    for args in (["validate", str(path)], ["validate"]):
        if kind == "fifo":  # a FIFO could make a reader hang: kb in its own process, bounded in time
            process = kb_process(mini_project, *args)
            code, output = process.returncode, process.stdout
        else:
            result = run(runner, mini_project, *args)
            code, output = result.exit_code, result.output
        assert code == 1, output
        assert "TOP-SECRET" not in output and "closest passage" not in output
        assert "Traceback" not in output
        refused = [line for line in output.splitlines() if "cq:fileName «" in line]
        assert len(refused) == 1, output
        assert "facts/test.ttl:" in refused[0] and "the file was not read" in refused[0]
        assert "the quote cannot be checked" in output


def test_the_environment_is_not_printed(runner: CliRunner, mini_project: Project) -> None:
    environment = Path("/proc/self/environ").read_bytes().split(b"\0")
    path = add_fact(mini_project, _citing("/proc/self/environ"))
    result = run(runner, mini_project, "validate", str(path))
    assert result.exit_code == 1, result.output
    assert "must be the name of a file directly inside facts/sources/" in result.output
    for entry in environment:
        if len(entry) > 12:
            assert entry.decode("utf-8", "replace") not in result.output


def test_a_link_inside_the_sources_to_a_source_is_fine(mini_project: Project) -> None:
    (mini_project.sources_dir / "alias.txt").symlink_to(mini_project.sources_dir / "003_3f5591fb49c74a46.txt")
    assert both_modes(mini_project, _citing("alias.txt")) == set()


# ---------------------------------------------------------------- every finding is placed, none dropped

BLANK_MEASURE = (
    PREFIXES
    + """
[] a cq:Measure ;
    rdfs:label "无名措施"@zh, "a measure without a name"@en ;
    cq:category cat:testing ;
    cq:appliesTo place:central-urban-districts ;
    cq:announcedKind cq:NotStated ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .
"""
)


def test_a_blank_subject_is_reported_at_the_file(runner: CliRunner, mini_project: Project) -> None:
    findings = both_modes(mini_project, BLANK_MEASURE)
    (missing,) = [f for f in findings if f.property == "cq:strength"]
    assert (missing.file, missing.line, missing.subject) == ("facts/test.ttl", 0, "[]")
    result = run(runner, mini_project, "validate", str(mini_project.facts_dir / "test.ttl"))
    assert result.exit_code == 1, result.output
    assert "facts/test.ttl (line unknown)  []  cq:strength  Strength must be" in result.output


def test_an_indented_subject_is_located(mini_project: Project) -> None:
    text = MEASURE.replace("\nmeasure:test-measure\n", "\n  measure:test-measure\n").replace(
        "cq:Mandatory", "cq:Optional"
    )
    findings = [f for f in both_modes(mini_project, text) if f.check == "shacl"]
    assert [(f.line, f.property) for f in findings] == [(LINE["cq:strength"], "cq:strength")]


def test_relative_iris_with_base_are_located(mini_project: Project) -> None:
    text = (
        MEASURE.replace(
            "\nmeasure:test-measure\n", "\n@base <https://w3id.org/cq-covid/id/measure/> .\n<test-measure>\n"
        )
        .replace("cq:Mandatory", "cq:Optional")
        .replace("cq:cites doc:control-plan-9th-edition", "cq:relaxes <test-measure>")
    )
    findings = both_modes(mini_project, text)
    by_check = {(f.check, f.property): f.line for f in findings}
    assert by_check[("shacl", "cq:strength")] == LINE["cq:strength"] + 1
    assert by_check[("self-change-violation", "cq:relaxes")] == LINE["cq:cites"] + 1
    assert all(f.subject == "measure:test-measure" for f in findings)


def test_several_subjects_on_one_line_are_located(mini_project: Project) -> None:
    one = MEASURE.split("\nmeasure:test-measure\n", 1)[1].replace("\n", " ")
    line = (
        "measure:test-a "
        + one.replace("cq:Mandatory", "cq:Optional")
        + " measure:test-b "
        + one.replace("cq:category cat:testing ;", "")
    )
    header = MEASURE.split("\nmeasure:test-measure\n", 1)[0]
    findings = [f for f in both_modes(mini_project, header + "\n" + line + "\n") if f.check == "shacl"]
    number = header.count("\n") + 2
    assert {(f.subject, f.property, f.line) for f in findings} == {
        ("measure:test-a", "cq:strength", number),
        ("measure:test-b", "cq:category", number),
    }


def test_an_iri_written_with_escapes_is_still_reported(mini_project: Project) -> None:
    # \u0074 is "t": the parser reads measure/test-measure, the line scan may not; the finding stays
    text = MEASURE.replace(
        "\nmeasure:test-measure\n", "\n<https://w3id.org/cq-covid/id/measure/\\u0074est-measure>\n"
    ).replace("cq:Mandatory", "cq:Optional")
    findings = [f for f in both_modes(mini_project, text) if f.check == "shacl"]
    assert [(f.file, f.subject, f.property) for f in findings] == [
        ("facts/test.ttl", "measure:test-measure", "cq:strength")
    ]


# ---------------------------------------------------------------- a new file cannot change a described thing


@pytest.mark.parametrize(
    ("addition", "prop", "says"),
    [
        ('measure:test-measure rdfs:label "area testing twice a day"@en .', "rdfs:label", "with a different value"),
        ('measure:test-measure cq:announced "2022-11-01"^^xsd:date .', "cq:announced", "with a different value"),
        ("measure:test-measure cq:strength cq:Advisory .", "cq:strength", "with a different value"),
        (
            '@base <https://w3id.org/cq-covid/id/measure/> .\n<test-measure> cq:announced "2022-11-01"^^xsd:date .',
            "cq:announced",
            "with a different value",
        ),
        (
            "@base <https://w3id.org/cq-covid/id/> .\n<measure/x/../test-measure> cq:strength cq:Advisory .",
            "cq:strength",
            "with a different value",
        ),
        ("measure:test-measure cq:appliesTo place:shapingba .", "cq:appliesTo", "adds appliesTo"),
        ('measure:test-measure rdfs:label "un test"@fr .', "rdfs:label", "adds label"),
    ],
    ids=["label", "date", "strength", "base", "base-dot-segments", "adds-place", "adds-label"],
)
def test_a_new_file_cannot_change_a_described_measure(
    runner: CliRunner, mini_project: Project, addition: str, prop: str, says: str
) -> None:
    add_fact(mini_project, MEASURE, "base.ttl")
    text = PREFIXES + "@prefix place: <https://w3id.org/cq-covid/id/place/> .\n" + addition + "\n"
    conflicts = of_check(both_modes(mini_project, text), "duplicate-conflict-violation")
    assert [(f.subject, f.property) for f in conflicts] == [("measure:test-measure", prop)], conflicts
    assert conflicts[0].line == text.count("\n") and says in conflicts[0].message
    assert "facts/base.ttl" in conflicts[0].message
    result = run(runner, mini_project, "validate", str(mini_project.facts_dir / "test.ttl"))
    assert result.exit_code == 1 and "does not conform" in result.output, result.output


def test_restating_a_measure_unchanged_is_no_conflict(mini_project: Project) -> None:
    add_fact(mini_project, MEASURE, "base.ttl")
    assert of_check(both_modes(mini_project, MEASURE), "duplicate-conflict-violation") == []


def test_a_shipped_measure_cannot_be_changed_by_a_new_file(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "pull-request.ttl"
    shipped = "measure:arrivals-in-other-districts-test-on-arrival-and-2-in-3-days"
    path.write_text(PREFIXES + f'{shipped} cq:announced "2022-11-01"^^xsd:date .\n', "utf-8")
    conflicts = of_check(validate_files(project, [path]).findings, "duplicate-conflict-violation")
    assert [f.subject for f in conflicts] == [shipped]
    assert "also described in facts/article-003.ttl" in conflicts[0].message


# ---------------------------------------------------------------- vocabulary only from ontology/


DECLARATIONS = [
    "cq:NewThing a owl:Class .",
    "cq:NewClass a rdfs:Class .",
    "cq:newLink a owl:ObjectProperty .",
    "cq:newValue a owl:DatatypeProperty .",
    "cq:newProperty a rdf:Property .",
    "cat:new-concept a skos:Concept .",
    "cat:new-scheme a skos:ConceptScheme .",
    "cat:new-category a cq:Category .",
    "cq:SubThing rdfs:subClassOf cq:Measure .",
    "cq:subQuote rdfs:subPropertyOf cq:quote .",
    "cat:testing skos:inScheme cq:MeasureCategories .",
]


def test_a_fact_file_cannot_declare_vocabulary(mini_project: Project) -> None:
    text = MEASURE + "\n" + EXTRA_PREFIXES + "".join(d + "\n" for d in DECLARATIONS)
    found = of_check(both_modes(mini_project, text), "vocabulary-declaration")
    first = text.count("\n") - len(DECLARATIONS) + 1
    assert [f.line for f in found] == list(range(first, first + len(DECLARATIONS))), found
    assert all("belong in ontology/" in f.message for f in found)


def test_declaring_a_term_does_not_silence_the_vocabulary_check(mini_project: Project) -> None:
    text = (
        MEASURE.replace("cq:category cat:testing", "cq:category cat:invented")
        + EXTRA_PREFIXES
        + "cat:invented a cq:Category ; skos:inScheme cq:MeasureCategories ;\n"
        + '    rdfs:label "编造"@zh, "invented"@en .\n'
    )
    findings = both_modes(mini_project, text)
    assert [f.property for f in of_check(findings, "vocabulary")] == ["cat:invented"]
    assert len(of_check(findings, "vocabulary-declaration")) == 2


def test_a_statistic_type_is_declared_in_the_ontology_not_beside_its_figures(mini_project: Project) -> None:
    text = STATISTIC.replace("stat:new-confirmed-cases", "stat:test-new-cases") + (
        '\nstat:test-new-cases a cq:StatisticType ; rdfs:label "new cases"@en ; skos:inScheme cq:StatisticTypes .\n'
    )
    findings = both_modes(mini_project, text, "stat.ttl")
    assert {f.property for f in of_check(findings, "vocabulary-declaration")} == {"rdf:type", "skos:inScheme"}
    # and the figure's statistic is still an unknown term: declaring it beside the figure does not help
    assert "stat:test-new-cases" in {f.property for f in of_check(findings, "vocabulary")}


# ---------------------------------------------------------------- date kinds


def _measure(**changes: str) -> str:
    text = MEASURE
    for old, new in changes.items():
        text = text.replace(old, new)
    return text


_DATE_CASES = {
    # (example, old, new, property)
    "announced-kind-without-date": (MEASURE, '    cq:announced "2022-11-09"^^xsd:date ;\n', "", "cq:announced"),
    "announced-not-stated-with-date": (
        MEASURE,
        "cq:announcedKind cq:EventDate",
        "cq:announcedKind cq:NotStated",
        "cq:announced",
    ),
    "from-kind-without-date": (MEASURE, '    cq:inForceFrom "2022-11-10"^^xsd:date ;\n', "", "cq:inForceFrom"),
    "from-not-stated-with-date": (
        MEASURE,
        "cq:inForceFromKind cq:StatedDate",
        "cq:inForceFromKind cq:NotStated",
        "cq:inForceFrom",
    ),
    "until-kind-without-date": (MEASURE, '    cq:inForceUntil "2022-11-20"^^xsd:date ;\n', "", "cq:inForceUntil"),
    "until-not-stated-with-date": (
        MEASURE,
        "cq:inForceUntilKind cq:StatedDate",
        "cq:inForceUntilKind cq:NotStated",
        "cq:inForceUntil",
    ),
    "refdate-kind-without-date": (STATISTIC, '    cq:refDate "2022-11-09"^^xsd:date ;\n', "", "cq:refDate"),
    "refdate-not-stated-with-date": (
        STATISTIC,
        "cq:refDateKind cq:StatedDate",
        "cq:refDateKind cq:NotStated",
        "cq:refDate",
    ),
    "date-kind-without-date": (ANNOUNCEMENT, '    cq:date "2022-11-10"^^xsd:date ;\n', "", "cq:date"),
    "date-not-stated-with-date": (ANNOUNCEMENT, "cq:dateKind cq:StatedDate", "cq:dateKind cq:NotStated", "cq:date"),
    "attested-without-kind": (
        MEASURE,
        "    cq:source src:article-003 ;\n",
        '    cq:attestedInForce "2022-11-12"^^xsd:date ;\n    cq:source src:article-003 ;\n',
        "cq:attestedInForce",
    ),
    "attested-kind-without-date": (
        MEASURE,
        "    cq:source src:article-003 ;\n",
        "    cq:attestedInForceKind cq:EventDate ;\n    cq:source src:article-003 ;\n",
        "cq:attestedInForce",
    ),
}


def test_the_date_examples_conform(mini_project: Project) -> None:
    assert both_modes(mini_project, ANNOUNCEMENT) == set()
    attested = MEASURE.replace(
        "    cq:source src:article-003 ;\n",
        '    cq:attestedInForce "2022-11-12"^^xsd:date ;\n    cq:attestedInForceKind cq:EventDate ;\n'
        "    cq:source src:article-003 ;\n",
    )
    assert both_modes(mini_project, attested) == set()


@pytest.mark.parametrize("case", sorted(_DATE_CASES))
def test_date_kind_violation_fires(mini_project: Project, case: str) -> None:
    example, old, new, prop = _DATE_CASES[case]
    assert old in example
    found = of_check(both_modes(mini_project, example.replace(old, new)), "date-kind-violation")
    assert [(f.file, f.property) for f in found] == [("facts/test.ttl", prop)], found
    says = (
        "but a value is given"
        if "not-stated" in case
        else "no date is given"
        if "kind-without" in case
        else "needs its"
    )
    assert says in found[0].message
    assert found[0].line > 0


# ---------------------------------------------------------------- quotes and characters in literals


SHORT_QUOTES = ["一天", "abc", " a  b ", "。。，，……", "!!!!", "\\t\\n  \\t"]


def test_a_quote_too_short_to_be_evidence(mini_project: Project) -> None:
    quotes = ", ".join(f'"{q}"' for q in SHORT_QUOTES)
    text = MEASURE.replace(
        '"中心城区各区将实行一天一次的区域核酸检测" .', f'"中心城区各区将实行一天一次的区域核酸检测", {quotes} .'
    )
    found = of_check(both_modes(mini_project, text), "short-quote")
    assert [(f.property, f.line) for f in found] == [("cq:quote", LINE["cq:quote"])] * len(SHORT_QUOTES), found
    assert all("quote too short to be evidence" in f.message for f in found)


def test_a_short_but_real_quote_passes(mini_project: Project) -> None:
    text = MEASURE.replace(
        '"中心城区各区将实行一天一次的区域核酸检测" .', '"中心城区各区将实行一天一次的区域核酸检测", "区域核酸" .'
    )
    assert of_check(both_modes(mini_project, text), "short-quote") == []


@pytest.mark.parametrize(
    ("old", "new", "prop"),
    [
        ('"daily area testing"@en', '"daily\\u0000area testing"@en', "rdfs:label"),
        ('"daily area testing"@en', '"daily area\\ntesting"@en', "rdfs:label"),
        ('"daily area testing"@en', '"daily \\u202earea testing"@en', "rdfs:label"),
        ('核酸检测" .', '核酸检测\\u001b[2J" .', "cq:quote"),
        (
            "    cq:source src:article-003 ;\n",
            '    rdfs:comment "bell\\u0007" ;\n    cq:source src:article-003 ;\n',
            "rdfs:comment",
        ),
    ],
    ids=["nul", "newline-in-label", "bidi-override", "escape-in-quote", "bell-in-comment"],
)
def test_control_characters_in_a_literal(
    runner: CliRunner, mini_project: Project, old: str, new: str, prop: str
) -> None:
    assert old in MEASURE
    found = of_check(both_modes(mini_project, MEASURE.replace(old, new)), "control-character")
    assert [f.property for f in found] == [prop], found
    assert "control or invisible characters" in found[0].message
    result = run(runner, mini_project, "validate", "--format", "json", str(mini_project.facts_dir / "test.ttl"))
    assert result.exit_code == 1, result.output
    for char in "\x00\x07\x1b\u202e":
        assert char not in result.output


def test_line_breaks_are_allowed_in_a_comment(mini_project: Project) -> None:
    text = MEASURE.replace(
        "    cq:source src:article-003 ;\n", '    rdfs:comment """two\n\tlines""" ;\n    cq:source src:article-003 ;\n'
    )
    assert both_modes(mini_project, text) == set()


# ---------------------------------------------------------------- files that cannot be read


@pytest.mark.parametrize("name", ["with space.ttl", "测试 文件.ttl", "é+%20(1).ttl"])
def test_file_names_with_spaces_and_other_scripts_work(runner: CliRunner, mini_project: Project, name: str) -> None:
    path = add_fact(mini_project, MEASURE.replace("cq:Mandatory", "cq:Optional"), name)
    for args in (["validate", str(path)], ["validate"]):
        result = run(runner, mini_project, *args)
        assert result.exit_code == 1, result.output
        assert f"facts/{name}:{LINE['cq:strength']}" in result.output
    result = run(runner, mini_project, "build")
    assert result.exit_code == 0, result.output
    result = run(runner, mini_project, "query", "SELECT ?m WHERE { ?m a cq:Measure }")
    assert result.exit_code == 0 and "test-measure" in result.output, result.output


@pytest.mark.parametrize("command", [["validate"], ["build"], ["validate", "FILE"]])
def test_a_file_name_with_a_line_break_is_refused(runner: CliRunner, mini_project: Project, command: list[str]) -> None:
    path = add_fact(mini_project, MEASURE, "evil\n0 violations, 0 warnings in 1 files: conforms.ttl")
    result = run(runner, mini_project, *[str(path) if a == "FILE" else a for a in command])
    assert result.exit_code == 2, result.output
    assert "file name contains a line break" in result.output
    assert "evil\\n0 violations" in result.output
    assert "\n0 violations" not in result.output and "Traceback" not in result.output


def _special(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.ttl"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
        (path / "inside.ttl").write_text(MEASURE, "utf-8")
    elif kind == "too-large":
        with open(path, "wb") as handle:
            handle.truncate(MAX_FILE_BYTES + 1)
    elif kind == "50-MB":
        with open(path, "wb") as handle:
            handle.truncate(50 * 1024 * 1024)
    return path


_SAYS = {
    "fifo": "is not a regular file",
    "folder": "is a folder",
    "too-large": "larger than the limit of 8 MB",
    "50-MB": "larger than the limit of 8 MB",
    "dev-zero": "is not a regular file",
}


@pytest.mark.parametrize("kind", ["fifo", "too-large", "50-MB", "dev-zero"])
def test_an_unreadable_file_argument_exits_2(mini_project: Project, tmp_path: Path, kind: str) -> None:
    path = Path("/dev/zero") if kind == "dev-zero" else _special(kind, tmp_path)
    result = kb_process(mini_project, "validate", str(path))
    assert result.returncode == 2, result.stderr
    assert _SAYS[kind] in result.stderr and "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("kind", ["fifo", "folder", "too-large"])
@pytest.mark.parametrize("command", ["validate", "build"])
def test_an_unreadable_file_in_facts_exits_2(mini_project: Project, kind: str, command: str) -> None:
    _special(kind, mini_project.facts_dir)
    result = kb_process(mini_project, command)
    assert result.returncode == 2, result.stderr
    assert f"facts/{kind}.ttl" in result.stderr and _SAYS[kind] in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_fact_file_linking_out_of_the_project_is_not_read(
    runner: CliRunner, mini_project: Project, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOP_SECRET_TOKEN=abc123\n", "utf-8")
    link = mini_project.facts_dir / "link.ttl"
    link.symlink_to(secret)
    for args in (["validate"], ["validate", str(link)]):
        result = run(runner, mini_project, *args)
        assert result.exit_code == 2, result.output
        assert "symbolic link leading outside the knowledge base folder" in result.output
        assert "TOP_SECRET" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("triple", "line"),
    [
        ("<< measure:test-measure cq:strength cq:Mandatory >> cq:source src:article-003 .", 2),
        ("measure:test-measure cq:strength cq:Mandatory {| cq:source src:article-003 |} .", 3),
        ("measure:test-measure cq:strength cq:Mandatory ~ measure:claim .", 2),
        ("measure:x cq:cites <<( measure:test-measure cq:strength cq:Mandatory )>> .", 2),
    ],
    ids=["quoted", "annotation", "reifier", "triple-term"],
)
@pytest.mark.parametrize("command", [["validate", "FILE"], ["validate"], ["build"]])
def test_rdf_star_is_refused(
    runner: CliRunner, mini_project: Project, triple: str, line: int, command: list[str]
) -> None:
    header = (
        PREFIXES.splitlines()[0]
        + "\n"
        + "".join(p + "\n" for p in PREFIXES.splitlines()[1:] if "measure:" in p or "src:" in p or "cq:" in p)
    )
    text = header + ("\n" if line == 3 else "") + triple + "\n"
    path = add_fact(mini_project, text)
    result = run(runner, mini_project, *[str(path) if a == "FILE" else a for a in command])
    assert result.exit_code == 2, result.output
    assert "RDF-star" in result.output and "not supported" in result.output and "Traceback" not in result.output
    assert f"facts/test.ttl:{header.count(chr(10)) + line - 1}" in result.output

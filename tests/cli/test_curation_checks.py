"""The checks that enforce the curation rules (docs/curation.md, docs/checks.md), each caught on planted data, in
both ways of validating (new files in the context of the store, and the whole knowledge base); the units list;
"did you mean" for links to knowledge-base IRIs; vocabulary advice that never tells a curator to declare a term."""

from __future__ import annotations

import pytest
from samples import MEASURE, add_fact

from kb.project import Project
from kb.validate import Finding, validate_files

ANNOUNCEMENT = """
ann:test-press-conference
    a cq:PressConference ;
    rdfs:label "第136场发布会"@zh, "136th press conference"@en ;
    cq:date "2022-11-09"^^xsd:date ;
    cq:dateKind cq:StatedDate ;
    cq:speaker agent:li-pan ;
    cq:source src:article-003 ;
    cq:quote "市政府新闻办举行第136场新冠肺炎疫情防控工作新闻发布会" .
"""
WITH_ANN = MEASURE.replace(
    "@prefix agent:", "@prefix ann: <https://w3id.org/cq-covid/id/announcement/> .\n@prefix agent:"
)


def findings(project: Project, text: str, name: str = "test.ttl", whole: bool = False) -> list[Finding]:
    path = add_fact(project, text, name)
    report = validate_files(project) if whole else validate_files(project, [path])
    return [f for f in report.findings if f.file == f"facts/{name}"]


def of(found: list[Finding], check: str) -> list[Finding]:
    return [f for f in found if f.check == check]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# ---------------------------------------------------------------- issuer of a measure announced by a speaker


def _announced(issuer: bool = True, comment: str = "") -> str:
    text = WITH_ANN.replace("    cq:appliesTo", "    cq:announcedAt ann:test-press-conference ;\n    cq:appliesTo")
    if not issuer:
        text = text.replace("    cq:issuer agent:chongqing-health-commission ;\n", "")
    if comment:
        text = text.replace("    cq:source src:", f'    rdfs:comment "{comment}"@en ;\n    cq:source src:')
    return text + ANNOUNCEMENT


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
def test_a_speakers_measure_without_issuer_is_a_warning(mini_project: Project, whole: bool) -> None:
    text = _announced(issuer=False)
    found = of(findings(mini_project, text, whole=whole), "issuer-missing-at-event-violation")
    assert len(found) == 1, found
    assert (found[0].severity, found[0].subject, found[0].property) == ("warning", "measure:test-measure", "cq:issuer")
    assert found[0].line == line_of(text, "measure:test-measure")
    assert "ann:test-press-conference" in found[0].message and "agent:li-pan" in found[0].message


def test_an_issuer_or_a_reasoned_comment_ends_the_warning(mini_project: Project) -> None:
    assert of(findings(mini_project, _announced()), "issuer-missing-at-event-violation") == []
    reasoned = _announced(issuer=False, comment="stated by experts; the text names no issuing body")
    assert of(findings(mini_project, reasoned), "issuer-missing-at-event-violation") == []


# ---------------------------------------------------------------- a cited document lists the citing article


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
def test_a_document_that_does_not_list_the_citing_article(mini_project: Project, whole: bool) -> None:
    # doc:twenty-measures lists articles 000 and 002 (facts/documents.ttl), not 003
    text = MEASURE.replace("doc:control-plan-9th-edition", "doc:twenty-measures")
    found = of(findings(mini_project, text, whole=whole), "document-source-not-listed-violation")
    assert len(found) == 1, found
    assert (found[0].subject, found[0].property, found[0].line) == ("measure:test-measure", "cq:cites", 22)
    assert "doc:twenty-measures" in found[0].message and "src:article-003" in found[0].message


def test_a_document_that_lists_the_article_is_fine(mini_project: Project) -> None:
    assert of(findings(mini_project, MEASURE), "document-source-not-listed-violation") == []


# ---------------------------------------------------------------- siblings from one sentence


# A measure whose quote contains test-measure's quote: the same sentence, in the same source.
SIBLING = MEASURE.replace("measure:test-measure", "measure:test-sibling").replace(
    '"中心城区各区将实行一天一次的区域核酸检测" .', '"接下来,中心城区各区将实行一天一次的区域核酸检测" .'
)


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
def test_siblings_of_one_sentence_announced_differently(mini_project: Project, whole: bool) -> None:
    """The sibling is in another file: the check sees it whichever way the file is validated."""
    add_fact(mini_project, _announced(), "announced.ttl")
    found = of(findings(mini_project, SIBLING, whole=whole), "sibling-announcement-mismatch-violation")
    assert len(found) == 1, found
    assert (found[0].severity, found[0].subject, found[0].property) == (
        "warning",
        "measure:test-sibling",
        "cq:announcedAt",
    )
    assert "measure:test-measure" in found[0].message and "ann:test-press-conference" in found[0].message


def test_siblings_announced_alike_or_different_sentences_are_fine(mini_project: Project) -> None:
    add_fact(mini_project, _announced(), "announced.ttl")
    alike = SIBLING.replace(
        "@prefix agent:", "@prefix ann: <https://w3id.org/cq-covid/id/announcement/> .\n@prefix agent:"
    )
    alike = alike.replace("    cq:appliesTo", "    cq:announcedAt ann:test-press-conference ;\n    cq:appliesTo")
    assert of(findings(mini_project, alike), "sibling-announcement-mismatch-violation") == []
    other = SIBLING.replace(
        "接下来,中心城区各区将实行一天一次的区域核酸检测",
        "中心城区实行一天一次的区域核酸检测,请根据村(社区)安排及时参加",
    )
    assert of(findings(mini_project, other), "sibling-announcement-mismatch-violation") == []


# ---------------------------------------------------------------- target groups a quote names


def _quoting(quote: str, source: str, tags: str = "") -> str:
    text = MEASURE.replace('中心城区各区将实行一天一次的区域核酸检测" .', f'{quote}" .').replace(
        "src:article-003 ;", f"src:{source} ;"
    )
    text = text.replace("    cq:cites doc:control-plan-9th-edition ;\n", "")
    if tags:
        text = text.replace("@prefix cq:", "@prefix tg: <https://w3id.org/cq-covid/def/target/> .\n@prefix cq:")
        text = text.replace("    cq:appliesTo", f"    cq:targetGroup {tags} ;\n    cq:appliesTo")
    return text


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
def test_a_quote_naming_close_contacts_without_the_tag(mini_project: Project, whole: bool) -> None:
    text = _quoting("符合条件的密切接触者可居家隔离", "article-000")
    found = findings(mini_project, text, whole=whole)
    assert of(found, "evidence") == []  # the quote is verbatim: only the tag is missing
    tagged = of(found, "target-group-untagged")
    assert len(tagged) == 1, found
    assert (tagged[0].severity, tagged[0].subject, tagged[0].property) == (
        "warning",
        "measure:test-measure",
        "cq:targetGroup",
    )
    assert "密切接触者" in tagged[0].message and "tg:close-contacts" in tagged[0].message
    assert tagged[0].line == line_of(text, "measure:test-measure")


def test_the_short_name_and_traditional_script_are_matched(mini_project: Project) -> None:
    short = of(findings(mini_project, _quoting("不是密接的话,立即解除隔离", "article-002")), "target-group-untagged")
    assert [f.message.split("«")[1].split("»")[0] for f in short] == ["密接"]
    # article 001 is in traditional characters: 居家隔離人員 is the group 居家隔离人员
    text = _quoting("對集中隔離人員、居家隔離人員", "article-001", "tg:centrally-isolated")
    traditional = of(findings(mini_project, text), "target-group-untagged")
    assert [f.message.rsplit(" ", 1)[1] for f in traditional] == ["tg:home-isolated"], traditional


def test_a_tagged_group_is_fine(mini_project: Project) -> None:
    text = _quoting("符合条件的密切接触者可居家隔离", "article-000", "tg:close-contacts")
    assert of(findings(mini_project, text), "target-group-untagged") == []


# ---------------------------------------------------------------- units, quantity kinds, strengths


PARAMETER = "    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:{kind} ; cq:value 48.0 ; cq:unit unit:{unit} ] ;\n"


def _with_parameter(kind: str = "test-result-validity", unit: str = "HR") -> str:
    text = MEASURE.replace("@prefix cq:", "@prefix qk: <https://w3id.org/cq-covid/def/quantity/> .\n@prefix cq:")
    return text.replace("    cq:announced ", PARAMETER.format(kind=kind, unit=unit) + "    cq:announced ", 1)


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
def test_a_unit_qudt_spells_otherwise_is_reported_with_the_declared_one(mini_project: Project, whole: bool) -> None:
    assert of(findings(mini_project, _with_parameter()), "vocabulary") == []
    text = _with_parameter(unit="HOUR")
    found = of(findings(mini_project, text, whole=whole), "vocabulary")
    assert len(found) == 1, found
    unit = found[0]
    assert (unit.severity, unit.subject, unit.property) == ("violation", "measure:test-measure", "unit:HOUR")
    assert unit.line == line_of(text, "unit:HOUR")
    assert "ontology/units.ttl" in unit.message and unit.hint.startswith("did you mean unit:HR?")
    assert "kb terms units" in unit.hint


def test_a_statistics_unit_is_checked_too(mini_project: Project) -> None:
    from samples import STATISTIC

    found = of(findings(mini_project, STATISTIC.replace("unit:NUM", "unit:NUMBER"), "stat.ttl"), "vocabulary")
    assert [(f.subject, f.property, f.hint.split("?")[0]) for f in found] == [
        ("obs:a003-test-new-cases", "unit:NUMBER", "did you mean unit:NUM")
    ]


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
def test_a_misspelt_quantity_kind_is_reported_at_its_line_with_the_measure(mini_project: Project, whole: bool) -> None:
    text = _with_parameter(kind="test-result-validty")
    found = of(findings(mini_project, text, whole=whole), "vocabulary")
    assert len(found) == 1, found
    assert (found[0].subject, found[0].line) == ("measure:test-measure", line_of(text, "test-result-validty"))
    assert found[0].hint.startswith("did you mean qk:test-result-validity?")


def test_strength_advice_points_to_the_declared_terms_not_to_the_ontology(mini_project: Project) -> None:
    found = of(findings(mini_project, MEASURE.replace("cq:Mandatory", "cq:Optional")), "vocabulary")
    assert len(found) == 1, found
    assert "kb terms strengths" in found[0].hint and "proposed to the maintainers" in found[0].hint
    assert "declare it" not in found[0].hint
    near = of(findings(mini_project, MEASURE.replace("cq:Mandatory", "cq:Mandatori")), "vocabulary")
    assert near[0].hint == "did you mean cq:Mandatory? (`kb terms strengths` lists them)"


# ---------------------------------------------------------------- did you mean: links to knowledge-base IRIs


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
@pytest.mark.parametrize(
    ("old", "new", "prop", "near"),
    [
        (
            "place:central-urban-districts",
            "place:central-urban-district",
            "cq:appliesTo",
            "place:central-urban-districts",
        ),
        (
            "agent:chongqing-health-commission",
            "agent:chongqing-health-comission",
            "cq:issuer",
            "agent:chongqing-health-commission",
        ),
        ("doc:control-plan-9th-edition", "doc:control-plan-9th-editon", "cq:cites", "doc:control-plan-9th-edition"),
        ("src:article-003 ;", "src:article-03 ;", "cq:source", "src:article-003"),
    ],
    ids=["place", "agent", "document", "source"],
)
def test_a_misspelt_link_gets_the_nearest_described_iri(
    mini_project: Project, whole: bool, old: str, new: str, prop: str, near: str
) -> None:
    text = MEASURE.replace(old, new)
    found = [f for f in findings(mini_project, text, whole=whole) if f.property == prop and f.severity == "violation"]
    hinted = [f for f in found if f.hint == f"did you mean {near}?"]
    assert len(hinted) == 1, found
    assert hinted[0].line == line_of(text, new.rstrip(" ;"))
    # one finding for the mistake, not a shape's and the reference check's both
    assert len([f for f in found if new.rstrip(" ;") in f.message]) == 1, found


@pytest.mark.parametrize("whole", [False, True], ids=["in-context", "whole"])
def test_a_misspelt_measure_iri_gets_did_you_mean(mini_project: Project, whole: bool) -> None:
    add_fact(mini_project, _announced(), "announced.ttl")
    text = SIBLING.replace("    cq:appliesTo", "    cq:replaces measure:test-measur ;\n    cq:appliesTo")
    found = [f for f in findings(mini_project, text, whole=whole) if f.property == "cq:replaces"]
    assert [f.hint for f in found] == ["did you mean measure:test-measure?"], found
    assert found[0].check == "shacl"  # the shape's finding, with the hint


def test_a_link_no_shape_checks_is_reported_by_the_reference_check(mini_project: Project) -> None:
    add_fact(mini_project, _announced(), "announced.ttl")
    text = SIBLING.replace("    cq:appliesTo", "    rdfs:seeAlso measure:test-measur ;\n    cq:appliesTo")
    found = [f for f in findings(mini_project, text) if f.property == "rdfs:seeAlso"]
    assert [(f.check, f.severity, f.hint) for f in found] == [
        ("unknown-reference", "violation", "did you mean measure:test-measure?")
    ]
    assert found[0].line == line_of(text, "rdfs:seeAlso")
    far = SIBLING.replace("    cq:appliesTo", "    rdfs:seeAlso measure:zzzz ;\n    cq:appliesTo")
    unknown = [f for f in findings(mini_project, far) if f.property == "rdfs:seeAlso"]
    assert len(unknown) == 1 and "describe it (kb new)" in unknown[0].hint


def test_links_to_described_iris_are_not_reported(mini_project: Project) -> None:
    add_fact(mini_project, _announced(), "announced.ttl")
    text = SIBLING.replace("    cq:appliesTo", "    rdfs:seeAlso measure:test-measure ;\n    cq:appliesTo")
    assert of(findings(mini_project, text), "unknown-reference") == []


@pytest.mark.parametrize("inside", [True, False], ids=["in-facts", "outside-the-project"])
def test_a_file_describes_its_own_subjects_wherever_it_is(
    mini_project: Project, tmp_path_factory: pytest.TempPathFactory, inside: bool
) -> None:
    """A link to a measure the checked file itself describes resolves, also for a file from outside the project
    (it was reported as linking to something no file describes); a link to a measure no file describes still is."""
    text = MEASURE + SIBLING.split("\n\n", 1)[1].replace(
        "    cq:appliesTo", "    rdfs:seeAlso measure:test-measure, measure:zzzz ;\n    cq:appliesTo"
    )
    if inside:
        path = add_fact(mini_project, text, "own.ttl")
    else:
        path = tmp_path_factory.mktemp("elsewhere") / "own.ttl"
        path.write_text(text, encoding="utf-8")
    found = of(validate_files(mini_project, [path]).findings, "unknown-reference")
    assert [(f.subject, f.property, f.message) for f in found] == [
        ("measure:test-sibling", "rdfs:seeAlso", "no file describes what this links to (value: measure:zzzz)")
    ], found

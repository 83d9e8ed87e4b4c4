"""A document's numbered points (issue 13): recorded as cq:DocumentPart with cq:number, quote and the measures they
state, checked by the shapes (number, whole, targets) and a check (two points with one number); the shipped points
follow the texts. Every fixture quote is verbatim from facts/sources/003_3f5591fb49c74a46.txt."""

from __future__ import annotations

import pytest
from samples import PREFIXES, add_fact

from kb.namespaces import PREFIXES as IRI
from kb.project import Project
from kb.query import get_named_query, run_query
from kb.store import open_store
from kb.validate import Finding, validate_files

ANN = "@prefix ann: <https://w3id.org/cq-covid/id/announcement/> .\n"
LETTER_POINT = (
    'ann:test-letter-point-{n}\n    a cq:DocumentPart ;\n    rdfs:label "{zh}"@zh, "point {n}"@en ;\n'
    '{number}{states}    cq:source src:article-003 ;\n    cq:quote "{zh}" .\n'
)


def letter(parts: list[str], has_part: str = "ann:test-letter-point-1, ann:test-letter-point-2") -> str:
    """A letter of article 003 with the given points."""
    whole = f"""
ann:test-letter
    a cq:Letter ;
    rdfs:label "致广大北碚市民朋友的一封信"@zh, "letter to the residents of Beibei"@en ;
    cq:date "2022-11-10"^^xsd:date ;
    cq:dateKind cq:StatedDate ;
    cq:hasPart {has_part} ;
    cq:source src:article-003 ;
    cq:quote "致广大北碚市民朋友的一封信" .
"""
    return PREFIXES + ANN + whole + "\n" + "\n".join(parts)


def point(n: int, zh: str, number: str | None = None, states: str = "") -> str:
    line = f"    cq:number {n if number is None else number} ;\n" if number != "" else ""
    return LETTER_POINT.format(n=n, zh=zh, number=line, states=f"    cq:states {states} ;\n" if states else "")


GOOD = [point(1, "一、非必要不离区"), point(2, "二、非必要不聚集")]


def violations(project: Project, text: str) -> list[Finding]:
    path = add_fact(project, text)
    return [f for f in validate_files(project, [path]).findings if f.severity == "violation"]


def test_the_example_conforms(mini_project: Project) -> None:
    assert violations(mini_project, letter(GOOD)) == []


@pytest.mark.parametrize(
    ("parts", "has_part", "subject", "prop"),
    [
        ([point(1, "一、非必要不离区", number=""), GOOD[1]], None, "ann:test-letter-point-1", "cq:number"),
        ([point(1, "一、非必要不离区", number="0"), GOOD[1]], None, "ann:test-letter-point-1", "cq:number"),
        ([point(1, "一、非必要不离区", number='"1"'), GOOD[1]], None, "ann:test-letter-point-1", "cq:number"),
        (GOOD, "ann:test-letter-point-1", "ann:test-letter-point-2", "cq:hasPart"),  # an orphan point
        (GOOD, "ann:test-letter-point-1, ann:test-letter-point-2, ann:test-letter", "ann:test-letter", "cq:hasPart"),
        (
            [point(1, "一、非必要不离区", states="ann:test-letter"), GOOD[1]],
            None,
            "ann:test-letter-point-1",
            "cq:states",
        ),
    ],
)
def test_a_malformed_point_is_a_violation(
    mini_project: Project, parts: list[str], has_part: str | None, subject: str, prop: str
) -> None:
    text = letter(parts) if has_part is None else letter(parts, has_part)
    found = violations(mini_project, text)
    # an inverse path (the whole's cq:hasPart) is reported with no property of the point's own, the message names it
    assert any(f.subject == subject and (f.property == prop or prop in f.message) for f in found), found


def test_a_point_of_another_whole_is_a_violation(mini_project: Project) -> None:
    # listed by two wholes: each point belongs to exactly one
    other = (
        '\nann:test-notice\n    a cq:Notice ;\n    rdfs:label "一封信"@zh, "another whole"@en ;\n'
        '    cq:date "2022-11-10"^^xsd:date ;\n    cq:dateKind cq:StatedDate ;\n'
        "    cq:hasPart ann:test-letter-point-1 ;\n    cq:source src:article-003 ;\n"
        '    cq:quote "致广大北碚市民朋友的一封信" .\n'
    )
    found = violations(mini_project, letter(GOOD) + other)
    assert any(f.subject == "ann:test-letter-point-1" and "cq:hasPart" in f.message for f in found), found


def test_two_points_with_one_number_are_a_violation(mini_project: Project) -> None:
    found = violations(mini_project, letter([GOOD[0], point(2, "二、非必要不聚集", number="1")]))
    [conflict] = [f for f in found if f.check == "document-part-number-conflict-violation"]
    assert (conflict.subject, conflict.property) == ("ann:test-letter-point-2", "cq:number")


# ---------------------------------------------------------------- the shipped points


def points(project: Project, whole: str) -> dict[int, set[str]]:
    store = open_store(project)
    rows = run_query(store, get_named_query("numbered-points").text, {"whole": whole}).records()
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(int(row["number"] or 0), set()).add((row["measure"] or "").removeprefix(IRI["measure"]))
    return found


@pytest.mark.parametrize(
    ("whole", "count"),
    [
        ("ann:beibei-letter-2022-11-10", 8),  # 一、非必要不离区 … 八、抵制网络谣言
        ("ann:press-conference-155", 5),  # 第一,切實抓好企業疫情防控 … 第五,多措並舉推動水電氣保供平穩有序
        ("ann:briefing-2020-01-30", 6),  # 罗蔺从6个方面作了通报：一是 … 六是
        ("ann:state-council-joint-mechanism-qa-2022-12-01", 3),  # 1.问 … 3.问
    ],
)
def test_the_texts_numbered_points_are_recorded_in_order(project: Project, whole: str, count: int) -> None:
    found = points(project, whole)
    assert sorted(found) == list(range(1, count + 1))
    assert all(found[n] - {""} for n in found), found  # every point states a measure


def test_a_point_names_the_measures_it_states(project: Project) -> None:
    # 003: 四、积极参加核酸检测 中心城区实行一天一次的区域核酸检测,请根据村(社区)安排及时参加
    assert {"beibei-letter-take-part-in-daily-testing", "central-daily-area-testing"} <= points(
        project, "ann:beibei-letter-2022-11-10"
    )[4]

"""Planted faults: one valid measure and statistic, and copies of them with one mistake each.

Each fault is validated by every SHACL engine in the context of the ontology and the shared facts; the
two-strengths fault is also given to the reasoners, for which it must be an inconsistency.
"""

from __future__ import annotations

from kb.namespaces import turtle_prefixes

PREFIXES = turtle_prefixes("cq", "agent", "cat", "doc", "measure", "obs", "place", "rdfs", "src", "stat", "tg", "qk")
PREFIXES += turtle_prefixes("unit", "xsd")

MEASURE = (
    PREFIXES
    + """
measure:planted
    a cq:Measure ;
    rdfs:label "中心城区各区实行一天一次的区域核酸检测"@zh, "daily area testing"@en ;
    cq:category cat:testing ;
    cq:strength cq:Mandatory ;
    cq:issuer agent:chongqing-health-commission ;
    cq:appliesTo place:central-urban-districts ;
    cq:targetGroup tg:central-area-residents ;
    cq:cites doc:twenty-measures ;
    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-frequency ; cq:value 1.0 ; cq:unit unit:PER-DAY ] ;
    cq:announced "2022-11-09"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFrom "2022-11-10"^^xsd:date ;
    cq:inForceFromKind cq:StatedDate ;
    cq:inForceUntil "2022-11-20"^^xsd:date ;
    cq:inForceUntilKind cq:StatedDate ;
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .
"""
)

STATISTIC = (
    PREFIXES
    + """
obs:planted
    a cq:Observation ;
    rdfs:label "new confirmed cases in Chongqing"@en ;
    cq:statistic stat:new-confirmed-cases ;
    cq:area place:chongqing ;
    cq:refDate "2022-11-09"^^xsd:date ;
    cq:refDateKind cq:StatedDate ;
    cq:value 109.0 ;
    cq:unit unit:NUM ;
    cq:source src:article-003 ;
    cq:quote "重庆市新增本土确诊病例109例" .
"""
)

PARAMETER = "[ a cq:Parameter ; cq:quantityKind qk:test-frequency ; cq:value 1.0 ; cq:unit unit:PER-DAY ]"


def _fault(base: str, *edits: tuple[str, str]) -> str:
    text = base
    for old, new in edits:
        if old not in text:
            raise ValueError(f"planted fault: {old!r} is not in the sample")
        text = text.replace(old, new, 1)
    return text


TWO_STRENGTHS = _fault(MEASURE, ("cq:strength cq:Mandatory ;", "cq:strength cq:Mandatory, cq:Advisory ;"))

# name → Turtle: each plants one mistake (a constraint component of the shapes) in a valid sample.
SHACL_FAULTS = {
    "valid": MEASURE + STATISTIC.replace(PREFIXES, ""),
    "missing-strength": _fault(MEASURE, ("    cq:strength cq:Mandatory ;\n", "")),
    "two-strengths": TWO_STRENGTHS,
    "unknown-strength": _fault(MEASURE, ("cq:Mandatory", "cq:Compulsory")),
    "plain-string-date": _fault(MEASURE, ('"2022-11-09"^^xsd:date', '"2022-11-09"')),
    "ill-typed-date": _fault(MEASURE, ('"2022-11-20"^^xsd:date', '"2022-13-45"^^xsd:date')),
    "until-before-from": _fault(MEASURE, ('"2022-11-20"^^xsd:date', '"2022-11-01"^^xsd:date')),
    "no-english-label": _fault(MEASURE, (', "daily area testing"@en', "")),
    "category-from-another-scheme": _fault(MEASURE, ("cq:category cat:testing", "cq:category tg:close-contacts")),
    "unknown-place": _fault(MEASURE, ("place:central-urban-districts", "place:nowhere")),
    "bad-parameters": _fault(
        MEASURE,
        (
            PARAMETER,
            "[ a cq:Parameter ; cq:quantityKind qk:test-frequency ; cq:value -1.0 ; cq:unit unit:PER-DAY ], "
            '[ a cq:Parameter ; cq:value "one" ; cq:unit [ rdfs:label "per day"@en ] ]',
        ),
    ),
    "statistic-without-area-and-unit": _fault(
        STATISTIC, ("    cq:area place:chongqing ;\n", ""), ("    cq:unit unit:NUM ;\n", "")
    ),
}


def planted(name: str) -> str:
    """The fault `name` with subjects of its own (measure:planted-NAME, obs:planted-NAME), so that every fault
    can be validated in one graph and each result still names its fault."""
    return (
        SHACL_FAULTS[name]
        .replace("measure:planted", f"measure:planted-{name}")
        .replace("obs:planted", f"obs:planted-{name}")
    )

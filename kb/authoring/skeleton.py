"""Skeletons for new facts: the required properties of a measure, statistic or document, each commented.

Placeholders are written «LIKE-THIS»; replace every one before validating.
"""

from __future__ import annotations

from ..errors import UsageError
from ..namespaces import turtle_prefixes

_PREFIXES = turtle_prefixes(
    "cq", "agent", "ann", "cat", "doc", "measure", "obs", "place", "rdfs", "src", "stat", "unit", "xsd"
)

SKELETONS: dict[str, str] = {
    "measure": """
# One measure: what an authority requires, forbids, advises or relaxes (docs/modelling.md, "Measures").
measure:«SLUG»
    a cq:Measure ;
    # the rule as printed (@zh, required) and in English (@en)
    rdfs:label "«LABEL-ZH»"@zh, "«LABEL-EN»"@en ;
    # one or more categories from cq:MeasureCategories: cat:testing, cat:isolation, …
    cq:category cat:«CATEGORY» ;
    # exactly one: cq:Mandatory, cq:Advisory, cq:Prohibition, cq:Relaxation or cq:Principle
    cq:strength cq:«STRENGTH» ;
    # the narrowest place the text gives: place:chongqing, place:central-urban-districts, …
    cq:appliesTo place:«PLACE» ;
    # the day it was made public (YYYY-MM-DD); remove it and use cq:NotStated below when unknown
    cq:announced "«ANNOUNCED»"^^xsd:date ;
    # how that date was obtained: cq:StatedDate, cq:EventDate, cq:RelativeDate, cq:ApproximateDate, cq:NotStated
    cq:announcedKind cq:EventDate ;
    # add cq:inForceFrom "…"^^xsd:date with another kind when the text states a start day
    cq:inForceFromKind cq:NotStated ;
    # add cq:inForceUntil "…"^^xsd:date with another kind when the text states an end day
    cq:inForceUntilKind cq:NotStated ;
    # the article it is from (src:article-NNN)
    cq:source src:«SOURCE» ;
    # the sentence stating it, copied character for character from the article
    cq:quote "«QUOTE»" .
""",
    "statistic": """
# One reported figure (docs/modelling.md, "Statistics"); IRIs start with the article number.
obs:«SLUG»
    a cq:Observation ;
    # what the figure is, in English (a Chinese label is welcome too)
    rdfs:label "«LABEL-EN»"@en ;
    # what is counted: a stat:… concept of cq:StatisticTypes
    cq:statistic stat:«STATISTIC» ;
    # the place the figure describes
    cq:area place:«PLACE» ;
    # the day the figure refers to (YYYY-MM-DD)
    cq:refDate "«REF-DATE»"^^xsd:date ;
    # how that day was obtained: cq:StatedDate, cq:RelativeDate, …
    cq:refDateKind cq:StatedDate ;
    # the number, non-negative, as a decimal (109.0; 111.7万 → 1117000.0)
    cq:value «VALUE» ;
    # the unit: unit:NUM for counts, unit:PERCENT for shares
    cq:unit unit:NUM ;
    # the article it is from (src:article-NNN)
    cq:source src:«SOURCE» ;
    # the sentence giving the figure, copied character for character
    cq:quote "«QUOTE»" .
""",
    "document": """
# One policy document named in an article (docs/modelling.md, "Documents and links").
doc:«SLUG»
    a cq:PolicyDocument ;
    # its title as printed (@zh, required) and in English (@en)
    rdfs:label "«LABEL-ZH»"@zh, "«LABEL-EN»"@en ;
    # the article that names it (src:article-NNN)
    cq:source src:«SOURCE» ;
    # the words naming it, copied character for character
    cq:quote "«QUOTE»" .
""",
}

KINDS = tuple(SKELETONS)


def skeleton(kind: str) -> str:
    """The Turtle skeleton of a new measure, statistic or document."""
    if kind not in SKELETONS:
        raise UsageError(f"no skeleton for '{kind}'", hint=f"choose one of: {', '.join(KINDS)}")
    return _PREFIXES + SKELETONS[kind]

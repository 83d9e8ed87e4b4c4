"""Skeletons for new facts: the required properties of a measure, announcement, statistic, document, agent or
source, each commented.

Placeholders are written «LIKE-THIS»; replace every one before validating.
"""

from __future__ import annotations

from ..errors import UsageError
from ..namespaces import turtle_prefixes

_PREFIXES = turtle_prefixes(
    "cq", "agent", "ann", "cat", "doc", "measure", "obs", "place", "rdfs", "src", "stat", "tg", "unit", "xsd"
)

SKELETONS: dict[str, str] = {
    "measure": """
# One measure: what an authority requires, forbids, advises or relaxes (docs/modelling.md, "Measures";
# docs/curation.md says how to decide). Add, where the text gives them:
#   cq:issuer agent:… (the body that decides; expected whenever cq:announcedAt names an event with a speaker),
#   cq:announcedAt ann:…, cq:targetGroup tg:… (each group the quote names: kb terms targets),
#   cq:parameter [ a cq:Parameter ; cq:quantityKind qk:… ; cq:value 48.0 ; cq:unit unit:HR ] (kb terms units),
#   cq:cites doc:…, a change link (cq:ends, cq:replaces, cq:amends, cq:restates measure:…), rdfs:comment "…"@en.
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
    "announcement": """
# One announcement: the press conference, meeting, letter, notice or briefing that made facts public
# (docs/modelling.md, "Announcements").
ann:«SLUG»
    # the kind of event: cq:PressConference, cq:Meeting, cq:Letter, cq:Notice or cq:Briefing
    a cq:«CLASS» ;
    # its name as printed (@zh, required) and in English (@en)
    rdfs:label "«LABEL-ZH»"@zh, "«LABEL-EN»"@en ;
    # the day it took place (YYYY-MM-DD)
    cq:date "«DATE»"^^xsd:date ;
    # how that day was obtained: cq:StatedDate, cq:RelativeDate, cq:ApproximateDate (kb terms date-kinds)
    cq:dateKind cq:StatedDate ;
    # the body that held it (agent:…); add cq:chair and cq:speaker agent:… for the people the text names
    cq:organiser agent:«ORGANISER» ;
    # the article it is from (src:article-NNN)
    cq:source src:«SOURCE» ;
    # the sentence naming the event, copied character for character
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
# One policy document named in an article (docs/modelling.md, "Documents and links"). Its cq:source lists
# every article with a measure that cites it, each with a quote that names it there.
doc:«SLUG»
    a cq:PolicyDocument ;
    # its title as printed (@zh, required) and in English (@en)
    rdfs:label "«LABEL-ZH»"@zh, "«LABEL-EN»"@en ;
    # the article that names it (src:article-NNN)
    cq:source src:«SOURCE» ;
    # the words naming it, copied character for character
    cq:quote "«QUOTE»" .
""",
    "agent": """
# One agent: a government body (cq:Organisation) or an official (cq:Person), named as the article prints it
# (docs/modelling.md, "Agents and places"). An agent named by more than one article goes in facts/agents.ttl.
agent:«SLUG»
    # cq:Organisation for a body; for a person write cq:Person and add
    # cq:position "…"@zh (the post as the article prints it)
    a cq:Organisation ;
    # the name as printed (@zh, required) and in English (@en)
    rdfs:label "«LABEL-ZH»"@zh, "«LABEL-EN»"@en ;
    # the body it belongs to (agent:…): a commission of the municipal government, a person's body
    cq:memberOf agent:«PARENT» ;
    # for a body: the place it governs (place:…); remove this line for a person
    cq:jurisdiction place:«PLACE» .
""",
    "source": """
# One source article, registered in facts/sources.ttl (README, "Adding an article"). Its text is in
# facts/sources/NNN_<first 16 hex digits of the file's SHA-256>.txt, exactly as received; never edit it.
src:article-«NNN»
    a cq:Source ;
    # what the article is (@zh, required) and in English (@en)
    rdfs:label "«LABEL-ZH»"@zh, "«LABEL-EN»"@en ;
    # the name of its text file in facts/sources/
    cq:fileName "«NNN»_«HASH».txt" ;
    # the Chinese script of the text: "simplified" or "traditional"
    cq:script "simplified" ;
    # the first and last day the article reports on (YYYY-MM-DD; not a publication date the text does not print)
    cq:coversFrom "«COVERS-FROM»"^^xsd:date ;
    cq:coversUntil "«COVERS-UNTIL»"^^xsd:date ;
    # the place it reports on (place:chongqing, a district, …)
    cq:coversPlace place:«PLACE» ;
    # where it was published or retrieved; remove this line when the address is not known
    cq:url "«URL»"^^xsd:anyURI .
""",
}

KINDS = tuple(SKELETONS)


def skeleton(kind: str) -> str:
    """The Turtle skeleton of a new fact of the given kind (one of KINDS)."""
    if kind not in SKELETONS:
        raise UsageError(f"no skeleton for '{kind}'", hint=f"choose one of: {', '.join(KINDS)}")
    return _PREFIXES + SKELETONS[kind]

"""cq:mentionsPlace: every place a fact mentions is a declared place, named by the fact's own quote, and not the
place the fact is about; the places-mentioned question finds the facts. Each check is also run on a copy of the
knowledge base with a planted wrong link, to see it caught."""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox
import pytest
from hanziconv import HanziConv
from samples import ROOT, copy_knowledge_base, located

from kb.namespaces import PREFIXES
from kb.project import Project
from kb.query import check_params, get_named_query, run_query
from kb.store import open_store
from kb.validate import validate_files

P = PREFIXES["place"]
OBS = PREFIXES["obs"]
M = PREFIXES["measure"]
A = PREFIXES["ann"]
FACT = "obs:a003-2022-11-08-shapingba-1101-outbreak-districts-affected"
# 003: 涉及到沙坪坝区、九龙坡区、南岸区、大足区、铜梁区等29个区县
LINKED = "cq:mentionsPlace place:dazu, place:jiulongpo, place:nanan, place:shapingba, place:tongliang ;"

NOT_A_PLACE = """
SELECT ?fact ?place WHERE {
  ?fact cq:mentionsPlace ?place .
  FILTER NOT EXISTS { ?place a/rdfs:subClassOf* cq:Place }
}"""

OWN_PLACE = """
SELECT ?fact ?place WHERE {
  ?fact cq:mentionsPlace ?place .
  FILTER EXISTS { ?fact cq:area|cq:appliesTo ?place }
}"""

WRONG_SUBJECT = """
SELECT ?fact ?place WHERE {
  ?fact cq:mentionsPlace ?place .
  # MINUS: the allowed subjects found once and subtracted (a NOT EXISTS with the path per row took 25 s in oxigraph)
  MINUS {
    VALUES ?class { cq:Measure cq:Observation cq:Announcement }
    ?type rdfs:subClassOf* ?class .
    ?fact a ?type .
  }
}"""

MENTIONS = """
SELECT ?fact ?place ?label ?quote WHERE {
  ?fact cq:mentionsPlace ?place .
  OPTIONAL { ?place rdfs:label ?label FILTER(LANGMATCHES(LANG(?label), "zh")) }
  OPTIONAL { ?fact cq:quote ?quote }
}"""


def names(label: str) -> set[str]:
    """The label and, for a name of three characters or more ending in 区, 县, 市 or 省, the name without it
    (沙坪坝区 → 沙坪坝, 重庆市 → 重庆, 湖北省 → 湖北): the forms a quote may name the place by."""
    forms = {label}
    if len(label) > 2 and label[-1] in "区县市省":
        forms.add(label[:-1])
    return forms


def unnamed_mentions(store: ox.Store) -> list[tuple[str, str]]:
    """(fact, place) of each mention whose place no quote of the fact names, traditional script read as
    simplified (article 001); a place without a Chinese label is never named."""
    labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    quotes: dict[str, set[str]] = defaultdict(set)
    for row in run_query(store, MENTIONS).records():
        fact, place = str(row["fact"]), str(row["place"])
        labels[(fact, place)].update([] if row["label"] is None else [str(row["label"])])
        quotes[fact].update([] if row["quote"] is None else [HanziConv.toSimplified(str(row["quote"]))])
    return sorted(
        (fact, place)
        for (fact, place), found in labels.items()
        if not any(form in quote for label in found for form in names(label) for quote in quotes[fact])
    )


def located_pairs(project: Project, store: ox.Store, pairs: list[tuple[str, str]]) -> list[str]:
    """The pairs as the data tests report failing records: file:line fact | place."""
    if not pairs:
        return []
    values = " ".join(f"(<{fact}> <{place}>)" for fact, place in pairs)
    return located(project, run_query(store, f"SELECT ?fact ?place WHERE {{ VALUES (?fact ?place) {{ {values} }} }}"))


def ask(store: ox.Store, name: str, **params: str) -> list[dict[str, str | None]]:
    query = get_named_query(name)
    check_params(query, params)
    return run_query(store, query.text, params).records()


@pytest.fixture(scope="module")
def store(project: Project) -> ox.Store:
    return open_store(project)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, ox.Store]:
    """A copy of the knowledge base with article 003 only, where one fact has four wrong links: place:wanzhou (not
    named by its quote), place:chongqing (its own area), place:shapingba-typo (no place) and a link from a
    document part (not a fact that may mention places)."""
    text = (ROOT / "facts" / "article-003.ttl").read_text("utf-8")
    assert text.count(LINKED) == 1
    text = text.replace(
        LINKED,
        LINKED.replace("place:tongliang ;", "place:tongliang, place:wanzhou, place:chongqing, place:shapingba-typo ;"),
    )
    part = "ann:beibei-letter-2022-11-10-point-1\n    a cq:DocumentPart ;\n"
    assert text.count(part) == 1
    text = text.replace(part, part + "    cq:mentionsPlace place:beibei ;\n")
    root = copy_knowledge_base(tmp_path_factory.mktemp("planted") / "kb", {"article-003.ttl": text})
    project = Project(root)
    return project, open_store(project)


def test_facts_mention_places(store: ox.Store) -> None:
    rows = run_query(store, "SELECT ?fact ?place WHERE { ?fact cq:mentionsPlace ?place }").records()
    assert len({r["fact"] for r in rows}) >= 60 and len(rows) >= 160


def test_every_mentioned_place_is_a_place(project: Project, store: ox.Store) -> None:
    assert located(project, run_query(store, NOT_A_PLACE)) == []


def test_every_mentioned_place_is_named_by_the_quote(project: Project, store: ox.Store) -> None:
    assert located_pairs(project, store, unnamed_mentions(store)) == []


def test_no_fact_mentions_the_place_it_is_about(project: Project, store: ox.Store) -> None:
    assert located(project, run_query(store, OWN_PLACE)) == []


def test_only_measures_statistics_and_announcements_mention_places(project: Project, store: ox.Store) -> None:
    assert located(project, run_query(store, WRONG_SUBJECT)) == []


def test_a_place_the_quote_does_not_name_is_caught(planted: tuple[Project, ox.Store]) -> None:
    project, store = planted
    lines = located_pairs(project, store, unnamed_mentions(store))
    # the quote (涉及到沙坪坝区、九龙坡区、南岸区、大足区、铜梁区等29个区县) names neither 重庆 nor 万州;
    # place:shapingba-typo has no label, so no quote names it; the point's quote (一、非必要不离区) names no place
    assert [line.split(" ", 1)[1] for line in lines] == [
        "ann:beibei-letter-2022-11-10-point-1 | place:beibei",
        f"{FACT} | place:chongqing",
        f"{FACT} | place:shapingba-typo",
        f"{FACT} | place:wanzhou",
    ]
    assert all(line.startswith("facts/article-003.ttl:") for line in lines)


def test_a_link_to_no_place_to_the_own_place_and_from_a_document_part_are_caught(
    planted: tuple[Project, ox.Store],
) -> None:
    project, store = planted
    assert [line.split(" ", 1)[1] for line in located(project, run_query(store, NOT_A_PLACE))] == [
        f"{FACT} | place:shapingba-typo"
    ]
    assert [line.split(" ", 1)[1] for line in located(project, run_query(store, OWN_PLACE))] == [
        f"{FACT} | place:chongqing"
    ]
    assert [line.split(" ", 1)[1] for line in located(project, run_query(store, WRONG_SUBJECT))] == [
        "ann:beibei-letter-2022-11-10-point-1 | place:beibei"
    ]


def test_the_shape_refuses_a_link_to_no_place(planted: tuple[Project, ox.Store]) -> None:
    project, _ = planted
    findings = [
        f for f in validate_files(project).findings if f.severity == "violation" and f.property == "cq:mentionsPlace"
    ]
    assert [(f.file, f.subject) for f in findings] == [("facts/article-003.ttl", FACT)]
    assert "known place" in findings[0].message and "已知地点" in findings[0].message_zh


def test_the_names_a_quote_may_use() -> None:
    assert names("沙坪坝区") == {"沙坪坝区", "沙坪坝"}
    assert names("湖北省") == {"湖北省", "湖北"}
    assert names("忠县") == {"忠县"}
    assert names("两江新区") == {"两江新区", "两江新"}


def test_question_places_mentioned(store: ox.Store) -> None:
    rows = ask(store, "places-mentioned", place="place:shapingba")
    facts = {r["fact"]: r for r in rows}
    # 003: 涉及到沙坪坝区、九龙坡区、南岸区、大足区、铜梁区等29个区县 (a figure about Chongqing)
    outbreak = facts[OBS + "a003-2022-11-08-shapingba-1101-outbreak-districts-affected"]
    assert (outbreak["kind"], outbreak["about"], outbreak["mentioned_zh"]) == ("statistic", P + "chongqing", "沙坪坝区")
    # 001: 大渡口區、沙坪壩區、巴南區、渝北區、北碚區、兩江新區、重慶高新區等7個區未報告社會面感染者
    assert OBS + "a001-2022-11-30-central-districts-without-community-infections" in facts
    # 003: 大渡口区、巴南区各10例 — the Dadukou figure names Banan, not Shapingba
    assert OBS + "a003-2022-11-09-dadukou-new-asymptomatic-infections" not in facts
    assert {r["mentioned"] for r in rows} == {P + "shapingba"}


def test_question_places_mentioned_finds_places_within(store: ox.Store) -> None:
    # 002: 江津双福农贸城、渝北海领市场、涪陵新大兴农副市场、长寿三科农商城 (where the digital sentinel runs)
    rows = ask(store, "places-mentioned", place="place:yubei")
    sentinel = {r["fact"] for r in rows if r["mentioned"] == P + "yubei-hailing-market"}
    assert sentinel == {
        OBS + "a002-2022-12-01-digital-sentinel-cumulative-verifications",
        OBS + "a002-2022-12-01-digital-sentinel-daily-verifications",
    }
    # 002: 统筹督导全市审计机关特别是中心城区审计机关人员 — a measure for Chongqing naming the central districts
    rows = ask(store, "places-mentioned", place="place:central-urban-districts")
    audit = [r for r in rows if r["fact"] == M + "audit-bureau-task-force"]
    assert [(r["kind"], r["about"], r["mentioned"]) for r in audit] == [
        ("measure", P + "chongqing", P + "central-urban-districts")
    ]
    # 002: （新华社北京12月1日电） — an announcement, about no place
    rows = ask(store, "places-mentioned", place="place:beijing")
    assert [(r["fact"], r["kind"], r["about"]) for r in rows] == [
        (A + "state-council-joint-mechanism-qa-2022-12-01", "announcement", None)
    ]

"""A deterministic synthetic knowledge base with the real model's shape, at any number of measures.

It copies the real ontology, places, agents, documents and sources, then writes fact files of
synthetic measures (labels zh/en, categories, strengths, places, dates with kinds, parameters,
target groups, cited documents, change links), announcements, documents and statistics, each with a
verbatim quote of a synthetic source text that it writes too. The same size and seed give the same files.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kb.namespaces import PREFIXES

REPO = Path(__file__).resolve().parent.parent
PER_FILE = 1000
SHARED_FACTS = ("sources.ttl", "agents.ttl", "documents.ttl")
STRENGTHS = ("Mandatory", "Advisory", "Prohibition", "Relaxation", "Principle")
ACTIONS = ("全员核酸检测", "居家隔离", "封控管理", "恢复堂食", "有序复工")
# (effect, direction or "") pairs, as curators write change links
CHANGES = (("ends", "relaxes"), ("amends", "tightens"), ("replaces", ""), ("restates", ""), ("amends", "relaxes"))
UNITS = (("HR", 48.0), ("DAY", 7.0), ("PER-DAY", 1.0), ("NUM", 2.0), ("PERCENT", 90.0))
FIRST_DAY = dt.date(2020, 1, 20)
DAYS = (dt.date(2022, 12, 31) - FIRST_DAY).days

HEADER = "".join(
    f"@prefix {p}: <{PREFIXES[p]}> .\n"
    for p in (
        "cq",
        "cat",
        "tg",
        "qk",
        "stat",
        "measure",
        "doc",
        "ann",
        "agent",
        "place",
        "obs",
        "src",
        "unit",
        "rdfs",
        "xsd",
    )
)


@dataclass(frozen=True)
class Vocabulary:
    """The real terms synthetic facts use: concepts of each scheme, places and agents."""

    categories: list[str]
    target_groups: list[str]
    quantity_kinds: list[str]
    statistics: list[str]
    places: list[str]
    agents: list[str]


def _local(iri: str, prefix: str) -> str | None:
    base = PREFIXES[prefix]
    local = iri[len(base) :] if iri.startswith(base) else None
    return f"{prefix}:{local}" if local and all(c.isalnum() or c in "-_" for c in local) else None


def read_vocabulary(root: Path = REPO) -> Vocabulary:
    """Terms from the real ontology and shared facts."""
    store = ox.Store()
    shared = [root / "facts/reference/places.ttl", root / "facts/agents.ttl"]
    for path in [*sorted((root / "ontology").glob("*.ttl")), *shared]:
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    subjects = sorted({q.subject.value for q in store if isinstance(q.subject, ox.NamedNode)})

    def pick(prefix: str) -> list[str]:
        return [name for name in (_local(s, prefix) for s in subjects) if name]

    # Agents only from the shared agents file: the crosswalks also name agents that live in an article file, which
    # the synthetic knowledge base does not copy (an issuer there would be untyped).
    described = ox.Store()
    described.load(path=str(root / "facts/agents.ttl"), format=ox.RdfFormat.TURTLE)
    agents = sorted({q.subject.value for q in described if isinstance(q.subject, ox.NamedNode)})
    agent_names = [name for name in (_local(s, "agent") for s in agents) if name]
    return Vocabulary(pick("cat"), pick("tg"), pick("qk"), pick("stat"), pick("place"), agent_names)


def _day(rng: random.Random) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS - 40))


def _measure(
    rng: random.Random,
    vocab: Vocabulary,
    n: int,
    src: str,
    sentence: str,
    day: dt.date,
    ann: str,
    earlier: int | None = None,
    starts: dict[int, int] | None = None,
) -> str:
    """One measure's Turtle. `starts` (measure number → ordinal of its effective start) keeps the change links
    consistent: a measure that ends or replaces an earlier one takes effect after it (recorded as it goes)."""
    lines = [
        f"measure:synth-{n:07d}",
        "    a cq:Measure ;",
        f'    rdfs:label "合成措施{n}：{sentence[:-1]}"@zh, "synthetic measure {n}"@en ;',
        f"    cq:category {', '.join(sorted(set(rng.sample(vocab.categories, rng.choice((1, 1, 2))))))} ;",
        f"    cq:strength cq:{rng.choice(STRENGTHS)} ;",
        f"    cq:appliesTo {rng.choice(vocab.places)} ;",
        f"    cq:issuer {rng.choice(vocab.agents)} ;",
        f"    cq:announcedAt {ann} ;",
    ]
    if rng.random() < 0.5:
        lines.append(f"    cq:targetGroup {rng.choice(vocab.target_groups)} ;")
    if rng.random() < 0.1:
        lines.append(f"    cq:cites doc:synth-doc-{n // 100:05d} ;")
    if rng.random() < 0.3:
        unit, value = rng.choice(UNITS)
        kind = rng.choice(vocab.quantity_kinds)
        parameter = f"a cq:Parameter ; cq:quantityKind {kind} ; cq:value {value} ; cq:unit unit:{unit}"
        lines.append(f"    cq:parameter [ {parameter} ] ;")
    earlier = n if earlier is None else earlier
    after = 0  # the ordinal this measure's effective start must exceed (0: none)
    if earlier > 0 and rng.random() < 0.2:
        effect, direction = rng.choice(CHANGES)
        number = rng.randrange(earlier)
        target = f"measure:synth-{number:07d}"
        lines.append(f"    cq:{effect} {target} ;")
        if direction:
            lines.append(f"    cq:{direction} {target} ;")
        if effect in ("ends", "replaces"):
            # unknown start (a file added to a KB): its chunk's day plus the largest offset below
            after = (starts or {}).get(number, day.toordinal() + 2)
    lines.append(f'    cq:announced "{day.isoformat()}"^^xsd:date ;')
    lines.append(f"    cq:announcedKind cq:{rng.choice(('StatedDate', 'EventDate'))} ;")
    stated = rng.random() < 0.5
    start = day + dt.timedelta(days=rng.randrange(3)) if stated else day
    if start.toordinal() <= after:  # it ends an earlier measure: in force from the day after that one starts
        stated, start = True, dt.date.fromordinal(after + 1 + rng.randrange(3))
    if starts is not None:
        starts[n] = start.toordinal()
    if stated:
        lines.append(f'    cq:inForceFrom "{start.isoformat()}"^^xsd:date ;')
        lines.append("    cq:inForceFromKind cq:StatedDate ;")
        if rng.random() < 0.4:
            until = start + dt.timedelta(days=rng.randrange(1, 30))
            lines.append(f'    cq:inForceUntil "{until.isoformat()}"^^xsd:date ;')
            lines.append("    cq:inForceUntilKind cq:StatedDate ;")
        else:
            lines.append("    cq:inForceUntilKind cq:NotStated ;")
    else:
        lines.append("    cq:inForceFromKind cq:NotStated ;")
        lines.append("    cq:inForceUntilKind cq:NotStated ;")
    lines.append(f"    cq:source {src} ;")
    lines.append(f'    cq:quote "{sentence}" .')
    return "\n".join(lines) + "\n"


def _chunk(
    rng: random.Random, vocab: Vocabulary, index: int, first: int, count: int, starts: dict[int, int]
) -> tuple[str, str, str]:
    """(fact Turtle, source text, source Turtle) of one synthetic article."""
    src = f"src:synth-{index:05d}"
    day = _day(rng)
    text: list[str] = [f"合成来源文章{index}。"]
    facts: list[str] = [HEADER]
    for a in range(-(-first // 20), (first + count - 1) // 20 + 1):
        sentence = f"第{a}场新闻发布会于{day.month}月{day.day}日举行。"
        text.append(sentence)
        facts.append(
            f"ann:synth-press-conference-{a:06d}\n    a cq:PressConference ;\n"
            f'    rdfs:label "第{a}场合成新闻发布会"@zh, "synthetic press conference {a}"@en ;\n'
            f'    cq:date "{day.isoformat()}"^^xsd:date ;\n    cq:dateKind cq:EventDate ;\n'
            f"    cq:organiser {rng.choice(vocab.agents)} ;\n    cq:sequenceNumber {a + 1} ;\n"
            f'    cq:source {src} ;\n    cq:quote "{sentence}" .\n'
        )
    for d in range(-(-first // 100), (first + count - 1) // 100 + 1):
        sentence = f"印发合成文件第{d}号。"
        text.append(sentence)
        facts.append(
            f"doc:synth-doc-{d:05d}\n    a cq:PolicyDocument ;\n"
            f'    rdfs:label "合成文件第{d}号"@zh, "synthetic document {d}"@en ;\n'
            f"    cq:issuer {rng.choice(vocab.agents)} ;\n"
            f'    cq:documentDate "{day.isoformat()}"^^xsd:date ;\n'
            f'    cq:source {src} ;\n    cq:quote "{sentence}" .\n'
        )
    for n in range(first, first + count):
        sentence = f"第{n}号措施：{rng.choice(ACTIONS)}{n % 97}。"
        text.append(sentence)
        ann = f"ann:synth-press-conference-{n // 20:06d}"
        facts.append(_measure(rng, vocab, n, src, sentence, day, ann, starts=starts))
        if n % 10 == 0:
            figure = rng.randrange(1, 5000)
            sentence = f"第{n}号统计：新增{figure}例。"
            text.append(sentence)
            facts.append(
                f"obs:synth-{n:07d}\n    a cq:Observation ;\n"
                f'    rdfs:label "synthetic statistic {n}"@en ;\n'
                f"    cq:statistic {rng.choice(vocab.statistics)} ;\n    cq:area {rng.choice(vocab.places)} ;\n"
                f'    cq:refDate "{day.isoformat()}"^^xsd:date ;\n    cq:refDateKind cq:StatedDate ;\n'
                f"    cq:value {figure}.0 ;\n    cq:unit unit:NUM ;\n"
                f'    cq:source {src} ;\n    cq:quote "{sentence}" .\n'
            )
    source = (
        f"{src}\n    a cq:Source ;\n"
        f'    rdfs:label "合成来源文章{index}"@zh, "synthetic source article {index}"@en ;\n'
        f'    cq:fileName "synth-{index:05d}.txt" ;\n    cq:script "simplified" ;\n'
        f'    cq:coversFrom "{day.isoformat()}"^^xsd:date ;\n'
        f'    cq:coversUntil "{(day + dt.timedelta(days=40)).isoformat()}"^^xsd:date .\n'
    )
    return "\n".join(facts), "".join(text) + "\n", source


def generate(root: Path, measures: int, seed: int = 0, per_file: int = PER_FILE) -> Path:
    """Write a synthetic project with `measures` measures under `root`; returns root."""
    vocab = read_vocabulary()
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "ontology", root / "ontology")
    (root / "facts").mkdir(parents=True)
    for name in SHARED_FACTS:
        shutil.copy(REPO / "facts" / name, root / "facts" / name)
    shutil.copytree(REPO / "facts" / "reference", root / "facts" / "reference")
    shutil.copytree(REPO / "facts" / "sources", root / "facts" / "sources")
    synth = root / "facts" / "synth"
    synth.mkdir()
    sources = [HEADER]
    starts: dict[int, int] = {}
    for index, first in enumerate(range(0, measures, per_file)):
        rng = random.Random(seed * 1_000_003 + index)
        facts, text, source = _chunk(rng, vocab, index, first, min(per_file, measures - first), starts)
        (synth / f"article-{index:05d}.ttl").write_text(facts, encoding="utf-8")
        (root / "facts" / "sources" / f"synth-{index:05d}.txt").write_text(text, encoding="utf-8")
        sources.append(source)
    (synth / "sources.ttl").write_text("\n".join(sources), encoding="utf-8")
    return root


def new_measures_file(root: Path, path: Path, count: int = 10, seed: int = 1) -> Path:
    """A fact file of `count` new measures citing the synthetic KB's first source, as a curator would add."""
    vocab = read_vocabulary()
    rng = random.Random(seed)
    text = (root / "facts" / "sources" / "synth-00000.txt").read_text("utf-8")
    sentences = [s + "。" for s in text.split("。") if s.startswith("第") and "号措施" in s][:count]
    sources = (root / "facts" / "synth" / "sources.ttl").read_text("utf-8")
    start = sources.index('cq:coversFrom "') + len('cq:coversFrom "')
    day = dt.date.fromisoformat(sources[start : start + 10])
    body = [HEADER]
    for offset, sentence in enumerate(sentences):
        ann = "ann:synth-press-conference-000000"
        n = 9_000_000 + offset
        body.append(_measure(rng, vocab, n, "src:synth-00000", sentence, day, ann, earlier=len(sentences)))
    path.write_text("\n".join(body), encoding="utf-8")
    return path


def plant_errors(path: Path) -> None:
    """Break a fact file on purpose: a measure without strength, a date kind without its date, dates out of order."""
    text = path.read_text("utf-8")
    text = text.replace("    cq:strength cq:", "    cq:note cq:", 1)
    text = text.replace("    cq:inForceFromKind cq:NotStated ;", "    cq:inForceFromKind cq:StatedDate ;", 1)
    marker = '    cq:inForceFrom "'
    at = text.find(marker)
    if at >= 0:
        text = text[: at + len(marker)] + "2019-01-01" + text[at + len(marker) + 10 :]
    path.write_text(text, encoding="utf-8")

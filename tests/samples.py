"""Test data and helpers shared by several test modules (not a test module itself: no test imports another)."""

from __future__ import annotations

import ast
import decimal
import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner, Result

from kb.cli import main
from kb.namespaces import PREFIXES as NAMESPACES
from kb.namespaces import shorten, turtle_prefixes
from kb.project import Project
from kb.query import NamedQuery, QueryResult
from kb.store import read_index

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# The checkout under test: tests/samples.py stays at the top of tests/, whichever subfolder imports it.
ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- a measure for CLI tests

CLI_MEASURE = """@prefix cq: <https://w3id.org/cq-covid/def#> .
@prefix cat: <https://w3id.org/cq-covid/def/category/> .
@prefix measure: <https://w3id.org/cq-covid/id/measure/> .
@prefix place: <https://w3id.org/cq-covid/id/place/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix src: <https://w3id.org/cq-covid/id/source/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

measure:test-daily-testing
    a cq:Measure ;
    rdfs:label "中心城区各区实行一天一次的区域核酸检测"@zh, "daily area testing in the central urban districts"@en ;
    cq:category cat:testing ;
    cq:strength cq:Mandatory ;
    cq:appliesTo place:central-urban-districts ;
    cq:announced "2022-11-09"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ;
    cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .
"""


def run(runner: CliRunner, project: Project, *args: str, input: str | None = None) -> Result:
    """`kb --root PROJECT ARGS...` through click's runner."""
    return runner.invoke(main, ["--root", str(project.root), *args], input=input)


def copy_knowledge_base(root: Path, articles: dict[str, str] | None = None) -> Path:
    """A copy of the real ontology, sources, places and shared facts at `root`, plus the given article files."""
    real = Path(__file__).resolve().parent.parent
    shutil.copytree(real / "ontology", root / "ontology")
    (root / "facts").mkdir(parents=True)
    for name in ("sources.ttl", "agents.ttl", "documents.ttl"):
        shutil.copy(real / "facts" / name, root / "facts" / name)
    shutil.copytree(real / "facts" / "reference", root / "facts" / "reference")
    shutil.copytree(real / "facts" / "sources", root / "facts" / "sources")
    for name, text in (articles or {}).items():
        (root / "facts" / name).write_text(text, "utf-8")
    return root


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` as a test user; its output."""
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def add_fact(project: Project, text: str, name: str = "test.ttl") -> Path:
    path = project.facts_dir / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- a measure and a statistic for validation tests

PREFIXES = turtle_prefixes(
    "cq", "agent", "cat", "doc", "measure", "obs", "place", "rdfs", "skos", "src", "stat", "unit", "xsd"
)

# Line numbers below count from 1: the subject is on line 15.
MEASURE = (
    PREFIXES
    + """
measure:test-measure
    a cq:Measure ;
    rdfs:label "中心城区各区实行一天一次的区域核酸检测"@zh, "daily area testing"@en ;
    cq:category cat:testing ;
    cq:strength cq:Mandatory ;
    cq:issuer agent:chongqing-health-commission ;
    cq:appliesTo place:central-urban-districts ;
    cq:cites doc:control-plan-9th-edition ;
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
LINE = {
    "subject": 15,
    "rdfs:label": 17,
    "cq:category": 18,
    "cq:strength": 19,
    "cq:issuer": 20,
    "cq:appliesTo": 21,
    "cq:cites": 22,
    "cq:announced": 23,
    "cq:inForceFrom": 25,
    "cq:inForceUntil": 27,
    "cq:source": 29,
    "cq:quote": 30,
}

# The statistic type comes from the ontology: a fact file cannot declare one (test_validate_hostile.py).
STATISTIC = (
    PREFIXES
    + """
obs:a003-test-new-cases
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


# ---------------------------------------------------------------- timeline samples

TIMELINE_PREFIXES = turtle_prefixes(
    "cq", "cat", "measure", "ann", "obs", "place", "src", "stat", "qk", "unit", "rdfs", "xsd"
)

# Five measures that cover every way a measure is drawn, two periods far apart, an announcement,
# statistics, change links and a quote in traditional characters (article 001).
SAMPLE_TTL = (
    TIMELINE_PREFIXES
    + """
measure:t-daily-testing a cq:Measure ;
    rdfs:label "中心城区各区实行一天一次的区域核酸检测"@zh, "one area PCR test a day in the central districts"@en ;
    cq:category cat:testing ; cq:strength cq:Mandatory ; cq:appliesTo place:central-urban-districts ;
    cq:announcedAt ann:t-press-136 ;
    cq:parameter [ a cq:Parameter ; cq:quantityKind qk:test-frequency ; cq:value 1.0 ; cq:unit unit:PER-DAY ] ;
    cq:announced "2022-11-09"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFrom "2022-11-10"^^xsd:date ; cq:inForceFromKind cq:StatedDate ;
    cq:inForceUntil "2022-11-20"^^xsd:date ; cq:inForceUntilKind cq:StatedDate ;
    cq:source src:article-003 ; cq:quote "中心城区各区将实行一天一次的区域核酸检测" .

measure:t-open-end a cq:Measure ;
    rdfs:label "沙坪坝区封控"@zh, "lockdown in Shapingba"@en ;
    cq:category cat:movement ; cq:strength cq:Prohibition ; cq:appliesTo place:shapingba ;
    cq:announced "2022-11-11"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFrom "2022-11-11"^^xsd:date ; cq:inForceFromKind cq:StatedDate ;
    cq:inForceUntilKind cq:NotStated ;
    cq:amends measure:t-daily-testing ; cq:tightens measure:t-daily-testing ;
    cq:source src:article-003 ; cq:quote "并服从管控区和高风险区等管控措施" .

measure:t-no-mass-testing a cq:Measure ;
    rdfs:label "不再按行政區域開展全員核酸檢測"@zh, "no more area-wide mass testing"@en ;
    cq:category cat:testing ; cq:strength cq:Relaxation ; cq:appliesTo place:chongqing ;
    cq:announced "2022-11-30"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    cq:ends measure:t-daily-testing ; cq:relaxes measure:t-daily-testing ;
    cq:source src:article-001 ; cq:quote "不再按行政區域開展全員核酸檢測" .

measure:t-undated a cq:Measure ;
    rdfs:label "更严更实的防控措施"@zh, "stricter control measures"@en ;
    cq:category cat:strategy ; cq:strength cq:Principle ; cq:appliesTo place:beibei ;
    cq:announcedKind cq:NotStated ; cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-004 ; cq:quote "我市出台了一系列更严更实更细更快的疫情防控措施" .

measure:t-2020-briefing a cq:Measure ;
    rdfs:label "2020年通气会措施"@zh, "measure of the 2020 briefing"@en ;
    cq:category cat:strategy ; cq:strength cq:Advisory ; cq:appliesTo place:chongqing ;
    cq:announced "2020-01-30"^^xsd:date ; cq:announcedKind cq:StatedDate ;
    cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-004 .

ann:t-press-136 a cq:PressConference ;
    rdfs:label "第136场发布会"@zh, "136th press conference"@en ;
    cq:date "2022-11-09"^^xsd:date ; cq:dateKind cq:StatedDate .

obs:t-2020-01-26 a cq:Observation ; cq:statistic stat:new-confirmed-cases ; cq:area place:chongqing ;
    cq:refDate "2020-01-26"^^xsd:date ; cq:value 35.0 ; cq:unit unit:NUM .
obs:t-2020-01-27 a cq:Observation ; cq:statistic stat:new-confirmed-cases ; cq:area place:chongqing ;
    cq:refDate "2020-01-27"^^xsd:date ; cq:value 22.0 ; cq:unit unit:NUM .
obs:t-2022-11-09 a cq:Observation ; cq:statistic stat:new-confirmed-cases ; cq:area place:chongqing ;
    cq:refDate "2022-11-09"^^xsd:date ; cq:value 109.0 ; cq:unit unit:NUM .
"""
)

# Effective periods of every basis (derived at build): a stated period; an attestation only (then presumed,
# then unknown where the sources' coverage ends); a pair where the later measure ends (and relaxes) the
# earlier; an unresolved blanket repeal (possibly ended); and a measure with no date known.
PERIODS_TTL = (
    TIMELINE_PREFIXES
    + """
measure:p-stated a cq:Measure ;
    rdfs:label "明示期间的措施"@zh, "measure with a stated period"@en ;
    cq:category cat:testing ; cq:strength cq:Mandatory ; cq:appliesTo place:chongqing ;
    cq:announced "2022-11-09"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFrom "2022-11-10"^^xsd:date ; cq:inForceFromKind cq:StatedDate ;
    cq:inForceUntil "2022-11-20"^^xsd:date ; cq:inForceUntilKind cq:StatedDate ;
    cq:source src:article-003 .

measure:p-attested a cq:Measure ;
    rdfs:label "仅见证的措施"@zh, "measure attested only"@en ;
    cq:category cat:movement ; cq:strength cq:Mandatory ; cq:appliesTo place:shapingba ;
    cq:announcedKind cq:NotStated ; cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    cq:attestedInForce "2022-11-09"^^xsd:date ; cq:attestedInForceKind cq:EventDate ;
    cq:source src:article-003 .

measure:p-old a cq:Measure ;
    rdfs:label "被终止的措施"@zh, "measure ended by a later one"@en ;
    cq:category cat:testing ; cq:strength cq:Mandatory ; cq:appliesTo place:shapingba ;
    cq:announced "2022-11-12"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-002 .

measure:p-new a cq:Measure ;
    rdfs:label "终止并放宽的措施"@zh, "measure that ends and relaxes it"@en ;
    cq:category cat:testing ; cq:strength cq:Relaxation ; cq:appliesTo place:chongqing ;
    cq:announced "2022-11-24"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFrom "2022-11-25"^^xsd:date ; cq:inForceFromKind cq:StatedDate ; cq:inForceUntilKind cq:NotStated ;
    cq:ends measure:p-old ; cq:relaxes measure:p-old ;
    cq:source src:article-002 .

measure:p-repeal a cq:Measure ;
    rdfs:label "概括性废止"@zh, "blanket repeal in Beibei"@en ;
    cq:category cat:strategy ; cq:strength cq:Relaxation ; cq:appliesTo place:beibei ;
    cq:announced "2022-11-27"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFrom "2022-11-28"^^xsd:date ; cq:inForceFromKind cq:StatedDate ; cq:inForceUntilKind cq:NotStated ;
    cq:repealsInconsistentWith measure:p-repeal ;
    cq:source src:article-002 .

measure:p-maybe a cq:Measure ;
    rdfs:label "可能已被废止的措施"@zh, "measure possibly ended by the repeal"@en ;
    cq:category cat:movement ; cq:strength cq:Advisory ; cq:appliesTo place:beibei ;
    cq:announced "2022-11-15"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-002 .

measure:p-nodate a cq:Measure ;
    rdfs:label "无日期的措施"@zh, "measure with no date known"@en ;
    cq:category cat:strategy ; cq:strength cq:Principle ; cq:appliesTo place:chongqing ;
    cq:announcedKind cq:NotStated ; cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    cq:source src:article-002 .
"""
)

XSS_LABEL = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'
_ATTR_TTL = XSS_ATTR.replace('"', '\\"')
XSS_TTL = (
    TIMELINE_PREFIXES
    + f"""
cat:t-evil a cq:Category ; rdfs:label "</script><!--<script>alert(3)</script>"@en, "{_ATTR_TTL}"@zh .

measure:t-evil a cq:Measure ;
    rdfs:label "{XSS_LABEL}"@zh, "{_ATTR_TTL}"@en ;
    cq:category cat:t-evil ; cq:strength cq:Mandatory ; cq:appliesTo place:chongqing ;
    cq:announced "2022-11-09"^^xsd:date ; cq:announcedKind cq:EventDate ;
    cq:inForceFromKind cq:NotStated ; cq:inForceUntilKind cq:NotStated ;
    rdfs:comment "{_ATTR_TTL}"@en ;
    cq:source src:article-003 ; cq:quote "</script><script>alert(2)</script>{_ATTR_TTL}" .
"""
)


# ---------------------------------------------------------------- import boundaries between rooms


def kb_imports(package: Path) -> set[str]:
    """The kb modules that the files of a package import (relative imports resolved, names included)."""
    found: set[str] = set()
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                parts = ["kb", package.name][: 3 - node.level] if node.level else []
                base = ".".join([*parts, *([node.module] if node.module else [])])
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found.update(name for name in names if name == "kb" or name.startswith("kb."))
    return found


# ---------------------------------------------------------------- the same query on two engines (local, rdflib, remote)

# Values for parameters that point into bench/synth.py's data; others take the example in their description.
PARAM_SAMPLES = {
    "from": "2020-01-01",
    "to": "2022-12-31",
    "measure": "measure:synth-0000007",
    "subject": "measure:synth-0000007",
    "announcement": "ann:synth-press-conference-000001",
    "document": "doc:synth-doc-00001",
    "text": "核酸",
    "strength": "cq:Mandatory",
}


def query_bindings(query: NamedQuery) -> dict[str, str]:
    """A value for each parameter of a named query: PARAM_SAMPLES, else the 'e.g.' of its description."""
    params = {}
    for param in query.params:
        example = re.search(r"e\.g\.\s+([^\s,;]+)", param.description)
        value = PARAM_SAMPLES.get(param.name) or (example.group(1) if example else None)
        if value is None:
            pytest.fail(f"query {query.name}: give ?{param.name} an example ('e.g. …') or a value in PARAM_SAMPLES")
        params[param.name] = value
    return params


_NUMERIC = {NAMESPACES["xsd"] + name for name in ("integer", "decimal", "double", "float")}


def canonical_term(term: object) -> object:
    """A term in N-Triples form, whichever engine produced it (blank node labels are not compared).

    Numbers compare by datatype and value: rdflib writes the decimal 3645 as "3645.0", oxigraph as "3645".
    """
    if term is None:
        return None
    if isinstance(term, rdflib.Literal | ox.Literal) and " | " in str(getattr(term, "value", term)):
        # GROUP_CONCAT has no defined order: compare its parts as a set.
        return frozenset(str(getattr(term, "value", term)).split(" | "))
    datatype = getattr(term, "datatype", None)
    if datatype is not None and str(getattr(datatype, "value", datatype)) in _NUMERIC:
        try:
            return (str(getattr(datatype, "value", datatype)), decimal.Decimal(str(getattr(term, "value", term))))
        except decimal.InvalidOperation:
            pass
    if isinstance(term, ox.BlankNode | rdflib.BNode):
        return "_:b"
    if isinstance(term, rdflib.term.Identifier):
        if isinstance(term, rdflib.Literal) and term.datatype is None and term.language is None:
            return str(ox.Literal(str(term)))
        return term.n3()
    return str(term)


# ---------------------------------------------------------------- inline measures and codings for the tracker layouts

TRACKER_PREFIXES = turtle_prefixes("cq", "ann", "cat", "measure", "place", "rdfs", "src", "tg", "xsd")
OXCGRT_NS = "https://w3id.org/cq-covid/def/oxcgrt/"


def tracker_measure(
    slug: str,
    place: str = "chongqing",
    category: str = "gatherings",
    strength: str = "Prohibition",
    start: str | None = "2022-11-10",
    announced: str = "2022-11-09",
    extra: str = "",
) -> str:
    """A measure in Turtle: a stated start (or none: announced only) and whatever `extra` adds (links, groups)."""
    dates = (
        f'cq:inForceFrom "{start}"^^xsd:date ; cq:inForceFromKind cq:StatedDate ;'
        if start
        else "cq:inForceFromKind cq:NotStated ;"
    )
    return f"""
measure:{slug}
    a cq:Measure ;
    rdfs:label "测试措施{slug}"@zh, "test measure {slug}"@en ;
    cq:category cat:{category} ;
    cq:strength cq:{strength} ;
    cq:appliesTo place:{place} ;
    cq:announced "{announced}"^^xsd:date ;
    cq:announcedKind cq:EventDate ;
    {dates}
    cq:inForceUntilKind cq:NotStated ;
    {extra}
    cq:source src:article-003 ;
    cq:quote "中心城区各区将实行一天一次的区域核酸检测" .
"""


def tracker_coding(subject: str, indicator: str, level: int, extra: str = "") -> str:
    """A coding of `subject` (a prefixed name) as one level of an OxCGRT indicator."""
    return f"""
[] a cq:IndicatorCoding ; cq:codes {subject} ; cq:indicator <{OXCGRT_NS}{indicator}> ; cq:ordinalLevel {level} ;
    {extra} rdfs:comment "test coding of {subject} as {indicator} {level}"@en .
"""


# ---------------------------------------------------------------- the browser of the browser tests

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, for a fixture to yield from (never a browser Playwright downloads);
    fails, saying what to run, when it is missing."""
    import pytest

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` to install Chromium for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# axe-core from the npm registry, kept in a cache folder outside the checkout ($KB_TEST_CACHE to move it)
AXE_CACHE = Path(os.environ.get("KB_TEST_CACHE", Path.home() / ".cache" / "cq-covid-kb")) / "npm"


def axe_core() -> Path:
    """axe.min.js, installed with npm into AXE_CACHE the first time; skips (saying why) without npm or the registry.

    Parallel test workers share the cache: the install runs under a lock, and a worker that waited finds it done.
    """
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so axe-core cannot be fetched from the npm registry")
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    with (AXE_CACHE / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not script.exists():
            done = subprocess.run(
                [npm, "install", "--prefix", str(AXE_CACHE), "--no-audit", "--no-fund", "axe-core@4"],
                capture_output=True,
                text=True,
                timeout=180,
            )
            if done.returncode != 0 or not script.exists():
                reason = done.stderr[-300:]
                pytest.skip(f"the npm registry is unreachable, so axe-core could not be installed: {reason}")
    return script


# ---------------------------------------------------------------- where a failing record is written


def located(project: Project, result: QueryResult) -> list[str]:
    """Each row of a data-integrity query as "file:line subject | other values", the place read from the store's
    location index (the first variable is the subject); an empty list when the knowledge base is sound."""
    index = read_index(project)
    lines = []
    for row in result.rows:
        cells = [None if term is None else term.value for term in row]
        subject = cells[0] or ""
        places = [f"{entry[0]}:{entry[1]}" for entry in index.get(subject, [])] or ["(not in any file)"]
        rest = " | ".join(shorten(c) if c and c.startswith("http") else str(c) for c in cells[1:])
        lines.append(f"{', '.join(places)} {shorten(subject)}" + (f" | {rest}" if rest else ""))
    return lines


def built_snapshot(project: Project) -> ox.Store:
    """The published snapshot of a knowledge base built with its state beside it (KB_STATE_DIR = root/../state)."""
    from kb.store import open_snapshot, store_link

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(project.root.parent / "state"))
        return open_snapshot(store_link(project))

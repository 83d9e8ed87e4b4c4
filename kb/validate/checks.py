"""The project's own checks, beside the shapes: evidence (quotes against their sources), vocabulary (terms the
ontology declares; no declarations in fact files), literals (no hidden characters, quotes long enough) and the
*-violation queries of kb/queries/checks/. Each turns what it finds into findings placed by the Locator."""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Protocol

import pyoxigraph as ox

from ..evidence import QuoteProblem, Quotes, SourceTexts, check_quotes
from ..loader import printable
from ..namespaces import GRAPH_BASE, PREFIXES, RDF_TYPE, STANDARD_NAMESPACES, expand, shorten
from ..project import Project
from ..query import QUERY_DIR, named_queries, run_query, select
from ..query.checked import checked
from ..query.onepass import answered
from ..query.run import QueryResult
from ..store import snapshot_folder
from . import onepass
from .places import IndexedFiles, Locator, display, key, term_text
from .report import Finding

CHECKS_DIR = QUERY_DIR / "checks"  # each *-violation.rq: a check, its severity, messages and hint in its header
# Namespaces whose terms must be declared in ontology/: the project's own, and the QUDT units it lists
# (ontology/units.ttl), so that a unit QUDT does not have, or the project does not use, is reported.
_LOCAL_NAMESPACES = tuple(PREFIXES[p] for p in ("cq", "cat", "tg", "qk", "stat", "unit"))
QUDT_UNIT = "http://qudt.org/schema/qudt/Unit"


class FileTriples(Protocol):
    """What the per-file checks read of a file: its name and its triples."""

    name: str

    @property
    def triples(self) -> Iterable[ox.Triple]: ...


def evidence_findings(
    store: ox.Store, locator: Locator, project: Project, quotes: Quotes | None = None
) -> list[Finding]:
    """Quotes not in their sources, sources without a readable file (`quotes`: the store's, when already read)."""
    quote, source = PREFIXES["cq"] + "quote", PREFIXES["cq"] + "source"
    texts = SourceTexts(project.sources_dir)
    findings = []
    for problem in check_quotes(store, texts, quotes=quotes):
        for file, line in locator.where(problem.subject, quote if problem.kind == "not-found" else source):
            findings.append(_evidence_finding(file, line, problem))
    return sorted(set(findings + _file_name_findings(store, locator, texts)))


def _file_name_findings(store: ox.Store, locator: Locator, texts: SourceTexts) -> list[Finding]:
    """Each cq:fileName that names something other than a regular file inside facts/sources/."""
    file_name = PREFIXES["cq"] + "fileName"
    findings = []
    for quad in store.quads_for_pattern(None, ox.NamedNode(file_name), None, None):
        if not isinstance(quad.object, ox.Literal) or isinstance(quad.subject, ox.Triple):
            continue
        texts.get(quad.object.value)
        refusal = texts.refusal(quad.object.value)
        if refusal is None:
            continue
        subject = key(quad.subject)
        for file, line in locator.where(subject, file_name):
            findings.append(
                Finding(
                    file,
                    line,
                    "violation",
                    display(subject),
                    "cq:fileName",
                    f"cq:fileName «{quad.object.value}» {refusal}: the file was not read",
                    "来源文件名须指向 facts/sources/ 中的普通文件；该文件未被读取",
                    "give the name of the article's text file in facts/sources/ (e.g. 003_3f5591fb49c74a46.txt)",
                    "evidence",
                )
            )
    return findings


# kind → (property, message, message in Chinese, hint); {quote} and {detail} are filled in
_EVIDENCE_TEXTS = {
    "not-found": (
        "cq:quote",
        "quote not found in its source: «{quote}»",
        "引文在来源中未找到",
        "closest passage: «{detail}»",
    ),
    "no-source": (
        "cq:source",
        "a quote without a source",
        "引文缺少来源",
        "add cq:source src:… naming the article the quote is from",
    ),
    "source-file-missing": (
        "cq:source",
        "source text file is missing: {detail}",
        "来源文本文件缺失",
        "put the article's text in facts/sources/ or correct cq:fileName",
    ),
    "source-file-refused": (
        "cq:source",
        "the quote cannot be checked: its source's cq:fileName {detail}, so it was not read",
        "无法核对引文：来源文件名不合规，未读取该文件",
        "name a plain text file that lies in facts/sources/ itself",
    ),
}


def _evidence_finding(file: str, line: int, problem: QuoteProblem) -> Finding:
    prop, message, message_zh, hint = _EVIDENCE_TEXTS[problem.kind]
    fill = {"quote": problem.quote, "detail": problem.detail}
    return Finding(
        file,
        line,
        "violation",
        display(problem.subject),
        prop,
        message.format(**fill),
        message_zh,
        hint.format(**fill),
        "evidence",
    )


_ONTOLOGY_GRAPHS = GRAPH_BASE + "ontology/"


def declared_terms(store: ox.Store, exclude_graphs: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    """Terms declared in ontology/ (a declaration in a fact file does not count: see _declaration_findings)."""
    # VALUES, not FILTER(?k IN …): oxigraph then looks the kinds up in its index instead of scanning every
    # rdf:type triple (1 s → 3 ms against a 1M-measure store).
    rows = store.query(
        "SELECT DISTINCT ?t ?g WHERE { VALUES ?k { owl:Class owl:ObjectProperty owl:DatatypeProperty rdf:Property "
        "skos:Concept skos:ConceptScheme cq:Category cq:Strength cq:TargetGroup cq:QuantityKind cq:StatisticType "
        "cq:DateKind cq:ValueQualifier owl:Ontology <http://qudt.org/schema/qudt/Unit> } GRAPH ?g { ?t a ?k } }",
        prefixes=PREFIXES,
    )
    return {
        row["t"].value
        for row in select(rows)
        if row["g"].value.startswith(_ONTOLOGY_GRAPHS) and row["g"].value not in exclude_graphs
    }


# What declares vocabulary: being typed as one of these classes (or a subclass of a SKOS class in the
# ontology), or being the subject of one of these properties, or of any SHACL property.
def _iris(names: str) -> frozenset[str]:
    return frozenset(expand(name) or name for name in names.split())


_VOCABULARY_CLASSES = _iris(
    "owl:Class rdfs:Class rdfs:Datatype owl:Restriction owl:Ontology rdf:Property owl:ObjectProperty "
    "owl:DatatypeProperty owl:AnnotationProperty owl:FunctionalProperty owl:InverseFunctionalProperty "
    "owl:TransitiveProperty owl:SymmetricProperty owl:AsymmetricProperty owl:ReflexiveProperty "
    "owl:IrreflexiveProperty skos:Concept skos:ConceptScheme skos:Collection skos:OrderedCollection sh:NodeShape "
    "sh:PropertyShape sh:Shape cq:Category cq:Strength cq:TargetGroup cq:QuantityKind cq:StatisticType cq:DateKind"
) | {QUDT_UNIT}
_VOCABULARY_PROPERTIES = _iris(
    "rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range owl:equivalentClass owl:equivalentProperty "
    "owl:inverseOf owl:disjointWith skos:inScheme skos:topConceptOf skos:hasTopConcept skos:member skos:broader "
    "skos:narrower skos:broaderTransitive skos:narrowerTransitive skos:related skos:exactMatch skos:closeMatch "
    "skos:broadMatch skos:narrowMatch skos:relatedMatch"
)
_SKOS_CLASSES = _iris("skos:Concept skos:ConceptScheme skos:Collection")


def _vocabulary_classes(store: ox.Store) -> set[str]:
    """The classes whose instances are vocabulary: the fixed list and the ontology's subclasses of SKOS classes."""
    sub = PREFIXES["rdfs"] + "subClassOf"
    parents: dict[str, set[str]] = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(sub), None, None):
        graph = quad.graph_name
        in_ontology = isinstance(graph, ox.NamedNode) and graph.value.startswith(_ONTOLOGY_GRAPHS)
        if in_ontology and isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
            parents.setdefault(quad.subject.value, set()).add(quad.object.value)
    classes = set(_VOCABULARY_CLASSES)
    for start in parents:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node in _SKOS_CLASSES:
                classes.add(start)
                break
            if node not in seen:
                seen.add(node)
                todo.extend(parents.get(node, ()))
    return classes


def declaration_findings(files: Iterable[FileTriples], locator: Locator) -> list[Finding]:
    """A fact file that declares a class, property, concept or shape: vocabulary belongs in ontology/."""
    classes = _vocabulary_classes(locator.store)
    findings = []
    for parsed in files:
        seen: set[tuple[str, str, str]] = set()
        for triple in parsed.triples:
            predicate, obj = triple.predicate.value, triple.object
            if predicate == RDF_TYPE and isinstance(obj, ox.NamedNode) and obj.value in classes:
                what = f"a {shorten(obj.value)}"
            elif predicate in _VOCABULARY_PROPERTIES or predicate.startswith(PREFIXES["sh"]):
                what = f"{shorten(predicate)} {term_text(obj)}"
            else:
                continue
            subject = key(locator.owner(triple.subject))  # type: ignore[arg-type]
            if (subject, predicate, what) in seen:
                continue
            seen.add((subject, predicate, what))
            findings.append(
                Finding(
                    parsed.name,
                    locator.line(parsed.name, subject, predicate),
                    "violation",
                    display(subject),
                    shorten(predicate),
                    f"a fact file cannot declare vocabulary ({display(subject)} {what}): classes, properties, "
                    "concepts, schemes and shapes belong in ontology/",
                    "事实文件不得声明词汇：类、属性、概念、概念体系和约束须在 ontology/ 中定义",
                    "use a term the ontology declares (`kb terms` lists them); a new term is a change to the "
                    "ontology proposed to the maintainers",
                    "vocabulary-declaration",
                )
            )
    return findings


# Literals: no control characters (but TAB, LF and CR in free text such as rdfs:comment), and no bidirectional
# overrides (they make text display other than it is); one-line text has no TAB, LF or CR either.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ONE_LINE = _iris("cq:quote rdfs:label skos:prefLabel skos:altLabel cq:fileName cq:position")
_QUOTE = PREFIXES["cq"] + "quote"
MIN_QUOTE_CHARS = 4


# A character _bad_characters may object to: Unicode's Cc category is exactly U+0000-U+001F and U+007F-U+009F; the
# bidirectional controls. A text without one (nearly every text) is passed without a look at each character.
SUSPECT_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _short_quote(place: tuple[str, int], subject: str, quote: str) -> Finding:
    return Finding(
        *place,
        "violation",
        subject,
        "cq:quote",
        f"quote too short to be evidence: «{quote}» (at least {MIN_QUOTE_CHARS} characters without spaces, with a "
        "letter or digit)",
        f"引文过短，不足以作为证据（去除空白后至少 {MIN_QUOTE_CHARS} 个字符，且含文字或数字）",
        "quote the sentence or clause of the article that states the fact",
        "short-quote",
    )


_NO_SPACE_FIRST = re.compile(rf"\S{{{MIN_QUOTE_CHARS}}}")


def too_short_for_evidence(quote: str) -> bool:
    """A quote with fewer than MIN_QUOTE_CHARS characters besides spaces, or without a letter or digit."""
    # nearly every text: its first characters are no space (re's \s is str.isspace), the first a letter or digit
    if _NO_SPACE_FIRST.match(quote) and unicodedata.category(quote[0])[0] in "LN":
        return False
    compact = re.sub(r"\s", "", quote)
    return len(compact) < MIN_QUOTE_CHARS or not any(unicodedata.category(c)[0] in "LN" for c in compact)


def _bad_characters(text: str, one_line: bool) -> list[str]:
    if SUSPECT_CHARACTER.search(text) is None:
        return []
    allowed = "" if one_line else "\t\n\r"
    return sorted({c for c in text if (unicodedata.category(c) == "Cc" and c not in allowed) or c in _BIDI_CONTROLS})


def literal_findings(files: Iterable[FileTriples], locator: Locator) -> list[Finding]:
    """Control characters in literals, and quotes too short to be evidence."""
    findings = []
    for parsed in files:
        for triple in parsed.triples:
            literal = triple.object
            if not isinstance(literal, ox.Literal):
                continue
            predicate = triple.predicate.value
            subject = key(locator.owner(triple.subject))  # type: ignore[arg-type]
            bad = _bad_characters(literal.value, predicate in _ONE_LINE)
            if bad:
                names = ", ".join(printable(c) for c in bad)
                findings.append(
                    Finding(
                        parsed.name,
                        locator.line(parsed.name, subject, predicate),
                        "violation",
                        display(subject),
                        shorten(predicate),
                        f"the text contains control or invisible characters ({names}): "
                        + ("a quote or label is one line of plain text" if predicate in _ONE_LINE else "remove them"),
                        "文本含有控制字符或不可见字符",
                        "retype the text, or copy it again from the article without the hidden characters",
                        "control-character",
                    )
                )
            if predicate == _QUOTE and too_short_for_evidence(literal.value):
                place = (parsed.name, locator.line(parsed.name, subject, predicate))
                findings.append(_short_quote(place, display(subject), literal.value))
    return findings


# Which `kb terms` list names the terms a misspelt one should be: by namespace, and for cq: terms by the property
# they are the value of (a strength, a date kind).
_TERM_LISTS = {PREFIXES["cat"]: "categories", PREFIXES["tg"]: "targets", PREFIXES["qk"]: "quantities"}
_TERM_LISTS |= {PREFIXES["stat"]: "statistics", PREFIXES["unit"]: "units"}
_DATE_KIND_PROPERTIES = _iris(
    "cq:announcedKind cq:inForceFromKind cq:inForceUntilKind cq:attestedInForceKind cq:dateKind cq:refDateKind"
)


def term_list(iri: str, predicate: str = "") -> str | None:
    """The `kb terms` list a term belongs in (None for classes and properties)."""
    if predicate == PREFIXES["cq"] + "strength":
        return "strengths"
    if predicate in _DATE_KIND_PROPERTIES:
        return "date-kinds"
    return next((name for ns, name in _TERM_LISTS.items() if iri.startswith(ns)), None)


def _did_you_mean(iri: str, declared: list[str], listed: str | None = None) -> str:
    """A hint naming the declared term closest to a misspelt one (compared on prefixed names).

    A curator never declares a term: the advice is to use a declared one, and a new term is a change to the
    ontology proposed to its maintainers.
    """
    names = {shorten(t): t for t in declared}
    near = difflib.get_close_matches(shorten(iri), list(names), n=1, cutoff=0.75)
    where = f"`kb terms {listed}` lists them" if listed else "docs/modelling.md names the classes and properties"
    if near:
        return f"did you mean {near[0]}?" + (f" ({where})" if listed else "")
    return (
        f"use one of the declared terms ({where}); a new term is a change to the ontology proposed to the maintainers"
    )


def vocabulary_findings(files: Iterable[FileTriples], declared: set[str], locator: Locator) -> list[Finding]:
    """Classes, properties and concepts used but declared neither in the ontology nor a standard vocabulary."""
    local = sorted(t for t in declared if t.startswith(_LOCAL_NAMESPACES))
    findings = []
    for parsed in files:
        seen: set[tuple[str, str, str]] = set()
        for triple in parsed.triples:
            used = [("property", triple.predicate.value)]
            if triple.predicate.value == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
                used.append(("class", triple.object.value))
            elif isinstance(triple.object, ox.NamedNode) and triple.object.value.startswith(_LOCAL_NAMESPACES):
                used.append(
                    ("unit" if triple.object.value.startswith(PREFIXES["unit"]) else "term", triple.object.value)
                )
            for kind, iri in used:
                if iri in declared or (iri.startswith(STANDARD_NAMESPACES) and not iri.startswith(_LOCAL_NAMESPACES)):
                    continue
                # once per subject and term, whatever order the triples come in; a blank node (a parameter)
                # is reported at the named subject it hangs from, on the term's line
                subject = key(locator.owner(triple.subject))  # type: ignore[arg-type]
                if (subject, kind, iri) in seen:
                    continue
                seen.add((subject, kind, iri))
                listed = term_list(iri, triple.predicate.value) if kind in ("term", "unit") else None
                same_kind = [t for t in local if term_list(t) == listed] if listed in _TERM_LISTS.values() else local
                hint = _did_you_mean(iri, same_kind, listed)
                where = "ontology/units.ttl" if kind == "unit" else "the ontology"
                findings.append(
                    Finding(
                        parsed.name,
                        locator.line(parsed.name, subject, iri),
                        "violation",
                        display(subject),
                        shorten(iri),
                        f"{kind} {shorten(iri)} is not in {where}",
                        f"{shorten(iri)} 不在本体中"
                        if kind != "unit"
                        else f"单位 {shorten(iri)} 不在 ontology/units.ttl 中",
                        hint,
                        "vocabulary",
                    )
                )
    return findings


def _projected(text: str) -> list[str]:
    """The variables a SELECT's answer has, as the store names them (run on an empty store: no rows)."""
    return run_query(ox.Store(), text).variables


def query_findings(
    store: ox.Store,
    locator: Locator,
    objects: Iterable[tuple[str, object]] | None = None,
    answers: dict[str, tuple[str, QueryResult]] | None = None,
    quotes: Quotes | None = None,
) -> list[Finding]:
    """The *-violation checks' rows as findings (`quotes`: the store's quotes when already read, for the sibling
    check); `objects` (prefilter.GraphObjects' pairs), when given, narrows
    ill-typed-literal-violation's scan to the values it rejects (onepass.ill_typed_from_objects).

    With `answers`, each check's rows that are exactly its query's answer on this store are put there (query text
    → (check name, rows)) for kb/query/checked.py to keep; the rows an earlier validation of the same snapshot kept
    are read back from there instead of being computed again."""
    findings = []
    folder = snapshot_folder(store) if answers is not None else None
    for check in named_queries(CHECKS_DIR, "check").values():
        path = check.path
        text = check.text
        kept = checked(folder, text) if folder is not None else None
        exact: QueryResult | None = None  # the rows as the query gives them, when computed that way
        if kept is not None:
            exact = kept
            records: list[dict[str, Any]] = [dict(zip(kept.variables, row, strict=True)) for row in kept.rows]
        elif path.stem == "duplicate-conflict-violation" and isinstance(locator.files, IndexedFiles):
            # the store's location index names the subjects two files describe: only those are looked at
            candidates = onepass.duplicate_candidates(store, locator.files.shared_subjects())
            records = list(onepass.duplicate_conflict(store, candidates))
            if not records:  # no rows either way; rows found here may be in another order than the query's
                exact = QueryResult("select", variables=_projected(text))
        elif path.stem in onepass.ROWS:  # the same rows, computed in one pass (kb/query/onepass.py)
            exact = answered(store, text, None if quotes is None else quotes.of_measures())
            assert exact is not None  # the catalogue's own text of a ROWS check
            records = [dict(zip(exact.variables, row, strict=True)) for row in exact.rows]
        elif path.stem == "ill-typed-literal-violation":
            narrowed = None if objects is None else onepass.ill_typed_from_objects(text, store, objects)
            if narrowed == "":
                records = []
            else:
                result = run_query(store, narrowed or onepass.curated_graphs_only(text, store))
                records = [dict(zip(result.variables, row, strict=True)) for row in result.rows]
            if not records:
                exact = QueryResult("select", variables=_projected(text))
        else:
            exact = run_query(store, text)
            records = [dict(zip(exact.variables, row, strict=True)) for row in exact.rows]
        if answers is not None and exact is not None:
            answers[text] = (path.stem, exact)
        for record in records:
            term = record.get("subject")
            subject = key(term) if isinstance(term, ox.NamedNode | ox.BlankNode) else ""
            value = {k: (v.value if v is not None else "") for k, v in record.items()}
            prop = value.get("property", "")
            message = value.get("message") or path.stem
            message_zh = value.get("message_zh") or check.message_zh
            severity = value.get("severity") or check.severity
            short_prop = shorten(prop) if prop else ""
            for file, line in locator.where(subject, prop or None, value.get("graph") or None):
                findings.append(
                    Finding(
                        file,
                        line,
                        severity,
                        display(subject) if subject else "",
                        short_prop,
                        message,
                        message_zh,
                        check.hint,
                        path.stem,
                    )
                )
    return findings


def drop_shacl_duplicates(findings: list[Finding]) -> list[Finding]:
    """One finding per mistake: an ill-typed literal is reported by its own check, not again as a datatype
    mismatch; a link to an IRI no file describes that a shape reports (sh:class) keeps the shape's message and
    gets the unknown-reference hint ("did you mean …?"), and is reported by that check only where no shape does."""
    ill_typed = {(f.subject, f.property) for f in findings if f.check == "ill-typed-literal-violation"}
    unknown = {
        (f.file, f.subject, f.property, f.message.rsplit("(value: ", 1)[-1]): f.hint
        for f in findings
        if f.check == "unknown-reference"
    }
    kept, hinted = [], set()
    for f in findings:
        if f.check == "shacl" and (f.subject, f.property) in ill_typed and "xsd:" in f.message:
            continue
        if f.check == "shacl" and f.message.endswith(")") and "(value: " in f.message:
            where = (f.file, f.subject, f.property, f.message.rsplit("(value: ", 1)[-1])
            if where in unknown:
                hinted.add(where)
                f = dataclasses.replace(f, hint=unknown[where])
        kept.append(f)
    return [
        f
        for f in kept
        if not (
            f.check == "unknown-reference"
            and (f.file, f.subject, f.property, f.message.rsplit("(value: ", 1)[-1]) in hinted
        )
    ]


# ---------------------------------------------------------------- target groups named in quotes

_TG_CLASS = PREFIXES["cq"] + "TargetGroup"
_ZH_LABELS = _iris("skos:prefLabel skos:altLabel rdfs:label")
_TRADITIONAL = "traditional"


def _ontology_graph(graph: object, exclude_graphs: set[str]) -> bool:
    return (
        isinstance(graph, ox.NamedNode)
        and graph.value.startswith(_ONTOLOGY_GRAPHS)
        and graph.value not in exclude_graphs
    )


def target_terms(stores: Iterable[ox.Store], exclude_graphs: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    """Chinese names of the target groups (their zh labels in ontology/targets.ttl) → the group they name."""
    terms: dict[str, str] = {}
    for store in stores:
        for typed in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(_TG_CLASS), None):
            group = typed.subject
            if not isinstance(group, ox.NamedNode) or not _ontology_graph(typed.graph_name, exclude_graphs):
                continue
            for quad in store.quads_for_pattern(group, None, None, typed.graph_name):
                obj = quad.object
                if quad.predicate.value in _ZH_LABELS and isinstance(obj, ox.Literal) and obj.language == "zh":
                    terms.setdefault(obj.value, group.value)
    return terms


def _simplified(text: str) -> str:
    from hanziconv import HanziConv  # imported here: only a traditional-script quote needs the table

    return str(HanziConv.toSimplified(text))


def _measure_scripts(store: ox.Store) -> list[tuple[str, str, str | None]]:
    """(measure, quote, script of one of its sources or None), as the store joins them."""
    rows = store.query(
        # each part its own sub-SELECT: joined by hashing, not a lookup per measure (3.5x at 100k)
        "SELECT ?m ?q ?script WHERE { { SELECT ?m WHERE { ?m a cq:Measure } } "
        "{ SELECT ?m ?q WHERE { ?m cq:quote ?q } } "
        "OPTIONAL { { SELECT ?m ?script WHERE { ?m cq:source ?src . ?src cq:script ?script } } } }",
        prefixes=PREFIXES,
        use_default_graph_as_union=True,
    )
    return [
        (row["m"].value, row["q"].value, None if row["script"] is None else row["script"].value)
        for row in select(rows)
        if isinstance(row["m"], ox.NamedNode)
    ]


def target_group_findings(
    store: ox.Store, terms: dict[str, str], locator: Locator, quotes: Quotes | None = None
) -> list[Finding]:
    """A measure whose quote names a target group (a zh label of a cq:TargetGroup) that it is not tagged with.

    A warning: the quote may name the group only to exclude it (不是密接的话…). A longer name is matched before
    the shorter names inside it, and a quote in traditional script is compared in simplified characters.
    `quotes`: the store's quotes when already read (kb/evidence.py), else the measures' are read here.
    """
    if not terms:
        return []
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    cq = PREFIXES["cq"]
    named: dict[str, dict[str, str]] = {}
    for measure, text, script in _measure_scripts(store) if quotes is None else quotes.measure_scripts():
        if script == _TRADITIONAL:
            text = _simplified(text)
        for match in pattern.finditer(text):
            named.setdefault(measure, {}).setdefault(terms[match.group()], match.group())
    findings = []
    for measure, groups in named.items():
        tagged = {
            q.object.value
            for q in store.quads_for_pattern(ox.NamedNode(measure), ox.NamedNode(cq + "targetGroup"), None)
            if isinstance(q.object, ox.NamedNode)
        }
        for group, term in sorted(groups.items()):
            if group in tagged:
                continue
            for file, line in locator.where(measure, cq + "targetGroup"):
                findings.append(
                    Finding(
                        file,
                        line,
                        "warning",
                        display(measure),
                        "cq:targetGroup",
                        f"the quote names «{term}» but the measure is not tagged cq:targetGroup {shorten(group)}",
                        f"引文提及“{term}”，但该措施未标注适用对象 {shorten(group)}",
                        f"add cq:targetGroup {shorten(group)} if the measure governs, serves or applies to that group "
                        "(docs/curation.md §5); leave it out if the quote names the group only to exclude it",
                        "target-group-untagged",
                    )
                )
    return findings


# ---------------------------------------------------------------- references to things no file describes

_KB_NAMESPACES = tuple(PREFIXES[p] for p in ("measure", "doc", "ann", "agent", "place", "obs", "disc", "src"))
_FACTS_GRAPHS = GRAPH_BASE + "facts/"


def _described_in(store: ox.Store, iri: str, exclude_graphs: set[str], own: set[str] | None = None) -> bool:
    """Whether a file of facts/ (not one of `exclude_graphs`), or one of the `own` graphs, states something of `iri`:
    the files being checked count wherever they are (a file validated from outside the project describes its own
    subjects)."""
    for quad in store.quads_for_pattern(ox.NamedNode(iri), None, None, None):
        graph = quad.graph_name
        if isinstance(graph, ox.NamedNode) and (
            (graph.value.startswith(_FACTS_GRAPHS) and graph.value not in exclude_graphs)
            or (own is not None and graph.value in own)
        ):
            return True
        if isinstance(graph, ox.DefaultGraph):
            return True
    return False


def _namespace_of(iri: str) -> str:
    return next((ns for ns in _KB_NAMESPACES if iri.startswith(ns)), "")


def _described_names(stores: Iterable[ox.Store], namespace: str, exclude_graphs: set[str]) -> list[str]:
    """Every IRI of a namespace some file describes (typed there), as prefixed names."""
    names = set()
    for store in stores:
        for quad in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), None, None):
            subject, graph = quad.subject, quad.graph_name
            if not isinstance(subject, ox.NamedNode) or not subject.value.startswith(namespace):
                continue
            if isinstance(graph, ox.NamedNode) and graph.value in exclude_graphs:
                continue
            names.add(shorten(subject.value))
    return sorted(names)


def reference_findings(
    files: Iterable[FileTriples], locator: Locator, reference: ox.Store, exclude_graphs: set[str]
) -> list[Finding]:
    """A link to a measure, place, document, announcement, agent, statistic or source that no file describes,
    with the nearest IRI of the same namespace that one does ("did you mean measure:…?").

    `reference` is the knowledge base the links resolve in (the store itself, or the built store when new files
    are validated in its context, without the graphs of those files).
    """
    stores = [locator.store] if reference is locator.store else [locator.store, reference]
    candidates: dict[str, list[str]] = {}
    nearest: dict[str, list[str]] = {}
    findings = []
    for parsed in files:
        seen: set[tuple[str, str, str]] = set()
        for triple in parsed.triples:
            target = triple.object
            if not isinstance(target, ox.NamedNode) or not (namespace := _namespace_of(target.value)):
                continue
            if triple.predicate.value == RDF_TYPE or any(
                _described_in(s, target.value, exclude_graphs) for s in stores[1:]
            ):
                continue
            if _described_in(locator.store, target.value, set(), own=exclude_graphs):
                continue
            subject = key(locator.owner(triple.subject))  # type: ignore[arg-type]
            if (subject, triple.predicate.value, target.value) in seen:
                continue
            seen.add((subject, triple.predicate.value, target.value))
            if namespace not in candidates:
                candidates[namespace] = _described_names(stores, namespace, exclude_graphs)
            if target.value not in nearest:  # one look per missing IRI, however many link to it
                nearest[target.value] = difflib.get_close_matches(
                    shorten(target.value), candidates[namespace], n=1, cutoff=0.6
                )
            near = nearest[target.value]
            prefix = shorten(namespace + "x")[:-1]
            hint = (
                f"did you mean {near[0]}?"
                if near
                else f"no file describes a {prefix}… like it: describe it (kb new), or correct the IRI"
            )
            findings.append(
                Finding(
                    parsed.name,
                    locator.line(parsed.name, subject, triple.predicate.value),
                    "violation",
                    display(subject),
                    shorten(triple.predicate.value),
                    f"no file describes what this links to (value: {shorten(target.value)})",
                    f"所链接的 {shorten(target.value)} 未在任何文件中描述",
                    hint,
                    "unknown-reference",
                )
            )
    return findings

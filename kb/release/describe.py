"""The release's description of itself (void.ttl): DCAT and VoID for the dataset, SPARQL 1.1 Service Description.

The dataset `https://w3id.org/cq-covid/dataset` has one version per release (`…/dataset/VERSION`), described with
its licence, date, counts (triples, distinct subjects, entities per class, triples per property and per named
graph), its distributions (each file with its media type, size and SHA-256 checksum) and the SPARQL service
`kb serve` gives over it (its endpoint URL only when the release names one: nothing is invented).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import pyoxigraph as ox

from ..export import union_triples
from ..namespaces import BASE_DEF, BASE_ID, PREFIXES, RDF_TYPE

DATASET = "https://w3id.org/cq-covid/dataset"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
NS = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "spdx": "http://spdx.org/rdf/terms#",
    "formats": "http://www.w3.org/ns/formats/",
}
DCTERMS, XSD = PREFIXES["dcterms"], PREFIXES["xsd"]
# The result and graph formats `kb serve` answers in (W3C format IRIs).
SERVICE_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle")


@dataclass(frozen=True)
class FileEntry:
    """One file of the release: its name, media type, size and SHA-256 digest."""

    name: str
    media_type: str
    size: int
    sha256: str


def _n(iri: str) -> ox.NamedNode:
    prefix, _, local = iri.partition(":")
    return ox.NamedNode(NS[prefix] + local) if prefix in NS and not local.startswith("//") else ox.NamedNode(iri)


def _count(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


class _Graph:
    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        self.triples.append(ox.Triple(s, _n(p) if ":" in p and "://" not in p else ox.NamedNode(p), o))

    def node(self, s: ox.NamedNode | ox.BlankNode, p: str, kind: str) -> ox.BlankNode:
        blank = ox.BlankNode()
        self.add(s, p, blank)
        self.add(blank, RDF_TYPE, _n(kind))
        return blank


@dataclass(frozen=True)
class Counts:
    """The counts VoID states: triples and distinct subjects of the union (every graph once), entities per class,
    triples per property, quads per named graph."""

    triples: int
    subjects: int
    classes: dict[str, int]
    properties: dict[str, int]
    graphs: dict[str, int]


def counts(store: ox.Store) -> Counts:
    """What the store holds, counted as VoID counts it."""
    triples = union_triples(store)
    classes: Counter[str] = Counter()
    properties: Counter[str] = Counter()
    for triple in triples:
        properties[triple.predicate.value] += 1
        if triple.predicate.value == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
            classes[triple.object.value] += 1
    graphs = {
        graph.value: len(list(store.quads_for_pattern(None, None, None, graph))) for graph in store.named_graphs()
    }
    subjects = len({triple.subject for triple in triples})
    return Counts(len(triples), subjects, dict(classes), dict(properties), graphs)


def describe_release(
    store: ox.Store,
    version: str,
    issued: date,
    files: list[FileEntry],
    base_url: str,
    endpoint: str | None = None,
) -> bytes:
    """void.ttl: the dataset, this version with its counts and distributions, and the SPARQL service."""
    numbers = counts(store)
    g = _Graph()
    dataset, release = ox.NamedNode(DATASET), ox.NamedNode(f"{DATASET}/{version}")
    for node in (dataset, release):
        g.add(node, RDF_TYPE, _n("dcat:Dataset"))
        g.add(node, RDF_TYPE, _n("void:Dataset"))
        g.add(node, DCTERMS + "title", ox.Literal("Chongqing COVID-19 policy knowledge base", language="en"))
        g.add(node, DCTERMS + "title", ox.Literal("重庆新冠肺炎疫情防控政策知识库", language="zh"))
        g.add(node, DCTERMS + "license", ox.NamedNode(LICENCE))
    g.add(dataset, DCTERMS + "hasVersion", release)
    g.add(release, DCTERMS + "isVersionOf", dataset)
    g.add(release, "dcat:version", ox.Literal(version))
    g.add(release, DCTERMS + "issued", ox.Literal(issued.isoformat(), datatype=ox.NamedNode(XSD + "date")))
    g.add(
        release,
        DCTERMS + "description",
        ox.Literal(
            "COVID-19 measures, policy documents, announcements and statistics in five newspaper articles about "
            "Chongqing (January 2020; November-December 2022), each fact with its source and verbatim quote.",
            language="en",
        ),
    )
    g.add(release, "void:uriSpace", ox.Literal(BASE_ID))
    g.add(release, "void:vocabulary", ox.NamedNode(BASE_DEF))
    g.add(release, "void:triples", _count(numbers.triples))
    g.add(release, "void:distinctSubjects", _count(numbers.subjects))
    for iri, n in sorted(numbers.classes.items()):
        part = g.node(release, "void:classPartition", "void:Dataset")
        g.add(part, "void:class", ox.NamedNode(iri))
        g.add(part, "void:entities", _count(n))
    for iri, n in sorted(numbers.properties.items()):
        part = g.node(release, "void:propertyPartition", "void:Dataset")
        g.add(part, "void:property", ox.NamedNode(iri))
        g.add(part, "void:triples", _count(n))
    for entry in files:
        url = ox.NamedNode(base_url + entry.name)
        distribution = g.node(release, "dcat:distribution", "dcat:Distribution")
        g.add(distribution, DCTERMS + "title", ox.Literal(entry.name))
        g.add(distribution, "dcat:downloadURL", url)
        g.add(
            distribution,
            "dcat:mediaType",
            ox.NamedNode("https://www.iana.org/assignments/media-types/" + entry.media_type),
        )
        g.add(
            distribution,
            "dcat:byteSize",
            ox.Literal(str(entry.size), datatype=ox.NamedNode(XSD + "nonNegativeInteger")),
        )
        checksum = g.node(distribution, "spdx:checksum", "spdx:Checksum")
        g.add(checksum, "spdx:algorithm", _n("spdx:checksumAlgorithm_sha256"))
        g.add(checksum, "spdx:checksumValue", ox.Literal(entry.sha256, datatype=ox.NamedNode(XSD + "hexBinary")))
        if entry.name.endswith(".nq"):
            g.add(release, "void:dataDump", url)
    service = g.node(release, "dcat:accessService", "sd:Service")
    g.add(service, RDF_TYPE, _n("dcat:DataService"))
    g.add(service, "dcat:servesDataset", release)
    if endpoint:
        g.add(service, "sd:endpoint", ox.NamedNode(endpoint))
        g.add(service, "dcat:endpointURL", ox.NamedNode(endpoint))
        g.add(release, "void:sparqlEndpoint", ox.NamedNode(endpoint))
    g.add(service, "sd:supportedLanguage", _n("sd:SPARQL11Query"))
    g.add(service, "sd:feature", _n("sd:UnionDefaultGraph"))
    for name in SERVICE_FORMATS:
        g.add(service, "sd:resultFormat", _n("formats:" + name))
    default = g.node(service, "sd:defaultDataset", "sd:Dataset")
    union = g.node(default, "sd:defaultGraph", "sd:Graph")
    g.add(union, "void:triples", _count(numbers.triples))
    for iri, n in sorted(numbers.graphs.items()):
        named = g.node(default, "sd:namedGraph", "sd:NamedGraph")
        g.add(named, "sd:name", ox.NamedNode(iri))
        graph = g.node(named, "sd:graph", "sd:Graph")
        g.add(graph, "void:triples", _count(n))
        g.add(release, "void:subset", graph)
    prefixes = {**NS, "dcterms": DCTERMS, "xsd": XSD, "rdf": PREFIXES["rdf"], "cq": PREFIXES["cq"]}
    return ox.serialize(g.triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""

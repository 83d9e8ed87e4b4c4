"""All prefixes of the project, bound once: terms, things, and the standard vocabularies reused."""

BASE_DEF = "https://w3id.org/cq-covid/def"
BASE_ID = "https://w3id.org/cq-covid/id/"
GRAPH_BASE = "https://w3id.org/cq-covid/graph/"

PREFIXES: dict[str, str] = {
    "cq": BASE_DEF + "#",
    "cqsh": "https://w3id.org/cq-covid/shapes#",
    "cat": BASE_DEF + "/category/",
    "tg": BASE_DEF + "/target/",
    "qk": BASE_DEF + "/quantity/",
    "stat": BASE_DEF + "/statistic/",
    "measure": BASE_ID + "measure/",
    "doc": BASE_ID + "document/",
    "ann": BASE_ID + "announcement/",
    "agent": BASE_ID + "agent/",
    "place": BASE_ID + "place/",
    "obs": BASE_ID + "observation/",
    "disc": BASE_ID + "discrepancy/",
    "src": BASE_ID + "source/",
    "unit": "http://qudt.org/vocab/unit/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sh": "http://www.w3.org/ns/shacl#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "eli": "http://data.europa.eu/eli/ontology#",
    "oa": "http://www.w3.org/ns/oa#",
    "qb": "http://purl.org/linked-data/cube#",
    "schema": "https://schema.org/",
    "time": "http://www.w3.org/2006/time#",
}

CQ = PREFIXES["cq"]
RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
XSD_DATE = PREFIXES["xsd"] + "date"

# Vocabularies the ontology reuses by alignment: terms in these namespaces need no local declaration.
STANDARD_NAMESPACES: tuple[str, ...] = tuple(
    PREFIXES[p]
    for p in ("rdf", "rdfs", "owl", "xsd", "skos", "sh", "prov", "dcterms", "eli", "oa", "qb", "schema", "time", "unit")
)


def sparql_prologue() -> str:
    """PREFIX lines for every project prefix, for queries given without their own."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def turtle_prefixes(*names: str) -> str:
    """@prefix lines for the named project prefixes, in the order given."""
    return "".join(f"@prefix {name}: <{PREFIXES[name]}> .\n" for name in names)


def shorten(iri: str) -> str:
    """The prefixed form of an IRI where a project prefix fits, else <iri>."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            local = iri[len(ns) :]
            if local and all(c.isalnum() or c in "-_." for c in local) and not local.endswith("."):
                best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else f"<{iri}>"


def expand(name: str) -> str | None:
    """The full IRI of a prefixed name or <iri>, or None when it is neither."""
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1]
    prefix, sep, local = name.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return None

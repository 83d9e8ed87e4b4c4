"""The RDF exports: N-Quads (one graph per file), Turtle and compacted JSON-LD with the published @context.

JSON-LD is compacted here, not by rdflib's serializer: with this context (where cq:parameter is coerced to @id)
rdflib 7 writes a blank-node object as a bare reference and drops its triples (RDFLib/rdflib-jsonld#28), so the
document would not round-trip; tests/cli/test_export.py keeps a strict xfail that fails once rdflib gets it right.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from ..errors import ExportError
from ..namespaces import PREFIXES

CONTEXT_FILE = Path(__file__).resolve().parent.parent / "context.jsonld"


def union_triples(store: ox.Store) -> list[ox.Triple]:
    """Every triple of every named graph, once, in a stable order."""
    return sorted({quad.triple for quad in store.quads_for_pattern(None, None, None, None)}, key=str)


def export_nquads(store: ox.Store) -> bytes:
    """N-Quads: one named graph per input file, sorted lines, for bulk loading into a SPARQL store."""
    data = store.dump(format=ox.RdfFormat.N_QUADS) or b""
    lines = sorted(line for line in data.decode("utf-8").splitlines() if line)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def export_turtle(store: ox.Store) -> bytes:
    """The union of all graphs as Turtle with the project prefixes."""
    return ox.serialize(union_triples(store), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b""


def load_context(path: Path = CONTEXT_FILE) -> dict:
    """The published JSON-LD @context (the value of the file's "@context")."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read the JSON-LD context: {exc}", file=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("@context"), dict):
        raise ExportError('the JSON-LD context file has no "@context" object', file=str(path))
    return data["@context"]


class _Compactor:
    """Compacts triples into JSON-LD node objects with the terms of one @context.

    A term is used only where its coercion fits the value (an IRI for "@type": "@id", the datatype for a typed
    term, a language for a language map); any other value is written in full under the compact property IRI,
    so nothing is lost and the document expands back to the same triples.
    """

    def __init__(self, context: dict) -> None:
        self.prefixes = {
            name: iri
            for name, iri in context.items()
            if isinstance(iri, str) and iri.endswith(("/", "#")) and ":" in iri
        }
        self.aliases = {
            value: name for name, value in context.items() if isinstance(value, str) and value.startswith("@")
        }
        self.terms: dict[tuple[str, str], str] = {}
        for name, definition in context.items():
            if name.startswith("@") or name in self.prefixes or name in self.aliases.values():
                continue
            if isinstance(definition, str):
                definition = {"@id": definition}
            iri = self.expand(definition["@id"])
            if "@container" in definition:
                kind = "lang" if definition["@container"] == "@language" else "other"
            else:
                kind = "type:" + self.expand(definition.get("@type", "")) if "@type" in definition else "plain"
                kind = "iri" if definition.get("@type") == "@id" else kind
            self.terms.setdefault((iri, kind), name)
        self.blank_ids: dict[str, str] = {}

    def expand(self, name: str) -> str:
        prefix, sep, local = name.partition(":")
        return self.prefixes[prefix] + local if sep and prefix in self.prefixes else name

    def iri(self, iri: str) -> str:
        best = ""
        for prefix, namespace in self.prefixes.items():
            if (
                iri.startswith(namespace)
                and len(iri) > len(namespace)
                and len(namespace) > len(self.prefixes.get(best, ""))
            ):
                best = prefix
        return f"{best}:{iri[len(self.prefixes[best]) :]}" if best else iri

    def node_id(self, term: object) -> str:
        if isinstance(term, ox.BlankNode):
            return self.blank_ids.setdefault(term.value, f"_:b{len(self.blank_ids)}")
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        raise ExportError(f"JSON-LD cannot hold the quoted triple {term}", hint="export this data as nq or ttl")

    def key_and_value(self, predicate: str, obj: object) -> tuple[str, object, str]:
        """(property key, JSON value, language for a language map or "")."""
        if isinstance(obj, ox.Literal):
            if obj.language:
                term = self.terms.get((predicate, "lang"))
                if term:
                    return term, obj.value, obj.language
                return self.iri(predicate), {"@value": obj.value, "@language": obj.language}, ""
            datatype = obj.datatype.value
            term = self.terms.get((predicate, "type:" + datatype))
            if term is None and datatype == PREFIXES["xsd"] + "string":
                term = self.terms.get((predicate, "plain"))
                if term:
                    return term, obj.value, ""
            if term:
                return term, obj.value, ""
            if datatype == PREFIXES["xsd"] + "string":
                return self.iri(predicate), obj.value, ""
            return self.iri(predicate), {"@value": obj.value, "@type": self.iri(datatype)}, ""
        term = self.terms.get((predicate, "iri"))
        if term:
            return term, self.node_id(obj), ""
        return self.iri(predicate), {"@id": self.node_id(obj)}, ""

    def nodes(self, triples: Iterable[ox.Triple]) -> list[dict]:
        subjects: dict[str, dict] = {}
        type_key = self.aliases.get("@type", "@type")
        id_key = self.aliases.get("@id", "@id")
        for triple in triples:
            node = subjects.setdefault(self.node_id(triple.subject), {})
            predicate = triple.predicate.value
            if predicate == PREFIXES["rdf"] + "type" and not isinstance(triple.object, ox.Literal):
                node.setdefault(type_key, []).append(self.node_id(triple.object))
                continue
            key, value, language = self.key_and_value(predicate, triple.object)
            if language:
                node.setdefault(key, {}).setdefault(language, []).append(value)
            else:
                node.setdefault(key, []).append(value)
        result = []
        for node_id in sorted(subjects):
            node = {id_key: node_id}
            for key in sorted(subjects[node_id]):
                node[key] = _single_or_list(subjects[node_id][key])
            result.append(node)
        return result


def _single_or_list(values: list | dict) -> object:
    if isinstance(values, dict):
        return {language: _single_or_list(v) for language, v in sorted(values.items())}
    ordered = sorted(values, key=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))
    return ordered[0] if len(ordered) == 1 else ordered


def export_jsonld(store: ox.Store) -> bytes:
    """The union of all graphs as compacted JSON-LD, with the published @context inlined."""
    context = load_context()
    document = {"@context": context, "@graph": _Compactor(context).nodes(union_triples(store))}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")

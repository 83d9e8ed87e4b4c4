"""ontology/ against the OWL 2 DL profile (the OWL API), reasoning with HermiT (OWL 2 DL) and owlrl (OWL 2 RL).

- Profile: the ontology files merged into one document must have no OWL 2 DL violation. With the facts, the
  only violations allowed are xsd:date literals (UseOfDefinedDatatypeInLiteral): xsd:date is not in the OWL 2
  datatype map (OWL 2 Structural Specification §4), so a fact file of dates is OWL 2 Full, whatever is declared.
- HermiT: by default it refuses xsd:date (UnsupportedDatatypeException, the datatype map again); with
  unsupported datatypes ignored the ontology, and the ontology with the facts, are consistent and no class is
  unsatisfiable; the two-strengths fault is inconsistent.
- owlrl: the OWL 2 RL closure of the ontology and the curated facts raises no inconsistency and gives nothing a
  type that its asserted types do not already imply (a domain or range typing a thing as what it is not), nor
  any of the types the alignments must never give (UNWANTED); the two-strengths fault is inconsistent, and it
  is so because of the owl:AllDifferent over the strengths (without it, RL concludes cq:Mandatory owl:sameAs
  cq:Advisory and goes on).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from kb.loader import load_file
from kb.namespaces import PREFIXES, shorten
from kb.project import Project

from .faults import TWO_STRENGTHS
from .outcome import Outcome, outcome
from .shacl import fault_triples, to_rdflib

KNOWN: dict[str, str] = {}
# Types no alignment may give: what the ontology once inferred for things that are not such.
UNWANTED = {
    "http://data.europa.eu/eli/ontology#LegalResource": "a work of a legislative corpus: the sources cite "
    "instructions and a party congress's spirit as policy documents",
    "http://purl.org/linked-data/cube#Observation": "a Data Cube observation needs its qb:dataSet (IC-1)",
}
DATE_LITERALS = "UseOfDefinedDatatypeInLiteral"
# Annotations carry no axioms: left out of the RL closure, which then takes half the time.
_ANNOTATIONS = {PREFIXES["rdfs"] + n for n in ("label", "comment")} | {
    PREFIXES["skos"] + n for n in ("prefLabel", "definition", "altLabel", "note")
}
_ERROR = "http://www.daml.org/2002/03/agents/agent-ont#"  # owlrl's namespace of inconsistency messages


def inputs(project: Project) -> dict[str, list[ox.Triple]]:
    ontology = [t for path in project.ontology_files() for t in load_file(path).triples]
    facts = [t for path in project.fact_files() for t in load_file(path).triples]
    return {
        "ontology": ontology,
        "ontology+facts": ontology + facts,
        "two-strengths": ontology + fault_triples(TWO_STRENGTHS),
    }


def prepare(graphs: dict[str, list[ox.Triple]], folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, triples in graphs.items():
        data = folder / f"{name}.nt"
        data.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
        lines.append(f"profile\t{data}\t{folder / name}.profile\t{folder / name}.owl")
    return lines


def _profile(folder: Path, name: str) -> list[str]:
    out = folder / f"{name}.profile"
    error = out.with_name(out.name + ".err")
    if error.exists():
        raise RuntimeError(f"OWL API on {name}: {error.read_text('utf-8')[:500]}")
    return [line for line in out.read_text("utf-8").splitlines() if line]


def compare_profile(folder: Path) -> list[Outcome]:
    ontology = _profile(folder, "ontology")
    kinds = Counter(line.split("\t", 1)[0] for line in ontology)
    detail = ", ".join(f"{n} {k}" for k, n in kinds.items()) or "0 violations"
    outcomes = [outcome("owl", "OWL 2 DL profile: ontology/", not ontology, detail, KNOWN)]
    with_facts = Counter(line.split("\t", 1)[0] for line in _profile(folder, "ontology+facts"))
    others = {k: n for k, n in with_facts.items() if k != DATE_LITERALS}
    outcomes.append(
        outcome(
            "owl",
            "OWL 2 DL profile: ontology/ + facts/, xsd:date literals aside",
            not others,
            f"{with_facts.get(DATE_LITERALS, 0)} xsd:date literals (outside the OWL 2 datatype map)"
            + (f"; other violations: {others}" if others else ""),
            KNOWN,
        )
    )
    return outcomes


def run_hermit(folder: Path) -> Path:
    from .engines import run_hermit as run

    out = folder / "hermit.txt"
    run(out, [folder / f"{name}.owl" for name in ("ontology", "ontology+facts", "two-strengths")])
    return out


def compare_hermit(folder: Path, out: Path) -> list[Outcome]:
    answers: dict[tuple[str, str], list[str]] = {}
    for line in out.read_text("utf-8").splitlines():
        file, mode, answer = line.split("\t", 2)
        answers.setdefault((Path(file).stem, mode), []).append(answer)
    strict = answers.get(("ontology", "strict"), ["?"])[0]
    outcomes = [
        outcome(
            "owl",
            "HermiT, default configuration: refuses xsd:date (not in the OWL 2 datatype map)",
            strict.startswith("error UnsupportedDatatypeException") and "XMLSchema#date" in strict,
            strict[:160],
            KNOWN,
        )
    ]
    for name, wanted in (
        ("ontology", "consistent"),
        ("ontology+facts", "consistent"),
        ("two-strengths", "inconsistent"),
    ):
        got = answers.get((name, "lenient"), ["?"])[0]
        unsatisfiable = answers.get((name, "unsatisfiable"), [])
        same = got == wanted and not unsatisfiable
        detail = got + (f"; unsatisfiable: {', '.join(map(shorten, unsatisfiable))}" if unsatisfiable else "")
        outcomes.append(outcome("owl", f"HermiT (xsd:date ignored): {name} {wanted}", same, detail, KNOWN))
    return outcomes


# ---------------------------------------------------------------- OWL 2 RL (owlrl)


def rl_closure(triples: list[ox.Triple]):
    """The OWL 2 RL closure (owlrl) of the triples, annotations left out."""
    import owlrl

    graph = to_rdflib([t for t in triples if t.predicate.value not in _ANNOTATIONS])
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    return graph


def inconsistencies(graph) -> list[str]:
    import rdflib

    return sorted(str(m) for m in graph.objects(None, rdflib.URIRef(_ERROR + "error")))


def unwanted_types(asserted: list[ox.Triple], closure) -> list[str]:
    """Inferred types that the asserted types of the same thing do not imply (through rdfs:subClassOf)."""
    import rdflib

    parents: dict[str, set[str]] = {}
    for t in asserted:
        is_axiom = t.predicate.value == PREFIXES["rdfs"] + "subClassOf"
        if is_axiom and isinstance(t.object, ox.NamedNode) and isinstance(t.subject, ox.NamedNode):
            parents.setdefault(t.subject.value, set()).add(t.object.value)

    def implied(classes: set[str]) -> set[str]:
        todo, seen = list(classes), set(classes)
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    stated: dict[str, set[str]] = {}
    for t in asserted:
        if t.predicate.value == PREFIXES["rdf"] + "type" and isinstance(t.object, ox.NamedNode):
            stated.setdefault(str(t.subject), set()).add(t.object.value)
    own = (PREFIXES["cq"], *UNWANTED)
    found = []
    for thing, kind in closure.subject_objects(rdflib.RDF.type):
        kind = str(kind)
        if not (kind.startswith(own) or kind in UNWANTED):
            continue
        key = thing.n3() if not isinstance(thing, rdflib.BNode) else f"_:{thing}"
        if kind in UNWANTED or kind not in implied(stated.get(key, set())):
            found.append(f"{shorten(str(thing)) if isinstance(thing, rdflib.URIRef) else key} a {shorten(kind)}")
    return sorted(found)


def without_all_different(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples less every owl:AllDifferent axiom (how the ontology was before it had them)."""
    axioms = {
        str(t.subject)
        for t in triples
        if t.predicate.value == PREFIXES["rdf"] + "type" and t.object == ox.NamedNode(PREFIXES["owl"] + "AllDifferent")
    }
    return [t for t in triples if str(t.subject) not in axioms]


def compare_rl(graphs: dict[str, list[ox.Triple]]) -> list[Outcome]:
    everything = graphs["ontology+facts"]
    closure = rl_closure(everything)
    errors = inconsistencies(closure)
    outcomes = [
        outcome(
            "owl",
            "owlrl: ontology/ + facts/ consistent",
            not errors,
            "; ".join(errors)[:300] or "no inconsistency",
            KNOWN,
        )
    ]
    unwanted = unwanted_types(everything, closure)
    outcomes.append(
        outcome(
            "owl",
            "owlrl: no unwanted inferred type",
            not unwanted,
            f"{len(unwanted)} unwanted, e.g. {', '.join(unwanted[:3])}"
            if unwanted
            else "every inferred type implied by an asserted one",
            KNOWN,
        )
    )
    fault = graphs["two-strengths"]
    errors = inconsistencies(rl_closure(fault))
    outcomes.append(
        outcome(
            "owl",
            "owlrl: two strengths are an inconsistency",
            bool(errors),
            (errors[0] if errors else "consistent")[:200],
            KNOWN,
        )
    )
    old = rl_closure(without_all_different(fault))
    import rdflib

    merged = (
        rdflib.URIRef(PREFIXES["cq"] + "Mandatory"),
        rdflib.OWL.sameAs,
        rdflib.URIRef(PREFIXES["cq"] + "Advisory"),
    )
    outcomes.append(
        outcome(
            "owl",
            "owlrl: without owl:AllDifferent the fault merges two strengths",
            not inconsistencies(old) and merged in old,
            "cq:Mandatory owl:sameAs cq:Advisory" if merged in old else "no sameAs inferred",
            KNOWN,
        )
    )
    return outcomes


def rl_outcomes(root: Path) -> list[Outcome]:
    """compare_rl over the project at `root`: what the harness runs in a process of its own."""
    import logging

    logging.getLogger("rdflib").setLevel(logging.CRITICAL)
    return compare_rl(inputs(Project(root)))

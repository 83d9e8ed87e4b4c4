"""Interim checker for curators until `kb validate` exists: parse, SHACL, quotes."""

import pathlib
import sys

import pyshacl
import rdflib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CQ = rdflib.Namespace("https://w3id.org/cq-covid/def#")


def main() -> int:
    data = rdflib.Graph()
    for path in sorted((ROOT / "ontology").glob("*.ttl")) + sorted((ROOT / "facts").rglob("*.ttl")):
        if path.name == "shapes.ttl":
            continue
        try:
            data.parse(path, format="turtle")
        except Exception as exc:  # interim tool only
            print(f"{path}: {exc}")
            return 2
    shapes = rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl")
    conforms, _, text = pyshacl.validate(data, shacl_graph=shapes, advanced=True)
    if not conforms:
        print(text)
    texts = {}
    for s, fn in data.subject_objects(CQ.fileName):
        texts[s] = (ROOT / "facts" / "sources" / str(fn)).read_text("utf-8").replace("\r", "").replace("\n", "")
    bad = 0
    for s, q in data.subject_objects(CQ.quote):
        qq = str(q).replace("\n", "")
        if not any(qq in texts.get(src, "") for src in data.objects(s, CQ.source)):
            print(f"quote not found: {s} {q!r}")
            bad += 1
    print("conforms" if conforms and not bad else "DOES NOT CONFORM")
    return 0 if conforms and not bad else 1


if __name__ == "__main__":
    sys.exit(main())

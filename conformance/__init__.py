"""The conformance harness (never part of kb): `python -m conformance` or `make conformance`.

It checks the project against implementations nobody here wrote, over the same data:

- SPARQL: every named query of kb/queries/ on pyoxigraph (kb's engine) and on Apache Jena ARQ;
- SHACL: pyshacl, pyshacl-turbo and Jena SHACL on the knowledge base and on planted faults, and what
  `kb validate` reports beside them;
- OWL: ontology/ against the OWL 2 DL profile with the OWL API, reasoning with HermiT (OWL 2 DL) and with
  owlrl (OWL 2 RL).

Jena and the OWL API come from Debian (libapache-jena-java, libowlapi-java), HermiT from the HermiT.jar inside
the PyPI package owlready2; docs/conformance.md says what is conformant, to which profile, and which engine
differences are known, each with the section of the specification that decides it.
"""

from __future__ import annotations

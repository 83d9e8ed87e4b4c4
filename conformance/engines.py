"""The Java reference engines: finding them, the hand-built class path, compiling the helpers, running a batch.

Debian packages Jena (libapache-jena-java 4.5) and the OWL API (libowlapi-java 5.1) as plain jars in
/usr/share/java with no Class-Path in their manifests, so the class path is built here from the jar names
below. Two packaging faults are worked around (docs/conformance.md):

- Debian's jena-core relocates Jena's private copy of Xerces to the package `xerces` but leaves its message
  files under org/apache/jena/ext/xerces/: the first XSD datatype Jena builds then fails ("internal error" in
  XSSimpleTypeDecl.applyFacets1) and JenaSystem.init() dies. The message files are copied out of the jar to
  where the relocated classes look for them (xerces/impl/msg/), a folder put on the class path.
- The OWL API loads its Rio parser factories through ServiceLoader even for Turtle; without rdf4j's jars those
  factories come back null and every load ends in a NullPointerException, so the rdf4j jars are on the path.

HermiT comes from HermiT.jar in the PyPI package owlready2 (HermiT 1.3.8 with the OWL API 3.4 it is built on),
which runs in a JVM of its own: its OWL API 3 cannot share a class path with Debian's OWL API 5.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from .outcome import ToolMissing

JAVA_DIR = Path("/usr/share/java")
HELPERS = Path(__file__).resolve().parent / "java"
DEBIAN_PACKAGES = "default-jdk-headless libapache-jena-java libowlapi-java"
INSTALL_HINT = f"make conformance-tools (apt-get install {DEBIAN_PACKAGES}; pip install owlready2 owlrl)"

# jar name in /usr/share/java → the Debian package that ships it
JARS = {
    **{name: "libapache-jena-java" for name in ("jena-base", "jena-core", "jena-arq", "jena-iri", "jena-shacl")},
    "owlapi-distribution": "libowlapi-java",
    **{
        name: "libowlapi-java (dependency)"
        for name in (
            "rdf4j-model-api",
            "rdf4j-model",
            "rdf4j-util",
            "rdf4j-rio-api",
            "rdf4j-model-vocabulary",
            "rdf4j-rio-datatypes",
            "rdf4j-rio-languages",
            "caffeine",
            "hppcrt",
            "atinject-jsr330-api",
            "jsr305",
            "xz",
            "commons-rdf-api",
        )
    },
    **{
        name: "libapache-jena-java (dependency)"
        for name in (
            "commons-lang3",
            "commons-io",
            "commons-codec",
            "commons-compress",
            "commons-csv",
            "guava",
            "dexx.collection",
            "slf4j-api",
            "gson",
            "jackson-core",
            "jackson-databind",
            "jackson-annotations",
            "jsonld-java",
            "httpclient",
            "httpcore",
            "thrift",
            "protobuf",
            "titanium-json-ld",
            "jakarta.json-api",
            "javax.json",
        )
    },
    "slf4j-nop": "libslf4j-java (dependency): silences the engines' logging",
}
XERCES_MESSAGES = "org/apache/jena/ext/xerces/"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} is not installed", INSTALL_HINT)
    return found


def class_path() -> list[Path]:
    """The jars of Jena, the OWL API and what they need, each checked (a missing one names its package)."""
    jars = []
    for name, package in JARS.items():
        jar = JAVA_DIR / f"{name}.jar"
        if not jar.exists():
            raise ToolMissing(f"{jar} is missing (Debian package {package})", INSTALL_HINT)
        jars.append(jar)
    return jars


def hermit_jar() -> Path:
    """HermiT.jar inside the installed owlready2 package (found without importing it)."""
    spec = importlib.util.find_spec("owlready2")
    if spec is None or not spec.submodule_search_locations:
        raise ToolMissing("owlready2 (which ships HermiT.jar) is not installed", INSTALL_HINT)
    jar = Path(next(iter(spec.submodule_search_locations))) / "hermit" / "HermiT.jar"
    if not jar.exists():
        raise ToolMissing(f"{jar} is missing from owlready2", INSTALL_HINT)
    return jar


def check_tools() -> None:
    """Raise ToolMissing unless java, javac, the Debian jars and HermiT.jar are all there."""
    _tool("java")
    _tool("javac")
    class_path()
    hermit_jar()


def _cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path(tempfile.gettempdir())) / "cq-covid-conformance"


def _restore_xerces_messages(folder: Path) -> Path:
    """Copy jena-core's Xerces message files to the package its relocated classes read them from."""
    target = folder / "xerces-messages"
    if target.exists():
        return target
    partial = Path(tempfile.mkdtemp(dir=folder))
    with zipfile.ZipFile(JAVA_DIR / "jena-core.jar") as jar:
        for entry in jar.namelist():
            if entry.startswith(XERCES_MESSAGES) and entry.endswith(".properties"):
                path = partial / "xerces" / entry[len(XERCES_MESSAGES) :]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(jar.read(entry))
    _publish(partial, target)
    return target


def _publish(partial: Path, folder: Path) -> None:
    """Move a finished folder into place; another run that got there first wins (same contents)."""
    try:
        os.replace(partial, folder)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)


def _compile(source: Path, jars: list[Path]) -> Path:
    """The helper's classes, compiled once per source and class path (cached)."""
    key = hashlib.sha256(source.read_bytes() + ":".join(map(str, jars)).encode()).hexdigest()[:16]
    folder = _cache() / f"{source.stem}-{key}"
    if not (folder / f"{source.stem}.class").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=folder.parent))
        done = subprocess.run(
            [
                _tool("javac"),
                "-nowarn",
                "-encoding",
                "UTF-8",
                "-d",
                str(partial),
                "-cp",
                ":".join(map(str, jars)),
                str(source),
            ],
            check=False,
            capture_output=True,
        )
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise RuntimeError(f"javac {source.name}: {done.stderr.decode(errors='replace')[-2000:]}")
        _publish(partial, folder)
    return folder


def start_batch(batch: Path) -> subprocess.Popen[bytes]:
    """Start the one JVM of Jena and the OWL API over a batch file (see KbConformance.java); wait for it later."""
    jars = class_path()
    classes = _compile(HELPERS / "KbConformance.java", jars)
    messages = _restore_xerces_messages(_cache())
    path = ":".join([*map(str, jars), str(classes), str(messages)])
    return subprocess.Popen(
        [_tool("java"), "-Xss8m", "-cp", path, "KbConformance", str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[bytes], what: str) -> None:
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{what} failed ({process.returncode}): {output.decode(errors='replace')[-2000:]}")


def run_hermit(out: Path, ontologies: list[Path]) -> None:
    """HermiT over each RDF/XML file, strict and with unsupported datatypes ignored (see KbHermit.java)."""
    jar = hermit_jar()
    classes = _compile(HELPERS / "KbHermit.java", [jar])
    process = subprocess.Popen(
        [_tool("java"), "-cp", f"{jar}:{classes}", "KbHermit", str(out), *map(str, ontologies)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    finish(process, "HermiT")

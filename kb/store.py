"""The persistent store: ontology/ and facts/ compiled once into an oxigraph database under .kb/.

The build is redone automatically when any input file is added, removed or changed; it is written
into a fresh folder and swapped in only when complete, so an interrupted build never leaves a
half-written store behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .loader import Dataset, load_dataset
from .project import Project

STORE_FORMAT = 1
Progress = Callable[[str, int, int], None]


@dataclass
class BuildResult:
    """What a build did: whether it rebuilt, how many files and triples the store holds."""

    rebuilt: bool
    files: int
    triples: int


def _fingerprint(project: Project) -> dict[str, list[int | str]]:
    prints: dict[str, list[int | str]] = {}
    for path in project.input_files():
        stat = path.stat()
        prints[project.relative(path)] = [stat.st_size, stat.st_mtime_ns, ""]
    return prints


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest_path(project: Project) -> Path:
    return project.state_dir / "manifest.json"


def _read_manifest(project: Project) -> dict | None:
    try:
        data = json.loads(_manifest_path(project).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != STORE_FORMAT:
        return None
    return data


def is_fresh(project: Project) -> bool:
    """Whether the store was built from exactly the current input files."""
    manifest = _read_manifest(project)
    if manifest is None or not (project.state_dir / "store").is_dir():
        return False
    current = _fingerprint(project)
    recorded: dict[str, list[int | str]] = manifest.get("files", {})
    if set(current) != set(recorded):
        return False
    for name, (size, mtime, _) in current.items():
        old_size, old_mtime, old_digest = recorded[name]
        if size != old_size:
            return False
        if mtime != old_mtime and _digest(project.root / name) != old_digest:
            return False
    return True


def _write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
    os.replace(tmp, path)


def load_project(project: Project) -> Dataset:
    """Parse every input file of the project."""
    return load_dataset((path, project.relative(path)) for path in project.input_files())


def build(project: Project, force: bool = False, progress: Progress | None = None) -> BuildResult:
    """Compile the project into the persistent store unless it is already up to date."""
    if not force and is_fresh(project):
        manifest = _read_manifest(project) or {}
        return BuildResult(False, len(manifest.get("files", {})), int(manifest.get("triples", 0)))
    paths = project.input_files()
    subject_index: dict[str, list[str | int]] = {}
    counts = {"files": 0, "triples": 0}

    def quads() -> Iterator[ox.Quad]:
        # One file at a time: memory holds one file's triples, not the whole knowledge base's.
        for number, path in enumerate(paths, start=1):
            if progress:
                progress(project.relative(path), number, len(paths))
            for parsed in load_dataset([(path, project.relative(path))]).files:
                counts["files"] += 1
                counts["triples"] += len(parsed.triples)
                for subject, block in parsed.blocks.items():
                    subject_index[subject] = [parsed.name, block.start, block.end]
                yield from Dataset([parsed]).quads()

    state = project.state_dir
    state.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=state, prefix="store."))
    try:
        store = ox.Store(str(fresh))
        store.bulk_extend(quads())
        store.flush()
        store.optimize()
        del store
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    _write_json_atomic(fresh / "index.json", subject_index)
    target = state / "store"
    old = state / f"store.old.{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(fresh, target)
    shutil.rmtree(old, ignore_errors=True)
    prints = _fingerprint(project)
    for name in prints:
        prints[name][2] = _digest(project.root / name)
    _write_json_atomic(_manifest_path(project), {"format": STORE_FORMAT, "files": prints, "triples": counts["triples"]})
    return BuildResult(True, counts["files"], counts["triples"])


def open_store(project: Project, progress: Progress | None = None) -> ox.Store:
    """The store, rebuilt first if any input changed; opened read-only."""
    build(project, progress=progress)
    return ox.Store.read_only(str(project.state_dir / "store"))


def read_index(project: Project) -> dict[str, list]:
    """Subject IRI → [file, first line, last line], as recorded by the last build."""
    try:
        data = json.loads((project.state_dir / "store" / "index.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def store_generation(path: Path) -> tuple[int, int, int] | None:
    """An id that changes whenever a build swaps a new store into `path`; None while there is none."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    # A swapped-in folder is a new inode; the ctime tells apart a reused inode number.
    return (stat.st_dev, stat.st_ino, stat.st_ctime_ns)

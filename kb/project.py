"""Where the knowledge base lives: ontology/, facts/, facts/sources/ and the build state in .kb/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

SHAPES_FILE = "shapes.ttl"


@dataclass(frozen=True)
class Project:
    """A checkout of the knowledge base: its input folders and its build folder."""

    root: Path

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def facts_dir(self) -> Path:
        return self.root / "facts"

    @property
    def sources_dir(self) -> Path:
        return self.facts_dir / "sources"

    @property
    def state_dir(self) -> Path:
        return Path(os.environ.get("KB_STATE_DIR", self.root / ".kb"))

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / SHAPES_FILE

    def ontology_files(self) -> list[Path]:
        """The vocabulary files (everything in ontology/ but the shapes)."""
        return sorted(p for p in self.ontology_dir.glob("*.ttl") if p.name != SHAPES_FILE)

    def fact_files(self) -> list[Path]:
        """Every Turtle file under facts/, in a stable order."""
        return sorted(self.facts_dir.rglob("*.ttl"))

    def input_files(self) -> list[Path]:
        """What the store is built from: the ontology and the facts."""
        return self.ontology_files() + self.fact_files()

    def relative(self, path: Path) -> str:
        """A path as messages show it: relative to the project where it lies inside it."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def _looks_like_project(path: Path) -> bool:
    return (path / "ontology").is_dir() and (path / "facts").is_dir()


def find_project(root: str | Path | None = None) -> Project:
    """The project at `root`, at $KB_ROOT, above the working directory, or around this package."""
    if root is None:
        root = os.environ.get("KB_ROOT")
    if root is not None:
        path = Path(root)
        if not _looks_like_project(path):
            raise UsageError(
                f"{path} is not a knowledge base folder",
                hint="it needs ontology/ and facts/ folders; pass --root PATH to the folder that has them",
            )
        return Project(path.resolve())
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_project(candidate):
            return Project(candidate)
    package_parent = Path(__file__).resolve().parent.parent
    if _looks_like_project(package_parent):
        return Project(package_parent)
    raise UsageError(
        "no knowledge base found here or above",
        hint="run kb inside the project folder, or pass --root PATH (or set KB_ROOT)",
    )

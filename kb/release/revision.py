"""A git revision of the knowledge base, built into a store of its own inside a temporary folder.

`git archive REV` copies the revision's ontology/ and facts/ (never the working tree, never the git metadata)
into a temporary folder, which is built like any checkout, with its build folder inside it: the project's own
store, and $KB_STATE_DIR, are never touched.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import KbError, RevisionError
from ..project import Project
from ..store import open_store

GIT_TIMEOUT = 120.0  # seconds; archiving the shipped knowledge base takes well under one


@dataclass(frozen=True)
class Checkout(Project):
    """A revision copied into a temporary folder: its build folder is inside it, whatever $KB_STATE_DIR says."""

    @property
    def state_dir(self) -> Path:
        return self.root / ".kb"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise RevisionError("git is not installed", hint="install git, or compare folders built by hand") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"git {args[0]} took longer than {GIT_TIMEOUT:g} s", hint="try again") from None


def _message(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:][0] if done.stderr.strip() else ""


def resolve(root: Path, revision: str) -> str:
    """The commit a revision names (a commit, branch, tag or expression such as HEAD~1)."""
    if not revision or revision.startswith("-"):
        raise RevisionError(f"{revision!r} is not a git revision", hint="give a commit, branch or tag, e.g. HEAD~1")
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0:
        raise RevisionError(
            f"{root} is not in a git repository", hint="kb diff and kb release compare versions kept in git"
        )
    done = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    if done.returncode != 0:
        raise RevisionError(f"unknown revision {revision!r}", hint="give a commit, branch or tag (git log --oneline)")
    return done.stdout.decode("ascii").strip()


def latest_tag(root: Path) -> str | None:
    """The newest tag reachable from HEAD (the previous release, when releases are tagged), or None."""
    done = _git(root, "describe", "--tags", "--abbrev=0", "HEAD")
    return done.stdout.decode("utf-8").strip() or None if done.returncode == 0 else None


def checkout(root: Path, revision: str, folder: Path) -> Checkout:
    """Copy the revision's ontology/ and facts/ into `folder` (which must be empty) and return it as a project."""
    commit = resolve(root, revision)
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.decode("utf-8").strip()
    done = _git(root, "archive", "--format=tar", f"{commit}:{prefix}", "--", "ontology", "facts")
    if done.returncode != 0:
        raise RevisionError(
            f"revision {revision} has no ontology/ and facts/ here: {_message(done)}",
            hint="name a revision of this knowledge base",
        )
    try:
        with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
            archive.extractall(folder, filter="data")  # refuses links and paths leading out of the folder
    except (tarfile.TarError, OSError) as exc:
        raise RevisionError(f"cannot copy revision {revision}: {exc}") from None
    project = Checkout(folder.resolve())
    if not (project.ontology_dir.is_dir() and project.facts_dir.is_dir()):
        raise RevisionError(f"revision {revision} has no ontology/ and facts/ folders")
    return project


@contextmanager
def built_revision(root: Path, revision: str) -> Iterator[tuple[ox.Store, Checkout]]:
    """The revision's store (built in a temporary folder, removed afterwards) and its checkout."""
    with tempfile.TemporaryDirectory(prefix="kb-revision-") as tmp:
        project = checkout(root, revision, Path(tmp))
        try:
            store = open_store(project)
        except KbError as error:
            # The message names a file of the revision: say which revision it is.
            error.message = f"revision {revision}: {error.message}"
            raise
        yield store, project

"""`kb site`: the resource pages as static files, for any static web host behind the w3id redirect.

For each thing under https://w3id.org/cq-covid/id/ it writes id/<kind>/<slug>.html, .ttl and .jsonld — the same
documents `kb serve` answers (kb/serve/resources.py renders both) — and an index.html; links between pages are
relative, so the folder works from file:// too. The folder is written beside its destination and swapped in at
the end: a failed run leaves the previous site as it was.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import ReleaseError
from ..evidence import SourceTexts
from ..project import Project
from ..serve.resources import Cache, document, render_index, resource_path, resources

MARKER = ".kb-site"  # names a folder this command wrote, so that running it again may replace it
SUFFIXES = (".html", ".ttl", ".jsonld")


@dataclass(frozen=True)
class SiteResult:
    """What `kb site` wrote: the folder, the number of things and of files, their total size."""

    folder: Path
    things: int
    files: int
    size: int


def _relative(here: str, target: str) -> str:
    """The href from the page at `here` to `target` (both paths inside the site, with / between folders)."""
    return posixpath.relpath(target, posixpath.dirname(here) or ".")


def check_destination(folder: Path) -> None:
    """Refuse a destination that is a file, or a folder with other content than a site written before."""
    if folder.exists() and not folder.is_dir():
        raise ReleaseError(f"{folder} is a file", hint="give a folder for -o, e.g. -o site")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise ReleaseError(
            f"{folder} is not empty and was not written by kb site",
            hint="give a new or empty folder; kb site replaces only a folder it wrote itself",
        )
    parent = folder.parent if str(folder.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ReleaseError(f"folder {parent} does not exist or is not writable", hint="create it first")


def _write(path: Path, data: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def write_pages(store: ox.Store, project: Project, folder: Path) -> tuple[int, int, int]:
    """Write every page, its Turtle and JSON-LD and the index into `folder` (things, files, bytes)."""
    texts, cache = SourceTexts(project.sources_dir), Cache()
    size = files = 0
    things = resources(store)
    for iri in things:
        path = f"id/{resource_path(iri)}"

        def link(target: str, suffix: str, here: str = path) -> str:
            return _relative(here + ".html", f"id/{target}{suffix or '.html'}")

        index = _relative(path + ".html", "index.html")
        for suffix in SUFFIXES:
            size += _write(folder / (path + suffix), document(store, iri, suffix, link, index, texts, cache))
            files += 1
    index_page = render_index(store, lambda target, suffix: f"id/{target}{suffix or '.html'}")
    size += _write(folder / "index.html", index_page.encode("utf-8"))
    _write(folder / MARKER, b"written by kb site: running it again replaces this folder\n")
    return len(things), files + 1, size


def write_site(store: ox.Store, project: Project, folder: Path) -> SiteResult:
    """Write the static site into `folder`, replacing a site written there before, all at once."""
    check_destination(folder)
    parent = folder.resolve().parent
    fresh = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.new."))
    old = parent / f".{folder.name}.old.{os.getpid()}"
    try:
        things, files, size = write_pages(store, project, fresh)
        os.chmod(fresh, 0o755)
        if folder.exists():
            os.replace(folder, old)
        os.replace(fresh, folder)
    except OSError as exc:
        raise ReleaseError(f"cannot write the site in {folder}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return SiteResult(folder, things, files, size)

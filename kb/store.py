"""The persistent store: ontology/ and facts/ compiled once into an oxigraph database under .kb/.

The store parses each input file itself (`loader.load_into`: the loader's checks first, the file:line index from
its line scan, the loader's own parse only to report a file's error); the derived periods follow (derive.py).

The build is redone automatically when any input file is added, removed or changed. Each build writes
a fresh folder `.kb/store.XXXX` (the database, its subject index and its manifest) and publishes it by
atomically replacing the symlink `.kb/store` with one naming it; a published folder is never changed.
Builds take `.kb/build.lock` one at a time (a second build waits, then finds the store fresh); readers
pin the folder the link names when they open it (a shared flock on the folder), and a build removes an
old or half-written folder only when nobody pins it. So an interrupted build leaves the last good store,
a reader never sees a half-written or replaced database, and debris is cleaned by the next build.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .derive import derive
from .errors import StoreError, UsageError
from .fsio import FileLock, acquire_lock, current_umask, write_atomic
from .loader import Dataset, load_dataset, load_into, read_input
from .project import Project
from .query.days import write_days_index
from .query.search import write_search_index
from .query.summary import write_summary

# 3: the location index lists every file that describes a subject; 4: the kept answers (search.txt, days.txt)
STORE_FORMAT = 4
Progress = Callable[[str, int, int], None]
LINK = "store"  # the symlink naming the published folder
PREFIX = "store."  # published, superseded and half-written folders: store.XXXXXXXX
LOCK_FILE = "build.lock"
LOCK_TIMEOUT_ENV = "KB_LOCK_TIMEOUT"
LOCK_TIMEOUT = 300.0  # seconds a build waits for another one; a full build of the shipped KB takes about 1 s
MANIFEST = "manifest.json"
INDEX = "index.json"


@dataclass
class BuildResult:
    """What a build did: whether it rebuilt, how many files and triples the store holds."""

    rebuilt: bool
    files: int
    triples: int


def store_link(project: Project) -> Path:
    """The symlink that names the published store folder (`.kb/store`)."""
    return project.state_dir / LINK


def _fingerprint(project: Project) -> dict[str, list[int | str]]:
    prints: dict[str, list[int | str]] = {}
    for path in project.input_files():
        stat = path.stat()
        prints[project.relative(path)] = [stat.st_size, stat.st_mtime_ns, ""]
    return prints


def _digest(path: Path) -> str:
    # read_input refuses folders, FIFOs, devices and over-large files with a clear message: a digest never hangs
    return hashlib.sha256(read_input(path)).hexdigest()


def _read_manifest(project: Project) -> dict | None:
    try:
        data = json.loads((store_link(project) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != STORE_FORMAT:
        return None
    return data


def is_fresh(project: Project, ignoring: frozenset[str] = frozenset()) -> bool:
    """Whether the store was built from exactly the current input files (not counting the files named in
    `ignoring`: `kb validate FILE` checks those files against the rest, whatever the store holds of them)."""
    manifest = _read_manifest(project)
    if manifest is None:
        return False
    current = {k: v for k, v in _fingerprint(project).items() if k not in ignoring}
    recorded: dict[str, list[int | str]] = {k: v for k, v in manifest.get("files", {}).items() if k not in ignoring}
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
    write_atomic(path, json.dumps(data, ensure_ascii=False))


def load_project(project: Project) -> Dataset:
    """Parse every input file of the project."""
    return load_dataset(((path, project.relative(path)) for path in project.input_files()), project.root)


# ---------------------------------------------------------------- locking and publishing


def lock_timeout() -> float:
    """Seconds a build waits for another one: $KB_LOCK_TIMEOUT, default 300."""
    text = os.environ.get(LOCK_TIMEOUT_ENV)
    if text is None:
        return LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UsageError(f"{LOCK_TIMEOUT_ENV}={text!r} is not a number of seconds", hint="e.g. KB_LOCK_TIMEOUT=600")
    return value


def build_lock(project: Project) -> FileLock:
    """The build lock of the project's state folder, waited for up to `lock_timeout()` seconds."""
    state = project.state_dir
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the build folder {state}: {exc.strerror}") from None
    return acquire_lock(state / LOCK_FILE, "build", lock_timeout())


def _try_exclusive(folder: Path) -> int | None:
    """An fd holding an exclusive flock on `folder`, or None when a reader pins it (or it is gone)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _clean(state: Path, keep: Path | None) -> None:
    """Remove superseded and half-written store folders nobody pins (call with the build lock held)."""
    _release_unused()
    for entry in state.iterdir():
        # store.*: old, half-written or link debris; manifest.json*: where the layout before snapshots kept it.
        if not entry.name.startswith((PREFIX, MANIFEST)) or (keep is not None and entry.name == keep.name):
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)
            continue
        fd = _try_exclusive(entry)
        if fd is None:
            continue  # a reader still has it open: a later build removes it
        try:
            shutil.rmtree(entry, ignore_errors=True)
        finally:
            os.close(fd)


def _publish(state: Path, folder: Path, timeout: float) -> None:
    """Point the store link at `folder` in one rename (replacing a pre-snapshot store folder once)."""
    link = state / LINK
    if link.is_dir() and not link.is_symlink():
        # The layout before snapshots: a real folder here. Move it aside once nobody reads it.
        deadline = time.monotonic() + timeout
        while (fd := _try_exclusive(link)) is None and link.is_dir() and time.monotonic() < deadline:
            time.sleep(0.1)
        if fd is None and link.is_dir():
            raise StoreError(f"a reader keeps the old store {link} open", hint="stop it (kb serve?) and build again")
        try:
            os.replace(link, tempfile.mkdtemp(dir=state, prefix=PREFIX + "old."))
        finally:
            if fd is not None:
                os.close(fd)
    tmp = state / f"{PREFIX}link.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(folder.name, tmp)
        os.replace(tmp, link)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot publish the store in {state}: {exc.strerror}", hint="it needs symlinks") from None


def build(project: Project, force: bool = False, progress: Progress | None = None) -> BuildResult:
    """Compile the project into the persistent store unless it is already up to date."""
    if not force and is_fresh(project):
        return _unchanged(project)
    with build_lock(project):
        # Another build may have finished while we waited: then there is nothing left to do.
        if not force and is_fresh(project):
            return _unchanged(project)
        return _build_locked(project, progress)


def _unchanged(project: Project) -> BuildResult:
    manifest = _read_manifest(project) or {}
    return BuildResult(False, len(manifest.get("files", {})), int(manifest.get("triples", 0)))


def _build_locked(project: Project, progress: Progress | None) -> BuildResult:
    state = project.state_dir
    _clean(state, keep=_current_folder(state))
    paths = project.input_files()
    # Sizes and times before reading: a file changed during the build makes the store stale, never wrongly fresh.
    prints = _fingerprint(project)
    subject_index: dict[str, list[list[str | int]]] = {}
    fresh = Path(tempfile.mkdtemp(dir=state, prefix=PREFIX))
    store: ox.Store | None = None
    try:
        store = ox.Store(str(fresh))
        for number, path in enumerate(paths, start=1):
            name = project.relative(path)
            if progress:
                progress(name, number, len(paths))
            # The store parses each file itself; the loader checks it first and keeps where its subjects stand.
            data, blocks = load_into(store, path, name, project.root)
            prints[name][2] = hashlib.sha256(data).hexdigest()  # of the bytes loaded, not of a later read
            for subject, block in blocks.items():
                subject_index.setdefault(subject, []).append([name, block.start, block.end])
        triples = len(store)  # the curated quads, before the derived graph joins them
        # The location index is complete once the files are in: written now, it is not held through the derivation.
        _write_json_atomic(fresh / INDEX, subject_index)
        subject_index.clear()
        if progress:
            progress("derived effective periods", len(paths), len(paths))
        derive(store)  # a graph of its own, from the curated quads just loaded
        store.flush()
        store.optimize()
        # Reopened read-only for the kept answers: at 100k measures the writable store, after its bulk loads, grew
        # 36-53 MB while the summary queries read it and kept it, the store opened afresh 5 MB (docs/benchmarks.md).
        store = None
        store = ox.Store.read_only(str(fresh))
        write_summary(store, fresh)  # the summary queries' answers, kept in the snapshot (kb/query/summary.py)
        write_search_index(store, fresh)  # `search`'s folded labels and quotes, kept beside them (kb/query/search.py)
        write_days_index(store, fresh)  # the status spans by place, for the day question (kb/query/days.py)
        store = None
        _write_json_atomic(fresh / MANIFEST, {"format": STORE_FORMAT, "files": prints, "triples": triples})
        os.chmod(fresh, 0o777 & ~current_umask())  # mkdtemp makes it 0o700: readable like any folder
        _publish(state, fresh, lock_timeout())
    except OSError as exc:  # a full disk, a folder we may not write: the last good store stays
        store = None  # closed before its folder goes (a failed bulk load may still write into it)
        _discard(fresh, exc)
        raise StoreError(f"cannot write the store in {state}: {exc.strerror or exc}") from None
    except BaseException as exc:
        store = None  # closed before its folder goes (a failed bulk load may still write into it)
        _discard(fresh, exc)
        raise
    _clean(state, keep=fresh)
    return BuildResult(True, len(paths), triples)


def _discard(fresh: Path, exc: BaseException) -> None:
    """Remove a failed build's folder once its store is closed.

    The traceback keeps the loader's frames, and with them the open store, alive: its background threads would go on
    writing into the folder while it is removed. Clearing the finished frames' locals closes it first.
    """
    traceback.clear_frames(exc.__traceback__)
    gc.collect()
    shutil.rmtree(fresh, ignore_errors=True)


def _current_folder(state: Path) -> Path | None:
    link = state / LINK
    if link.is_symlink():
        return state / os.readlink(link)
    return None


# ---------------------------------------------------------------- reading


@dataclass
class Snapshot:
    """A published store folder pinned against removal (a shared flock) until `release`."""

    path: Path
    fd: int | None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def pin_snapshot(link: Path, attempts: int = 50) -> Snapshot:
    """Pin the folder `link` names now; a build swapping or removing it meanwhile makes us look again."""
    for _ in range(attempts):
        real = Path(os.path.realpath(link))
        try:
            fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            if not os.path.lexists(link) or os.path.realpath(link) == str(real):
                raise StoreError(f"no store at {link}", hint="run kb build") from None
            continue  # the link moved on and its old folder is gone: read it again
        except OSError as exc:
            raise StoreError(f"cannot open the store {real}: {exc.strerror}", hint="run kb build --force") from None
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a build removes this very folder
        try:
            same = os.path.samestat(os.stat(real), os.fstat(fd))
        except OSError:
            same = False
        if same:
            return Snapshot(real, fd)
        os.close(fd)
    raise StoreError(f"the store at {link} kept changing while it was being opened", hint="try again")


# Stores handed out by open_snapshot, with their pin; a pin is released once only this list refers to its store
# (pyoxigraph's Store takes no weak references, so its reference count is the only sign it is no longer used).
_OPEN: list[tuple[ox.Store, Snapshot]] = []
_OPEN_LOCK = threading.Lock()


def _release_unused() -> None:
    with _OPEN_LOCK:
        for entry in list(_OPEN):
            # References: the tuple in _OPEN and getrefcount's argument; anything more is a caller's.
            if sys.getrefcount(entry[0]) <= 2:
                _OPEN.remove(entry)
                entry[1].release()


def snapshot_folder(store: ox.Store) -> Path | None:
    """The snapshot folder a store handed out by open_snapshot reads, else None (e.g. an in-memory store)."""
    with _OPEN_LOCK:
        for opened, snapshot in _OPEN:
            if opened is store:
                return snapshot.path
    return None


def open_snapshot(link: Path) -> ox.Store:
    """The store folder `link` names, opened read-only and pinned for as long as the store object lives."""
    _release_unused()
    snapshot = pin_snapshot(link)
    try:
        store = ox.Store.read_only(str(snapshot.path))
    except (OSError, RuntimeError) as exc:
        snapshot.release()
        raise StoreError(f"cannot open the store {snapshot.path}: {exc}", hint="run kb build --force") from None
    with _OPEN_LOCK:
        _OPEN.append((store, snapshot))
    return store


def open_store(project: Project, progress: Progress | None = None) -> ox.Store:
    """The store, rebuilt first if any input changed; opened read-only on a consistent snapshot."""
    build(project, progress=progress)
    return open_snapshot(store_link(project))


def read_index(project: Project) -> dict[str, list[list[str | int]]]:
    """The location index of the published store: subject IRI → [[file, first line, last line], …], one entry per
    file that describes the subject, in build order; {} when there is no store or its index cannot be read."""
    try:
        data = json.loads((store_link(project) / INDEX).read_text("utf-8"))
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

"""Files written safely: atomic replacement with normal permissions, and advisory locks between processes.

Kept free of heavy imports so that every command can use it (the CLI registers its wait reporter here).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import FileWriteError, LockTimeout

# Where a wait for a lock is announced (set by the CLI; silent when None, e.g. in library use).
_wait_reporter: Callable[[str], None] | None = None


def report_waits(reporter: Callable[[str], None] | None) -> None:
    """Send messages about waiting for a lock to `reporter` (the CLI prints them on stderr)."""
    global _wait_reporter
    _wait_reporter = reporter


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        for line in Path("/proc/self/status").read_text("ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # the portable way: set and restore at once
    os.umask(mask)
    return mask


def default_mode() -> int:
    """The mode `open()` would give a new file: 0o666 minus the umask (0o644 with the usual umask 022)."""
    return 0o666 & ~current_umask()


def write_atomic(path: Path, data: bytes | str | Iterable[str]) -> int:
    """Replace `path` by `data` all at once (temporary file in the same folder, fsync, rename); bytes written.

    `data` may be the text in pieces (an iterable of str, written as they come, never joined in memory): a failure
    while they are produced, like any other, leaves `path` as it was and no temporary file behind.
    A new file gets the permissions of any newly created file (0o666 minus the umask), not the 0o600 of a
    temporary file; an existing file keeps its mode, as a shell redirection would.
    """
    chunks: Iterable[bytes]
    if isinstance(data, bytes | str):
        chunks = [data.encode("utf-8") if isinstance(data, str) else data]
    else:
        chunks = (piece.encode("utf-8") for piece in data)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        mode = path.stat().st_mode & 0o7777 if path.is_file() else default_mode()
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise FileWriteError(f"cannot write {path}: {exc.strerror}", hint="choose a folder you can write to") from None
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                written += handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileWriteError(f"cannot write {path}: {exc.strerror}", hint="choose a path you can write to") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written


class FileLock:
    """An exclusive advisory lock (flock) on a file that records the holder's pid; released by `release`.

    The kernel drops the lock when its holder dies, so a killed process never leaves a stale lock behind.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "pid unknown"
    return f"pid {text}" if text.isdigit() else "pid unknown"


def acquire_lock(path: Path, what: str, timeout: float, poll: float = 0.1) -> FileLock:
    """Take the exclusive lock at `path`, waiting up to `timeout` seconds (announced once) for its holder."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise FileWriteError(f"cannot create the lock file {path}: {exc.strerror}") from None
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            attempt += 1
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise LockTimeout(
                    f"another {what} ({holder}) still holds {path} after {timeout:g} s",
                    hint=f"let it finish and try again, or wait longer with KB_LOCK_TIMEOUT=SECONDS (now {timeout:g})",
                ) from None
            # Announced at the second try: by then the holder has written its pid.
            if attempt == 2 and _wait_reporter is not None:
                _wait_reporter(f"waiting for another {what} ({_holder(fd)}) to finish …")
            time.sleep(poll)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return FileLock(path, fd)

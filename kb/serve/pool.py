"""The worker pool: processes that run queries with the store open read-only, each sandboxed and replaceable.

A query that outlives the time limit has its worker killed (the only way to really stop a running pyoxigraph
query) and a fresh worker takes its place. Each worker has a ceiling on its address space (RLIMIT_AS), runs
queries on a thread with a large stack (deeply nested queries would overflow the default one) and, on Linux,
cannot open network sockets at all (seccomp). Before each query it checks whether `kb build` swapped in a new
store and reopens it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import platform
import queue
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from ..errors import KbError, UsageError
from ..store import Snapshot, pin_snapshot, store_generation
from .answer import QueryJob, Reply, answer_query, clip, memory_message, text_reply
from .config import QUERY_STACK_BYTES, ServeConfig


def _deny_network() -> bool:
    """Forbid this process to open IPv4 and IPv6 sockets (a seccomp filter); False where unavailable."""
    import ctypes
    import struct

    arches = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}  # audit arch, socket() number
    if sys.platform != "linux" or platform.machine() not in arches:
        return False
    arch, socket_nr = arches[platform.machine()]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | 13  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EACCES

    def op(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    program = b"".join(
        [
            op(load, 0, 0, 4),  # 0: the syscall's architecture
            op(jeq, 1, 0, arch),  # 1: ours → 3
            op(ret, 0, 0, deny),  # 2: another ABI: refuse
            op(load, 0, 0, 0),  # 3: the syscall number
            op(jge, 5, 0, 0x40000000),  # 4: x32 ABI → 10
            op(jeq, 0, 3, socket_nr),  # 5: socket() → 6, else → 9
            op(load, 0, 0, 16),  # 6: its address family
            op(jeq, 2, 0, 2),  # 7: AF_INET → 10
            op(jeq, 1, 0, 10),  # 8: AF_INET6 → 10
            op(ret, 0, 0, allow),  # 9
            op(ret, 0, 0, deny),  # 10
        ]
    )

    class _Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(program)
    fprog = _Program(len(program) // 8, ctypes.addressof(buffer))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        # PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP with SECCOMP_MODE_FILTER
        if libc.prctl(38, 1, 0, 0, 0) != 0:
            return False
        return bool(libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0)
    except (OSError, AttributeError):
        return False


# ---------------------------------------------------------------- the worker process


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _set_memory_ceiling(extra: int | None) -> None:
    """Cap the address space at its current size plus `extra` bytes (Linux); None lifts the cap."""
    try:
        import resource
    except ImportError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = _address_space() if extra is not None else None
    if size is None or extra is None:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    limit = size + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class _Engine:
    """The worker's store, reopened when a build has swapped in a new one."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.store: Any = None
        self.generation: tuple[int, int, int] | None = None
        self.snapshot: Snapshot | None = None

    def refresh(self) -> str | None:
        """Make the open store the current one; a message when there is none to open."""
        import pyoxigraph as ox

        path = self.config.store_path
        generation = store_generation(path)
        for _ in range(40):  # a build swapping folders leaves the path empty for an instant
            if generation is not None:
                break
            time.sleep(0.05)
            generation = store_generation(path)
        if generation is None:
            return f"there is no store at {path} (a build may be replacing it); try again"
        if generation == self.generation:
            return None
        _set_memory_ceiling(None)  # a second store must fit while opening
        self.store = self.generation = None  # close the old store first
        if self.snapshot is not None:
            self.snapshot.release()  # a later build may now remove the old folder
            self.snapshot = None
        problem = "it changed while opening"
        for _ in range(5):
            try:
                # Pinned (a shared lock on the folder): a build never removes the folder this worker reads.
                snapshot = pin_snapshot(path)
                store = ox.Store.read_only(str(snapshot.path))
            except Exception as exc:
                problem = clip(exc)
                time.sleep(0.1)
                generation = store_generation(path)
                continue
            after = store_generation(path)
            if after == generation:
                self.store, self.generation, self.snapshot = store, generation, snapshot
                _set_memory_ceiling(self.config.max_memory_bytes)
                return None
            snapshot.release()
            generation = after
        return f"the store at {path} could not be opened: {problem}"

    def answer(self, job: QueryJob) -> Reply:
        problem = self.refresh()
        if problem:
            return text_reply(503, problem)
        config = self.config
        return answer_query(
            self.store,
            job,
            config.max_result_bytes,
            config.allow_service,
            config.max_memory_bytes,
            self.snapshot.path if self.snapshot is not None else None,
        )


def _worker_loop(conn: Connection, config: ServeConfig, network_blocked: bool) -> None:
    engine = _Engine(config)
    problem = engine.refresh()
    conn.send(("failed", problem) if problem else ("ready", network_blocked))
    if problem:
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = engine.answer(job)
        except MemoryError:
            reply = text_reply(503, memory_message(config.max_memory_bytes))
        except Exception as exc:
            reply = text_reply(500, f"the query worker failed: {clip(exc)}")
        conn.send(reply)


def _worker_main(conn: Connection, config: ServeConfig) -> None:
    """A worker process: receive jobs, send back Replies, until the pipe closes."""
    # Ctrl-C reaches the whole process group; the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a stopped worker writes no core file
    except (ImportError, ValueError, OSError):
        pass
    network_blocked = False if config.allow_service else _deny_network()
    with contextlib.suppress(ValueError, RuntimeError):
        threading.stack_size(QUERY_STACK_BYTES)
    thread = threading.Thread(target=_worker_loop, args=(conn, config, network_blocked), name="kb-query")
    thread.start()
    thread.join()


class _Worker:
    def __init__(self, config: ServeConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, config), daemon=True)
        self.network_blocked = False
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            # Started with Ctrl-C ignored, the child cannot be interrupted while it boots.
            self.process.start()
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        child.close()
        try:
            message = self.conn.recv() if self.conn.poll(60) else ("failed", "it did not start within 60 s")
        except (EOFError, OSError):
            message = ("failed", "it stopped while starting")
        if message[0] != "ready":
            self.kill()
            raise UsageError(
                f"a query worker could not open the store at {config.store_path}: {message[1]}", hint="run kb build"
            )
        self.network_blocked = bool(message[1])

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """Worker processes that run queries; one that overruns a limit or dies is replaced."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._spawning = threading.Lock()
        self.network_blocked = False
        try:
            for _ in range(max(1, config.workers)):
                self._add()
        except BaseException:
            self.close()  # also on Ctrl-C while starting: no worker is left behind
            raise
        self.network_blocked = all(worker.network_blocked for worker in self._all)

    def _add(self) -> None:
        worker = _Worker(self.config)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _top_up(self) -> None:
        # One thread at a time replaces missing workers; the others go on to wait for an idle one.
        if not self._spawning.acquire(blocking=False):
            return
        try:
            while len(self._all) < max(1, self.config.workers):
                self._add()
        except KbError:
            pass
        finally:
            self._spawning.release()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        with self._lock:
            return [worker.pid for worker in self._all if worker.pid is not None]

    def _died(self, worker: _Worker) -> Reply:
        worker.process.join(5)
        code = worker.process.exitcode
        self._discard(worker)
        self._top_up()
        if code == -signal.SIGABRT and self.config.max_memory_bytes:
            # pyoxigraph aborts the process when an allocation fails under the ceiling
            return text_reply(503, memory_message(self.config.max_memory_bytes))
        if code in (-signal.SIGSEGV, -getattr(signal, "SIGBUS", signal.SIGSEGV)):
            return text_reply(400, "the query crashed the query engine (it may be nested too deeply): simplify it")
        return text_reply(500, "the query worker stopped unexpectedly; the query was not answered")

    def run(self, job: QueryJob) -> Reply:
        """Run a job on an idle worker within the time limit."""
        limit = self.config.timeout
        self._top_up()
        try:
            worker = self._idle.get(timeout=limit)
        except queue.Empty:
            return text_reply(503, f"all query workers are busy; try again (waited {limit:g} s)")
        try:
            worker.conn.send(job)
            if worker.conn.poll(limit):
                reply: Reply = worker.conn.recv()
                self._idle.put(worker)
                return reply
        except (EOFError, OSError):
            return self._died(worker)
        self._discard(worker)
        self._top_up()
        return text_reply(503, f"the query was stopped after the time limit of {limit:g} s: narrow it or add a LIMIT")

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()

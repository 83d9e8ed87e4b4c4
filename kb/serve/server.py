"""Running the endpoint: the waitress HTTP server over the app and its worker pool, start, stop and signals."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

from ..errors import UsageError
from ..store import store_generation
from .app import SparqlApp
from .config import MAX_REQUEST_BYTES, ServeConfig
from .pool import WorkerPool


class RunningServer:
    """A started endpoint: its address, and close() to stop it and its workers."""

    def __init__(self, server: Any, pool: WorkerPool, host: str) -> None:
        self.server = server
        self.pool = pool
        self.host = host
        self.port = int(server.effective_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (SIGINT) or SIGTERM; further signals are ignored while close() runs."""
        main = threading.current_thread() is threading.main_thread()
        if main:
            # SIGINT too: a process started with it ignored (a background job, some test runners) would
            # otherwise keep running on Ctrl-C, although the banner says Ctrl-C stops it
            signal.signal(signal.SIGINT, _interrupt)
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.server.run()  # waitress returns when interrupted
        except KeyboardInterrupt:
            pass
        finally:
            if main:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def start_in_thread(self) -> RunningServer:
        self._thread = threading.Thread(target=self.server.run, name="kb-serve", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.task_dispatcher.shutdown()
        self.server.close()
        if self._thread is not None:
            self._thread.join(5)
        self.pool.close()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _raise_open_file_limit(wanted: int) -> None:
    """Let the process hold `wanted` open files (each connection is one), up to the hard limit."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def create_server(config: ServeConfig, host: str = "127.0.0.1", port: int = 8000) -> RunningServer:
    """Start the worker pool and bind the HTTP server (port 0 picks a free port)."""
    import waitress.server

    if store_generation(config.store_path) is None:
        raise UsageError(f"no store at {config.store_path}", hint="run kb build first")
    _raise_open_file_limit(config.connection_limit + 256)
    pool = WorkerPool(config)
    app = SparqlApp(config, pool)
    app.triples()
    try:
        server = waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=config.threads,
            ident="kb-serve",
            clear_untrusted_proxy_headers=True,
            # poll() instead of select(): select cannot watch more than 1024 sockets
            asyncore_use_poll=True,
            connection_limit=config.connection_limit,
            channel_timeout=config.channel_timeout,
            cleanup_interval=5,
            backlog=2048,
            max_request_body_size=MAX_REQUEST_BYTES,
        )
    except OSError as exc:
        pool.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="choose another --port, or stop what uses it"
        ) from None
    return RunningServer(server, pool, host)

"""``rls-coach serve``: the webhook on waitress, a production WSGI server in pure Python."""

from __future__ import annotations

import atexit
import logging
import queue
import signal
import sys
import threading
from logging.handlers import QueueHandler
from types import FrameType
from typing import Any

import waitress

from skill.settings import Settings
from skill.stores import StoreURLError
from webhook.app import MAX_BODY_BYTES, create_app

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# waitress refuses bodies above this itself, before buffering them; bodies between the app's cap
# and this one reach the app, which answers with its own JSON 413.
SERVER_BODY_LIMIT = 4 * MAX_BODY_BYTES


# How long the log writer lets lines gather before writing them (see LogWriter).
LOG_BATCH_SECONDS = 0.05


def configure_logging(level: str, *, queued: bool = False) -> None:
    """Log at ``level`` to stderr, unless logging is already configured (as basicConfig does).

    ``queued`` (for ``serve``'s one process of threads): the threads only queue their records,
    and one thread (:class:`LogWriter`) formats and writes them, in the order they were queued;
    it is stopped at exit, after it has written every queued line. Written by each request
    thread, a line held the handler's lock across the write to stderr, which gives up the GIL:
    under the benchmark's 16 users the request threads waited on that lock for ~3.6 ms of a
    ~7 ms request. Not for servers that may fork workers after importing the app
    (``webhook.wsgi``): a forked child would have the queue but not the thread.
    """
    root = logging.getLogger()
    if not root.handlers:
        writer = logging.StreamHandler(sys.stderr)
        writer.setFormatter(logging.Formatter(LOG_FORMAT))
        if queued:
            # What no line of this format shows, a record need not gather: the calling frame
            # (found by walking the stack), the thread's and the process's names and the process
            # id (a system call). These are the switches the logging HOWTO's "Optimization"
            # section names for this.
            logging._srcfile = None  # type: ignore[attr-defined]
            logging.logThreads = False
            logging.logProcesses = False
            logging.logMultiprocessing = False
            log_writer = LogWriter(writer)
            root.addHandler(QueueHandler(log_writer.records))
            log_writer.start()
            # Registered after the logging module's own shutdown hook, so it runs first: every
            # queued line is written before the handlers are flushed and closed.
            atexit.register(log_writer.stop)
        else:
            root.addHandler(writer)
        root.setLevel(level)
    # waitress warns "Task queue depth is N" for every request that waits for a free thread; in a
    # burst that is one warning per request and buries everything else. The per-request log line
    # (with its latency) already shows load, so only the queue's errors are kept.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class LogWriter:
    """The one thread that writes a process's log lines, a batch at a time.

    The logging module's own ``QueueListener`` does the same work a record at a time: it wakes
    for every line, takes the GIL from a request thread, and writes that line alone, which under
    load is a wake-up, two GIL hand-overs and a system call per request (in the benchmark, a line
    per request written that way cost ~14% of throughput, and ~9% written in batches). This
    thread wakes for the first line, lets the rest
    of ``LOG_BATCH_SECONDS`` gather, and writes them all at once; a queue that is not being
    waited on costs a request thread nothing to add to. Lines keep their queued order, and a
    line is at most ``LOG_BATCH_SECONDS`` late.
    """

    def __init__(
        self, handler: logging.StreamHandler[Any], batch_seconds: float = LOG_BATCH_SECONDS
    ):
        self.records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
        self._handler = handler
        self._batch_seconds = batch_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write every line queued so far, then end the thread."""
        if self._thread.is_alive():
            self._stopping.set()  # no more gathering: write what is queued now
            self.records.put(None)
            self._thread.join()

    def _run(self) -> None:
        while True:
            batch = [self.records.get()]
            if batch[0] is not None:
                self._stopping.wait(self._batch_seconds)
            while not self.records.empty():
                batch.append(self.records.get_nowait())
            stopping = None in batch
            self._write([record for record in batch if record is not None])
            if stopping:
                return

    def _write(self, records: list[logging.LogRecord]) -> None:
        lines = []
        for record in records:
            try:
                lines.append(self._handler.format(record) + self._handler.terminator)
            except Exception:  # as a handler does: report it on stderr, and carry on
                self._handler.handleError(record)
        if not lines:
            return
        try:
            self._handler.stream.write("".join(lines))
            self._handler.flush()
        except Exception:
            self._handler.handleError(records[-1])


def serve(settings: Settings, host: str, port: int, threads: int) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM). Returns the process exit code.

    ``threads``: an Alexa turn is a few milliseconds of Python and one small store read/write,
    so a handful of threads keeps up with any one skill's traffic; the default of 8 leaves room
    for the rare request that waits on fetching Amazon's certificate chain (up to 5 s) without
    holding up the others. More threads add no speed to CPU-bound work under the GIL.

    A SettingsError (e.g. verification on without a skill id) propagates: the CLI prints it and
    exits with status 2.
    """
    configure_logging(settings.log_level, queued=True)
    try:
        app = create_app({"SETTINGS": settings})
    except (StoreURLError, ImportError) as exc:
        print(
            f"rls-coach serve: cannot open the store {settings.store_url}: {exc}", file=sys.stderr
        )
        return 2
    try:
        server: Any = waitress.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="rls-coach",
            max_request_body_size=SERVER_BODY_LIMIT,
        )
    except OSError as exc:
        print(f"rls-coach serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    for listen_host, listen_port in _listening_on(server):
        logger.info(
            "serving the skill on http://%s:%s/alexa (verification %s, %d threads, store %s)",
            listen_host,
            listen_port,
            "on" if settings.verify else "OFF",
            threads,
            settings.store_url,
        )
    if threading.current_thread() is threading.main_thread():
        # Containers and service managers stop processes with SIGTERM: stop as for Ctrl-C, so
        # the server closes its sockets and the store its files.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()  # returns on KeyboardInterrupt
    finally:
        server.close()
        logger.info("stopped")
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _listening_on(server: Any) -> list[tuple[str, int]]:
    """Where the server listens (the real port when asked for port 0)."""
    listen = getattr(server, "effective_listen", None)  # several sockets: one per address
    return list(listen) if listen else [(server.effective_host, server.effective_port)]

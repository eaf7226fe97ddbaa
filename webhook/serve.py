"""``rls-coach serve``: the webhook on waitress, a production WSGI server in pure Python."""

from __future__ import annotations

import atexit
import logging
import queue
import signal
import sys
import threading
from logging.handlers import QueueHandler, QueueListener
from types import FrameType
from typing import Any

from waitress.server import create_server

from skill.settings import Settings
from skill.stores import StoreURLError
from webhook.app import MAX_BODY_BYTES, create_app

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# waitress refuses bodies above this itself, before buffering them; bodies between the app's cap
# and this one reach the app, which answers with its own JSON 413.
SERVER_BODY_LIMIT = 4 * MAX_BODY_BYTES
# Slow clients. waitress reads requests on one thread without blocking and gives a worker thread
# only a complete request, so an open connection costs a socket, not a thread. Its default limit
# of 100 connections let 150 clients that send a header line every few seconds shut everyone else
# out, and a connection that sent nothing was held for up to 150 s. So: room for many more
# connections (poll() rather than select(), which fails past file descriptor 1024), and idle
# ones closed within 20-25 s. waitress has no deadline for reading a whole request: a client that
# trickles a byte every few seconds is still held, which is why on the internet the webhook
# belongs behind a proxy that buffers whole requests (docs/serving.md).
CONNECTION_LIMIT = 1000
IDLE_CONNECTION_SECONDS = 20
IDLE_CHECK_SECONDS = 5


def configure_logging(level: str, *, queued: bool = False) -> None:
    """Log at ``level`` to stderr, unless logging is already configured (as basicConfig does).

    ``queued`` (for ``serve``'s one process of threads): request threads only put their records
    on a queue (``QueueHandler``) and one thread (``QueueListener``) writes them, so no request
    waits on a slow stderr. The listener is stopped at exit, which writes every queued line
    first. Not for servers that may fork workers after importing the app (``webhook.wsgi``): a
    forked child would have the queue but not the thread.
    """
    root = logging.getLogger()
    if not root.handlers:
        writer = logging.StreamHandler(sys.stderr)
        writer.setFormatter(logging.Formatter(LOG_FORMAT))
        if queued:
            records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
            listener = QueueListener(records, writer)
            root.addHandler(QueueHandler(records))
            listener.start()
            # Registered after the logging module's own exit hook, so it runs first: every
            # queued line is written before the handlers are flushed and closed.
            atexit.register(listener.stop)
        else:
            root.addHandler(writer)
        root.setLevel(level)
    # waitress warns "Task queue depth is N" for every request that waits for a free thread; in a
    # burst that is one warning per request and buries everything else. The per-request log line
    # (with its latency) already shows load, so only the queue's errors are kept.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


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
        server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="rls-coach",
            max_request_body_size=SERVER_BODY_LIMIT,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=IDLE_CONNECTION_SECONDS,
            cleanup_interval=IDLE_CHECK_SECONDS,
            asyncore_use_poll=True,
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

"""Serve the floor's or the peer's webhook as its own process: ``python -m bench.servers``.

The coach is served by its own command, ``rls-coach serve``; these two are served the same way:
waitress, the same thread count, stopping cleanly on SIGTERM. Imports are inside the functions on
purpose: the memory figures are taken from these processes, so each loads only what it needs.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any


def build_app(which: str, store: str | None) -> Any:
    from bench.hello_webhook import create_app  # noqa: PLC0415

    if which == "peer":
        from bench.peer_skill import SqlitePersistenceAdapter, build_skill  # noqa: PLC0415

        if store is None:
            raise SystemExit("the peer needs --store PATH (its SQLite file)")
        return create_app(build_skill(SqlitePersistenceAdapter(store)))
    from bench.hello_skill import build_skill as build_floor  # noqa: PLC0415

    return create_app(build_floor())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("which", choices=["floor", "peer"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--store", help="peer only: its SQLite file")
    args = parser.parse_args(argv)
    import waitress  # noqa: PLC0415

    server: Any = waitress.create_server(
        build_app(args.which, args.store),
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident=args.which,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())

"""Run the coach's or the baseline's webhook as its own process: ``python -m bench.servers``.

``ours`` is the production server itself, ``webhook.serve.serve`` (waitress, its thread count,
logging and body limit), with one substitution when ``--pki`` is given: the verifier trusts the
benchmark's test root and is handed its chain instead of fetching Amazon's. ``hello`` serves the
hello-world app the same way. Both stop cleanly on SIGTERM.

Imports are inside the functions on purpose: the start-up and memory figures are taken from these
processes, so each must load exactly what its own server needs and nothing of the other's.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

BENCH_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"


def serve_ours(args: argparse.Namespace) -> int:
    import webhook.serve as production  # noqa: PLC0415
    from skill.settings import Settings  # noqa: PLC0415

    settings = Settings.from_env().with_overrides(
        store_url=args.store, skill_id=BENCH_SKILL_ID, verify=args.pki is not None
    )
    if args.pki is not None:
        from bench.pki import SigningPKI  # noqa: PLC0415

        pki = SigningPKI.load(Path(args.pki))
        create_app = production.create_app

        def create_app_trusting_the_test_root(config: dict[str, Any]) -> Any:
            return create_app({**config, "TRUST_ROOTS": [pki.root], "FETCH_CHAIN": pki.fetch_chain})

        production.create_app = create_app_trusting_the_test_root  # type: ignore[assignment]
    return production.serve(settings, host=args.host, port=args.port, threads=args.threads)


def serve_hello(args: argparse.Namespace) -> int:
    import waitress  # noqa: PLC0415

    from bench.hello_webhook import create_app  # noqa: PLC0415

    verifier = None
    if args.pki is not None:
        from bench.pki import SigningPKI  # noqa: PLC0415
        from webhook.verify import AlexaRequestVerifier  # noqa: PLC0415

        pki = SigningPKI.load(Path(args.pki))
        verifier = AlexaRequestVerifier(
            BENCH_SKILL_ID, trust_roots=[pki.root], fetch_chain=pki.fetch_chain
        )
    server: Any = waitress.create_server(
        create_app(verifier), host=args.host, port=args.port, threads=args.threads, ident="hello"
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("which", choices=["ours", "hello"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--store", default="memory://", help="ours only: the store URL")
    parser.add_argument("--pki", help="directory of bench.pki files: verification on")
    args = parser.parse_args(argv)
    return serve_ours(args) if args.which == "ours" else serve_hello(args)


if __name__ == "__main__":
    sys.exit(main())

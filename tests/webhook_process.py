"""The real webhook as a real process (``rls-coach serve``) on a free loopback port, and the
virtual-alexa driver run with ``node`` against it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "e2e" / "drive.js"
TIMEZONE = "America/New_York"
STARTUP_LIMIT_SECONDS = 30.0  # a readiness limit for a slow CI machine, not an assertion
NODE_LIMIT_SECONDS = 120.0
LISTENING = re.compile(r"serving the skill on http://127\.0\.0\.1:(\d+)/alexa")


@dataclass(frozen=True)
class Webhook:
    url: str  # the POST /alexa endpoint
    log: Path

    def log_tail(self) -> str:
        return _tail(self.log)


def rls_coach_command() -> list[str]:
    """The installed console script next to this interpreter, as a user would run it."""
    script = Path(sys.executable).with_name("rls-coach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "skill.cli"]


def hermetic_env(**extra: str) -> dict[str, str]:
    """This environment without any RLS_COACH_* setting from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLS_COACH_")}
    env.update(extra)
    return env


def _listening_port(log: Path) -> int | None:
    """The port the server says it listens on (it picks a free one: --port 0), once it has."""
    match = LISTENING.search(log.read_text(errors="replace"))
    return int(match[1]) if match else None


def _healthy(base: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base}/healthz", timeout=5) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_webhook(
    directory: Path,
    *,
    verify_for: str | None = None,
    env: dict[str, str] | None = None,
    store: str | None = None,
) -> Iterator[Webhook]:
    """``rls-coach serve --no-verify`` on a free port, with an SQLite store in ``directory``
    (or the store URL ``store``), until the block ends. With ``verify_for`` (a skill id) it
    verifies requests, as in production, instead. ``env`` adds to the server's environment."""
    log = directory / "webhook.log"
    store = store or f"sqlite:///{(directory / 'webhook.sqlite3').resolve()}"
    command = [*rls_coach_command(), "serve", "--host", "127.0.0.1", "--port", "0"]
    command += ["--threads", "4", "--store", store]
    command += ["--skill-id", verify_for] if verify_for else ["--no-verify"]
    # INFO: the server names its port in an INFO line, and the per-request lines help a failure.
    server_env = hermetic_env(
        RLS_COACH_TIMEZONE=TIMEZONE, RLS_COACH_LOG_LEVEL="INFO", **(env or {})
    )
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=server_env, cwd=directory
        )
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        port = None
        while port is None or not _healthy(f"http://127.0.0.1:{port}"):
            if process.poll() is not None:
                raise RuntimeError(
                    f"rls-coach serve exited with {process.returncode}:\n{_tail(log)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"rls-coach serve did not come up:\n{_tail(log)}")
            time.sleep(0.1)
            port = port or _listening_port(log)
        yield Webhook(url=f"http://127.0.0.1:{port}/alexa", log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def node_command() -> list[str]:
    """``node`` and the driver; a missing Node or node_modules fails loudly (make test installs
    them), never skips."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH; the end-to-end tests need Node.js 20+")
    if not (ROOT / "node_modules" / "virtual-alexa").is_dir():
        raise RuntimeError(
            "node_modules/virtual-alexa is missing; run `make test` (it runs npm ci)"
        )
    return [node, str(DRIVER)]


def drive(plan: dict[str, Any]) -> dict[str, Any]:
    """Run the virtual-alexa driver with a plan (see drive.js) and return its JSON output."""
    result = subprocess.run(
        node_command(),
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        timeout=NODE_LIMIT_SECONDS,
        cwd=ROOT,
        env=hermetic_env(),
        check=False,
    )
    if result.returncode == 2 or not result.stdout.strip():
        raise RuntimeError(f"drive.js failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout)

"""Measurements that need fresh processes: webhooks under load, Lambda cold start, peak memory.

Every process started here is on 127.0.0.1, is stopped by the code that started it (SIGTERM, then
SIGKILL after a grace period), and has its output kept in a file for when something goes wrong.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("RLS_COACH_LOG_LEVEL", "INFO")
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """A webhook process (``python -m bench.servers …``) listening on ``port``."""

    which: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def peak_rss_kib(self) -> int:
        """The process's peak resident set so far (Linux: VmHWM)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def stop(self) -> None:
        stop_process(self.process)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_S)


def server_command(which: str, port: int, store_path: Path | None) -> list[str]:
    """Ours is served by its own command, ``rls-coach serve`` (verification off, as for the
    others); the floor and the peer by ``python -m bench.servers``."""
    if which == "ours":
        script = Path(sys.executable).with_name("rls-coach")
        command = [str(script) if script.exists() else "rls-coach", "serve", "--no-verify"]
        command += ["--port", str(port), "--store", f"sqlite:///{store_path}"]
        return command
    command = [sys.executable, "-m", "bench.servers", which, "--port", str(port)]
    if store_path is not None:
        command += ["--store", str(store_path)]
    return command


@contextlib.contextmanager
def running_servers(
    stores: dict[str, Path | None], log_dir: Path, *, env: dict[str, str]
) -> Iterator[dict[str, ServerProcess]]:
    """Start a server for each side in ``stores`` (side → its SQLite file, if it has one) at
    once, and yield them when every one answers its health check."""
    servers: dict[str, ServerProcess] = {}
    try:
        for which, store_path in stores.items():
            port = free_port()
            log_path = log_dir / f"{which}-{port}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    server_command(which, port, store_path),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=child_env(**env),
                    cwd=REPO,
                )
            servers[which] = ServerProcess(which, port, process, log_path)
        for server in servers.values():
            wait_until_healthy(server)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def wait_until_healthy(server: ServerProcess, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.which} server exited:\n{server.log_tail()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection(HOST, server.port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        time.sleep(0.02)
    raise RuntimeError(f"{server.which} server did not become healthy:\n{server.log_tail()}")


# A fresh interpreter that imports a Lambda handler, answers the events it is given and reports.
# Peak memory: ru_maxrss is what getrusage offers, but on Linux a child started by fork + exec
# keeps the high-water mark of the forked parent (here, the benchmark runner itself), so every
# child would report the runner's size. VmHWM in /proc/self/status belongs to the new process
# image alone; ru_maxrss is the fallback elsewhere.
_LAMBDA_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    events = json.loads(sys.stdin.read())
    began = time.time()
    import importlib
    module_name, _, attribute = sys.argv[1].partition(":")
    handler = getattr(importlib.import_module(module_name), attribute)
    imported = time.time()
    first = last = handler(events[0], None)
    answered = time.time()
    for event in events[1:]:
        # As Alexa does: a turn within a session carries the attributes the last answer set.
        if not event["session"]["new"]:
            event["session"]["attributes"] = last.get("sessionAttributes") or {}
        last = handler(event, None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:  # Linux: this process image's own peak (see above)
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    print(json.dumps({"began": began, "imported": imported, "answered": answered,
                      "first": first, "peak_rss_kib": peak}))
    """
)


def lambda_run(handler: str, events: Sequence[dict[str, Any]], env: dict[str, str]) -> dict:
    """Start a fresh process for ``module:attribute``; returns the child's report plus
    ``start_to_answer_ms`` (from before the process was spawned to its first answer)."""
    spawned = time.time()
    completed = subprocess.run(
        [sys.executable, "-c", _LAMBDA_CHILD, handler],
        input=json.dumps(list(events)).encode(),
        capture_output=True,
        env=child_env(**env),
        cwd=REPO,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{handler} failed:\n{completed.stderr.decode(errors='replace')}")
    report = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    report["start_to_answer_ms"] = (report["answered"] - spawned) * 1000
    report["import_ms"] = (report["imported"] - report["began"]) * 1000
    return report

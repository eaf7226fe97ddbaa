"""Clients that open connections and trickle their headers must not shut other clients out of a
real ``rls-coach serve`` process."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.hardening.live import HOST, serving
from tests.hardening.scale import scaled

pytestmark = pytest.mark.slow

SLOW_CLIENTS = scaled(quick=150, stress=600)  # waitress's default limit was 100 connections
TRICKLE_SECONDS = 1.0  # each slow client sends one more header line this often
ANSWER_WITHIN_SECONDS = 1.0


class SlowClients:
    """``count`` connections that each send a request line, then a header line now and then,
    and never finish their request."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets = [socket.create_connection((HOST, port), timeout=5) for _ in range(count)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> SlowClients:
        for sock in self.sockets:
            sock.sendall(b"POST /alexa HTTP/1.1\r\nHost: coach\r\n")
        self._thread.start()
        return self

    def _trickle(self) -> None:
        while not self._stop.wait(TRICKLE_SECONDS):
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # the server closed it: fine by this test
                    sock.sendall(b"X-Slow: still-here\r\n")

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def served() -> Iterator:
    with serving("memory://") as server:
        yield server


def timed_health_check(port: int) -> float:
    started = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=ANSWER_WITHIN_SECONDS * 5)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200, response.read()
        response.read()
    finally:
        connection.close()
    return time.monotonic() - started


def test_slow_clients_do_not_shut_out_a_normal_request(served, report_line):
    with SlowClients(served.port, SLOW_CLIENTS):
        time.sleep(2 * TRICKLE_SECONDS)  # every slow client connected and trickling
        waits = [timed_health_check(served.port) for _ in range(5)]
    assert max(waits) < ANSWER_WITHIN_SECONDS, waits
    report_line(
        f"{SLOW_CLIENTS} slow connections: a health check answered in at most "
        f"{max(waits) * 1000:.0f} ms"
    )


def test_a_connection_that_sends_nothing_is_closed_within_half_a_minute(served, report_line):
    started = time.monotonic()
    with socket.create_connection((HOST, served.port), timeout=60) as silent:
        assert silent.recv(1) == b""  # the server closed it
    held = time.monotonic() - started
    assert held < 30, held
    report_line(f"a connection that sent nothing was closed after {held:.0f} s")

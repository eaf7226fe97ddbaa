"""The serve process's log writer: one thread that writes queued lines a batch at a time, soon
after they are logged, in their order, and all of them before it stops."""

from __future__ import annotations

import io
import logging
import time
from logging.handlers import QueueHandler

import pytest

from webhook.serve import LOG_FORMAT, LogWriter

# A safety net so a writer that never writes fails the test instead of hanging it; not a
# performance assertion.
WAIT_LIMIT_SECONDS = 10


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def stream():
    return CountingStream()


def start_writer(stream: CountingStream, batch_seconds: float) -> tuple[LogWriter, logging.Logger]:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    writer = LogWriter(handler, batch_seconds=batch_seconds)
    log = logging.getLogger(f"log-writer-test-{id(writer)}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(QueueHandler(writer.records))
    writer.start()
    return writer, log


def wait_for(condition) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the log writer never wrote"
        time.sleep(0.01)


def test_a_line_is_written_soon_without_waiting_for_the_exit(stream):
    writer, log = start_writer(stream, batch_seconds=0.01)
    try:
        log.info("user=%s step=%d", "abc", 3)
        wait_for(stream.getvalue)
        assert stream.getvalue().endswith(" INFO " + log.name + ": user=abc step=3\n")
    finally:
        writer.stop()


def test_a_burst_is_written_in_order_with_few_writes(stream):
    writer, log = start_writer(stream, batch_seconds=0.5)
    try:
        for number in range(200):
            log.info("line=%d", number)
        wait_for(lambda: stream.getvalue().count("\n") == 200)
    finally:
        writer.stop()
    numbers = [int(line.rsplit("line=", 1)[1]) for line in stream.getvalue().splitlines()]
    assert numbers == list(range(200))
    assert stream.writes < 20  # one per batch, not one per line


def test_stop_writes_every_queued_line_then_ends_the_thread(stream):
    writer, log = start_writer(stream, batch_seconds=60)  # only stop() can flush these
    for number in range(50):
        log.info("line=%d", number)
    writer.stop()
    assert stream.getvalue().count("\n") == 50
    assert not writer._thread.is_alive()
    writer.stop()  # a second stop (atexit after an explicit one) does nothing


def test_a_line_that_cannot_be_formatted_does_not_cost_the_others(stream, capsys):
    writer, log = start_writer(stream, batch_seconds=0.01)
    log.info("before")
    log.info("broken %d", "not a number")
    log.info("after")
    writer.stop()
    lines = stream.getvalue().splitlines()
    assert [line.rsplit(": ", 1)[1] for line in lines] == ["before", "after"]
    assert "Logging error" in capsys.readouterr().err  # reported as the logging module does

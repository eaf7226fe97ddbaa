"""Request-supplied text made safe for a log line: short, and unable to start a line of its own."""

from __future__ import annotations

import hashlib
from typing import Any

MAX_LOGGED_CHARS = 60


def clip(text: Any, limit: int = MAX_LOGGED_CHARS) -> str:
    """``text`` cut to ``limit`` characters (marked with "…") with newlines, other control
    characters, backslashes and lone surrogates written as escapes, as ``repr`` writes them: a
    slot value or an id can neither forge a log line nor fill the log."""
    value = text if isinstance(text, str) else str(text)
    cut = value[:limit]
    escaped = repr(cut)[1:-1] if not cut.isprintable() or "\\" in cut else cut
    return escaped + ("…" if len(value) > limit else "")


def hashed(identifier: str) -> str:
    """A short, stable stand-in for a user or device id: enough to follow one through the log,
    not enough to recover it. Any text hashes, lone surrogates included."""
    return hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:12]

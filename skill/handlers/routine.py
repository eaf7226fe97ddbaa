"""Guided routines: start, navigate, pace, pause and resume. Filled in by the routines work."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler

HANDLERS: list[AbstractRequestHandler] = []

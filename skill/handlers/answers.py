"""Answers: single exercises, "can I … tonight?", tips and medication questions."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler

HANDLERS: list[AbstractRequestHandler] = []

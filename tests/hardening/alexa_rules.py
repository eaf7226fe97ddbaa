"""What Alexa requires of a response envelope, as one function tests can apply to any answer."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

MAX_RESPONSE_BYTES = 24 * 1024
MAX_SPEECH_CHARS = 8000
MAX_BREAK_MS = 10_000
MAX_CARD_CHARS = 8000
_BREAK_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_TEMPLATE_MARKER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
SPOKEN_REQUESTS = ("LaunchRequest", "IntentRequest")


def speech_problems(where: str, speech: Any) -> list[str]:
    if not isinstance(speech, dict):
        return [f"{where}: not an object"]
    if speech.get("type") == "PlainText":
        text = speech.get("text") or ""
        return [f"{where}: {len(text)} characters"] if len(text) > MAX_SPEECH_CHARS else []
    if speech.get("type") != "SSML":
        return [f"{where}: unknown type {speech.get('type')!r}"]
    ssml = speech.get("ssml") or ""
    problems = []
    if len(ssml) > MAX_SPEECH_CHARS:
        problems.append(f"{where}: {len(ssml)} characters (Alexa allows {MAX_SPEECH_CHARS})")
    try:
        root = ET.fromstring(ssml)
    except ET.ParseError as exc:
        return [*problems, f"{where}: SSML is not well-formed ({exc}): {ssml[:200]!r}"]
    if root.tag != "speak":
        problems.append(f"{where}: root element is <{root.tag}>, not <speak>")
    for element in root.iter("break"):
        match = _BREAK_TIME.match(element.get("time", ""))
        if match is None:
            problems.append(f"{where}: break without a valid time: {element.attrib}")
            continue
        milliseconds = float(match[1]) * (1 if match[2] == "ms" else 1000)
        if milliseconds > MAX_BREAK_MS:
            problems.append(f"{where}: a {milliseconds:.0f} ms break (Alexa allows 10 s)")
    text = "".join(root.itertext())
    if _TEMPLATE_MARKER.search(text):
        problems.append(f"{where}: unfilled template marker in {text[:200]!r}")
    if not text.strip() and not list(root.iter("break")) and not list(root.iter("audio")):
        problems.append(f"{where}: says nothing")
    return problems


def violations(request_type: str, answer: Any) -> list[str]:
    """Every way ``answer`` (a parsed response envelope) breaks Alexa's rules; empty if none."""
    if not isinstance(answer, dict) or not isinstance(answer.get("response"), dict):
        return ["not a response envelope"]
    problems = []
    size = len(json.dumps(answer).encode())
    if size > MAX_RESPONSE_BYTES:
        problems.append(f"response is {size} bytes (Alexa allows {MAX_RESPONSE_BYTES})")
    response = answer["response"]
    speech = response.get("outputSpeech")
    reprompt = (response.get("reprompt") or {}).get("outputSpeech")
    if speech is not None:
        problems += speech_problems("outputSpeech", speech)
    if reprompt is not None:
        problems += speech_problems("reprompt", reprompt)
    card = response.get("card")
    if card is not None:
        text = "".join(str(card.get(key) or "") for key in ("title", "content", "text"))
        if len(text) > MAX_CARD_CHARS:
            problems.append(f"card is {len(text)} characters")
    delegated = any(
        str(directive.get("type", "")).startswith("Dialog.")
        for directive in response.get("directives") or []
    )
    if request_type in SPOKEN_REQUESTS and not delegated:
        if speech is None:
            problems.append(f"a {request_type} got no speech")
        if response.get("shouldEndSession") is not True and reprompt is None:
            problems.append("the session stays open without a reprompt")
    if request_type == "SessionEndedRequest" and (speech is not None or reprompt is not None):
        problems.append("a SessionEndedRequest must not be answered with speech")
    return problems

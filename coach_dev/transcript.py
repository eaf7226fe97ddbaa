"""A device's exchanges as a person reads them: what was understood, what Alexa says (pauses as
"(3 s)"), the card, the reprompt, the screen, the Alexa API calls the skill made, whether the
session stays open, and any broken Alexa rule."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from coach_dev.alexa_response import SSMLError, output_text, response_problems
from coach_dev.device import FALLBACK_INTENT, Exchange, InteractionModel


def _describe_request(exchange: Exchange) -> str:
    request = exchange.request["request"]
    if exchange.request_type == "Connections.Response":
        answer = (request.get("payload") or {}).get("status")
        return f"[Connections.Response {request.get('name')} {answer}]"
    if exchange.request_type != "IntentRequest":
        return f"[{exchange.request_type}]"
    parts = [request["intent"]["name"]]
    for name, slot in sorted((request["intent"].get("slots") or {}).items()):
        if "value" not in slot:
            continue
        ids = [
            value["value"]["id"]
            for authority in (slot.get("resolutions") or {}).get("resolutionsPerAuthority", [])
            for value in authority.get("values") or []
        ]
        resolved = f" → {ids[0]}" if ids else ""
        parts.append(f'{name}="{slot["value"]}"{resolved}')
    return "[" + " ".join(parts) + "]"


def _when(exchange: Exchange, zone: ZoneInfo | None) -> str:
    if zone is None:
        return ""
    stamp = dt.datetime.strptime(exchange.request["request"]["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    local = stamp.replace(tzinfo=dt.UTC).astimezone(zone)
    return f" at {local:%a %d %b %H:%M:%S} {zone.key}"


def _readable(speech: dict[str, Any] | None) -> str:
    try:
        return output_text(speech)
    except SSMLError as exc:
        return f"(unreadable SSML: {exc}) {(speech or {}).get('ssml', '')}"


def render(exchange: Exchange, zone: ZoneInfo | None = None) -> list[str]:
    """The lines a person reads for one exchange: what was understood (and, given the device's
    ``zone``, when on its clock), what Alexa says, the card, the reprompt, the Alexa API calls,
    whether the session stays open, and any broken Alexa rule."""
    response = exchange.response.get("response") or {}
    lines = [f"  {_describe_request(exchange)}{_when(exchange, zone)}"]
    speech = _readable(response.get("outputSpeech"))
    lines.append(f"Alexa: {speech}" if speech else "Alexa: (says nothing)")
    card = response.get("card")
    if card and card.get("type") == "AskForPermissionsConsent":
        lines.append(
            f"  card: asks for {', '.join(card.get('permissions') or [])} in the Alexa app"
        )
    elif card:
        title = card.get("title") or ""
        body = " ".join(str(card.get("text") or card.get("content") or "").split())
        lines.append(f"  card: {title}" + (f" | {body}" if body else ""))
    reprompt = _readable((response.get("reprompt") or {}).get("outputSpeech"))
    if reprompt:
        lines.append(f"  reprompt: {reprompt}")
    lines.extend(_screen_lines(response))
    if exchange.permission_request is not None:
        payload = exchange.permission_request.get("payload") or {}
        scopes = [s.get("permissionScope") for s in payload.get("permissionScopes") or []]
        lines.append(f"  asks Alexa to ask the user for {', '.join(map(str, scopes))}")
    lines.extend(f"  alexa api: {call.describe()}" for call in exchange.api_calls)
    lines.append("  (session ends)" if exchange.ends_session else "  (session stays open)")
    lines.extend(f"  warning: {problem}" for problem in response_problems(exchange.response))
    return lines


def _screen_lines(response: dict[str, Any]) -> list[str]:
    """What an Echo Show would display: each document's words, buttons in brackets."""
    lines = []
    for directive in response.get("directives") or []:
        if directive.get("type") != "Alexa.Presentation.APL.RenderDocument":
            continue
        for screen, data in ((directive.get("datasources") or {}).get("payload") or {}).items():
            words: list[str] = []
            for key, value in data.items():
                if key == "buttons":
                    words.append(" ".join(f"[{button.get('label')}]" for button in value))
                elif isinstance(value, list):
                    words.extend(str(item) for item in value)
                elif isinstance(value, str) and value:
                    words.append(value)
            lines.append(f"  screen ({screen}): " + " | ".join(words))
    return lines


def unmatched(text: str, model: InteractionModel, sent: Exchange | None) -> list[str]:
    what_happens = (
        f"so Alexa sends {FALLBACK_INTENT}"
        if sent is not None
        else "and with no session open, Alexa would not open the skill for it"
    )
    lines = [f'No intent in the interaction model matches "{text}", {what_happens}.']
    lines.append("Things to try:")
    lines += [f"  {suggestion}" for suggestion in model.suggestions()]
    lines.append("  and, during a routine: next · pause · resume · slow down · repeat · stop")
    return lines

"""Talk to the skill without a device: ``rls-coach chat`` and ``rls-coach say``.

A :class:`~coach_dev.device.SimulatedDevice` plays Alexa's part (coach_dev/device.py), sending
envelopes to the skill in this process or over HTTP to a running webhook (coach_dev/transport.py);
answers are printed as readable text (coach_dev/transcript.py).

In this process the device is a full one: its own clock (``--at``, moving on by the length of each
answer), an API access token, and the Alexa Settings and Reminders APIs answered by a stand-in
(coach_dev/alexa_standin.py) with the device's time zone and the reminders permission as
``--permission`` says. Against a webhook (``--url``) the device sends its clock but no API token:
the webhook's skill would call the real Alexa APIs, which a simulated device has none of, so it
uses its own configured time zone and cannot set reminders.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from coach_dev.alexa_standin import AlexaApiStandIn, StandInApiClient
from coach_dev.device import (
    SCREEN_INTERFACES,
    SCREEN_VIEWPORT,
    Clock,
    DeviceClock,
    Exchange,
    InteractionModel,
    SimulatedDevice,
    load_model,
    stable_id,
    timestamp,
    utc_now,
)
from coach_dev.transcript import render, unmatched
from coach_dev.transport import ChatError, HttpTransport, InProcessTransport
from skill.settings import Settings

# What other modules and the tests import from here.
__all__ = [
    "SCREEN_INTERFACES",
    "SCREEN_VIEWPORT",
    "ChatError",
    "DeviceClock",
    "InProcessTransport",
    "InteractionModel",
    "Permission",
    "SimulatedDevice",
    "interpret",
    "load_model",
    "run_chat",
    "run_say",
    "stable_id",
    "timestamp",
]

LOCAL_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
LAUNCH_WORDS = ("open", "launch")
NEW_SESSION_COMMAND = ":new"
END_SESSION_COMMAND = ":end"
TAP_COMMAND = ":tap"
QUIT_COMMANDS = (":quit", ":q", ":exit")
HELP_COMMANDS = (":help", ":?")
# The user's answer to Alexa's own permission question, as the Connections.Response carries it.
CONSENT_ANSWERS = {
    "accept": "ACCEPTED",
    "yes": "ACCEPTED",
    "allow": "ACCEPTED",
    "deny": "DENIED",
    "no": "DENIED",
    "ignore": "NOT_ANSWERED",
}


class Permission(StrEnum):
    """The reminders permission of the simulated account (``--permission``)."""

    GRANTED = "granted"  # granted before: the request carries a consent token
    DENIED = "denied"  # the user says no whenever Alexa asks
    NONE = "none"  # never asked: Alexa asks when the skill wants it, and you answer


# How a device answers Alexa's permission question by itself; NONE: the person answers.
AUTOMATIC_CONSENT = {Permission.GRANTED: "ACCEPTED", Permission.DENIED: "DENIED"}


# --------------------------------------------------------------------------------------------
# What the person typed
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One line of input: ``kind`` is launch, utterance, tap, end, quit, help or empty."""

    kind: str
    text: str = ""


def interpret(line: str) -> Command:
    """Read a line as a chat command, or as words said to Alexa."""
    text = " ".join(line.split())
    lowered = text.lower()
    if not text:
        return Command("empty")
    if lowered in QUIT_COMMANDS:
        return Command("quit")
    if lowered in HELP_COMMANDS:
        return Command("help")
    if lowered == END_SESSION_COMMAND:
        return Command("end")
    if lowered.split()[0] == TAP_COMMAND:
        return Command("tap", " ".join(lowered.split()[1:]))
    # "open" and "launch" start the skill afresh, whatever follows them, except in the one-shot
    # form "open restless legs coach and …", which the model resolves.
    opens = lowered.split()[0] in LAUNCH_WORDS and " and " not in f" {lowered} "
    if lowered == NEW_SESSION_COMMAND or opens:
        return Command("launch")
    return Command("utterance", text)


def consent_answer(line: str) -> str | None:
    """A line read as the answer to Alexa's permission question, or None if it is not one."""
    return CONSENT_ANSWERS.get(" ".join(line.lower().split()).strip(".!"))


CHAT_HELP = (
    'Type what you would say to Alexa. "open" (or "launch", ":new") starts a session; a phrase on\n'
    'its own starts one too, like "Alexa, ask restless legs coach to …". ":end" ends the session\n'
    'as if you walked away; ":tap next" (or repeat, pause) taps a button on a --screen device;\n'
    "when Alexa asks for a permission, answer accept, deny or ignore. Ctrl-D (or :quit) leaves."
)


# --------------------------------------------------------------------------------------------
# Setting the device up
# --------------------------------------------------------------------------------------------


def device_clock(at: str | None, zone: str) -> Clock:
    """The real clock, or with ``at`` ("YYYY-MM-DD HH:MM", local time in ``zone``) a device clock
    set to that moment."""
    if at is None:
        return utc_now
    try:
        moment = dt.datetime.fromisoformat(" ".join(at.split()))
    except ValueError:
        raise ChatError(f"--at '{at}' is not a local date and time like 2026-12-08 02:10") from None
    if moment.tzinfo is not None:
        raise ChatError(f"--at '{at}' has an offset; give the local time and use --timezone")
    return DeviceClock(moment.replace(tzinfo=ZoneInfo(zone)))


def connect(
    settings: Settings,
    url: str | None,
    locale: str,
    user: str,
    clock: Clock = utc_now,
    *,
    screen: bool = False,
    permission: Permission = Permission.NONE,
) -> SimulatedDevice:
    """A device talking to the skill in this process, with the Alexa API stand-in behind it, or
    to the webhook at ``url``; with ``screen``, an Echo Show."""
    model = load_model(locale)
    if not user.strip():
        raise ChatError("--user needs a name")
    user = user.strip()
    device: dict[str, Any] = {
        "model": model,
        "locale": locale,
        "user": user,
        "skill_id": settings.skill_id or LOCAL_SKILL_ID,
        "clock": clock,
        "screen": screen,
    }
    if url:
        return SimulatedDevice(transport=HttpTransport(url), **device)
    token = stable_id("simulated-api-token.", "api-token", user)
    standin = AlexaApiStandIn(
        zone=settings.default_timezone,
        token=token,
        reminders_permission=permission is Permission.GRANTED,
        clock=clock,
    )
    transport = InProcessTransport.from_settings(settings, StandInApiClient(standin))
    _forget_cached_zones()
    return SimulatedDevice(
        transport=transport,
        api_access_token=token,
        consent_token=(
            stable_id("simulated-consent.", "consent", user)
            if permission is Permission.GRANTED
            else None
        ),
        alexa_api=standin,
        **device,
    )


def _forget_cached_zones() -> None:
    """The skill keeps each device's zone for an hour, per process. A new simulated device may
    have a new zone (several `say` runs in one test process, each with its --timezone): its zone
    is asked afresh."""
    from skill.clock import DEVICE_ZONES  # noqa: PLC0415

    DEVICE_ZONES.clear()


def _quiet_logging(settings: Settings) -> None:
    """The transcript is the output; the skill's own INFO logs would bury it. Warnings and
    errors still reach stderr, and RLS_COACH_LOG_LEVEL=DEBUG shows everything."""
    level = logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)


def _describe(device: SimulatedDevice, permission: Permission) -> str:
    """The first line of a chat: where the skill is, and what kind of device this is."""
    parts = [device.transport.description, device.locale, f"user {device.user}"]
    if isinstance(device.clock, DeviceClock):
        parts.append(f"device clock {device.clock():%Y-%m-%d %H:%M} {device.clock().tzinfo}")
    if device.alexa_api is not None:
        parts.append(f"time zone {device.alexa_api.zone}, reminders permission {permission}")
    else:
        parts.append("no Alexa APIs (the webhook uses its own time zone)")
    return f"Restless Legs Coach ({', '.join(parts)})."


def _zone(device: SimulatedDevice) -> ZoneInfo | None:
    """The zone to show each turn's device time in: only when the device has its own clock."""
    if not isinstance(device.clock, DeviceClock):
        return None
    zone = device.clock().tzinfo
    return zone if isinstance(zone, ZoneInfo) else None


# --------------------------------------------------------------------------------------------
# Running turns
# --------------------------------------------------------------------------------------------


def _step(device: SimulatedDevice, command: Command) -> tuple[Exchange | None, bool]:
    """Carry out one input: the exchange (None when nothing was sent), and whether the words
    matched the model."""
    if command.kind == "launch":
        return device.launch(), True
    if command.kind == "end":
        device.end_session()
        return None, True
    if command.kind == "tap":
        return device.tap(command.text), True
    if command.kind == "utterance":
        exchange = device.say(command.text)
        return exchange, exchange is not None and exchange.matched
    return None, True


def _automatic_consent(device: SimulatedDevice, permission: Permission) -> list[Exchange]:
    """With --permission granted or denied, Alexa's permission question is answered at once, as
    that user would; the exchanges this made."""
    answered = []
    status = AUTOMATIC_CONSENT.get(permission)
    while status is not None and device.awaiting_permission:
        answered.append(device.permission_answer(status))
    return answered


def _consent_prompt(exchange: Exchange) -> str:
    scopes = ((exchange.permission_request or {}).get("payload") or {}).get("permissionScopes")
    scope = (scopes or [{}])[0].get("permissionScope", "a permission")
    return (
        f"Alexa asks you (its own question, as in the Alexa app): allow {scope}? "
        "Answer accept, deny or ignore."
    )


def _input_lines(stdin: TextIO, out: TextIO, prompt: str) -> Iterator[str]:
    """Lines typed at a terminal (with line editing), or piped in (echoed, so the transcript
    reads like a conversation)."""
    if stdin.isatty():
        # Importing readline gives input() line editing and history, where the platform has it.
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401, PLC0415
        while True:
            try:
                yield input(prompt)
            except EOFError:
                print(file=out)
                return
    else:
        for line in stdin:
            print(prompt + line.rstrip("\n"), file=out)
            yield line


def _stops_quietly_when_output_closes(command: Callable[..., int]) -> Callable[..., int]:
    """`rls-coach say … | head` closes the pipe early: stop there, as other command-line tools
    do, rather than with a BrokenPipeError traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> int:
        try:
            status = command(*args, **kwargs)
            sys.stdout.flush()  # here, not at interpreter exit, where the error can't be caught
            return status
        except BrokenPipeError:
            # Python's documented remedy: point stdout at devnull so the interpreter's final
            # flush at exit does not raise again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1

    return run


def _setup(
    name: str,
    settings: Settings,
    url: str | None,
    locale: str,
    user: str,
    clock: Clock | None,
    at: str | None,
    screen: bool,
    permission: Permission,
) -> SimulatedDevice | None:
    """The device for a command, or None after saying on stderr why there is none."""
    _quiet_logging(settings)
    try:
        clock = device_clock(at, settings.default_timezone) if at or clock is None else clock
        device = connect(settings, url, locale, user, clock, screen=screen, permission=permission)
    except ChatError as exc:
        print(f"rls-coach {name}: {exc}", file=sys.stderr)
        return None
    if url and permission is not Permission.NONE:
        print(
            f"rls-coach {name}: with --url, the webhook's skill calls the Alexa APIs itself and "
            "this device sends it no API token: --permission does not apply",
            file=sys.stderr,
        )
    return device


@_stops_quietly_when_output_closes
def run_chat(
    settings: Settings,
    url: str | None,
    locale: str,
    user: str,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    clock: Clock | None = None,
    at: str | None = None,
    screen: bool = False,
    permission: Permission = Permission.NONE,
) -> int:
    """An interactive conversation. Returns 0, or 1 if any turn could not be delivered."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    device = _setup("chat", settings, url, locale, user, clock, at, screen, permission)
    if device is None:
        return 2
    zone = _zone(device)
    print(_describe(device, permission), file=out)
    print(CHAT_HELP, file=out)
    failed = False
    for line in _input_lines(stdin, out, "you> "):
        command = interpret(line)
        if command.kind == "quit":
            break
        if command.kind == "help":
            print(CHAT_HELP, file=out)
            continue
        try:
            if device.awaiting_permission:
                answer = consent_answer(line)
                if answer is None:
                    print(_consent_prompt(device.exchanges[-1]), file=out)
                    continue
                exchanges, matched = [device.permission_answer(answer)], True
            else:
                exchange, matched = _step(device, command)
                exchanges = [exchange] if exchange is not None else []
            exchanges += _automatic_consent(device, permission)
        except ChatError as exc:
            print(f"error: {exc}", file=out)
            failed = True
            continue
        if not matched:
            print(
                "\n".join(
                    unmatched(command.text, device.model, exchanges[0] if exchanges else None)
                ),
                file=out,
            )
        for exchange in exchanges:
            print("\n".join(render(exchange, zone)), file=out)
        if not exchanges and command.kind == "end":
            print("  (session ended)", file=out)
        if device.awaiting_permission:
            print(_consent_prompt(device.exchanges[-1]), file=out)
    try:
        device.end_session()
    except ChatError:
        failed = True
    return 1 if failed else 0


@_stops_quietly_when_output_closes
def run_say(
    settings: Settings,
    utterances: Sequence[str],
    url: str | None,
    locale: str,
    user: str,
    as_json: bool,
    *,
    out: TextIO | None = None,
    clock: Clock | None = None,
    at: str | None = None,
    screen: bool = False,
    permission: Permission = Permission.NONE,
) -> int:
    """Each utterance a turn of one session. While Alexa is asking for a permission (with
    --permission none), the next utterance answers it: accept, deny or ignore. Returns 0, 1 if a
    turn failed or matched nothing, 2 if the device could not be set up."""
    out = out or sys.stdout
    device = _setup("say", settings, url, locale, user, clock, at, screen, permission)
    if device is None:
        return 2
    zone = _zone(device)
    notices = sys.stderr if as_json else out  # with --json, stdout is only the turns
    status = 0
    for utterance in utterances:
        command = interpret(utterance)
        if not as_json:
            print(f"> {utterance}", file=out)
        try:
            if device.awaiting_permission:
                answer = consent_answer(utterance)
                if answer is None:
                    raise ChatError(
                        f"Alexa is asking for a permission, so '{utterance}' must answer it: "
                        "accept, deny or ignore"
                    )
                exchanges, matched = [device.permission_answer(answer)], True
            else:
                exchange, matched = _step(device, command)
                exchanges = [exchange] if exchange is not None else []
            exchanges += _automatic_consent(device, permission)
        except ChatError as exc:
            print(f"rls-coach say: {exc}", file=sys.stderr)
            return 1
        if not matched:
            status = 1
            print(
                "\n".join(
                    unmatched(command.text, device.model, exchanges[0] if exchanges else None)
                ),
                file=notices,
            )
        if not as_json:
            for exchange in exchanges:
                print("\n".join(render(exchange, zone)), file=out)
    if device.awaiting_permission:
        print(
            _consent_prompt(device.exchanges[-1]) + " (Give the answer as the next turn.)",
            file=notices,
        )
    if as_json:
        print(json.dumps([_turn_json(e) for e in device.exchanges], indent=2), file=out)
    return status


def _turn_json(exchange: Exchange) -> dict[str, Any]:
    return {
        "request": exchange.request,
        "response": exchange.response,
        "api_calls": [call.to_json() for call in exchange.api_calls],
    }

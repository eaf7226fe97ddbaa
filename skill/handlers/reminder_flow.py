"""Setting and changing a reminder, the permission it needs, and the API's faults: the steps the
reminder handlers (skill/handlers/reminders.py) share. Words come from speech/en/reminders.yaml.

Nothing is stored as set unless the Reminders API said so. A create that failed as "unavailable"
(a timeout: it may still have been made) is looked for in the API's list at once, and if that
fails too, remembered as unconfirmed and looked for on the next reminder turn, so a reminder the
user was told failed is never left where the coach cannot list or cancel it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from typing import Any

from ask_sdk_model import Response
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.ui import AskForPermissionsConsentCard

from skill import reminders
from skill.clock import device_zone, effective_bedtime
from skill.coach.exercise_speech import number_words
from skill.handlers.speaking import spoken_list
from skill.reminder_words import vocabulary, words_of
from skill.reminders import Fault, Plan, ReminderApiError, Repeat
from skill.turn import OFFER_KEY, Turn

logger = logging.getLogger(__name__)
vocabulary()  # with the skill, so a broken reminder_words.yaml stops a build, never a turn

# Offer kind (see skill.turn.OFFER_KEY): "yes" sets the reminder in the offer's "plan".
REMINDER_OFFER = "reminder"
# Session attribute: the reminder just set or named ({"token", "plan"}), which "make it 8" changes
# and "cancel that" deletes.
FOCUS_KEY = "reminder_focus"
# Offer kind: the reminder set (or changed) on this turn, which a plain "cancel that" on the very
# next turn deletes. Offers last one turn, so a later "cancel" only closes, as Alexa's Cancel does.
JUST_SET_OFFER = "reminder_set"
# A stored token that stands for a create whose answer was lost: "unconfirmed:<start>|<rule>".
UNCONFIRMED = "unconfirmed:"
ASK_FOR = "AskFor"


# ---- words ---------------------------------------------------------------------------------------


def bedtime(turn: Turn) -> dt.time:
    rules = turn.catalog.rules
    return effective_bedtime(turn.state.bedtime_time(), turn.settings, rules.default_bedtime)


def reminder_clock(turn: Turn, clock: dt.time) -> str:
    """07:00 → "7 in the morning", 21:30 → "9:30 at night": which half of the day, in words."""
    hour = clock.hour % 12 or 12
    time = str(hour) if clock.minute == 0 else f"{hour}:{clock.minute:02d}"
    return turn.phrase(f"reminders.clock_{turn.catalog.rules.day_part(clock)}", time=time)


def day_words(turn: Turn, day: dt.date) -> str:
    today = turn.now.date()
    if day == today:
        return turn.phrase("reminders.today")
    if day == today + dt.timedelta(days=1):
        return turn.phrase("reminders.tomorrow")
    name = turn.phrase(f"reminders.day_{reminders.WEEKDAYS[day.weekday()]}")
    return turn.phrase("reminders.on_day", day=name)


def when_words(turn: Turn, reminder: Plan | reminders.Listed) -> str:
    """ "every Monday and Thursday at 9 in the morning", "tomorrow at 7:30 in the morning"."""
    key = reminder.repeat.value
    if reminder.repeat is Repeat.DAILY and reminder.interval == 2:
        key = "every_other_day"
    days = spoken_list(turn, [turn.phrase(f"reminders.day_{code}") for code in reminder.days])
    return turn.phrase(
        f"reminders.when_{key}",
        day=day_words(turn, reminder.first),
        days=days,
        clock=reminder_clock(turn, reminder.clock),
    )


def routine_name(turn: Turn, routine_id: str) -> str:
    routine = turn.catalog.routines.get(routine_id)
    return routine.name if routine else next(iter(turn.catalog.routines.values())).name


def what_words(turn: Turn, plan: Plan) -> str:
    if plan.wind_down:
        activity = turn.phrase(f"reminders.wind_down_{plan.wind_down}")
        return turn.phrase("reminders.what_wind_down", activity=activity)
    return turn.phrase("reminders.what_routine", routine=routine_name(turn, plan.routine_id))


def wind_down_tip(turn: Turn, plan: Plan) -> str:
    """The articles' tip that goes with a wind-down reminder (the warm bath), else nothing."""
    entry = vocabulary()["wind_down"].get(plan.wind_down or "")
    topic = turn.catalog.tips.get(entry["tip"]) if entry else None
    if topic is None or entry["point"] > len(topic.points):
        return ""
    point = topic.points[entry["point"] - 1]
    return getattr(point, "say", point)


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def routine_in(turn: Turn, text: str | None) -> str | None:
    """The routine named in free words ("my morning stretches"), by its name or a synonym."""
    words = words_of(text or "")
    best: tuple[int, str] | None = None
    for routine in turn.catalog.routines.values():
        for name in (routine.name, *routine.synonyms):
            phrase = words_of(name)
            size = len(phrase)
            found = size and any(words[i : i + size] == phrase for i in range(len(words)))
            if found and (best is None or size > best[0]):
                best = (size, routine.id)
    return best[1] if best else None


# ---- setting a reminder --------------------------------------------------------------------------


def reminder_request(turn: Turn, plan: Plan) -> Any:
    if plan.wind_down:
        text = turn.phrase(f"reminders.wind_down_text_{plan.wind_down}")
    else:
        text = turn.phrase(
            "reminders.reminder_text",
            routine=routine_name(turn, plan.routine_id),
            invocation=turn.catalog.phrasings.invocation_name or "",
        )
    zone = device_zone(turn.handler_input, turn.settings).key
    return reminders.reminder_request(plan, turn.now, zone, turn.locale, text)


def confirm(turn: Turn, plan: Plan) -> Response:
    """Read back a reminder whose time or days the coach chose, and ask before setting it."""
    rules = turn.catalog.rules
    if reminders.near_bedtime(plan, bedtime(turn), rules):
        return suggest_earlier(turn, plan)
    when = when_words(turn, plan)
    turn.make_offer(REMINDER_OFFER, plan=plan.to_json(), requested=True)
    sentence = turn.phrase("reminders.confirm", when=capitalized(when), what=what_words(turn, plan))
    tip = wind_down_tip(turn, plan)
    return turn.respond(
        f"{tip} {sentence}" if tip else sentence,
        turn.phrase("reminders.confirm_reprompt", when=when),
    )


def ask_days(turn: Turn, plan: Plan, count: int) -> Response:
    turn.make_offer(REMINDER_OFFER, plan=plan.to_json(), ask_days=count, requested=True)
    return turn.respond(
        turn.phrase(
            "reminders.ask_days",
            count=capitalized(number_words(count, turn.language)),
            clock=reminder_clock(turn, plan.clock),
            what=what_words(turn, plan),
        ),
        turn.phrase("reminders.ask_days_reprompt"),
    )


def request_reminder(turn: Turn, plan: Plan, *, just_allowed: bool = False) -> Response:
    """Set ``plan``, unless it rings too close to bedtime, doubles one already set, or goes past
    the limit; ask for the permission if needed. ``just_allowed``: the user granted it a moment
    ago, so a refusal now is not asked again."""
    if reminders.near_bedtime(plan, bedtime(turn), turn.catalog.rules):
        return suggest_earlier(turn, plan)
    handler_input = turn.handler_input
    if not reminders.can_call_api(handler_input):
        logger.info("no API access token in this request: cannot set a reminder")
        return fault(turn, Fault.UNAVAILABLE)
    if not just_allowed and not reminders.has_consent(handler_input):
        return ask_permission(turn, plan)
    request = reminder_request(turn, plan)
    try:
        mine = my_reminders(turn) if turn.state.reminder_tokens else []
        same = next((r for r in mine if r.schedule() == plan.schedule()), None)
        if same is not None:
            return _duplicate(turn, same, plan)
        limit = vocabulary()["max_reminders"]
        if len(mine) >= limit:
            count = number_words(limit, turn.language)
            return turn.respond(turn.phrase("reminders.limit", count=count), end_session=True)
        token = _create(turn, plan, request)
    except ReminderApiError as exc:
        if exc.fault is Fault.PERMISSION and not just_allowed:
            return ask_permission(turn, plan)
        return fault(turn, exc.fault)
    remember_token(turn, token)
    turn.session[FOCUS_KEY] = {"token": token, "plan": plan.to_json()}
    turn.make_offer(JUST_SET_OFFER, token=token)
    logger.info("reminder set (%s)", plan.repeat.value)
    return _read_back(turn, "reminders.set", plan)


def correction_examples(turn: Turn, reminder: Plan | reminders.Listed) -> dict[str, str]:
    """An hour and days to give as examples of a correction, never the reminder's own."""
    hour = reminder.clock.hour % 12 or 12
    if reminder.repeat is Repeat.WEEKDAYS:
        days = turn.phrase("reminders.example_every_day")
    else:
        days = turn.phrase("reminders.example_weekdays")
    return {"hour": "9" if hour == 8 else "8", "days": days}


def _read_back(turn: Turn, key: str, plan: Plan) -> Response:
    sentence = turn.phrase(key, when=when_words(turn, plan), what=what_words(turn, plan))
    tip = wind_down_tip(turn, plan) if key == "reminders.set" else ""
    examples = correction_examples(turn, plan)
    follow = turn.phrase("reminders.set_follow", **examples)
    speech = " ".join(part for part in (sentence, tip, follow) if part)
    return turn.respond(speech, turn.phrase("reminders.set_reprompt", **examples))


def _create(turn: Turn, plan: Plan, request: Any) -> str:
    """The new reminder's token. A create whose answer was lost is looked for in the list."""
    try:
        return reminders.create(turn.handler_input, request)
    except ReminderApiError as exc:
        if exc.answered:
            raise
        marker = _marker(plan)
        try:
            found = _adopt(turn, {marker})
        except ReminderApiError:
            turn.state.reminder_tokens = [*turn.state.reminder_tokens, marker][-20:]
            logger.info("a reminder create may have been made: looked for on the next turn")
            raise exc from None
        if marker not in found:
            raise
        logger.info("a reminder create that answered late was found in the list")
        return found[marker]


def _marker(plan: Plan) -> str:
    return f"{UNCONFIRMED}{plan.starts().isoformat()}|{reminders.recurrence_rule(plan) or ''}"


def _signature(reminder: Any) -> str | None:
    trigger = reminder.get("trigger") if isinstance(reminder, dict) else None
    if not isinstance(trigger, dict):
        return None
    rules = (trigger.get("recurrence") or {}).get("recurrenceRules") or [""]
    start = str(trigger.get("scheduledTime") or "")[:19]
    return f"{UNCONFIRMED}{start}|{rules[0]}"


def _adopt(turn: Turn, markers: set[str]) -> dict[str, str]:
    """Find the reminders the unconfirmed ``markers`` stand for in the API's list: marker → token.
    Raises ReminderApiError when the list cannot be read."""
    known = set(turn.state.reminder_tokens)
    found: dict[str, str] = {}
    for reminder in reminders.list_all(turn.handler_input):
        signature = _signature(reminder)
        token = reminder.get("alertToken") if isinstance(reminder, dict) else None
        if signature in markers and token and token not in known and signature not in found:
            found[signature] = str(token)
    return found


def remember_token(turn: Turn, token: str) -> None:
    tokens = [t for t in turn.state.reminder_tokens if t != token]
    turn.state.reminder_tokens = [*tokens, token][-20:]


def my_reminders(turn: Turn) -> list[reminders.Listed]:
    """This skill's live reminders that this user's record knows, soonest first. The record
    forgets tokens the API no longer lists (rung and done, or deleted in the Alexa app) and
    takes up any unconfirmed create that the list shows was made after all."""
    live = [r for r in reminders.list_all(turn.handler_input) if isinstance(r, dict)]
    markers = {t for t in turn.state.reminder_tokens if t.startswith(UNCONFIRMED)}
    known = set(turn.state.reminder_tokens)
    adopted: set[str] = set()
    for reminder in live:
        signature, token = _signature(reminder), reminder.get("alertToken")
        if signature in markers and token and token not in known:
            markers.discard(signature)
            adopted.add(str(token))
    keep = known | adopted
    mine = [r for r in map(reminders.listed, live) if r and r.token in keep]
    turn.state.reminder_tokens = [r.token for r in mine]
    return sorted(mine, key=lambda r: (r.clock, r.first))


def _duplicate(turn: Turn, same: reminders.Listed, plan: Plan) -> Response:
    base = dataclasses.replace(
        plan,
        clock=same.clock,
        repeat=same.repeat,
        first=same.first,
        days=same.days,
        interval=same.interval,
    )
    turn.session[FOCUS_KEY] = {"token": same.token, "plan": base.to_json()}
    return turn.respond(
        turn.phrase(
            "reminders.duplicate", when=when_words(turn, same), **correction_examples(turn, same)
        ),
        turn.phrase("reminders.duplicate_reprompt", **correction_examples(turn, same)),
    )


def change(turn: Turn, token: str, plan: Plan) -> Response:
    """Change the reminder ``token`` to ``plan`` (the API's update), and read it back."""
    if reminders.near_bedtime(plan, bedtime(turn), turn.catalog.rules):
        return suggest_earlier(turn, plan)
    try:
        reminders.update(turn.handler_input, token, reminder_request(turn, plan))
    except ReminderApiError as exc:
        if exc.fault is Fault.GONE:
            turn.state.reminder_tokens = [t for t in turn.state.reminder_tokens if t != token]
            turn.session.pop(FOCUS_KEY, None)
            return turn.respond(
                turn.phrase("reminders.gone"), turn.phrase("common.welcome_reprompt")
            )
        return fault(turn, exc.fault)
    turn.session[FOCUS_KEY] = {"token": token, "plan": plan.to_json()}
    turn.make_offer(JUST_SET_OFFER, token=token)
    logger.info("reminder changed (%s)", plan.repeat.value)
    return _read_back(turn, "reminders.updated", plan)


def suggest_earlier(turn: Turn, plan: Plan) -> Response:
    rules = turn.catalog.rules
    bed = bedtime(turn)
    earlier = reminders.earlier_clock(bed, rules)
    first = reminders.first_day(earlier, turn.now, plan.repeat, plan.days)
    suggestion = Plan(plan.routine_id, earlier, plan.repeat, first, plan.days, plan.interval)
    # The user asked for this reminder: the earlier time is their question answered, so it is
    # asked even at night, unlike the reminder offered unasked after a first routine.
    turn.make_offer(REMINDER_OFFER, plan=suggestion.to_json(), requested=True)
    earlier_words = reminder_clock(turn, earlier)
    speech = turn.phrase(
        "reminders.too_close_to_bed",
        clock=reminder_clock(turn, plan.clock),
        bedtime=reminder_clock(turn, bed),
        earlier=earlier_words,
    )
    return turn.respond(
        speech, turn.phrase("reminders.too_close_to_bed_reprompt", earlier=earlier_words)
    )


def ask_permission(turn: Turn, plan: Plan) -> Response:
    """Ask Alexa to ask the user, by voice, for the reminders permission. What was asked for
    goes in the request's token, and is remembered with the user's record (Alexa's answer comes
    in a new session): the answer sets exactly that, only when it was asked for, and once."""
    turn.session.pop(OFFER_KEY, None)
    payload: dict[str, object] = {
        "@type": "AskForPermissionsConsentRequest",
        "@version": "2",
        "permissionScopes": [{"permissionScope": reminders.PERMISSION, "consentLevel": "ACCOUNT"}],
    }
    token = json.dumps(plan.to_json(), separators=(",", ":"))
    turn.state.reminder_asked = token
    builder = turn.handler_input.response_builder
    builder.add_directive(SendRequestDirective(name=ASK_FOR, payload=payload, token=token))
    logger.info("asking for the reminders permission by voice")
    return builder.response


def permission_card(turn: Turn, key: str) -> Response:
    response = turn.respond(turn.phrase(key), end_session=True)
    response.card = AskForPermissionsConsentCard(permissions=[reminders.PERMISSION])
    return response


FAULT_PHRASES = {
    Fault.TOO_MANY: "reminders.too_many",
    Fault.DEVICE: "reminders.device_unsupported",
    Fault.NOT_ACCEPTED: "reminders.not_accepted",
    Fault.BUSY: "reminders.busy",
    Fault.UNAVAILABLE: "reminders.unavailable",
    Fault.GONE: "reminders.unavailable",
    Fault.PERMISSION: "reminders.permission_card",
}


def fault(turn: Turn, what: Fault) -> Response:
    if what is Fault.PERMISSION:
        return permission_card(turn, "reminders.permission_card")
    return turn.respond(
        turn.phrase(FAULT_PHRASES[what]), turn.phrase("common.welcome_reprompt"), remember=False
    )

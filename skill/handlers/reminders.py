"""Reminders to stretch: set one ("remind me every day at eight"), list them, cancel them, and the
Alexa permission they need (asked by voice, with the Alexa app's card as the fallback).

The moves are :mod:`skill.reminders`' (times, the API's request body, the API's faults); the words
are in speech/en/reminders.yaml. Every failure of the Reminders API is answered in a sentence and
leaves the user's routine progress alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.ui import AskForPermissionsConsentCard

from skill import reminders
from skill.advice import parse_clock
from skill.clock import device_zone, effective_bedtime
from skill.coach.exercise_speech import number_words
from skill.handlers.speaking import clock_words, spoken_list
from skill.reminders import Fault, Plan, ReminderApiError, Repeat
from skill.speech import Speech
from skill.turn import OFFER_KEY, Turn

logger = logging.getLogger(__name__)

# Offer kind (see skill.turn.OFFER_KEY): "yes" sets the reminder in the offer's "plan".
REMINDER_OFFER = "reminder"
# Session attribute: the reminder waiting for the user's permission (also in the request's token).
PENDING_KEY = "reminder_pending"
ASK_FOR = "AskFor"
SET_INTENTS = ("SetReminderIntent", "SetRepeatingReminderIntent", "SetWeekdayReminderIntent")
CONFIRMATIONS = {
    Repeat.ONCE: "reminders.set_once",
    Repeat.DAILY: "reminders.set_daily",
    Repeat.WEEKDAYS: "reminders.set_weekdays",
    Repeat.WEEKLY: "reminders.set_weekly",
}
ITEMS = {
    Repeat.ONCE: "reminders.item_once",
    Repeat.DAILY: "reminders.item_daily",
    Repeat.WEEKDAYS: "reminders.item_weekdays",
    Repeat.WEEKLY: "reminders.item_weekly",
}


# ---- the one-time offer after a first routine --------------------------------------------------


def offer_after_first_routine(turn: Turn, speech: Speech) -> bool:
    """At the end of the user's first finished routine, ask once whether to remind them tomorrow
    (in the part of the day the routine is for). Adds the question to ``speech`` and returns True
    when it asked: the caller then keeps the session open with the reprompt
    ``turn.phrase("reminders.offer_reprompt", ...)`` — see :func:`offer_reprompt`. Never asks
    again once asked (whatever the answer), nor when a reminder is already set."""
    state = turn.state
    finished_days = sum(len(dates) for dates in state.completions.values())
    if state.reminder_offered or state.reminder_tokens or finished_days != 1:
        return False
    routine_id = next(iter(state.completions))
    rules = turn.catalog.rules
    part = reminders.part_of_routine(turn.catalog, routine_id) or "morning"
    clock = rules.reminder_times[part]
    tomorrow = turn.now.date() + dt.timedelta(days=1)
    plan = Plan(routine_id, clock, Repeat.ONCE, tomorrow)
    state.reminder_offered = True
    turn.make_offer(REMINDER_OFFER, plan=plan.to_json(), after_routine=True)
    speech.say(turn.phrase("reminders.offer", part=_part_words(turn, part)))
    return True


def offer_reprompt(turn: Turn) -> Speech:
    """The reprompt for the question :func:`offer_after_first_routine` asked."""
    plan = reminders.plan_from((turn.offer or {}).get("plan"))
    part = turn.catalog.rules.day_part(plan.clock) if plan else "morning"
    return Speech().say(turn.phrase("reminders.offer_reprompt", part=_part_words(turn, part)))


# ---- words ---------------------------------------------------------------------------------------


def _part_words(turn: Turn, part: str) -> str:
    return turn.phrase(f"reminders.part_{part}")


def _day_words(turn: Turn, day: dt.date) -> str:
    today = turn.now.date()
    if day == today:
        return turn.phrase("reminders.today")
    if day == today + dt.timedelta(days=1):
        return turn.phrase("reminders.tomorrow")
    name = turn.phrase(f"reminders.day_{reminders.WEEKDAYS[day.weekday()]}")
    return turn.phrase("reminders.on_day", day=name)


def _days_words(turn: Turn, days: tuple[str, ...]) -> str:
    return spoken_list(turn, [turn.phrase(f"reminders.day_{code}") for code in days])


def _routine_name(turn: Turn, routine_id: str) -> str:
    routine = turn.catalog.routines.get(routine_id)
    return routine.name if routine else next(iter(turn.catalog.routines.values())).name


def _confirmation(turn: Turn, plan: Plan) -> str:
    return turn.phrase(
        CONFIRMATIONS[plan.repeat],
        day=_day_words(turn, plan.first),
        days=_days_words(turn, plan.days),
        clock=clock_words(turn, plan.clock),
        routine=_routine_name(turn, plan.routine_id),
    )


def _item(turn: Turn, reminder: reminders.Listed) -> str:
    return turn.phrase(
        ITEMS[reminder.repeat],
        day=_day_words(turn, reminder.first),
        days=_days_words(turn, reminder.days),
        clock=clock_words(turn, reminder.clock),
    )


# ---- setting a reminder ----------------------------------------------------------------------


def plan_from_request(turn: Turn, repeat: Repeat) -> Plan:
    """The reminder the Set…ReminderIntent asks for, in the user's local time."""
    catalog, rules = turn.catalog, turn.catalog.rules
    routine_id = turn.slot_id("routine")
    routine_id = routine_id if routine_id in catalog.routines else None
    phrase = catalog.time_phrases.get(turn.slot_id("when") or "")
    time_value = turn.slot_value("time")
    part = (
        reminders.part_of_routine(catalog, routine_id)
        or reminders.part_of_phrase(phrase, rules)
        or reminders.PART_CODES.get((time_value or "").upper())
    )
    if phrase is not None and phrase.before_bed_minutes is not None:
        bedtime = dt.datetime.combine(turn.now.date(), _bedtime(turn))
        clock = (bedtime - dt.timedelta(minutes=phrase.before_bed_minutes)).time()
    else:
        clock = reminders.choose_clock(time_value, phrase, part, turn.now, rules, _bedtime(turn))
    days = reminders.day_codes(turn.slot_value("day"), turn.slot_value("other_day"))
    if repeat is Repeat.DAILY and days:
        repeat = Repeat.WEEKLY
    if repeat is not Repeat.WEEKLY and repeat is not Repeat.ONCE:
        days = ()
    if routine_id is None:
        routine_id = catalog.routine_for_day_part(rules.day_part(clock)).id
    first = reminders.first_day(clock, turn.now, repeat, days)
    return Plan(routine_id, clock, repeat, first, days if repeat is Repeat.WEEKLY else ())


def _bedtime(turn: Turn) -> dt.time:
    rules = turn.catalog.rules
    return effective_bedtime(turn.state.bedtime_time(), turn.settings, rules.default_bedtime)


def request_reminder(turn: Turn, plan: Plan, *, just_allowed: bool = False) -> Response:
    """Set ``plan``, unless it rings too close to bedtime; ask for the permission if needed.
    ``just_allowed``: the user granted it a moment ago, so a refusal now is not asked again."""
    rules = turn.catalog.rules
    bedtime = _bedtime(turn)
    if reminders.near_bedtime(plan, bedtime, rules):
        return _suggest_earlier(turn, plan, bedtime)
    handler_input = turn.handler_input
    if not reminders.can_call_api(handler_input):
        logger.info("no API access token in this request: cannot set a reminder")
        return _fault(turn, Fault.UNAVAILABLE)
    if not just_allowed and not reminders.has_consent(handler_input):
        return ask_permission(turn, plan)
    request = reminders.reminder_request(
        plan,
        turn.now,
        device_zone(handler_input, turn.settings).key,
        turn.locale,
        turn.phrase(
            "reminders.reminder_text",
            routine=_routine_name(turn, plan.routine_id),
            invocation=turn.catalog.phrasings.invocation_name or "",
        ),
    )
    try:
        token = reminders.create(handler_input, request)
    except ReminderApiError as exc:
        if exc.fault is Fault.PERMISSION and not just_allowed:
            return ask_permission(turn, plan)
        if exc.fault is Fault.PERMISSION:
            return _permission_card(turn, "reminders.permission_card")
        return _fault(turn, exc.fault)
    turn.session.pop(PENDING_KEY, None)
    tokens = [t for t in turn.state.reminder_tokens if t != token]
    turn.state.reminder_tokens = [*tokens, token][-20:]
    logger.info("reminder set (%s)", plan.repeat.value)
    return turn.respond(_confirmation(turn, plan), end_session=True)


def _suggest_earlier(turn: Turn, plan: Plan, bedtime: dt.time) -> Response:
    rules = turn.catalog.rules
    earlier = reminders.earlier_clock(bedtime, rules)
    first = reminders.first_day(earlier, turn.now, plan.repeat, plan.days)
    suggestion = Plan(plan.routine_id, earlier, plan.repeat, first, plan.days)
    turn.make_offer(REMINDER_OFFER, plan=suggestion.to_json())
    earlier_words = clock_words(turn, earlier)
    speech = turn.phrase(
        "reminders.too_close_to_bed",
        clock=clock_words(turn, plan.clock),
        bedtime=clock_words(turn, bedtime),
        earlier=earlier_words,
    )
    return turn.respond(
        speech, turn.phrase("reminders.too_close_to_bed_reprompt", earlier=earlier_words)
    )


def ask_permission(turn: Turn, plan: Plan) -> Response:
    """Ask Alexa to ask the user, by voice, for the reminders permission. What was asked for
    goes in the request's token (and the session), so the answer can set exactly that."""
    turn.session[PENDING_KEY] = plan.to_json()
    turn.session.pop(OFFER_KEY, None)
    payload = {
        "@type": "AskForPermissionsConsentRequest",
        "@version": "2",
        "permissionScopes": [{"permissionScope": reminders.PERMISSION, "consentLevel": "ACCOUNT"}],
    }
    token = json.dumps(plan.to_json(), separators=(",", ":"))
    builder = turn.handler_input.response_builder
    builder.add_directive(SendRequestDirective(name=ASK_FOR, payload=payload, token=token))
    logger.info("asking for the reminders permission by voice")
    return builder.response


def _permission_card(turn: Turn, key: str) -> Response:
    turn.session.pop(PENDING_KEY, None)
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


def _fault(turn: Turn, fault: Fault) -> Response:
    if fault is Fault.PERMISSION:
        return _permission_card(turn, "reminders.permission_card")
    return turn.respond(
        turn.phrase(FAULT_PHRASES[fault]), turn.phrase("common.welcome_reprompt"), remember=False
    )


# ---- handlers ------------------------------------------------------------------------------------


class SetReminderHandler(AbstractRequestHandler):
    """ "Remind me to stretch tomorrow morning", "… every day at eight", "… on weekdays at 7:30"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(is_intent_name(name)(handler_input) for name in SET_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        repeat = {
            "SetReminderIntent": Repeat.ONCE,
            "SetRepeatingReminderIntent": Repeat.DAILY,
            "SetWeekdayReminderIntent": Repeat.WEEKDAYS,
        }[turn.intent_name or "SetReminderIntent"]
        return request_reminder(turn, plan_from_request(turn, repeat))


class PermissionAnswerHandler(AbstractRequestHandler):
    """Alexa's answer to the AskFor permission request: set the reminder, or say how to allow
    reminders in the Alexa app (with the permission card)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        return (
            is_request_type("Connections.Response")(handler_input)
            and getattr(request, "name", None) == ASK_FOR
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        request = handler_input.request_envelope.request
        status = getattr(getattr(request, "status", None), "code", None)
        payload = getattr(request, "payload", None) or {}
        answer = payload.get("status") if isinstance(payload, dict) else None
        plan = _plan_from_token(getattr(request, "token", None)) or reminders.plan_from(
            turn.session.get(PENDING_KEY)
        )
        logger.info("permission answer: status %s, %s", status, answer)
        if str(status) != "200":
            # This device cannot ask by voice: the card in the Alexa app is the way.
            return _permission_card(turn, "reminders.permission_card")
        if answer != "ACCEPTED":
            return _permission_card(turn, "reminders.permission_denied")
        if plan is None:
            logger.warning("permission granted but the reminder asked for is lost")
            return _fault(turn, Fault.UNAVAILABLE)
        return request_reminder(turn, plan, just_allowed=True)


def _plan_from_token(token: str | None) -> Plan | None:
    if not token:
        return None
    try:
        return reminders.plan_from(json.loads(token))
    except ValueError:
        return None


class YesToReminderOfferHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input) and _offered(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        plan = reminders.plan_from((turn.offer or {}).get("plan"))
        if plan is None:
            return _fault(turn, Fault.UNAVAILABLE)
        if plan.first < turn.now.date() or plan.starts() <= turn.now.replace(tzinfo=None):
            first = reminders.first_day(plan.clock, turn.now, plan.repeat, plan.days)
            plan = Plan(plan.routine_id, plan.clock, plan.repeat, first, plan.days)
        return request_reminder(turn, plan)


class NoToReminderOfferHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input) and _offered(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        after_routine = bool((turn.offer or {}).get("after_routine"))
        key = "reminders.offer_declined" if after_routine else "reminders.earlier_declined"
        return turn.respond(turn.phrase(key), end_session=True)


def _offered(handler_input: HandlerInput) -> bool:
    offer = Turn.of(handler_input).offer
    return isinstance(offer, dict) and offer.get("kind") == REMINDER_OFFER


def _mine(turn: Turn) -> list[reminders.Listed]:
    """This skill's live reminders that this user's record knows, soonest first; the record
    forgets tokens the API no longer lists (rung and done, or deleted in the Alexa app)."""
    known = set(turn.state.reminder_tokens)
    live = [r for r in map(reminders.listed, reminders.list_all(turn.handler_input)) if r]
    mine = [r for r in live if r.token in known]
    turn.state.reminder_tokens = [
        t for t in turn.state.reminder_tokens if t in {r.token for r in mine}
    ]
    return sorted(mine, key=lambda r: (r.clock, r.first))


class ListRemindersHandler(AbstractRequestHandler):
    """ "What reminders do I have?" """

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ListRemindersIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        reprompt = turn.phrase("common.welcome_reprompt")
        if not turn.state.reminder_tokens:
            return turn.respond(turn.phrase("reminders.none_set"), reprompt)
        if not reminders.can_call_api(handler_input):
            return _fault(turn, Fault.UNAVAILABLE)
        try:
            mine = _mine(turn)
        except ReminderApiError as exc:
            return _fault(turn, exc.fault)
        if not mine:
            return turn.respond(turn.phrase("reminders.none_set"), reprompt)
        items = spoken_list(turn, [_item(turn, r) for r in mine])
        if len(mine) == 1:
            return turn.respond(turn.phrase("reminders.list_one", reminders=items), reprompt)
        return turn.respond(
            turn.phrase(
                "reminders.list_many",
                count=number_words(len(mine), turn.language),
                reminders=items,
            ),
            reprompt,
        )


class CancelReminderHandler(AbstractRequestHandler):
    """ "Cancel my evening reminder", "cancel my morning stretches reminder", "stop reminding
    me". Only the reminders this coach set for this user are touched: by their stored tokens."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("CancelReminderIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if not turn.state.reminder_tokens:
            return turn.respond(
                turn.phrase("reminders.nothing_to_cancel"), turn.phrase("common.welcome_reprompt")
            )
        if not reminders.can_call_api(handler_input):
            return _fault(turn, Fault.UNAVAILABLE)
        part = self._part(turn)
        try:
            mine = _mine(turn)
            chosen = [r for r in mine if reminders.matches(r, part, turn.catalog.rules)]
            if not mine:
                return turn.respond(
                    turn.phrase("reminders.nothing_to_cancel"),
                    turn.phrase("common.welcome_reprompt"),
                )
            if not chosen:
                items = spoken_list(turn, [_item(turn, r) for r in mine])
                return turn.respond(
                    turn.phrase("reminders.no_such_reminder", reminders=items),
                    turn.phrase("reminders.no_such_reminder_reprompt"),
                )
            for reminder in chosen:
                reminders.delete(handler_input, reminder.token)
                turn.state.reminder_tokens.remove(reminder.token)
        except ReminderApiError as exc:
            return _fault(turn, exc.fault)
        logger.info("cancelled %d reminder(s)", len(chosen))
        items = spoken_list(turn, [_item(turn, r) for r in chosen])
        if len(chosen) == 1:
            return turn.respond(
                turn.phrase("reminders.cancelled_one", reminders=items), end_session=True
            )
        return turn.respond(
            turn.phrase(
                "reminders.cancelled_many",
                count=number_words(len(chosen), turn.language),
                reminders=items,
            ),
            end_session=True,
        )

    @staticmethod
    def _part(turn: Turn) -> str | None:
        """The part of the day the user named, by a time ("evening") or a routine; None: all."""
        time_value = (turn.slot_value("time") or "").upper()
        if time_value in reminders.PART_CODES:
            return reminders.PART_CODES[time_value]
        clock = parse_clock(time_value)
        if clock is not None:
            return turn.catalog.rules.day_part(clock)
        return reminders.part_of_routine(turn.catalog, turn.slot_id("routine"))


# Order matters: the builder places these after the routine, answer and care handlers (whose
# yes/no handlers answer only their own offers) and before common's catch-alls, which would
# otherwise take a Connections.Response (OtherRequestHandler) or a yes/no (NoHandler).
HANDLERS: list[AbstractRequestHandler] = [
    PermissionAnswerHandler(),
    YesToReminderOfferHandler(),
    NoToReminderOfferHandler(),
    SetReminderHandler(),
    ListRemindersHandler(),
    CancelReminderHandler(),
]

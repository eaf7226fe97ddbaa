"""Reminders: set one ("remind me every weekday at half seven in the morning"), put it right
("no, 7 in the evening", "make it 8", "cancel that"), move or change one ("move my stretching
reminder to 8"), list them, cancel them, and the Alexa permission they need (asked by voice, with
the Alexa app's card as the fallback).

What the words mean is :mod:`skill.reminder_words`' and :mod:`skill.reminders`' (with the API's
request body and faults); the shared steps are :mod:`skill.handlers.reminder_flow`; the words are
in speech/en/reminders.yaml. Every failure of the Reminders API is answered in a sentence and
leaves the user's routine progress alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

from skill import reminders
from skill.coach.exercise_speech import number_words
from skill.handlers import reminder_flow as flow
from skill.handlers.answers import spoken_list
from skill.reminder_words import read
from skill.reminders import Fault, Plan, ReminderApiError, Repeat
from skill.speech import Speech
from skill.turn import Turn

logger = logging.getLogger(__name__)

REMINDER_OFFER = flow.REMINDER_OFFER


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


def _part_words(turn: Turn, part: str) -> str:
    return turn.phrase(f"reminders.part_{part}")


# ---- setting a reminder ----------------------------------------------------------------------


def _heard_text(turn: Turn, *names: str) -> str:
    return " ".join(value for name in names if (value := turn.slot_value(name)))


def plan_request(turn: Turn, text: str, base: Plan | None = None) -> reminders.Planned:
    """The reminder ``text`` asks for (or ``base`` changed as it says), in the user's local time."""
    heard = read(text)
    # A new time with no routine named: the routine for that part of the day.
    kept = base.routine_id if base and (base.wind_down or not heard.says_time) else None
    routine_id = flow.routine_in(turn, text) or kept
    return reminders.plan_from_words(
        heard, routine_id, turn.catalog, turn.now, flow.bedtime(turn), base
    )


def _set_or_ask(turn: Turn, planned: reminders.Planned) -> Response:
    if planned.ask_days:
        return flow.ask_days(turn, planned.plan, planned.ask_days)
    if planned.inferred:
        return flow.confirm(turn, planned.plan)
    return flow.request_reminder(turn, planned.plan)


class SetReminderHandler(AbstractRequestHandler):
    """ "Remind me every morning at 7", "… on Mondays and Thursdays at 9", "… in an hour", "…
    to have a warm bath an hour before bed": the words are read whole (reminder_words.yaml)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("SetReminderIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        text = _heard_text(turn, "request", "duration")
        return _set_or_ask(turn, plan_request(turn, text))


class PermissionAnswerHandler(AbstractRequestHandler):
    """Alexa's answer to the AskFor permission request: set the reminder, or say how to allow
    reminders in the Alexa app (with the permission card). An acceptance is acted on only when
    the coach asked this user about exactly that reminder, and once: an answer nobody asked for,
    or the same answer again, sets nothing."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        return (
            is_request_type("Connections.Response")(handler_input)
            and getattr(request, "name", None) == flow.ASK_FOR
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        request = handler_input.request_envelope.request
        status = getattr(getattr(request, "status", None), "code", None)
        payload = getattr(request, "payload", None) or {}
        answer = payload.get("status") if isinstance(payload, dict) else None
        token = getattr(request, "token", None)
        asked = turn.state.reminder_asked
        turn.state.reminder_asked = None  # one answer per question, whatever it is
        pending = _plan_from_token(token) if token and token == asked else None
        logger.info("permission answer: status %s, %s", status, answer)
        if str(status) != "200":
            # This device cannot ask by voice: the card in the Alexa app is the way.
            return flow.permission_card(turn, "reminders.permission_card")
        if answer != "ACCEPTED":
            return flow.permission_card(turn, "reminders.permission_denied")
        if pending is None:
            logger.warning("a permission answer for no reminder this user was asked about")
            return turn.respond(
                turn.phrase("reminders.nothing_pending"), turn.phrase("common.welcome_reprompt")
            )
        return flow.request_reminder(turn, pending, just_allowed=True)


def _plan_from_token(token: str | None) -> Plan | None:
    if not token:
        return None
    try:
        return reminders.plan_from(json.loads(token))
    except ValueError:
        return None


def _offered(handler_input: HandlerInput) -> bool:
    offer = Turn.of(handler_input).offer
    return isinstance(offer, dict) and offer.get("kind") == REMINDER_OFFER


class YesToReminderOfferHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input) and _offered(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        offer = turn.offer or {}
        plan = reminders.plan_from(offer.get("plan"))
        if plan is None:
            return flow.fault(turn, Fault.UNAVAILABLE)
        if offer.get("ask_days"):
            return flow.ask_days(turn, plan, int(offer["ask_days"]))
        if plan.first < turn.now.date() or plan.starts() <= turn.now.replace(tzinfo=None):
            first = reminders.first_day(plan.clock, turn.now, plan.repeat, plan.days)
            plan = dataclasses.replace(plan, first=first)
        return flow.request_reminder(turn, plan)


class NoToReminderOfferHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input) and _offered(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        after_routine = bool((turn.offer or {}).get("after_routine"))
        key = "reminders.offer_declined" if after_routine else "reminders.earlier_declined"
        return turn.respond(turn.phrase(key), end_session=True)


# ---- changing one ----------------------------------------------------------------------------


class ChangeReminderHandler(AbstractRequestHandler):
    """ "No, 7 in the evening", "make it 8", "wrong day", "change it to weekdays only", "move my
    stretching reminder to 8". Changes the reminder being offered, else the one just set (or
    named as a duplicate), else the one of the user's reminders the words point to."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ChangeReminderIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        text = _heard_text(turn, "change")
        heard = read(text)
        offer = turn.offer if _offered(handler_input) else None
        focus = turn.session.get(flow.FOCUS_KEY)
        if not (heard.says_time or heard.says_days or heard.wind_down):
            if offer:
                turn.make_offer(**offer)
            key = "reminders.change_unclear" if text.strip() else "reminders.change_what"
            return turn.respond(turn.phrase(key), turn.phrase("reminders.change_what"))
        if offer and (base := reminders.plan_from(offer.get("plan"))):
            planned = plan_request(turn, text, base)
            return flow.request_reminder(turn, planned.plan)
        if isinstance(focus, dict) and (base := reminders.plan_from(focus.get("plan"))):
            planned = plan_request(turn, text, base)
            return flow.change(turn, str(focus.get("token")), planned.plan)
        return self._change_listed(turn, text)

    @staticmethod
    def _change_listed(turn: Turn, text: str) -> Response:
        if not turn.state.reminder_tokens:
            return turn.respond(
                turn.phrase("reminders.none_set"), turn.phrase("common.welcome_reprompt")
            )
        if not reminders.can_call_api(turn.handler_input):
            return flow.fault(turn, Fault.UNAVAILABLE)
        try:
            mine = flow.my_reminders(turn)
        except ReminderApiError as exc:
            return flow.fault(turn, exc.fault)
        routine_id = flow.routine_in(turn, text)
        part = reminders.part_of_routine(turn.catalog, routine_id)
        chosen = [r for r in mine if reminders.matches(r, part, turn.catalog.rules)]
        chosen = chosen if len(chosen) == 1 else [r for r in mine if len(mine) == 1]
        if not mine:
            return turn.respond(
                turn.phrase("reminders.none_set"), turn.phrase("common.welcome_reprompt")
            )
        if len(chosen) != 1:
            items = spoken_list(turn, [flow.when_words(turn, r) for r in mine])
            return turn.respond(
                turn.phrase("reminders.change_which", reminders=items),
                turn.phrase("reminders.change_what"),
            )
        [reminder] = chosen
        base = _plan_of(turn, reminder)
        planned = plan_request(turn, text, base)
        return flow.change(turn, reminder.token, planned.plan)


def _plan_of(turn: Turn, reminder: reminders.Listed) -> Plan:
    """A listed reminder as a plan, its routine read from what it says."""
    routine_id = flow.routine_in(turn, reminder.text)
    routine_id = (
        routine_id
        or turn.catalog.routine_for_day_part(turn.catalog.rules.day_part(reminder.clock)).id
    )
    wind_down = read(reminder.text).wind_down
    return Plan(
        routine_id,
        reminder.clock,
        reminder.repeat,
        reminder.first,
        reminder.days,
        reminder.interval,
        wind_down,
    )


# ---- listing and cancelling ------------------------------------------------------------------


class ListRemindersHandler(AbstractRequestHandler):
    """ "What reminders do I have?", "what time is my reminder?" """

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ListRemindersIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        reprompt = turn.phrase("common.welcome_reprompt")
        if not turn.state.reminder_tokens:
            return turn.respond(turn.phrase("reminders.none_set"), reprompt)
        if not reminders.can_call_api(handler_input):
            return flow.fault(turn, Fault.UNAVAILABLE)
        try:
            mine = flow.my_reminders(turn)
        except ReminderApiError as exc:
            return flow.fault(turn, exc.fault)
        if not mine:
            return turn.respond(turn.phrase("reminders.none_set"), reprompt)
        items = spoken_list(turn, [flow.when_words(turn, r) for r in mine])
        if len(mine) == 1:
            turn.session[flow.FOCUS_KEY] = {
                "token": mine[0].token,
                "plan": _plan_of(turn, mine[0]).to_json(),
            }
            return turn.respond(turn.phrase("reminders.list_one", reminders=items), reprompt)
        count = number_words(len(mine), turn.language)
        return turn.respond(
            turn.phrase("reminders.list_many", count=count, reminders=items), reprompt
        )


class CancelReminderHandler(AbstractRequestHandler):
    """ "Cancel that" (the reminder just set or being offered), "cancel my evening reminder",
    "stop reminding me". Only the reminders this coach set for this user are touched: by their
    stored tokens."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if is_intent_name("AMAZON.CancelIntent")(handler_input):  # "cancel that", just after
            offer = Turn.of(handler_input).offer or {}
            return offer.get("kind") in (REMINDER_OFFER, flow.JUST_SET_OFFER)
        return is_intent_name("CancelReminderIntent")(handler_input) or is_intent_name(
            "CancelThatReminderIntent"
        )(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        reprompt = turn.phrase("common.welcome_reprompt")
        that = turn.intent_name in ("CancelThatReminderIntent", "AMAZON.CancelIntent")
        if that and _offered(handler_input):
            return turn.respond(turn.phrase("reminders.not_set"), end_session=True)
        just_set = (turn.offer or {}).get("token") if turn.offer else None
        focus = turn.session.pop(flow.FOCUS_KEY, None)
        if that and just_set:
            return self._cancel_that(turn, str(just_set))
        if that and turn.intent_name != "AMAZON.CancelIntent" and isinstance(focus, dict):
            return self._cancel_that(turn, str(focus.get("token")))
        if that:  # nothing just set or offered: "cancel that" closes, as Alexa's Cancel does
            return turn.respond(turn.phrase("reminders.not_set"), end_session=True)
        if not turn.state.reminder_tokens:
            return turn.respond(turn.phrase("reminders.nothing_to_cancel"), reprompt)
        if not reminders.can_call_api(handler_input):
            return flow.fault(turn, Fault.UNAVAILABLE)
        part = self._part(turn)
        try:
            mine = flow.my_reminders(turn)
            chosen = [r for r in mine if reminders.matches(r, part, turn.catalog.rules)]
            if not mine:
                return turn.respond(turn.phrase("reminders.nothing_to_cancel"), reprompt)
            if not chosen:
                items = spoken_list(turn, [flow.when_words(turn, r) for r in mine])
                return turn.respond(
                    turn.phrase("reminders.no_such_reminder", reminders=items),
                    turn.phrase("reminders.no_such_reminder_reprompt"),
                )
            for reminder in chosen:
                reminders.delete(handler_input, reminder.token)
                turn.state.reminder_tokens.remove(reminder.token)
        except ReminderApiError as exc:
            return flow.fault(turn, exc.fault)
        logger.info("cancelled %d reminder(s)", len(chosen))
        items = spoken_list(turn, [flow.when_words(turn, r) for r in chosen])
        if len(chosen) == 1:
            return turn.respond(
                turn.phrase("reminders.cancelled_one", reminders=items), end_session=True
            )
        count = number_words(len(chosen), turn.language)
        return turn.respond(
            turn.phrase("reminders.cancelled_many", count=count, reminders=items),
            end_session=True,
        )

    @staticmethod
    def _cancel_that(turn: Turn, token: str) -> Response:
        try:
            reminders.delete(turn.handler_input, token)
        except ReminderApiError as exc:
            return flow.fault(turn, exc.fault)
        turn.state.reminder_tokens = [t for t in turn.state.reminder_tokens if t != token]
        logger.info("cancelled the reminder just set")
        return turn.respond(turn.phrase("reminders.cancelled_that"), end_session=True)

    @staticmethod
    def _part(turn: Turn) -> str | None:
        """The part of the day the user named, by a time ("evening") or a routine; None: all."""
        heard = read(turn.slot_value("time"))
        said = heard.clock_as_said()
        if heard.part:
            return heard.part
        if said is not None:
            return turn.catalog.rules.day_part(said[0])
        return reminders.part_of_routine(turn.catalog, turn.slot_id("routine"))


# Order matters: the builder places these after the routine, answer and care handlers (whose
# yes/no handlers answer only their own offers) and before common's catch-alls, which would
# otherwise take a Connections.Response (OtherRequestHandler) or a yes/no (NoHandler).
HANDLERS: list[AbstractRequestHandler] = [
    PermissionAnswerHandler(),
    YesToReminderOfferHandler(),
    NoToReminderOfferHandler(),
    SetReminderHandler(),
    ChangeReminderHandler(),
    ListRemindersHandler(),
    CancelReminderHandler(),
]

"""Your data: "what do you know about me", "delete my data" / "forget me" and "erase my progress".

Everything acts on the record this turn reads: a recognised voice's own record, else the
account's (see :func:`skill.stores.base.user_key`). Erasing asks once (a yes/no offer). "Delete
my data" first deletes the reminders this coach set, through the Reminders API where it can be
reached (and says which it could not), then the record itself; the turn then saves nothing
(:data:`ERASED_KEY`), so the next one is a first meeting. "Erase my progress" clears only where
the user stopped and the days they finished a routine. The words are in speech/en/privacy.yaml.
"""

from __future__ import annotations

import logging
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill import reminders
from skill.coach.exercise_speech import number_words
from skill.handlers.answers import clock_words, spoken_list
from skill.reminders import ReminderApiError
from skill.state import UserState
from skill.turn import Turn

logger = logging.getLogger(__name__)

# Offer kind (see skill.turn.OFFER_KEY): "yes" erases the offer's "scope", ALL or PROGRESS.
ERASE_OFFER = "erase"
ALL = "all"
PROGRESS = "progress"
# Request attribute: this turn erased the user's record, so nothing is saved after it and the
# disclaimer waits for the next turn (see skill.builder).
ERASED_KEY = "erased"
# What "erase my progress" clears.
PROGRESS_FIELDS = ("progress", "routine_place", "completions")
# Fields the summary and the card speak of by name; any other stored field (a choice added
# later) is "your other choices". The version is bookkeeping, not something about the user.
KNOWN_FIELDS = frozenset(
    {
        "version",
        "progress",
        "routine_place",
        "pace",
        "bedtime",
        "completions",
        "disclaimer_heard",
        "reminder_tokens",
        "reminder_offered",
        "hurt_on",
        "reminder_consent",
    }
)


def is_person(turn: Turn) -> bool:
    """Whether Alexa recognised the speaker, so that the record is this person's own."""
    system = turn.handler_input.request_envelope.context.system
    return bool(getattr(getattr(system, "person", None), "person_id", None))


def stored_fields(state: UserState) -> list[str]:
    """The record's fields that hold something about the user (differ from a first meeting)."""
    fresh = UserState().to_record()
    record = state.to_record()
    return [
        name for name, value in record.items() if name != "version" and value != fresh.get(name)
    ]


# ---- what is kept, in words ----------------------------------------------------------------------


def _place_name(turn: Turn) -> str:
    place = turn.state.progress or turn.state.routine_place
    catalog = turn.catalog
    if place is not None and place.routine_id in catalog.routines:
        return catalog.routines[place.routine_id].name
    if place is not None and place.exercise_id in catalog.exercises:
        return catalog.exercises[place.exercise_id].name
    return next(iter(catalog.routines.values())).name


def _count_words(turn: Turn, count: int, one: str, many: str) -> str:
    if count == 1:
        return turn.phrase(one)
    return turn.phrase(many, count=number_words(count, turn.language))


def spoken_items(turn: Turn, fields: list[str]) -> list[str]:
    """A short spoken list of what is kept: the things a user would recognise as theirs."""
    state, items = turn.state, []
    if "bedtime" in fields and state.bedtime_time() is not None:
        items.append(
            turn.phrase("privacy.item_bedtime", clock=clock_words(turn, state.bedtime_time()))
        )
    if "pace" in fields:
        items.append(
            turn.phrase("privacy.item_pace", pace=turn.phrase(f"privacy.pace_{state.pace}"))
        )
    if "progress" in fields or "routine_place" in fields:
        items.append(turn.phrase("privacy.item_place", routine=_place_name(turn)))
    if "completions" in fields:
        days = state.days_this_week(None, turn.now.date())
        if days:
            count = _count_words(turn, days, "privacy.days_one", "privacy.days_many")
            items.append(turn.phrase("privacy.item_week", days=count))
        else:
            items.append(turn.phrase("privacy.item_week_none"))
    if state.reminder_tokens:
        items.append(_reminder_words(turn, len(state.reminder_tokens)))
    if any(name not in KNOWN_FIELDS for name in fields):
        items.append(turn.phrase("privacy.item_other"))
    if not items and fields:  # only bookkeeping, such as having heard the disclaimer
        items.append(turn.phrase("privacy.item_first_meeting"))
    return items


def _reminder_words(turn: Turn, count: int) -> str:
    return _count_words(turn, count, "privacy.item_reminders_one", "privacy.item_reminders_many")


def card_lines(turn: Turn, fields: list[str]) -> list[str]:
    """Everything kept, one line each, for the card."""
    state, phrase = turn.state, turn.phrase
    who = "privacy.card_kept_for_person" if is_person(turn) else "privacy.card_kept_for_account"
    lines = [phrase(who)]
    if "bedtime" in fields and state.bedtime_time() is not None:
        lines.append(phrase("privacy.card_bedtime", clock=clock_words(turn, state.bedtime_time())))
    if "pace" in fields:
        lines.append(phrase("privacy.card_pace", pace=phrase(f"privacy.pace_{state.pace}")))
    place = state.progress or state.routine_place
    if place is not None:
        lines.append(phrase("privacy.card_place", routine=_place_name(turn), step=place.step + 1))
    dates = sorted({day for days in state.completions.values() for day in days})
    if dates:
        lines.append(phrase("privacy.card_completions", dates=", ".join(dates)))
    if state.reminder_tokens:
        lines.append(phrase("privacy.card_reminders", count=len(state.reminder_tokens)))
    if state.reminder_consent:
        lines.append(phrase(f"privacy.card_reminder_consent_{state.reminder_consent}"))
    if state.reminder_offered:
        lines.append(phrase("privacy.card_reminder_offered"))
    if state.hurt_on:
        lines.append(phrase("privacy.card_hurt_on", date=state.hurt_on))
    if state.disclaimer_heard:
        lines.append(phrase("privacy.card_disclaimer"))
    others = [name.replace("_", " ") for name in fields if name not in KNOWN_FIELDS]
    if others:
        lines.append(phrase("privacy.card_other", names=", ".join(others)))
    lines.append(phrase("privacy.card_footer", days=turn.settings.retention_days))
    return lines


# ---- erasing -------------------------------------------------------------------------------------


def delete_reminders(turn: Turn) -> int:
    """Delete the reminders this coach set for this user; how many could not be deleted (the
    Reminders API out of reach, or no permission). Only the stored tokens are touched."""
    tokens = list(turn.state.reminder_tokens)
    if not tokens:
        return 0
    if not reminders.can_call_api(turn.handler_input):
        return len(tokens)
    left = 0
    for token in tokens:
        try:
            reminders.delete(turn.handler_input, token)
        except ReminderApiError as exc:
            logger.warning("could not delete a reminder while erasing: %s", exc.fault.value)
            left += 1
    return left


def erase_record(handler_input: HandlerInput) -> None:
    """Delete this turn's record from the store, and save nothing after it this turn."""
    attributes = handler_input.attributes_manager
    attributes.delete_persistent_attributes()
    attributes.request_attributes[ERASED_KEY] = True


def erase_progress(state: UserState) -> None:
    state.progress = None
    state.routine_place = None
    state.completions = {}


def _erase_all(turn: Turn) -> Response:
    items = spoken_items(turn, stored_fields(turn.state))
    left = delete_reminders(turn)
    try:
        erase_record(turn.handler_input)
    except PersistenceException:
        logger.exception("could not erase the user's record")
        return turn.respond(turn.phrase("common.store_error"), end_session=True)
    logger.info("erased a user's record (%d reminder(s) left in Alexa)", left)
    speech = turn.phrase("privacy.erased_all", items=spoken_list(turn, items))
    if left:
        words = _reminder_words(turn, left)
        speech = f"{turn.phrase('privacy.reminders_left', reminders=words)} {speech}"
    return turn.respond(speech, end_session=True, remember=False)


# ---- handlers ------------------------------------------------------------------------------------


class PrivacySummaryHandler(AbstractRequestHandler):
    """ "What do you know about me?": a short spoken list, and everything on the card."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("PrivacySummaryIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        fields = stored_fields(turn.state)
        reprompt = turn.phrase("privacy.summary_reprompt")
        items = spoken_items(turn, fields)
        if not items:
            return turn.respond(turn.phrase("privacy.summary_nothing"), reprompt)
        key = "privacy.summary_person" if is_person(turn) else "privacy.summary"
        card = (turn.phrase("privacy.card_title"), "\n".join(card_lines(turn, fields)))
        return turn.respond(turn.phrase(key, items=spoken_list(turn, items)), reprompt, card=card)


class DeleteMyDataHandler(AbstractRequestHandler):
    """ "Delete my data", "forget me": asks once before erasing everything."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("DeleteMyDataIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        items = spoken_items(turn, stored_fields(turn.state))
        if not items:
            return turn.respond(
                turn.phrase("privacy.nothing_to_erase"), turn.phrase("privacy.kept_reprompt")
            )
        turn.make_offer(ERASE_OFFER, scope=ALL)
        return turn.respond(
            turn.phrase("privacy.confirm_all", items=spoken_list(turn, items)),
            turn.phrase("privacy.confirm_all_reprompt"),
            remember=False,
        )


class EraseProgressHandler(AbstractRequestHandler):
    """ "Erase my progress": asks once before clearing where they stopped and the days done."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("EraseProgressIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if not set(PROGRESS_FIELDS) & set(stored_fields(turn.state)):
            return turn.respond(
                turn.phrase("privacy.no_progress_to_erase"), turn.phrase("privacy.kept_reprompt")
            )
        turn.make_offer(ERASE_OFFER, scope=PROGRESS)
        return turn.respond(
            turn.phrase("privacy.confirm_progress"),
            turn.phrase("privacy.confirm_progress_reprompt"),
            remember=False,
        )


def _erase_offered(handler_input: HandlerInput) -> dict[str, Any] | None:
    offer = Turn.of(handler_input).offer
    return offer if isinstance(offer, dict) and offer.get("kind") == ERASE_OFFER else None


class YesToEraseHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input) and bool(
            _erase_offered(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        offer = _erase_offered(handler_input) or {}
        if offer.get("scope") == ALL:
            return _erase_all(turn)
        erase_progress(turn.state)
        return turn.respond(
            turn.phrase("privacy.erased_progress"),
            turn.phrase("privacy.erased_progress_reprompt"),
        )


class NoToEraseHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input) and bool(
            _erase_offered(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        return turn.respond(turn.phrase("privacy.kept"), turn.phrase("privacy.kept_reprompt"))


# Order matters: the builder puts the yes/no answers with the other answers to the coach's own
# offers (they act only on an erase offer), and the intents with the other named intents.
OFFER_HANDLERS: list[AbstractRequestHandler] = [YesToEraseHandler(), NoToEraseHandler()]
HANDLERS: list[AbstractRequestHandler] = [
    PrivacySummaryHandler(),
    DeleteMyDataHandler(),
    EraseProgressHandler(),
]

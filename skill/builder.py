"""``build_skill``: the one place where the skill is assembled, for the webhook and for Lambda."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import unicodedata
from dataclasses import dataclass
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import (
    AbstractRequestHandler,
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import IntentRequest, RequestEnvelope, Response, ResponseEnvelope
from ask_sdk_model.services import ApiClient
from ask_sdk_model.ui import SsmlOutputSpeech

from skill.alexa_api import TimeoutApiClient, start_turn_budget, turn_changed_something
from skill.catalog.loader import default_catalog
from skill.catalog.model import Catalog
from skill.clock import local_now
from skill.handlers import (
    answers,
    care,
    choices,
    common,
    events,
    free_text,
    navigate,
    privacy,
    reminders,
    routine,
    sounds,
)
from skill.logsafe import hashed
from skill.screens import TouchInterceptor
from skill.settings import Settings, SettingsError
from skill.speech import Speech, SpeechError, prefixed
from skill.state import UnreadableRecordError, UserState, load_state, record_problems
from skill.stores import (
    QUARANTINE_KEY,
    REVISION_KEY,
    UNDECODABLE_KEY,
    SaveConflictError,
    open_store,
)
from skill.turn import TURN_KEY, Turn

logger = logging.getLogger(__name__)
LOADED_RECORD_KEY = "loaded_record"
LOADED_REVISION_KEY = "loaded_revision"
UNREADABLE_KEY = "record_unreadable"


# What no one can see or hear but can still reorder or hide text: format characters (right-to-
# left overrides, zero-width spaces and joiners, byte-order marks, tag characters), control,
# private-use, surrogate and unassigned code points, variation selectors and the Hangul fillers.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn"})
_INVISIBLE_EXTRA = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u034f"})
_LINE_BREAKS = frozenset({"Zl", "Zp"})


def visible_text(text: str) -> str:
    """``text`` without invisible characters; line and paragraph separators and control
    whitespace become spaces, so words on either side stay apart."""
    if text.isascii() and text.isprintable():
        return text
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in _LINE_BREAKS or (category == "Cc" and char.isspace()):
            kept.append(" ")
        elif not (
            category in _INVISIBLE_CATEGORIES
            or char in _INVISIBLE_EXTRA
            or 0xFE00 <= ord(char) <= 0xFE0F
            or 0xE0100 <= ord(char) <= 0xE01EF
        ):
            kept.append(char)
    return "".join(kept)


class VisibleWordsInterceptor(AbstractRequestInterceptor):
    """Removes invisible characters from what the user said (every slot's words, its resolved
    names, its multi-value words) where the words enter the skill, so no handler, speech, card
    or screen ever sees them."""

    def process(self, handler_input: HandlerInput) -> None:
        request = handler_input.request_envelope.request
        if not isinstance(request, IntentRequest) or request.intent is None:
            return
        for slot in (request.intent.slots or {}).values():
            if slot is not None:
                _clean_slot_value(slot)


def _clean_slot_value(node: Any) -> None:
    """Clean ``value`` on a slot or slot value, its resolutions' names, and nested values."""
    if isinstance(getattr(node, "value", None), str):
        node.value = visible_text(node.value)
    resolutions = getattr(node, "resolutions", None)
    for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
        for wrapper in authority.values or []:
            if wrapper.value is not None and isinstance(wrapper.value.name, str):
                wrapper.value.name = visible_text(wrapper.value.name)
    nested = getattr(node, "slot_value", None)
    if nested is not None:
        _clean_slot_value(nested)
    for item in getattr(node, "values", None) or []:
        _clean_slot_value(item)


class TurnInterceptor(AbstractRequestInterceptor):
    """Loads the user's stored state and gathers the turn's context, once per request.

    A stored record that cannot be read (it fails the schema, or the store could not decode it)
    is never overwritten: the turn starts from a fresh state, the record is kept aside under
    ``QUARANTINE_KEY`` of the record saved in its place (and carried on by every later save), the
    log says so, and the user hears that something went wrong."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings

    def process(self, handler_input: HandlerInput) -> None:
        attributes = handler_input.attributes_manager
        store_failed = False
        record: Any = {}
        try:
            record = attributes.persistent_attributes or {}
        except PersistenceException:
            logger.exception("could not read the user's stored state")
            store_failed = True
        request = handler_input.request_envelope.request
        locale = (getattr(request, "locale", None) or "en-US").split("-")[0].lower()
        state, quarantine, state_unreadable = _read_record(record, handler_input)
        turn = Turn(
            handler_input=handler_input,
            catalog=self.catalog,
            settings=self.settings,
            state=state,
            now=local_now(handler_input, self.settings),
            language=locale if locale in self.catalog.speech else "en",
            store_failed=store_failed,
        )
        attributes.request_attributes[TURN_KEY] = turn
        # What the state saves as now, to compare with at the end of the turn.
        attributes.request_attributes[LOADED_RECORD_KEY] = state.to_record()
        # The save is conditional on it: progress this turn did not read is never overwritten.
        revision = record.get(REVISION_KEY, 0) if isinstance(record, dict) else 0
        attributes.request_attributes[LOADED_REVISION_KEY] = revision
        if quarantine is not None:
            attributes.request_attributes[QUARANTINE_KEY] = quarantine
        attributes.request_attributes[UNREADABLE_KEY] = state_unreadable


def _read_record(record: Any, handler_input: HandlerInput) -> tuple[UserState, Any, bool]:
    """The state in ``record``, what the next save must keep aside (None: nothing), and whether
    the record could not be read."""
    kept = record.get(QUARANTINE_KEY) if isinstance(record, dict) else None
    try:
        if isinstance(record, dict) and UNDECODABLE_KEY in record:
            raise UnreadableRecordError("the store could not decode it")
        return load_state(record), kept, False
    except UnreadableRecordError as exc:
        context = handler_input.request_envelope.context
        system = context.system if context else None
        user = system.user.user_id if system and system.user else None
        logger.error(
            "the stored record of user %s cannot be read (%s); keeping it aside and starting fresh",
            hashed(user or ""),
            exc,
        )
        unreadable = record.get(UNDECODABLE_KEY, record) if isinstance(record, dict) else record
        if isinstance(unreadable, dict):
            unreadable = {
                key: value
                for key, value in unreadable.items()
                if key not in (REVISION_KEY, QUARANTINE_KEY)
            }
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        aside = {"at": at, "reason": str(exc), "record": unreadable}
        # An earlier quarantine stays with the newest: nothing kept aside is ever dropped.
        return UserState(), ({**aside, "earlier": kept} if kept is not None else aside), True


class FirstTurnInterceptor(AbstractResponseInterceptor):
    """A new user's first spoken turn, whatever it is (a launch, or a one-shot "can I swim
    tonight?"), opens with the one-sentence disclaimer; after that, only "disclaimer" replays it."""

    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        request_attributes = handler_input.attributes_manager.request_attributes
        turn = request_attributes.get(TURN_KEY)
        if (
            not isinstance(turn, Turn)
            or response is None
            or turn.state.disclaimer_heard
            or turn.store_failed
        ):
            return
        if request_attributes.get(UNREADABLE_KEY):  # the turn ends in an apology instead
            return
        if request_attributes.get(privacy.ERASED_KEY):
            return  # the record was just erased: the next turn is the first meeting
        speech = response.output_speech
        if not isinstance(speech, SsmlOutputSpeech) or not speech.ssml:
            return
        try:
            speech.ssml = prefixed(speech.ssml, Speech().say(turn.phrase("common.disclaimer")))
        except SpeechError:
            logger.warning("no room for the disclaimer in this response; it will come next turn")
            return
        turn.state.disclaimer_heard = True


class SaveStateInterceptor(AbstractResponseInterceptor):
    """Saves the user's state after every turn in which it changed (not only at SessionEnded,
    which some devices never send). If the store fails, the user hears that instead of silence.
    Nothing is saved after a failed read, nor a record that could not be read back (a value from
    outside, such as a reminder token, that fails the schema). A save carries the revision the
    turn read, so the store refuses it if another device saved in the meantime (see
    :mod:`skill.stores.base`); the turn is then run once more on the fresh record
    (:class:`CoachSkill`) before the user hears an apology."""

    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        attributes = handler_input.attributes_manager
        turn = attributes.request_attributes.get(TURN_KEY)
        if not isinstance(turn, Turn) or attributes.request_attributes.get(privacy.ERASED_KEY):
            return  # nothing to save after erasing the record (privacy, skill events)
        record = turn.state.to_record()
        if turn.store_failed:
            self._apologise(turn, response)
            return
        quarantine = attributes.request_attributes.get(QUARANTINE_KEY)
        newly_unreadable = attributes.request_attributes.get(UNREADABLE_KEY, False)
        if record == attributes.request_attributes.get(LOADED_RECORD_KEY) and not newly_unreadable:
            return
        problems = record_problems(record)
        if problems:
            logger.error("not saving a record that could not be read back: %s", problems)
            self._apologise(turn, response)
            return
        try:
            revision = attributes.request_attributes[LOADED_REVISION_KEY]
            saved = {**record, REVISION_KEY: revision}
            if quarantine is not None:
                saved[QUARANTINE_KEY] = quarantine
            attributes.persistent_attributes = saved
            attributes.save_persistent_attributes()
        except SaveConflictError:
            attempt = _ATTEMPT.get()
            if attempt is not None and attempt.retry_on_conflict():
                logger.info("another device saved first; running the turn again on its record")
                return
            logger.exception("could not save the user's state")
            self._apologise(turn, response)
            return
        except PersistenceException:
            logger.exception("could not save the user's state")
            self._apologise(turn, response)
            return
        if newly_unreadable:
            self._apologise(turn, response)

    @staticmethod
    def _apologise(turn: Turn, response: Response | None) -> None:
        if response is None:
            return
        response.output_speech = SsmlOutputSpeech(
            ssml=Speech().say(turn.phrase("common.store_error")).ssml()
        )


def handler_list(store: AbstractPersistenceAdapter | None = None) -> list[AbstractRequestHandler]:
    """Every request handler, in the ONE order the SDK tries them: the first whose can_handle is
    true takes the request. Why this order:

    1. Pain and feeling unwell stop whatever is going on, so they come before everything; free
       words come next, so that they are judged (safety first) even mid-routine.
    2. Answers to the coach's own yes/no offers: an offer is the most specific state there is.
    3. Launch with saved progress, before common's plain Launch (far below).
    4. Starting commands work in any state: starting something new replaces what was running.
    5. Words that mean "in the routine" route on the guiding state; each has a not-guiding
       counterpart further down (NothingToResume, NotGuiding), so the word still gets a helpful
       answer. "Next" comes before Resume: within a session, "continue" means "next".
    6. Pace and repeat work everywhere; they come after the guiding-only handlers for clarity.
    7. Then the answers, care and reminders, which route on their own intents and offers; Help,
       Stop and Fallback outside a routine are common's, and the catch-alls come last.
    8. Your data ("what do you know about me", "delete my data") answers its own intents, its
       yes/no only its own erase offer (with the other offers, in 2); skill events route on their
       request types, before common's catch-all for other request types. ``store`` is the
       persistence adapter, through which a disabled account's every record is erased.
    """
    return [
        *care.SAFETY_HANDLERS,
        *free_text.HANDLERS,
        # A skip that gives pain as its reason is pain first, in any state.
        choices.PainSkipHandler(),
        routine.PainCheckAnswerHandler(),
        *choices.OFFER_HANDLERS,
        routine.YesToCoachOfferHandler(),
        routine.NoToCoachOfferHandler(),
        *privacy.OFFER_HANDLERS,
        routine.LaunchWithProgressHandler(),
        routine.StartRoutineHandler(),
        routine.GuideExerciseHandler(),
        routine.StartAnywayHandler(),
        routine.ShortSessionHandler(),
        *choices.HANDLERS,
        navigate.NextHandler(),
        routine.ResumeHandler(),
        routine.NothingToResumeHandler(),
        navigate.SkipExerciseHandler(),
        navigate.PreviousHandler(),
        navigate.StartOverHandler(),
        navigate.PauseHandler(),
        navigate.WaitHandler(),
        navigate.RoutineStopHandler(),
        navigate.WhereAmIHandler(),
        navigate.WhatsLeftHandler(),
        navigate.RoutineHelpHandler(),
        navigate.RoutineFallbackHandler(),
        navigate.PaceHandler(),
        navigate.NormalPaceHandler(),
        navigate.RepeatHandler(),
        navigate.NotGuidingHandler(),
        *answers.HANDLERS,
        *care.HANDLERS,
        *sounds.HANDLERS,
        *reminders.HANDLERS,
        *privacy.HANDLERS,
        *events.handlers(store),
        *common.HANDLERS,
    ]


@dataclass
class _Attempt:
    """One run of a turn through the skill: the first may be run again after a lost save."""

    first: bool
    conflicted: bool = False

    def retry_on_conflict(self) -> bool:
        """Whether a save conflict should run the turn again (and so nothing is apologised for
        now): only the first run, and only if the turn asked no Alexa API to change anything,
        which a second run would do again."""
        if not self.first or turn_changed_something():
            return False
        self.conflicted = True
        return True


_ATTEMPT: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "turn_attempt", default=None
)


class CoachSkill(CustomSkill):
    """The SDK's skill, running a turn once more when its save lost a race with another device
    of the same user (two Echos in one household): the second run reads the record the other
    device saved, so both turns count, rather than one of them ending in an apology. The turn's
    budget for Alexa API calls covers both runs."""

    def invoke(self, request_envelope: RequestEnvelope, context: Any) -> ResponseEnvelope:
        start_turn_budget()
        first = _Attempt(first=True)
        token = _ATTEMPT.set(first)
        try:
            response = super().invoke(request_envelope=request_envelope, context=context)
        finally:
            _ATTEMPT.reset(token)
        if not first.conflicted:
            return response
        token = _ATTEMPT.set(_Attempt(first=False))
        try:
            return super().invoke(request_envelope=request_envelope, context=context)
        finally:
            _ATTEMPT.reset(token)


class CoachSkillBuilder(CustomSkillBuilder):
    """The SDK's builder, making a :class:`CoachSkill`."""

    def create(self) -> CoachSkill:
        return CoachSkill(skill_configuration=self.skill_configuration)


def skill_builder(
    catalog: Catalog | None = None,
    store: AbstractPersistenceAdapter | None = None,
    settings: Settings | None = None,
    api_client: ApiClient | None = None,
    *,
    check_skill_id: bool = False,
) -> CustomSkillBuilder:
    """The configured SDK builder: ``.create()`` gives the skill, ``.lambda_handler()`` the AWS
    Lambda entry point. ``store`` defaults to the one named by ``settings.store_url``;
    ``api_client`` (for the Alexa Settings API) to one with ``settings.settings_api_timeout``.

    ``check_skill_id`` makes the SDK itself refuse requests for any other skill. Lambda turns it
    on (nothing else checks the id there); the webhook leaves it off because its request verifier
    checks the id before the skill ever sees the request.
    """
    catalog = catalog or default_catalog()
    settings = settings or Settings()
    if check_skill_id and not settings.skill_id:
        raise SettingsError(
            "RLS_COACH_SKILL_ID is not set: it is required here so that only your skill is "
            "answered (amzn1.ask.skill.xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        )
    store = store or open_store(settings.store_url)
    builder = CoachSkillBuilder(
        persistence_adapter=store,
        api_client=api_client or TimeoutApiClient(timeout=settings.settings_api_timeout),
    )
    if check_skill_id:
        # ask-sdk declares skill_id only by its None default, so mypy takes it for None.
        builder.skill_id = settings.skill_id  # type: ignore[assignment]
    for handler in handler_list(store):
        builder.add_request_handler(handler)
    builder.add_exception_handler(common.ApologyExceptionHandler())
    # A tapped button becomes its spoken word's intent before the turn is read and routed.
    builder.add_global_request_interceptor(TouchInterceptor())
    builder.add_global_request_interceptor(VisibleWordsInterceptor())
    builder.add_global_request_interceptor(TurnInterceptor(catalog, settings))
    # Order matters: the disclaimer marks the state as heard before the state is saved.
    builder.add_global_response_interceptor(FirstTurnInterceptor())
    builder.add_global_response_interceptor(SaveStateInterceptor())
    return builder


def build_skill(
    catalog: Catalog | None = None,
    store: AbstractPersistenceAdapter | None = None,
    settings: Settings | None = None,
    api_client: ApiClient | None = None,
) -> CustomSkill:
    """Assemble the skill. ``store`` defaults to the one named by ``settings.store_url``;
    ``api_client`` (for the Alexa Settings API) to one with ``settings.settings_api_timeout``."""
    return skill_builder(catalog, store, settings, api_client).create()

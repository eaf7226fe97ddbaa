"""``build_skill``: the one place where the skill is assembled, for the webhook and for Lambda."""

from __future__ import annotations

import logging

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
from ask_sdk_model import Response
from ask_sdk_model.services import ApiClient
from ask_sdk_model.ui import SsmlOutputSpeech

from skill.alexa_api import TimeoutApiClient
from skill.catalog.loader import default_catalog
from skill.catalog.model import Catalog
from skill.clock import local_now
from skill.handlers import (
    answers,
    care,
    choices,
    common,
    free_text,
    navigate,
    reminders,
    routine,
)
from skill.screens import TouchInterceptor
from skill.settings import Settings, SettingsError
from skill.speech import Speech, SpeechError, prefixed
from skill.state import state_from_record
from skill.stores import REVISION_KEY, open_store
from skill.turn import TURN_KEY, Turn

logger = logging.getLogger(__name__)
LOADED_RECORD_KEY = "loaded_record"
LOADED_REVISION_KEY = "loaded_revision"


class TurnInterceptor(AbstractRequestInterceptor):
    """Loads the user's stored state and gathers the turn's context, once per request."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings

    def process(self, handler_input: HandlerInput) -> None:
        attributes = handler_input.attributes_manager
        store_failed = False
        record: dict = {}
        try:
            record = attributes.persistent_attributes or {}
        except PersistenceException:
            logger.exception("could not read the user's stored state")
            store_failed = True
        request = handler_input.request_envelope.request
        locale = (getattr(request, "locale", None) or "en-US").split("-")[0].lower()
        state = state_from_record(record)
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


class FirstTurnInterceptor(AbstractResponseInterceptor):
    """A new user's first spoken turn, whatever it is (a launch, or a one-shot "can I swim
    tonight?"), opens with the one-sentence disclaimer; after that, only "disclaimer" replays it."""

    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        turn: Turn | None = handler_input.attributes_manager.request_attributes.get(TURN_KEY)
        if turn is None or response is None or turn.state.disclaimer_heard or turn.store_failed:
            return
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
    Nothing is saved after a failed read, and a save carries the revision the turn read, so the
    store refuses it if another device saved in the meantime (see :mod:`skill.stores.base`)."""

    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        attributes = handler_input.attributes_manager
        turn: Turn | None = attributes.request_attributes.get(TURN_KEY)
        if turn is None:
            return
        record = turn.state.to_record()
        if turn.store_failed:
            self._apologise(turn, response)
            return
        if record == attributes.request_attributes.get(LOADED_RECORD_KEY):
            return
        try:
            revision = attributes.request_attributes[LOADED_REVISION_KEY]
            attributes.persistent_attributes = {**record, REVISION_KEY: revision}
            attributes.save_persistent_attributes()
        except PersistenceException:
            logger.exception("could not save the user's state")
            self._apologise(turn, response)

    @staticmethod
    def _apologise(turn: Turn, response: Response | None) -> None:
        if response is None:
            return
        response.output_speech = SsmlOutputSpeech(
            ssml=Speech().say(turn.phrase("common.store_error")).ssml()
        )


def handler_list() -> list[AbstractRequestHandler]:
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
        *reminders.HANDLERS,
        *common.HANDLERS,
    ]


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
    builder = CustomSkillBuilder(
        persistence_adapter=store or open_store(settings.store_url),
        api_client=api_client or TimeoutApiClient(timeout=settings.settings_api_timeout),
    )
    if check_skill_id:
        builder.skill_id = settings.skill_id
    for handler in handler_list():
        builder.add_request_handler(handler)
    builder.add_exception_handler(common.ApologyExceptionHandler())
    # A tapped button becomes its spoken word's intent before the turn is read and routed.
    builder.add_global_request_interceptor(TouchInterceptor())
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

"""Handlers that apply anywhere: launch, help, stop, disclaimer, fallback, and the catch-alls."""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.speech import Speech
from skill.turn import Turn

logger = logging.getLogger(__name__)


class LaunchHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        key = "common.welcome_back" if turn.state.disclaimer_heard else "common.welcome"
        # A new user's first turn opens with the disclaimer (the builder's FirstTurnInterceptor).
        speech = Speech().say(turn.phrase(key))
        return turn.respond(speech, Speech().say(turn.phrase("common.welcome_reprompt")))


class HelpHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.HelpIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        return turn.respond(turn.phrase("common.help"), turn.phrase("common.help_reprompt"))


class DisclaimerHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("DisclaimerIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        turn.state.disclaimer_heard = True
        speech = Speech().say(turn.phrase("common.disclaimer"), turn.phrase("common.anything_else"))
        return turn.respond(speech, Speech().say(turn.phrase("common.welcome_reprompt")))


class StopHandler(AbstractRequestHandler):
    """Stop, Cancel and NavigateHome all end the conversation politely."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(
            is_intent_name(name)(handler_input)
            for name in ("AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent")
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        return turn.respond(turn.phrase("common.goodbye"), end_session=True)


class NoHandler(AbstractRequestHandler):
    """ "No" to a question that made no offer, such as the welcome's "Would you like your
    stretches…?": the user is done, so say goodbye rather than "I didn't catch that". (No to an
    offer, and no while guiding a routine, are taken earlier in the handler list.)"""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        return turn.respond(turn.phrase("common.goodbye"), end_session=True)


class YesHandler(AbstractRequestHandler):
    """ "Yes" to a question that made no offer ("Would you like your stretches, an exercise
    explained, or a tip?"): heard fine, so no "I didn't catch that"; say what to ask for."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        return turn.respond(
            turn.phrase("common.yes_to_nothing"),
            turn.phrase("common.fallback_reprompt"),
            remember=False,
        )


class SessionEndedHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        reason = getattr(request, "reason", None)
        error = getattr(request, "error", None)
        if error is not None:
            logger.warning("session ended with error: %s", error)
        logger.debug("session ended: %s", reason)
        return handler_input.response_builder.response


class FallbackHandler(AbstractRequestHandler):
    """AMAZON.FallbackIntent, and any intent no other handler took (it must come last)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if turn.intent_name != "AMAZON.FallbackIntent":
            logger.info("no handler for intent %s in this state", turn.intent_name)
        return turn.respond(
            turn.phrase("common.fallback"), turn.phrase("common.fallback_reprompt"), remember=False
        )


class OtherRequestHandler(AbstractRequestHandler):
    """Any other request type (e.g. System.ExceptionEncountered): a valid, empty response."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        logger.info("ignoring request type %s", request.object_type if request else None)
        return handler_input.response_builder.response


class ApologyExceptionHandler(AbstractExceptionHandler):
    """Any exception in a handler: logged with its stack trace, and the user hears an apology."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        logger.error("error while handling a request", exc_info=exception)
        turn = handler_input.attributes_manager.request_attributes.get("turn")
        key_speech, key_reprompt = "common.error", "common.error_reprompt"
        if not isinstance(turn, Turn):
            from skill.catalog.loader import default_catalog  # noqa: PLC0415 - only on the error path

            speech = default_catalog().phrases(key_speech)[0]
            reprompt = default_catalog().phrases(key_reprompt)[0]
            builder = handler_input.response_builder
            builder.speak(Speech().say(speech).ssml()).ask(Speech().say(reprompt).ssml())
            return builder.set_should_end_session(False).response
        return turn.respond(turn.phrase(key_speech), turn.phrase(key_reprompt), remember=False)


# Order matters: the first handler whose can_handle is true takes the request. These go after the
# routine and answer handlers, which route on state; the catch-alls come last.
HANDLERS: list[AbstractRequestHandler] = [
    LaunchHandler(),
    SessionEndedHandler(),
    DisclaimerHandler(),
    HelpHandler(),
    StopHandler(),
    NoHandler(),
    YesHandler(),
    FallbackHandler(),
    OtherRequestHandler(),
]

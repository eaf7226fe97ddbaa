"""Sound cues on or off ("no sounds", "sounds on"): remembered for the user, heard from the next
set on. The cues themselves are :mod:`skill.coach.cues`'; every sentence here is
``speech/en/common.yaml``'s.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.handlers.guiding import guiding
from skill.speech import Speech
from skill.turn import Turn


class SoundsHandler(AbstractRequestHandler):
    """ "No sounds" / "sounds on": in a routine, the routine carries on where it is."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("SoundsOffIntent")(handler_input) or is_intent_name("SoundsOnIntent")(
            handler_input
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        turn.state.sounds = is_intent_name("SoundsOnIntent")(handler_input)
        said = Speech().say(
            turn.phrase("common.sounds_on" if turn.state.sounds else "common.sounds_off")
        )
        if guiding(turn):
            ready = Speech().say(turn.phrase("routine.question_close"))
            return turn.respond(said.extend(ready), ready, remember=False)
        closing = Speech().say(turn.phrase("common.anything_else"))
        return turn.respond(said.extend(closing), closing)


HANDLERS: list[AbstractRequestHandler] = [SoundsHandler()]

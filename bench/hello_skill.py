"""The floor: the smallest honest Alexa skill built with ask-sdk-core, and stateless.

A launch request and one intent, each answered by a handler class, assembled by the SDK's
``SkillBuilder`` with nothing else: no persistence, no Alexa API, the SDK's own serializer. Its
Lambda entry is the SDK's ``lambda_handler()``, as in Amazon's hello-world sample. It is reported
for scale only: no skill that remembers its users can cost this little. The peer
(``bench/peer_skill.py``) is these handlers doing what the coach must do each turn.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

HELLO_INTENT = "HelloWorldIntent"


class LaunchRequestHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        speech = "Welcome. You can say hello."
        return handler_input.response_builder.speak(speech).ask(speech).response


class HelloWorldIntentHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name(HELLO_INTENT)(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        builder = handler_input.response_builder
        return builder.speak("Hello world!").set_should_end_session(True).response


def skill_builder() -> SkillBuilder:
    builder = SkillBuilder()
    builder.add_request_handler(LaunchRequestHandler())
    builder.add_request_handler(HelloWorldIntentHandler())
    return builder


def build_skill() -> CustomSkill:
    return skill_builder().create()


handler = skill_builder().lambda_handler()

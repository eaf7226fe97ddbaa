"""Tips, one point per answer with an offer of the next, and the doctor answer for medicines,
conditions and intake ("talk to your doctor", never more).
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.catalog.model import Medicine, TipTopic
from skill.handlers.aside import THEN_OFFER, answered, second_request_waits
from skill.handlers.guiding import guiding
from skill.handlers.speaking import offer_kind_is
from skill.screens import answer_screen
from skill.speech import Speech, capitalized
from skill.turn import Turn

TIP_CURSOR_KEY = "tip_cursor"  # session: topic id → index of the next point to give
MEDICATION_TOPIC = "medication"
# The offers "no" declines here, and what the coach says to it.
DECLINED = {
    "tip": "answers.tips_declined",
    "guide_exercise": "answers.guide_declined",
    THEN_OFFER: "answers.then_declined",
}


def _cursor(turn: Turn) -> dict[str, int]:
    cursor = turn.session.get(TIP_CURSOR_KEY)
    if not isinstance(cursor, dict):
        cursor = {}
        turn.session[TIP_CURSOR_KEY] = cursor
    return cursor


def _heard(turn: Turn, topic: TipTopic) -> int:
    value = _cursor(turn).get(topic.id, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def next_general_tip(turn: Turn, exclude: str | None = None) -> tuple[TipTopic, int]:
    """The next point nobody has heard this session, topic by topic in the catalog's order;
    when every point has been heard, the rotation starts again."""
    topics = [t for t in turn.catalog.tips.values() if not t.sensitive and t.id != exclude]
    for topic in topics:
        heard = _heard(turn, topic)
        if heard < len(topic.points):
            return topic, heard
    turn.session[TIP_CURSOR_KEY] = {}
    return topics[0], 0


def give_tip(
    turn: Turn, topic: TipTopic, point: int | None = None, prefix: str | None = None
) -> Response:
    """One point of a topic (the next one not heard, unless ``point`` says which), then an offer
    of the next: the same topic while it has more, else another topic. Mid-routine, or with a
    second request waiting, the point alone: an aside, not a string of tips."""
    if point is None or not 0 <= point < len(topic.points):
        point = _heard(turn, topic) % len(topic.points)
    _cursor(turn)[topic.id] = max(_heard(turn, topic), point + 1)
    speech = Speech().say(prefix or "", topic.points[point])
    screen = answer_screen(capitalized(topic.name), topic.points[point])
    if guiding(turn) or second_request_waits(turn):
        return answered(turn, speech, screen=screen)
    if point + 1 < len(topic.points):
        next_topic, next_point = topic, point + 1
        offer = turn.phrase("answers.tip_offer_same", topic=topic.name)
    else:
        next_topic, next_point = next_general_tip(turn, exclude=topic.id)
        offer = turn.phrase("answers.tip_offer_other", topic=next_topic.name)
    speech.say(offer)
    turn.make_offer("tip", topic=next_topic.id, point=next_point)
    return turn.respond(
        speech, Speech().say(turn.phrase("answers.tip_offer_reprompt")), screen=screen
    )


def medication_answer(
    turn: Turn,
    topic: TipTopic | None = None,
    *,
    medicine: Medicine | None = None,
    asked: bool = True,
) -> Response:
    """A kind word (naming the medicine, when the catalog knows it), then the catalog's own
    answer: talk to your doctor. Never more. ``asked``: the words were a question."""
    topic = topic or turn.catalog.tips[MEDICATION_TOPIC]
    if medicine is not None:
        lead = turn.phrase("answers.medicine_named", medicine=medicine.name)
    else:
        lead = turn.phrase("answers.medication_lead" if asked else "answers.doctor_lead")
    speech = Speech().say(lead, *topic.points)
    screen = answer_screen(turn.phrase("screen.doctor_headline"), " ".join(topic.points))
    return answered(turn, speech, screen=screen)


class TipYesHandler(AbstractRequestHandler):
    """ "Yes" to "would you like another tip?" (also offered by the routines before bedtime)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input) and offer_kind_is(
            handler_input, "tip"
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        offer = turn.offer or {}
        topic = turn.catalog.tips.get(str(offer.get("topic")))
        if topic is None or topic.sensitive:
            topic, point = next_general_tip(turn)
            return give_tip(turn, topic, point)
        offered = offer.get("point")
        return give_tip(turn, topic, offered if isinstance(offered, int) else None)


class DeclineOfferHandler(AbstractRequestHandler):
    """ "No" to another tip, to a walk-through of an explained exercise, or to the second of two
    requests: a polite goodbye."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input) and offer_kind_is(
            handler_input, *DECLINED
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        kind = str((turn.offer or {}).get("kind"))
        return turn.respond(turn.phrase(DECLINED[kind]), end_session=True)

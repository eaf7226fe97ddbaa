"""One turn of conversation: everything a handler needs, gathered once by an interceptor.

Handlers call ``Turn.of(handler_input)`` rather than digging through attributes: it carries the
catalog, the settings, the user's state, the user's local "now", and helpers to read resolved slot
ids, pick a speech string, and build the response (remembering it for "repeat").

Night mode is applied here, to every response (see :meth:`Turn.respond`): from the user's bedtime
until ``rules.yaml``'s ``night.ends``, a speech string with a ``_night`` variant says that instead,
sentences that invite more talk are left out, the session ends unless a question must be
answered, and the speech is slower.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import IntentRequest, Response, Slot
from ask_sdk_model.slu.entityresolution import StatusCode
from ask_sdk_model.ui import SsmlOutputSpeech, StandardCard

from skill.catalog.model import Catalog
from skill.clock import effective_bedtime
from skill.coach.compose import Composed
from skill.coach.cues import with_cues
from skill.lookup import SLOT_TYPE_KINDS, lookup_for
from skill.screens import Screen, answer_screen, supports_apl
from skill.settings import Settings
from skill.speech import Speech
from skill.state import UserState

TURN_KEY = "turn"
LAST_RESPONSE_KEY = "last_response"
# A question the coach just asked, answered by "yes"/"no": {"kind": "...", ...details}. Yes/No
# handlers route on its kind (e.g. "guide_exercise", "tip", "resume"); any turn that does not set
# a new offer clears the old one.
OFFER_KEY = "offer"
CARD_TITLE = "Restless Legs Coach"
NIGHT_SUFFIX = "_night"  # a speech key's variant for the night ("common.fallback_night")
NIGHT_CLOSE = "common.night_close"


def is_night(
    clock: dt.time, bedtime: dt.time, ends: dt.time, longest: dt.timedelta = dt.timedelta(hours=9)
) -> bool:
    """From ``bedtime`` until ``ends`` (local clock times, across midnight when bedtime is before
    it), and never for longer than ``longest`` after bedtime."""
    day = 24 * 60

    def minutes(t: dt.time) -> int:
        return t.hour * 60 + t.minute

    since_bedtime = (minutes(clock) - minutes(bedtime)) % day
    until_ends = (minutes(ends) - minutes(bedtime)) % day
    return since_bedtime < min(until_ends, longest.total_seconds() / 60)


@dataclass
class Turn:
    handler_input: HandlerInput
    catalog: Catalog
    settings: Settings
    state: UserState
    now: dt.datetime  # aware, in the user's time zone
    language: str = "en"
    store_failed: bool = False  # the store could not be read: do not overwrite it this turn
    _sessionless: dict[str, Any] = field(default_factory=dict, repr=False)
    # What this turn said from rules.yaml's night.quiet_keys: left out at night.
    _quiet_said: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def of(cls, handler_input: HandlerInput) -> Turn:
        turn = handler_input.attributes_manager.request_attributes[TURN_KEY]
        assert isinstance(turn, Turn), "the turn interceptor keeps a Turn under TURN_KEY"
        return turn

    # ---- request ------------------------------------------------------------------------

    @property
    def session(self) -> dict[str, Any]:
        """The session attributes. A request that comes outside any session (System.Exception-
        Encountered, audio player and skill events) has none: it gets an empty dict for this turn
        only, so code that reads the session (e.g. a can_handle) never fails on such a request."""
        if self.handler_input.request_envelope.session is None:
            return self._sessionless
        attributes = self.handler_input.attributes_manager.session_attributes
        assert attributes is not None, "ask-sdk gives every session a dict of attributes"
        return attributes

    @property
    def locale(self) -> str:
        """The device's locale, e.g. "en-US" (what units and spellings to speak in)."""
        return getattr(self.handler_input.request_envelope.request, "locale", None) or "en-US"

    @property
    def request_id(self) -> str:
        request = self.handler_input.request_envelope.request
        return (request.request_id if request else None) or ""

    @property
    def intent_name(self) -> str | None:
        request = self.handler_input.request_envelope.request
        return (
            request.intent.name if isinstance(request, IntentRequest) and request.intent else None
        )

    def slot_value(self, name: str) -> str | None:
        """The words the user said for a slot, or None."""
        slot = self._slot(name)
        return slot.value.strip() if slot is not None and slot.value else None

    def slot_id(self, name: str) -> str | None:
        """The catalog id a slot resolved to: entity resolution first, then the catalog's names."""
        slot = self._slot(name)
        if slot is None:
            return None
        resolutions = slot.resolutions
        for authority in (resolutions.resolutions_per_authority or []) if resolutions else []:
            status = authority.status.code if authority.status else None
            value = authority.values[0].value if authority.values else None
            if status == StatusCode.ER_SUCCESS_MATCH and value is not None:
                return value.id
        return self._match_catalog(name, slot.value)

    def _slot(self, name: str) -> Slot | None:
        request = self.handler_input.request_envelope.request
        if not isinstance(request, IntentRequest) or not request.intent or not request.intent.slots:
            return None
        return request.intent.slots.get(name)

    def _match_catalog(self, slot_name: str, words: str | None) -> str | None:
        """The id whose name or synonym the words are, when Alexa sent no resolution (a
        device that does not resolve, or words said with an article or in the plural)."""
        if not words:
            return None
        intent = self.catalog.phrasings.intents.get(self.intent_name or "")
        slot_type = (intent.slots.get(slot_name) if intent else None) or ""
        kind = SLOT_TYPE_KINDS.get(slot_type)
        if kind is not None:
            found = lookup_for(self.catalog).value(words, kind)
            return found.id if found else None
        wanted = " ".join(words.lower().split())
        for entry in self.catalog.slot_values(slot_type).values():
            if wanted in (" ".join(p.lower().split()) for p in (entry.name, *entry.synonyms)):
                return entry.id
        return None

    @property
    def offer(self) -> dict[str, Any] | None:
        return self.session.get(OFFER_KEY)

    def make_offer(self, kind: str, **details: Any) -> None:
        self.session[OFFER_KEY] = {"kind": kind, **details}
        self._offer_made = True

    # ---- speaking -----------------------------------------------------------------------

    def phrase(self, key: str, **values: Any) -> str:
        """A speech string with its placeholders filled. Among variants, the choice is stable for
        a given request (so tests are reproducible) but varies from turn to turn. At night, the
        key's night variant (``key + "_night"``) if the content has one."""
        said = self._phrase(self._night_key(key), **values)
        night = self.catalog.rules.night
        if night is not None and key in night.quiet_keys:
            self._quiet_said.add(said)
        return said

    def _phrase(self, key: str, **values: Any) -> str:
        variants = self.catalog.phrases(key, self.language)
        if len(variants) == 1:  # most strings have one variant: no choice to work out
            return variants[0].format(**values)
        return variants[self.variant(key, len(variants))].format(**values)

    def _night_key(self, key: str) -> str:
        if not self.night:
            return key
        strings = self.catalog.speech.get(self.language) or self.catalog.speech["en"]
        return key + NIGHT_SUFFIX if key + NIGHT_SUFFIX in strings else key

    # ---- the moment and the user's choices ----------------------------------------------------

    @cached_property
    def night(self) -> bool:
        """From the user's bedtime until the night ends (rules.yaml): night mode."""
        rules = self.catalog.rules
        if rules.night is None:
            return False
        bedtime = effective_bedtime(self.state.bedtime_time(), self.settings, rules.default_bedtime)
        longest = dt.timedelta(hours=rules.night.longest_hours)
        return is_night(self.now.time(), bedtime, rules.night.ends, longest)

    @property
    def cues_wanted(self) -> bool:
        """Sound cues play unless the user said "no sounds", and never at night."""
        return self.state.sounds and not self.night

    def cued(self, composed: Composed) -> Composed:
        """``composed`` with its sound cues, if this user and moment want them."""
        return with_cues(composed, self.catalog.rules) if self.cues_wanted else composed

    def variant(self, key: str, count: int) -> int:
        """Which of the ``count`` variants of ``key`` this turn says."""
        return zlib.crc32(f"{self.request_id}:{key}".encode()) % count

    def send(self, composed: Composed) -> Response:
        """The response a composer put together (see :mod:`skill.coach.compose`)."""
        return self.respond(
            composed.speech,
            composed.reprompt,
            card=composed.card,
            screen=composed.screen,
            end_session=composed.end_session,
            remember=composed.remember,
        )

    def respond(
        self,
        speech: Speech | str,
        reprompt: Speech | str | None = None,
        *,
        card: tuple[str, str] | None = None,
        screen: Screen | None = None,
        end_session: bool | None = None,
        remember: bool = True,
    ) -> Response:
        """Build the response. The session stays open when a reprompt is given (or
        ``end_session=False``, which reprompts with the speech itself); an open session always has
        a reprompt. ``remember`` keeps the response for AMAZON.RepeatIntent. A plain sentence
        may stand for a Speech that says just it. A device with a screen is sent ``screen``, or
        by default the card's title (else the skill's name) over the words spoken."""
        if isinstance(speech, str):
            speech = Speech().say(speech)
        if isinstance(reprompt, str):
            reprompt = Speech().say(reprompt)
        if self.night:
            speech, reprompt, end_session = self._at_night(speech, reprompt, end_session)
        if not getattr(self, "_offer_made", False):
            self.session.pop(OFFER_KEY, None)
        builder = self.handler_input.response_builder
        # Rendered once each: a routine step's SSML is 1-2 KB, and Repeat keeps the same text.
        speech_ssml = speech.ssml()
        builder.speak(speech_ssml)
        keep_open = reprompt is not None if end_session is None else not end_session
        reprompt_ssml: str | None = None
        if keep_open:
            reprompt_ssml = reprompt.ssml() if reprompt else speech_ssml  # as `reprompt or speech`
            builder.ask(reprompt_ssml)
        builder.set_should_end_session(not keep_open)
        if card:
            builder.set_card(StandardCard(title=card[0] or CARD_TITLE, text=card[1]))
        shown: Screen | None = None  # only a device with a screen is sent (and keeps) one
        if supports_apl(self.handler_input):
            shown = screen or self._default_screen(speech, card, keep_open)
            builder.add_directive(shown.directive())
        if remember:
            self.session[LAST_RESPONSE_KEY] = {
                "speech": speech_ssml,
                "reprompt": reprompt_ssml,
                "card": list(card) if card else None,
                "screen": shown.to_json() if shown else None,
            }
        return builder.response

    def _at_night(
        self, speech: Speech, reprompt: Speech | None, end_session: bool | None
    ) -> tuple[Speech, Speech | None, bool | None]:
        """Night mode for one response: slower; and an answer that would invite more talk (an
        "Anything else?", an offer that is only an invitation) leaves that out, closes calmly
        and ends the session. A question the user must answer (an offer of another kind), or a
        response that is itself a question (a welcome, "sorry, I didn't catch that"), stays."""
        night = self.catalog.rules.night
        assert night is not None
        offer = self.session.get(OFFER_KEY) if getattr(self, "_offer_made", False) else None
        kind = offer.get("kind") if isinstance(offer, dict) else None
        quiet = [p for p in speech.parts if getattr(p, "text", None) in self._quiet_said]
        slowed = Speech([p for p in speech.parts if p not in quiet], rate=night.rate)
        requested = isinstance(offer, dict) and bool(offer.get("requested"))
        if kind is not None and (kind not in night.optional_offers or requested):
            return slowed, _slower(reprompt, night.rate), end_session  # it must be answered
        if not quiet and kind is None:
            return slowed, _slower(reprompt, night.rate), end_session
        if kind is not None:
            self.session.pop(OFFER_KEY, None)
            self._offer_made = False
        return slowed.say(self.phrase(NIGHT_CLOSE)), None, True

    def _default_screen(
        self, speech: Speech, card: tuple[str, str] | None, keep_open: bool
    ) -> Screen:
        """The card's title over the words spoken; but a short word mid-set ("wait", "which
        leg?") leaves the set on screen."""
        if card is None and keep_open:
            last = Screen.from_json((self.session.get(LAST_RESPONSE_KEY) or {}).get("screen"))
            if last is not None and last.document == "step":
                return last
        return answer_screen((card[0] if card else "") or CARD_TITLE, speech.words())

    def replay_last(self) -> Response | None:
        """Send the previous response again, exactly; None if there is nothing to repeat."""
        last = self.session.get(LAST_RESPONSE_KEY)
        if not last:
            return None
        builder = self.handler_input.response_builder
        builder.response.output_speech = SsmlOutputSpeech(ssml=last["speech"])
        if last.get("reprompt"):
            builder.ask(last["reprompt"])
            builder.set_should_end_session(False)
        if last.get("card"):
            title, text = last["card"]
            builder.set_card(StandardCard(title=title, text=text))
        screen = Screen.from_json(last.get("screen"))
        if screen is not None and supports_apl(self.handler_input):
            builder.add_directive(screen.directive())
        return builder.response


def _slower(speech: Speech | None, rate: str) -> Speech | None:
    return Speech(list(speech.parts), rate=rate) if speech is not None else None

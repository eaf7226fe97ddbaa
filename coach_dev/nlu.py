"""Resolve typed text to the intent and slots an interaction model gives it.

This is a development and test tool, not Alexa's NLU. Alexa's recognizer generalises from the
sample utterances with a statistical model and hears speech, not text; this resolver only
matches text against the model's sample utterances, filling ``{slot}`` positions with the slot
type's values and synonyms (or, for ``AMAZON.TIME``, common spoken times such as "ten thirty",
"10:30 pm" or "half past nine"), plus the usual phrasings Alexa's built-in intents understand
("yes", "next", "stop", …). So a phrase it resolves is one the model clearly covers; a phrase it
does not resolve may still work on a real device. The tests use it to prove that natural
phrasings reach the intended intent and entity id; the terminal chat uses it to turn what you
type into real request envelopes.

Build a :class:`Resolver` once per model and keep it with the model (the chat's
``InteractionModel.resolver`` does): compiling takes about a second, and then each lookup is fast,
as the samples are kept as patterns indexed by first word.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

LAUNCH_REQUEST = "LaunchRequest"
TIME_TYPE = "AMAZON.TIME"
NUMBER_TYPE = "AMAZON.NUMBER"
MAX_SLOT_WORDS = 8
# Free text (AMAZON.SearchQuery) takes a whole sentence after its carrier phrase.
MAX_FREE_TEXT_WORDS = 24
SEARCH_QUERY_TYPE = "AMAZON.SearchQuery"

# What Alexa's standard built-in intents understand with no sample in the model: a small,
# representative part of their coverage, enough for typed conversations.
BUILTIN_PHRASINGS: Mapping[str, tuple[str, ...]] = {
    "AMAZON.CancelIntent": ("cancel", "never mind"),
    "AMAZON.HelpIntent": ("help", "help me", "what can you do"),
    "AMAZON.NavigateHomeIntent": ("go home", "home"),
    "AMAZON.NextIntent": ("next", "skip", "skip forward"),
    "AMAZON.NoIntent": ("no", "no thanks", "nope"),
    "AMAZON.PauseIntent": ("pause", "pause that"),
    "AMAZON.PreviousIntent": ("previous", "go back", "back"),
    "AMAZON.RepeatIntent": ("repeat", "repeat that", "say that again"),
    "AMAZON.ResumeIntent": ("resume", "continue", "keep going"),
    "AMAZON.StartOverIntent": ("start over", "restart", "start again"),
    "AMAZON.StopIntent": ("stop", "quit", "exit", "shut up"),
    "AMAZON.YesIntent": ("yes", "yeah", "yep", "sure", "yes please"),
}

# How people open a skill ("open X") or talk through it ("ask X to …"), and the connecting words
# Alexa drops between the name and the request.
_OPEN_VERBS = (("open",), ("launch",), ("start",), ("begin",), ("load",), ("run",), ("play",),
               ("use",), ("talk", "to"))  # fmt: skip
_ASK_VERBS = (("ask",), ("tell",))
_CONNECTING = ("to", "for", "about", "if", "whether", "and", "that")
_ARTICLES = ("a", "an", "the", "my", "some")
# Hesitations speech recognition leaves out of the text it hands the model ("um, start my
# stretches" reaches Alexa's NLU as "start my stretches").
_DISFLUENCIES = frozenset(("um", "umm", "uh", "uhm", "er", "erm", "hmm"))


class SlotMatch(NamedTuple):
    """What filled a slot: the words (for AMAZON.TIME, the value Alexa would send, e.g. "22:30")
    and the entity id they resolved to (None for built-in types and for words no value has)."""

    words: str
    id: str | None


@dataclass(frozen=True)
class Resolution:
    """The intent (or ``LaunchRequest``), its filled slots, and the slot types of those slots."""

    intent: str
    slots: Mapping[str, SlotMatch] = field(default_factory=dict)
    slot_types: Mapping[str, str] = field(default_factory=dict)
    sample: str | None = None  # the sample utterance that matched

    def slot_id(self, name: str) -> str | None:
        match = self.slots.get(name)
        return match.id if match else None


class _Part(NamedTuple):
    slot: bool
    text: str  # a literal word, or a slot name


@dataclass(frozen=True)
class _Pattern:
    intent: str
    sample: str
    parts: tuple[_Part, ...]
    slot_types: Mapping[str, str]

    @property
    def literals(self) -> int:
        return sum(not part.slot for part in self.parts)


@dataclass(frozen=True, order=True)
class _Score:
    """Lower is better: fewer unresolved slots, then more slots resolved to entity ids, then
    more of the utterance matched by the sample's own words."""

    unresolved: int
    ids: int  # negated count of slots with an entity id
    literals: int  # negated count of literal words


def words_of(text: str) -> list[str]:
    """Lower-case words, with punctuation dropped, "p.m." as "pm" and "10.30" as "10:30"."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"(?<=\d)\.(?=\d\d)", ":", text)
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"[^a-z0-9':]+", " ", text)
    return [word.strip("'") for word in text.split() if word.strip("'")]


def recognized(utterance: str) -> str:
    """The text speech recognition hands the model for ``utterance``: hesitations left out."""
    return " ".join(w for w in utterance.split() if w.lower().strip(",.") not in _DISFLUENCIES)


class Resolver:
    """A compiled interaction model. Build it once per model and reuse it."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        try:
            self._compile(model["interactionModel"]["languageModel"])
        except KeyError as exc:
            raise ValueError(f"not an interaction model: it has no key {exc}") from None
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"not an interaction model: {exc}") from None

    def _compile(self, language_model: Mapping[str, Any]) -> None:
        self.invocation_name = tuple(words_of(language_model["invocationName"]))
        self._values: dict[str, dict[str, str]] = {}
        for slot_type in language_model.get("types", []):
            table: dict[str, str] = {}
            for value in slot_type.get("values", []):
                name = value["name"]
                for phrase in (name["value"], *name.get("synonyms", [])):
                    table.setdefault(" ".join(words_of(phrase)), value["id"])
            self._values[slot_type["name"]] = table
        self._exact: dict[tuple[str, ...], str] = {}
        self._by_first_word: dict[str, list[_Pattern]] = defaultdict(list)
        self._slot_first: list[_Pattern] = []
        declared = {intent["name"] for intent in language_model["intents"]}
        for intent in language_model["intents"]:
            slot_types = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
            samples = [*intent.get("samples", []), *BUILTIN_PHRASINGS.get(intent["name"], ())]
            for sample in samples:
                self._add(intent["name"], sample, slot_types)
        self.intents = frozenset(declared)

    def _add(self, intent: str, sample: str, slot_types: Mapping[str, str]) -> None:
        parts: list[_Part] = []
        for token in sample.replace("{", " {").replace("}", "} ").split():
            if token.startswith("{"):
                parts.append(_Part(True, token[1:-1]))
            else:  # written the way typed text is read, so the two compare equal
                parts.extend(_Part(False, word) for word in words_of(token))
        if not parts:
            return
        if not any(part.slot for part in parts):
            self._exact.setdefault(tuple(part.text for part in parts), intent)
            return
        pattern = _Pattern(intent, sample, tuple(parts), slot_types)
        if parts[0].slot:
            self._slot_first.append(pattern)
        else:
            self._by_first_word[parts[0].text].append(pattern)

    # ---- resolving ------------------------------------------------------------------------

    def resolve(self, utterance: str) -> Resolution | None:
        """The best reading of ``utterance`` (said inside the skill's session), or None."""
        candidates = self.candidates(utterance)
        return candidates[0] if candidates else None

    def candidates(self, utterance: str) -> list[Resolution]:
        """Every reading of ``utterance`` the samples allow, best first, one per sample."""
        words = tuple(words_of(recognized(utterance)))
        if not words:
            return []
        exact = self._exact.get(words)
        if exact is not None:
            return [Resolution(exact, sample=" ".join(words))]
        scored: list[tuple[_Score, int, Resolution]] = []
        patterns = [*self._by_first_word.get(words[0], ()), *self._slot_first]
        for order, pattern in enumerate(patterns):
            best = self._best_fill(pattern, words)
            if best is not None:
                scored.append((best[0], order, best[1]))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [resolution for _, _, resolution in scored]

    def resolve_invocation(self, phrase: str) -> Resolution | None:
        """A phrase said to Alexa from outside the skill: "Alexa, open restless legs coach" →
        LaunchRequest; "Alexa, ask restless legs coach to start my stretches" → that intent."""
        words = words_of(phrase)
        if words[:1] == ["alexa"]:
            words = words[1:]
        name = list(self.invocation_name)
        at = next(
            (i for i in range(len(words)) if words[i : i + len(name)] == name), None
        )  # fmt: skip
        if at is None:
            return None
        verb, request = tuple(words[:at]), words[at + len(name) :]
        if verb not in (*_OPEN_VERBS, *_ASK_VERBS):
            return None
        if not request:
            return Resolution(LAUNCH_REQUEST)
        if verb in _OPEN_VERBS and request[0] not in ("and", "to"):
            return None
        readings = [request[1:]] if request[0] in _CONNECTING else []
        readings.append(request)
        found = [self.resolve(" ".join(reading)) for reading in readings]
        resolved = [resolution for resolution in found if resolution is not None]
        # A named intent's reading beats free text caught by a carrier phrase ("ask … if I can
        # swim tonight": "if I can swim tonight" is CanIDoIntent's, not "I {words}").
        named = [r for r in resolved if SEARCH_QUERY_TYPE not in r.slot_types.values()]
        return (named or resolved or [None])[0]

    def _best_fill(
        self, pattern: _Pattern, words: Sequence[str]
    ) -> tuple[_Score, Resolution] | None:
        best: tuple[_Score, Resolution] | None = None
        for spans in _fills(pattern.parts, words, 0, 0, pattern.slot_types):
            slots: dict[str, SlotMatch] = {}
            unresolved = with_id = 0
            for name, (start, end) in spans.items():
                match, resolved = self._slot_value(
                    pattern.slot_types.get(name, ""), words[start:end]
                )
                slots[name] = match
                unresolved += not resolved
                with_id += match.id is not None
            if unresolved and not pattern.literals:
                continue  # a bare "{topic}" sample only takes words that are a value
            score = _Score(unresolved, -with_id, -pattern.literals)
            if best is None or score < best[0]:
                types = {name: pattern.slot_types.get(name, "") for name in slots}
                best = (score, Resolution(pattern.intent, slots, types, pattern.sample))
        return best

    def _slot_value(self, slot_type: str, words: Sequence[str]) -> tuple[SlotMatch, bool]:
        text = " ".join(words)
        if slot_type == TIME_TYPE:
            value = spoken_time(words)
            return SlotMatch(value or text, None), value is not None
        if slot_type == NUMBER_TYPE:
            # Alexa fills AMAZON.NUMBER only with a number, and sends it as digits ("eight" → "8").
            number = _number(words)
            return SlotMatch(str(number) if number is not None else text, None), number is not None
        if slot_type.startswith("AMAZON."):
            return SlotMatch(text, None), True
        table = self._values.get(slot_type, {})
        entity_id = table.get(text)
        if entity_id is None and len(words) > 1 and words[0] in _ARTICLES:
            entity_id = table.get(" ".join(words[1:]))
        return SlotMatch(text, entity_id), entity_id is not None


def _fills(
    parts: Sequence[_Part],
    words: Sequence[str],
    part: int,
    word: int,
    slot_types: Mapping[str, str],
) -> Iterator[dict[str, tuple[int, int]]]:
    """Every way to lay the sample's parts over the words: literals must match exactly, and each
    slot takes one to MAX_SLOT_WORDS words (free text, MAX_FREE_TEXT_WORDS). Yields slot name →
    (start, end) word spans."""
    if part == len(parts):
        if word == len(words):
            yield {}
        return
    current = parts[part]
    if not current.slot:
        if word < len(words) and words[word] == current.text:
            yield from _fills(parts, words, part + 1, word + 1, slot_types)
        return
    remaining_literals = sum(not p.slot for p in parts[part + 1 :])
    free = slot_types.get(current.text) == SEARCH_QUERY_TYPE
    most = MAX_FREE_TEXT_WORDS if free else MAX_SLOT_WORDS
    last = min(len(words) - remaining_literals, word + most)
    for end in range(word + 1, last + 1):
        for rest in _fills(parts, words, part + 1, end, slot_types):
            yield {current.text: (word, end), **rest}


# --------------------------------------------------------------------------------------------
# Spoken times (AMAZON.TIME)
# --------------------------------------------------------------------------------------------

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_NUMBERS = {word: value for value, word in enumerate(_NUMBER_WORDS.split(" "))}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_DAY_PARTS = {
    "morning": "MO",
    "afternoon": "AF",
    "evening": "EV",
    "night": "NI",
    "tonight": "NI",
}
_MERIDIEM_SUFFIXES = (
    (("in", "the", "morning"), "am"),
    (("in", "the", "afternoon"), "pm"),
    (("in", "the", "evening"), "pm"),
    (("at", "night"), "pm"),
    (("tonight",), "pm"),
    (("a", "m"), "am"),
    (("p", "m"), "pm"),
    (("am",), "am"),
    (("pm",), "pm"),
)


def spoken_time(words: Sequence[str]) -> str | None:
    """The AMAZON.TIME value Alexa sends for a spoken time: "HH:MM" ("ten thirty" → "10:30",
    "ten thirty pm" → "22:30", "noon" → "12:00"), or a part of the day ("tonight" → "NI").
    None for words that are not a time.

    Hand-written because the vocabulary is tiny (hours, minutes, "half past", "a.m.") and the
    output is Alexa's own format; a general number-words library would still leave the clock.
    """
    words = [w for w in words if w != "o'clock"] if "o'clock" in words else list(words)
    stripped = [w for w in words if w != "this"]
    if len(stripped) == 1 and stripped[0] in _DAY_PARTS:
        return _DAY_PARTS[stripped[0]]
    if stripped[:2] == ["in", "the"] and len(stripped) == 3 and stripped[2] in _DAY_PARTS:
        return _DAY_PARTS[stripped[2]]
    meridiem = None
    for suffix, which in _MERIDIEM_SUFFIXES:
        if len(words) > len(suffix) and tuple(words[-len(suffix) :]) == suffix:
            meridiem, words = which, words[: -len(suffix)]
            break
    clock = _clock([w for w in words if w != "o'clock"])
    if clock is None:
        return None
    hour, minute = clock
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return f"{hour:02d}:{minute:02d}"


def _clock(words: Sequence[str]) -> tuple[int, int] | None:
    if not words:
        return None
    if len(words) == 1:
        named = {"noon": (12, 0), "midday": (12, 0), "midnight": (0, 0)}.get(words[0])
        if named:
            return named
        digits = re.fullmatch(r"(\d{1,2})(?::(\d\d))?", words[0])
        if digits:
            hour, minute = int(digits.group(1)), int(digits.group(2) or 0)
            return (hour, minute) if hour <= 23 and minute <= 59 else None
    if len(words) == 2 and words[0] == "half":
        # "Half ten" is half past ten in British, Irish and Australian English.
        hour = _hour(words[1:])
        return (hour, 30) if hour is not None else None
    for joint in ("past", "after", "to", "before"):
        if joint in words:
            at = words.index(joint)
            minutes = _minutes_before_joint(words[:at])
            hour = _hour(words[at + 1 :])
            if minutes is None or hour is None:
                return None
            if joint in ("past", "after"):
                return hour, minutes
            return (hour - 1) % 24 if hour != 1 else 12, 60 - minutes
    hour = _hour(words[:1])
    if hour is None:
        return None
    minute = _number(words[1:]) if len(words) > 1 else 0
    if minute is None or not 0 <= minute <= 59:
        return None
    return hour, minute


def _minutes_before_joint(words: Sequence[str]) -> int | None:
    words = [w for w in words if w not in ("a", "minutes")]
    if words == ["half"]:
        return 30
    if words == ["quarter"]:
        return 15
    minutes = _number(words)
    return minutes if minutes is not None and 1 <= minutes <= 30 else None


def _hour(words: Sequence[str]) -> int | None:
    if len(words) != 1:
        return None
    if words[0].isdigit():
        hour = int(words[0])
        return hour if hour <= 23 else None
    hour = _NUMBERS.get(words[0])
    return hour if hour is not None and 1 <= hour <= 12 else None


def _number(words: Sequence[str]) -> int | None:
    """0–59 from "five", "fifteen", "forty five", "oh five" or "45"."""
    if len(words) == 1:
        word = words[0]
        if word.isdigit():
            return int(word)
        return _TENS.get(word, _NUMBERS.get(word))
    if len(words) == 2:
        first, second = words
        unit = _NUMBERS.get(second)
        if unit is None or not 1 <= unit <= 9:
            return None
        if first in ("oh", "zero"):
            return unit
        if first in _TENS:
            return _TENS[first] + unit
    return None

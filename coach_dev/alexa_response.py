"""Reading a response envelope the way a person (and Alexa) would.

``spoken_text`` turns output SSML into readable text with pauses shown as "(3 s)", for the terminal
chat and the conversation tests; ``spoken_seconds`` says how long Alexa takes to say it, for the
simulated device's clock. ``response_problems`` lists everything in a response that Alexa
would reject or mishandle: SSML that is not well-formed or not inside ``<speak>``, a ``<break>``
longer than 10 seconds, speech over 8,000 characters, more than five ``<audio>`` clips or one from
anywhere but an HTTPS address or the ASK sound library, an open session without a reprompt, and a
response over 24 KB. A sound library clip reads as its name in brackets ("[bell short chime]").

Both parse the SSML with ``xml.etree`` rather than matching tags with regular expressions, so
nesting, entities and attributes are read the way an XML parser (and Alexa) reads them.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# The checker reads the limits the speech builder enforces, so the two can never disagree.
from skill.speech import MAX_AUDIO_TAGS, MAX_BREAK_SECONDS, TEMPLATE_MARKER, WORDS_PER_SECOND
from skill.speech import MAX_SSML_CHARS as MAX_SPEECH_CHARS

MAX_CARD_CHARS = 8000
MAX_RESPONSE_BYTES = 24 * 1024
# Alexa's SSML uses the amazon: prefix (amazon:effect, amazon:emotion) without declaring it;
# a wrapper element declares it so that a namespace-aware XML parser accepts valid Alexa SSML.
_AMAZON_NS = "https://developer.amazon.com/alexa/ssml"
_WRAPPER = f'<ssml-root xmlns:amazon="{_AMAZON_NS}">{{}}</ssml-root>'
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.IGNORECASE)
# Tags whose content is a separate sentence or paragraph: keep their words apart from neighbours.
_BLOCK_TAGS = frozenset({"p", "s"})
# Where Alexa fetches an <audio> clip from: its own sound library, or an HTTPS address.
_AUDIO_SOURCE = re.compile(r"^(soundbank://soundlibrary/|https://)\S+$")
# A sound library clip's file name, without the library's prefix and numbering.
_CLIP_NAME = re.compile(r"^(?:amzn_(?:ui_)?sfx_)?(?P<name>.+?)(?:_\d+)?$")


class SSMLError(ValueError):
    """SSML that an XML parser cannot read, or whose root is not ``<speak>``."""


@dataclass(frozen=True)
class _Words:
    text: str


@dataclass(frozen=True)
class _Clip:
    """An <audio> clip: shown by name in text, no words in the time it takes to speak."""

    label: str


@dataclass(frozen=True)
class _Break:
    seconds: float | None  # None: a break given only by strength, e.g. strength="medium"


def parse_ssml(ssml: str) -> ET.Element:
    """The ``<speak>`` element of an SSML string, or SSMLError saying what is wrong."""
    try:
        wrapper = ET.fromstring(_WRAPPER.format(ssml))
    except ET.ParseError as exc:
        raise SSMLError(f"not well-formed XML ({exc})") from None
    children = list(wrapper)
    if (
        len(children) != 1
        or children[0].tag != "speak"
        or (wrapper.text or "").strip()
        or (children[0].tail or "").strip()
    ):
        raise SSMLError("SSML must be a single <speak> element")
    return children[0]


def break_seconds(value: str) -> float:
    """A <break time="…"> value ("1500ms", "3s", "2.5s") in seconds; ValueError if malformed."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a duration like 500ms or 3s")
    number = float(match[1])
    return number / 1000 if match[2].lower() == "ms" else number


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _pieces(element: ET.Element) -> Iterator[_Words | _Break | _Clip]:
    """Words and breaks in document order."""
    name = _local_name(element.tag)
    if name == "break":
        time = element.get("time")
        try:
            yield _Break(break_seconds(time) if time is not None else None)
        except ValueError:
            yield _Break(None)
    elif name == "audio":
        yield _Clip(audio_label(element.get("src") or ""))
    elif name == "sub" and element.get("alias") is not None:
        yield _Words(element.get("alias") or "")
    else:
        block = name in _BLOCK_TAGS
        if block:
            yield _Words("\n")
        if element.text:
            yield _Words(element.text)
        for child in element:
            yield from _pieces(child)
            if child.tail:
                yield _Words(child.tail)
        if block:
            yield _Words("\n")


def audio_label(src: str) -> str:
    """What a transcript shows for an audio clip: a sound library clip by its name ("bell short
    chime"), anything else as "audio"."""
    if not src.startswith("soundbank://"):
        return "audio"
    match = _CLIP_NAME.match(src.rsplit("/", 1)[-1])
    return match["name"].replace("_", " ") if match else "audio"


def _seconds_label(seconds: float) -> str:
    rounded = round(seconds, 1)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:.1f}"


def spoken_text(ssml: str) -> str:
    """Readable text of an SSML string: chained breaks become one "(25 s)" pause.

    Raises SSMLError when the SSML cannot be parsed.
    """
    out: list[str] = []
    pending: float | None = None  # seconds of the breaks seen since the last words
    pending_unknown = False

    def flush() -> None:
        nonlocal pending, pending_unknown
        if pending is not None:
            out.append(f"({_seconds_label(pending)} s)")
        elif pending_unknown:
            out.append("(pause)")
        pending, pending_unknown = None, False

    for piece in _pieces(parse_ssml(ssml)):
        if isinstance(piece, _Break):
            if piece.seconds is None:
                pending_unknown = True
            else:
                pending = (pending or 0.0) + piece.seconds
        elif isinstance(piece, _Clip):
            flush()
            out.append(f"[{piece.label}]")
        elif piece.text.strip():
            flush()
            out.append(piece.text)
    flush()
    return " ".join(" ".join(out).split())


def output_text(speech: dict[str, Any] | None) -> str:
    """The readable text of an ``outputSpeech`` object (SSML or PlainText); "" if there is none."""
    if not speech:
        return ""
    if speech.get("type") == "PlainText" or "ssml" not in speech:
        return " ".join(str(speech.get("text") or "").split())
    return spoken_text(speech.get("ssml") or "")


def spoken_seconds(speech: dict[str, Any] | None) -> float:
    """Roughly how long Alexa takes to say an ``outputSpeech``: its timed breaks plus its words at
    the speaking rate the skill itself assumes (``skill.speech.WORDS_PER_SECOND``). A break given
    only by strength, or a sound clip (whose length is not in the SSML), counts as no time;
    SSML that cannot be parsed counts its words alone."""
    if not speech:
        return 0.0
    if speech.get("type") == "PlainText" or "ssml" not in speech:
        return len(str(speech.get("text") or "").split()) / WORDS_PER_SECOND
    ssml = str(speech.get("ssml") or "")
    try:
        pieces = list(_pieces(parse_ssml(ssml)))
    except SSMLError:
        return len(re.sub(r"<[^>]*>", " ", ssml).split()) / WORDS_PER_SECOND
    words = sum(len(p.text.split()) for p in pieces if isinstance(p, _Words))
    pauses = sum(p.seconds or 0.0 for p in pieces if isinstance(p, _Break))
    return pauses + words / WORDS_PER_SECOND


def _speech_problems(where: str, speech: dict[str, Any]) -> list[str]:
    if speech.get("type") == "PlainText" or "ssml" not in speech:
        text = str(speech.get("text") or "")
        if len(text) > MAX_SPEECH_CHARS:
            return [f"{where}: {len(text)} characters; Alexa allows {MAX_SPEECH_CHARS}"]
        return []
    ssml = str(speech.get("ssml") or "")
    problems = []
    if len(ssml) > MAX_SPEECH_CHARS:
        problems.append(f"{where}: {len(ssml)} characters; Alexa allows {MAX_SPEECH_CHARS}")
    try:
        root = parse_ssml(ssml)
    except SSMLError as exc:
        return [*problems, f"{where}: {exc}"]
    clips = [element for element in root.iter() if _local_name(element.tag) == "audio"]
    if len(clips) > MAX_AUDIO_TAGS:
        problems.append(f"{where}: {len(clips)} <audio> clips; Alexa plays {MAX_AUDIO_TAGS}")
    for clip in clips:
        if not _AUDIO_SOURCE.match(clip.get("src") or ""):
            problems.append(
                f"{where}: <audio src={clip.get('src')!r}> is no HTTPS or sound library"
            )
    for element in root.iter():
        if _local_name(element.tag) != "break" or element.get("time") is None:
            continue
        try:
            seconds = break_seconds(element.get("time") or "")
        except ValueError as exc:
            problems.append(f"{where}: <break>: {exc}")
            continue
        if seconds > MAX_BREAK_SECONDS:
            problems.append(
                f"{where}: a <break> of {_seconds_label(seconds)} s; Alexa allows at most "
                f"{_seconds_label(MAX_BREAK_SECONDS)} s (chain breaks for longer pauses)"
            )
    markers = TEMPLATE_MARKER.findall("".join(root.itertext()))
    if markers:
        problems.append(f"{where}: unfilled template marker(s) {', '.join(sorted(set(markers)))}")
    return problems


def response_problems(body: dict[str, Any]) -> list[str]:
    """Everything in a response envelope that breaks Alexa's response rules; [] if none."""
    problems: list[str] = []
    size = len(json.dumps(body, separators=(",", ":")).encode())
    if size > MAX_RESPONSE_BYTES:
        problems.append(f"response is {size} bytes; Alexa allows {MAX_RESPONSE_BYTES}")
    response = body.get("response")
    if not isinstance(response, dict):
        return [*problems, "the envelope has no response object"]
    speech = response.get("outputSpeech")
    reprompt = (response.get("reprompt") or {}).get("outputSpeech")
    if speech:
        problems += _speech_problems("outputSpeech", speech)
    if reprompt:
        problems += _speech_problems("reprompt", reprompt)
    if response.get("shouldEndSession") is False and not reprompt:
        problems.append("the session stays open but there is no reprompt")
    card = response.get("card")
    if isinstance(card, dict):
        length = sum(len(str(card.get(key) or "")) for key in ("title", "content", "text"))
        if length > MAX_CARD_CHARS:
            problems.append(f"card is {length} characters; Alexa allows {MAX_CARD_CHARS}")
    return problems

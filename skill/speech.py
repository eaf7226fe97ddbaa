"""SSML building, and the one place where Alexa's speech limits are enforced.

Handlers never write SSML by hand: they compose a :class:`Speech` from plain sentences and pauses.
``ssml()`` escapes text, splits pauses into chained ``<break>`` tags of at most 10 seconds, and
refuses output over 8,000 characters or with leftover ``{template}`` markers.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from skill.records import Record

MAX_BREAK_SECONDS = 10.0
MAX_SSML_CHARS = 8000
WORDS_PER_SECOND = 2.5  # a typical Alexa speaking rate, used to estimate how long speech lasts
TEMPLATE_MARKER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
# Characters XML 1.0 does not allow at all (escaping cannot help): control characters, lone
# surrogates, U+FFFE/U+FFFF. A slot value can carry them into speech; Alexa rejects such SSML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class SpeechError(ValueError):
    """Speech that would break an Alexa limit; raised where it is built, never sent."""


# Each part renders its own SSML once, when it is made: a routine step's speech is remembered
# across turns (skill.coach.exercise_speech), so its parts are rendered once, not on every turn. The
# rendering is an attribute, not a field: equality, hashing, repr and replace() are the text's
# and the pause's alone (as the frozen dataclasses these were, with ``rendered`` init=False).
class _Text(Record):
    text: str

    def __init__(self, text: str) -> None:
        self.__dict__.update(text=text, rendered=escape(text))


class _Pause(Record):
    seconds: float

    def __init__(self, seconds: float) -> None:
        self.__dict__.update(seconds=seconds, rendered=_rendered_pause(seconds))


@dataclass
class Speech:
    parts: list[_Text | _Pause] = field(default_factory=list)

    def say(self, *sentences: str) -> Speech:
        for sentence in sentences:
            part = _said(sentence)
            if part is not None:
                self.parts.append(part)
        return self

    def pause(self, seconds: float) -> Speech:
        if seconds < 0 or math.isnan(seconds):
            raise SpeechError(f"a pause cannot be {seconds} seconds")
        if seconds > 0:
            self.parts.append(_Pause(round(seconds, 2)))
        return self

    def extend(self, other: Speech) -> Speech:
        self.parts.extend(other.parts)
        return self

    @property
    def seconds(self) -> float:
        """Estimated duration: pauses plus words at a typical speaking rate."""
        total = 0.0
        for part in self.parts:
            if isinstance(part, _Pause):
                total += part.seconds
            else:
                total += len(part.text.split()) / WORDS_PER_SECOND
        return total

    def ssml(self) -> str:
        ssml = "<speak>" + " ".join([part.rendered for part in self.parts]) + "</speak>"
        if len(ssml) > MAX_SSML_CHARS:
            raise SpeechError(f"speech is {len(ssml)} characters; Alexa allows {MAX_SSML_CHARS}")
        return ssml

    def plain(self) -> str:
        """Readable text with pauses shown as "(3 s)": for cards, logs and the terminal chat."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, _Pause):
                out.append(f"({_seconds_label(part.seconds)} s)")
            else:
                out.append(part.text)
        return " ".join(out)

    def __bool__(self) -> bool:
        return bool(self.parts)


def prefixed(ssml: str, speech: Speech) -> str:
    """``speech`` spoken before an already built ``<speak>`` document, within the same limits."""
    if not ssml.startswith("<speak>"):
        raise SpeechError("not an SSML document")
    head = speech.ssml().removesuffix("</speak>")
    combined = f"{head} {ssml.removeprefix('<speak>')}"
    if len(combined) > MAX_SSML_CHARS:
        raise SpeechError(f"speech is {len(combined)} characters; Alexa allows {MAX_SSML_CHARS}")
    return combined


# A response says a few sentences, and most are the same from user to user (the speech strings
# with the catalog's names and counts filled in): cleaning, checking and escaping one took
# ~1.5 µs, a remembered one ~0.3. A sentence that fails the check is never remembered (the cache
# keeps no exceptions), so it raises every time. tests/test_speech.py checks memory and work agree.
@functools.lru_cache(maxsize=4096)
def _said(sentence: str) -> _Text | None:
    return _sentence_part(sentence)


def _sentence_part(sentence: str) -> _Text | None:
    """A sentence as one part of speech: control characters dropped, whitespace collapsed; None
    if nothing is left to say."""
    text = " ".join(_NOT_XML.sub("", sentence).split())
    if not text:
        return None
    if TEMPLATE_MARKER.search(text):
        raise SpeechError(f"unfilled template marker in {text!r}")
    return _Text(text)


@functools.lru_cache(maxsize=1024)
def _rendered_pause(seconds: float) -> str:
    """A pause as SSML (a routine uses a few dozen distinct lengths, so they are remembered)."""
    return " ".join(_breaks(seconds))


def _breaks(seconds: float) -> list[str]:
    """One pause as chained <break> tags, none longer than Alexa's 10-second maximum."""
    tags = []
    remaining = round(seconds, 2)
    while remaining > 0:
        chunk = min(remaining, MAX_BREAK_SECONDS)
        tags.append(f'<break time="{round(chunk * 1000)}ms"/>')
        remaining = round(remaining - chunk, 2)
    return tags


def _seconds_label(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.1f}"


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities: exactly what ``xml.sax.saxutils.escape`` does (that
    module imports ``urllib.request``, ~8 ms of a Lambda cold start where nothing else needs it).
    ``tests/test_speech.py`` checks the two agree."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")

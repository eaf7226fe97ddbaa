"""SSML building, and the one place where Alexa's speech limits are enforced.

Handlers never write SSML by hand: they compose a :class:`Speech` from plain sentences and pauses.
``ssml()`` escapes text, splits pauses into chained ``<break>`` tags of at most 10 seconds, and
refuses output over 8,000 characters, with more audio than Alexa plays, or with leftover
``{template}`` markers. A speech may also carry marks (moments a sound cue may be heard, which
say nothing until :mod:`skill.coach.cues` turns them into clips) and a prosody rate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

MAX_BREAK_SECONDS = 10.0
MAX_SSML_CHARS = 8000
# Alexa's SSML reference, <audio>: at most five audio tags in one output speech, whose clips
# together last at most 240 seconds (90 in a reprompt).
MAX_AUDIO_TAGS = 5
MAX_AUDIO_SECONDS = 240.0
WORDS_PER_SECOND = 2.5  # a typical Alexa speaking rate, used to estimate how long speech lasts
TEMPLATE_MARKER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
# Characters XML 1.0 does not allow at all (escaping cannot help): control characters, lone
# surrogates, U+FFFE/U+FFFF. A slot value can carry them into speech; Alexa rejects such SSML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class SpeechError(ValueError):
    """Speech that would break an Alexa limit; raised where it is built, never sent."""


@dataclass(frozen=True, slots=True)
class _Text:
    text: str
    rate: int = 100  # percent of the normal speaking rate

    @property
    def seconds(self) -> float:
        return len(self.text.split()) / (WORDS_PER_SECOND * self.rate / 100)

    def ssml(self) -> str:
        if self.rate != 100:
            return f'<prosody rate="{self.rate}%">{escape(self.text)}</prosody>'
        return escape(self.text)

    def plain(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class _Pause:
    seconds: float

    def ssml(self) -> str:
        """One pause as chained <break> tags, none longer than Alexa's 10-second maximum."""
        tags = []
        remaining = round(self.seconds, 2)
        while remaining > 0:
            chunk = min(remaining, MAX_BREAK_SECONDS)
            tags.append(f'<break time="{round(chunk * 1000)}ms"/>')
            remaining = round(remaining - chunk, 2)
        return " ".join(tags)

    def plain(self) -> str:
        seconds = self.seconds
        label = str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.1f}"
        return f"({label} s)"


@dataclass(frozen=True, slots=True)
class _Audio:
    """A clip of the ASK sound library; ``label`` is what text shows for it ("[chime]")."""

    src: str
    seconds: float
    label: str

    def ssml(self) -> str:
        return f'<audio src="{escape(self.src)}"/>'

    def plain(self) -> str:
        return f"[{self.label}]"


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment a sound cue may be heard ("hold_start", ...): silent until a cue replaces it."""

    name: str
    seconds: float = 0.0

    def ssml(self) -> str:
        return ""

    def plain(self) -> str:
        return ""


Part = _Text | _Pause | _Audio | Mark


@dataclass
class Speech:
    parts: list[Part] = field(default_factory=list)
    rate: str | None = None  # an SSML prosody rate for the whole speech ("90%"), or as spoken

    def say(self, *sentences: str, rate: int = 100) -> Speech:
        """Add sentences: control characters dropped, whitespace collapsed, empty ones skipped.
        ``rate`` other than 100 speaks them at that percent of the normal rate (SSML prosody)."""
        for sentence in sentences:
            text = " ".join(_NOT_XML.sub("", sentence).split())
            if not text:
                continue
            if TEMPLATE_MARKER.search(text):
                raise SpeechError(f"unfilled template marker in {text!r}")
            self.parts.append(_Text(text, rate))
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

    def mark(self, name: str) -> Speech:
        """A moment a sound cue may mark (see :mod:`skill.coach.cues`); silent by itself."""
        self.parts.append(Mark(name))
        return self

    def audio(self, src: str, seconds: float, label: str) -> Speech:
        self.parts.append(_Audio(src, seconds, label))
        return self

    @property
    def marks(self) -> list[str]:
        return [part.name for part in self.parts if isinstance(part, Mark)]

    @property
    def audio_sources(self) -> list[str]:
        return [part.src for part in self.parts if isinstance(part, _Audio)]

    @property
    def seconds(self) -> float:
        """Estimated duration: pauses plus words at a typical speaking rate."""
        return sum(part.seconds for part in self.parts)

    def _document(self) -> str:
        body = " ".join(text for part in self.parts if (text := part.ssml()))
        if self.rate:
            body = f'<prosody rate="{escape(self.rate)}">{body}</prosody>'
        return "<speak>" + body + "</speak>"

    @property
    def characters(self) -> int:
        """The length of the SSML document, which Alexa limits to 8,000 characters."""
        return len(self._document())

    def ssml(self) -> str:
        ssml = self._document()
        if len(ssml) > MAX_SSML_CHARS:
            raise SpeechError(f"speech is {len(ssml)} characters; Alexa allows {MAX_SSML_CHARS}")
        clips = [part for part in self.parts if isinstance(part, _Audio)]
        if len(clips) > MAX_AUDIO_TAGS:
            raise SpeechError(f"speech has {len(clips)} audio clips; Alexa plays {MAX_AUDIO_TAGS}")
        if sum(clip.seconds for clip in clips) > MAX_AUDIO_SECONDS:
            raise SpeechError(f"speech has more than {MAX_AUDIO_SECONDS:g} seconds of audio")
        return ssml

    def plain(self) -> str:
        """Readable text with pauses shown as "(3 s)" and sounds as "[chime]": for cards, logs
        and the terminal chat."""
        return " ".join(text for part in self.parts if (text := part.plain()))

    def words(self) -> str:
        """The sentences alone, without the pauses: for a screen."""
        return " ".join(part.text for part in self.parts if isinstance(part, _Text))

    def __bool__(self) -> bool:
        return bool(self.parts)


def capitalized(name: str) -> str:
    """A catalog name as a title: "calf stretch" → "Calf stretch" (the rest left as written)."""
    return name[:1].upper() + name[1:]


def spoken_list(phrase: Callable[..., str], items: Sequence[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b and c" (or "a, b or c"), the joining words from the speech strings
    through ``phrase(key, **values)``."""
    if len(items) <= 1:
        return "".join(items)
    key = "answers.list_or" if conjunction == "or" else "answers.list_and"
    return phrase(key, rest=", ".join(items[:-1]), last=items[-1])


def prefixed(ssml: str, speech: Speech) -> str:
    """``speech`` spoken before an already built ``<speak>`` document, within the same limits."""
    if not ssml.startswith("<speak>"):
        raise SpeechError("not an SSML document")
    head = speech.ssml().removesuffix("</speak>")
    combined = f"{head} {ssml.removeprefix('<speak>')}"
    if len(combined) > MAX_SSML_CHARS:
        raise SpeechError(f"speech is {len(combined)} characters; Alexa allows {MAX_SSML_CHARS}")
    return combined


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities: exactly what ``xml.sax.saxutils.escape`` does (that
    module imports ``urllib.request``, ~8 ms of a Lambda cold start where nothing else needs it).
    ``tests/test_speech.py`` checks the two agree."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")

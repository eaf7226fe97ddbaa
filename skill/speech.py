"""SSML building, and the one place where Alexa's speech limits are enforced.

Handlers never write SSML by hand: they compose a :class:`Speech` from plain sentences and pauses.
``ssml()`` escapes text, splits pauses into chained ``<break>`` tags of at most 10 seconds, and
refuses output over 8,000 characters or with leftover ``{template}`` markers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

MAX_BREAK_SECONDS = 10.0
MAX_SSML_CHARS = 8000
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


@dataclass
class Speech:
    parts: list[_Text | _Pause] = field(default_factory=list)

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

    @property
    def seconds(self) -> float:
        """Estimated duration: pauses plus words at a typical speaking rate."""
        return sum(part.seconds for part in self.parts)

    def _document(self) -> str:
        return "<speak>" + " ".join(part.ssml() for part in self.parts) + "</speak>"

    @property
    def characters(self) -> int:
        """The length of the SSML document, which Alexa limits to 8,000 characters."""
        return len(self._document())

    def ssml(self) -> str:
        ssml = self._document()
        if len(ssml) > MAX_SSML_CHARS:
            raise SpeechError(f"speech is {len(ssml)} characters; Alexa allows {MAX_SSML_CHARS}")
        return ssml

    def plain(self) -> str:
        """Readable text with pauses shown as "(3 s)": for cards, logs and the terminal chat."""
        return " ".join(part.plain() for part in self.parts)

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

"""Sound cues: what a person lying on the floor with their eyes closed hears instead of silence.

A composed set carries marks where a hold starts and ends, where the side switches and where a
routine ends (see :class:`skill.speech.Speech`). :func:`with_cues` puts the sound that
``rules.yaml``'s ``sound_cues`` gives for each moment at its mark: a step applied to a composed
response, after the composer and before ``Turn.send``. Alexa plays at most
:data:`~skill.speech.MAX_AUDIO_TAGS` clips in one response, so when a set has more moments, the
content's ``cue_priority`` says which are heard, a moment at all its marks or at none.

Without this step (no sounds wanted, or at night) the marks stay silent.
"""

from __future__ import annotations

from dataclasses import replace

from skill.catalog.model import Rules
from skill.coach.compose import Composed
from skill.speech import MAX_AUDIO_SECONDS, MAX_AUDIO_TAGS, Mark, Speech


def with_cues(composed: Composed, rules: Rules) -> Composed:
    """``composed`` with its marks sounded, within Alexa's audio limits. The set lasts as much
    longer as the clips play (``set_seconds``), so the coach knows when it is over."""
    speech, added = cued_speech(composed.speech, rules)
    if not added:
        return composed
    return replace(composed, speech=speech, set_seconds=composed.set_seconds + added)


def cued_speech(speech: Speech, rules: Rules) -> tuple[Speech, float]:
    """A copy of ``speech`` with a clip at each chosen mark, and the seconds the clips add."""
    chosen = _chosen_marks(speech, rules)
    cued = Speech(rate=speech.rate)
    added = 0.0
    for index, part in enumerate(speech.parts):
        if index in chosen:
            assert isinstance(part, Mark)
            cue = rules.sound_cues[part.name]
            cued.audio(cue.src, cue.seconds, cue.label)
            added += cue.seconds
        else:
            cued.parts.append(part)
    return cued, added


def _chosen_marks(speech: Speech, rules: Rules) -> set[int]:
    """The indexes of the marks that get a sound. Moment by moment in ``cue_priority`` order, a
    moment is heard at every one of its marks or at none (a chime on the first holds of a set
    and silence on the rest would mislead): it is left silent if all of them do not fit in what
    Alexa still allows."""
    chosen: set[int] = set()
    seconds = 0.0
    for moment in rules.cue_priority:
        cue = rules.sound_cues[moment]
        at = [
            index
            for index, part in enumerate(speech.parts)
            if isinstance(part, Mark) and part.name == moment
        ]
        more = cue.seconds * len(at)
        if at and len(chosen) + len(at) <= MAX_AUDIO_TAGS and seconds + more <= MAX_AUDIO_SECONDS:
            chosen.update(at)
            seconds += more
    return chosen

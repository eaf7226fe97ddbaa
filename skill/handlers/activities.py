""" "Can I swim tonight?" and "how fast should I cycle?": the advice's verdict for an activity at
a moment, in words from ``speech/en/answers.yaml`` and the catalog's own sentences.
"""

from __future__ import annotations

import logging

from ask_sdk_model import Response

from skill.advice import Advice, Reason, Verdict, advise, bedtime_edge, resolve_moment
from skill.catalog.model import Activity
from skill.handlers.aside import answered
from skill.handlers.speaking import best_times_words, clock_words, local_units, user_bedtime
from skill.logsafe import clip
from skill.lookup import Found, find
from skill.screens import answer_screen
from skill.speech import Speech, capitalized
from skill.turn import Turn

logger = logging.getLogger(__name__)

# The activity the last "can I …?" or "how fast …?" answer was about, so that a follow-up with no
# activity named ("how fast?", "how far should I go?") is about it.
LAST_ACTIVITY_KEY = "last_activity"


def allowed_activities(turn: Turn) -> list[Activity]:
    return [a for a in turn.catalog.activities.values() if a.allowed]


def verdict_speech(turn: Turn, advice: Advice) -> Speech:
    """The verdict, its reason from the catalog, and a better alternative where there is one."""
    activity = advice.activity
    speech = Speech()
    if advice.verdict is Verdict.NO:
        return speech.say(
            turn.phrase("answers.lead_no"),
            local_units(turn, activity.about),
            turn.phrase("answers.instead", instead=local_units(turn, activity.instead)),
        )
    if advice.verdict is Verdict.BETTER_ANOTHER_TIME:
        return speech.say(
            # The reason first: it is why the answer is "not now".
            turn.phrase("answers.lead_better_another_time"),
            turn.phrase(f"answers.reason_{advice.reason.value}"),
            local_units(turn, activity.about),
            turn.phrase("answers.instead", instead=local_units(turn, activity.instead)),
        )
    if advice.verdict is Verdict.EARLIER_IS_BETTER:
        best = best_times_words(turn, activity.best_times)
        return speech.say(
            turn.phrase("answers.lead_earlier_is_better"),
            local_units(turn, activity.about),
            turn.phrase(f"answers.reason_{Reason.OFF_PEAK.value}", best_times=best),
            local_units(turn, activity.limit or ""),
        )
    return speech.say(
        turn.phrase("answers.lead_yes", name=activity.name),
        local_units(turn, activity.about),
        local_units(turn, activity.limit or ""),
    )


def named_condition(turn: Turn) -> Found | None:
    """A medicine, a condition or an injury named anywhere in the request's slot words: those
    questions only ever get the doctor answer, whatever else they ask."""
    request = turn.handler_input.request_envelope.request
    slots = getattr(getattr(request, "intent", None), "slots", None) or {}
    for name in slots:
        found = find(turn.catalog, turn.slot_value(name))
        if found is not None and found.sensitive:
            return found
    return None


def can_i_answer(turn: Turn, activity: Activity, *, when: str | None = None) -> Response:
    """The verdict for the activity at the time the request names (or now), then "anything else".
    ``when``: a time phrase id found in free words, for requests with no time slot."""
    bedtime = user_bedtime(turn)
    moment = resolve_moment(
        turn.catalog,
        turn.now,
        bedtime,
        phrase_id=when or turn.slot_id("when"),
        phrase_words=turn.slot_value("when"),
        time_value=turn.slot_value("time"),
    )
    speech = Speech()
    if not moment.understood:
        logger.info(
            "could not read the time (when='%s', time='%s'); answering for now",
            clip(turn.slot_value("when")),
            clip(turn.slot_value("time")),
        )
        speech.say(turn.phrase("answers.time_not_understood"))
    elif moment.clock is not None:
        today = moment.at.date() == turn.now.date()
        key = "answers.at_clock" if today else "answers.at_clock_tomorrow"
        speech.say(turn.phrase(key, clock=clock_words(turn, moment.clock)))
    # "This evening": the verdict at its start, and from when it is close to bedtime.
    edge = bedtime_edge(moment, turn.now, bedtime, turn.catalog.rules)
    at = max(moment.span[0], turn.now) if edge is not None and moment.span else moment.at
    advice = advise(activity, at, bedtime, turn.catalog.rules)
    turn.session[LAST_ACTIVITY_KEY] = activity.id
    verdict = verdict_speech(turn, advice)
    if edge is not None and advice.verdict is not Verdict.NO and moment.day_part:
        verdict.say(
            turn.phrase(
                "answers.until_bedtime",
                part=turn.phrase(f"answers.day_part_{moment.day_part}"),
                clock=clock_words(turn, edge.time()),
            )
        )
    screen = answer_screen(capitalized(activity.name), verdict.words())
    return answered(turn, speech.extend(verdict), screen=screen)


def limit_answer(turn: Turn, activity: Activity) -> Response:
    """How fast, far or much: the activity's limit and when it works best (or why to avoid it)."""
    turn.session[LAST_ACTIVITY_KEY] = activity.id
    speech = Speech()
    if not activity.allowed:
        speech.say(
            turn.phrase("answers.lead_no"),
            local_units(turn, activity.about),
            turn.phrase("answers.instead", instead=local_units(turn, activity.instead)),
        )
    elif activity.limit:
        best = best_times_words(turn, activity.best_times)
        if activity.met is not None:
            # An activity the articles don't name: say so, and what they say for its intensity.
            speech.say(activity.about)
        speech.say(
            local_units(turn, activity.limit),
            turn.phrase("answers.limit_best_time", best_times=best),
            local_units(turn, activity.tip or ""),
        )
    else:
        speech.say(activity.about, turn.phrase("answers.no_limit"))
    screen = answer_screen(capitalized(activity.name), speech.words())
    return answered(turn, speech, screen=screen)

"""A remembered "can I …" verdict says exactly what the verdict worked out afresh says."""

from __future__ import annotations

import dataclasses

from skill import records
from skill.advice import Advice, Reason, Verdict
from skill.handlers.answers import spoken_verdict, verdict_keys, verdict_speech
from skill.turn import Turn
from tests.support import variant_turn

# Every verdict with every reason it can be given for.
VERDICTS = [
    (Verdict.NO, Reason.NOT_RECOMMENDED),
    (Verdict.BETTER_ANOTHER_TIME, Reason.NEAR_BEDTIME),
    (Verdict.BETTER_ANOTHER_TIME, Reason.PAST_BEDTIME),
    (Verdict.BETTER_ANOTHER_TIME, Reason.NIGHT),
    (Verdict.EARLIER_IS_BETTER, Reason.OFF_PEAK),
    (Verdict.YES, Reason.BEST_TIME),
    (Verdict.YES_WITH_LIMITS, Reason.BEST_TIME),
]


def _turn(catalog, request_id: str, language: str) -> Turn:
    return variant_turn(catalog, request_id, "CanIDoIntent", language)


def test_a_remembered_verdict_is_the_turns_own_for_every_activity_and_language(catalog):
    # Enough request ids that every string with variants is said each way.
    requests = [f"amzn1.echo-api.request.verdict-{n}" for n in range(12)]
    seen = set()
    for language in sorted(catalog.speech):
        for activity in catalog.activities.values():
            for verdict, reason in VERDICTS:
                advice = Advice(activity, verdict, reason, "evening", 1.5)
                for request in requests:
                    turn = _turn(catalog, request, language)
                    expected = spoken_verdict(turn, advice).ssml()
                    seen.add(expected)
                    for _ in range(2):  # made (or remembered by an earlier turn), then remembered
                        assert verdict_speech(turn, advice).ssml() == expected
    # Each activity's verdicts differ, and strings with variants were said more than one way.
    assert len(seen) > len(catalog.activities) * len(VERDICTS)


def test_a_remembered_verdict_says_only_the_strings_it_is_remembered_by(catalog):
    for verdict, reason in VERDICTS:
        for activity in catalog.activities.values():
            advice = Advice(activity, verdict, reason, "evening", 1.5)
            keys = verdict_keys(advice)
            if keys is None:
                continue
            asked: list[str] = []
            turn = _turn(catalog, "amzn1.echo-api.request.verdict", "en")
            own = turn.phrase

            def recording(key, _own=own, _asked=asked, **values):
                _asked.append(key)
                return _own(key, **values)

            turn.phrase = recording  # type: ignore[method-assign]
            spoken_verdict(turn, advice)
            assert set(asked) <= set(keys), (verdict, reason)


def test_a_verdict_is_not_taken_from_another_catalogs_memory(catalog):
    turn = _turn(catalog, "amzn1.echo-api.request.verdict", "en")
    activity = next(iter(catalog.activities.values()))
    advice = Advice(activity, Verdict.YES, Reason.BEST_TIME, "morning", 9.0)
    verdict_speech(turn, advice)
    edited = records.replace(activity, about="Edited words.")
    other = records.replace(catalog, activities={**catalog.activities, activity.id: edited})
    other_turn = dataclasses.replace(turn, catalog=other)
    other_advice = records.replace(advice, activity=edited)
    assert "Edited words." in verdict_speech(other_turn, other_advice).ssml()

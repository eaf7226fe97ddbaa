"""What the coach says about a user's own choices: exercises left out from now on, their reps
within the articles' range, ready mode, their pace, a short session, their days of exercise, and
the summary and reset of all of it.

Kept apart from :mod:`skill.coach.compose` (which composes the guided sets themselves) but built
on it: every answer is a :class:`~skill.coach.compose.Composed`, every sentence a key of
``speech/en/routine.yaml``. Handlers decide and save; this only words.
"""

from __future__ import annotations

from collections.abc import Sequence

from skill.catalog.model import Exercise, Routine
from skill.coach.compose import Composed, Composer
from skill.coach.exercise_speech import estimated_minutes
from skill.coach.intro import counted, exercise_names
from skill.coach.player import Place
from skill.speech import Speech, spoken_list


class ChoiceWords:
    """Answers about choices, in the words and at the pace of one turn's composer."""

    def __init__(self, composer: Composer) -> None:
        self.composer = composer
        self.phrase = composer.phrase

    def names(self, exercises: Sequence[Exercise]) -> str:
        return exercise_names(self.phrase, [e.name for e in exercises])

    def _closed(self, speech: Speech, place: Place | None, *, spoken: bool = False) -> Composed:
        """An answer that goes on with what is going on: mid-routine, what "next" brings (the
        set at ``place``), else "what would you like to do?". Never the last response."""
        if place is None:
            reprompt = Speech().say(self.phrase("routine.nothing_reprompt"))
            speech.say(self.phrase("routine.choice_close"))
            return Composed(speech, reprompt, remember=False)
        if spoken:
            speech.say(self.phrase("routine.question_close"))
        else:
            speech.say(self.composer.ready(place, moved_on=False))
        return Composed(speech, Speech().say(self.phrase("routine.help_reprompt")), remember=False)

    # ---- leaving out ---------------------------------------------------------------------------

    def leave_out_confirm(self, exercises: Sequence[Exercise]) -> Composed:
        names = self.names(exercises)
        return Composed(
            Speech().say(self.phrase("routine.leave_out_confirm", names=names)),
            Speech().say(self.phrase("routine.leave_out_confirm_reprompt", names=names)),
            remember=False,
        )

    def left_out(
        self, exercises: Sequence[Exercise], place: Place | None, *, spoken: bool = False
    ) -> Composed:
        text = self.phrase(
            "routine.left_out_done", names=self.names(exercises), exercise=exercises[0].name
        )
        return self._closed(Speech().say(text), place, spoken=spoken)

    def left_out_and_rest(self, exercises: Sequence[Exercise] | None) -> Composed:
        """After a skip for pain: what was left out (if anything), then rest."""
        speech = Speech()
        if exercises:
            speech.say(
                self.phrase(
                    "routine.left_out_done", names=self.names(exercises), exercise=exercises[0].name
                )
            )
        else:
            speech.say(self.phrase("routine.left_out_kept", names=""))
        speech.say(self.phrase("routine.rest_now"))
        return Composed(speech, end_session=True, remember=False)

    def kept_in(self, exercises: Sequence[Exercise], place: Place | None) -> Composed:
        speech = Speech().say(self.phrase("routine.left_out_kept", names=self.names(exercises)))
        return self._closed(speech, place)

    def already_left_out(self, exercises: Sequence[Exercise], place: Place | None) -> Composed:
        speech = Speech().say(self.phrase("routine.left_out_already", names=self.names(exercises)))
        return self._closed(speech, place)

    def nothing_to_leave_out(self, place: Place | None) -> Composed:
        return self._closed(Speech().say(self.phrase("routine.leave_out_nothing")), place)

    def left_out_list(self, exercises: Sequence[Exercise], place: Place | None) -> Composed:
        if not exercises:
            return self._closed(Speech().say(self.phrase("routine.left_out_none")), place)
        text = self.phrase(
            "routine.left_out_list", names=self.names(exercises), exercise=exercises[0].name
        )
        return self._closed(Speech().say(text), place)

    def put_back(
        self, exercises: Sequence[Exercise], place: Place | None, *, was_out: bool
    ) -> Composed:
        if not exercises:
            return self._closed(Speech().say(self.phrase("routine.put_back_all")), place)
        key = "routine.put_back" if was_out else "routine.put_back_not_out"
        return self._closed(Speech().say(self.phrase(key, names=self.names(exercises))), place)

    def nothing_left(
        self, routine: Routine, suggestion: Routine | None, example: Exercise
    ) -> Composed:
        """Every exercise of ``routine`` is left out: another routine, or how to put one back."""
        values = {
            "routine": routine.name,
            "suggestion": (suggestion or routine).name,
            "exercise": example.name,
        }
        if suggestion is None:
            text = self.phrase("routine.left_out_list", names=self.names([example]), **values)
            return self._closed(Speech().say(text), None)
        return Composed(
            Speech().say(self.phrase("routine.nothing_left", **values)),
            Speech().say(self.phrase("routine.nothing_left_reprompt", **values)),
            remember=False,
        )

    # ---- skipping ------------------------------------------------------------------------------

    def skip_ahead(self, exercises: Sequence[Exercise], place: Place, *, spoken: bool) -> Composed:
        speech = Speech().say(self.phrase("routine.skip_ahead", names=self.names(exercises)))
        return self._closed(speech, place, spoken=spoken)

    def skipped_for_pain(self, exercise: Exercise, following: Exercise | None) -> Composed:
        """A skip that gave pain as its reason: stop and rest, the skipped exercise, where the
        place is kept, and whether to leave that exercise out from now on."""
        name = self.phrase("routine.what_exercise", exercise=exercise.name)
        speech = Speech().say(
            self.phrase("care.stop_now"),
            self.phrase("care.see_doctor_if_it_goes_on"),
            self.phrase("routine.skipped_for_pain", exercise=name),
        )
        if following is not None:
            following_name = self.phrase("routine.what_exercise", exercise=following.name)
            speech.say(self.phrase("routine.skipped_place_kept", next=following_name))
        speech.say(self.phrase("routine.leave_out_after_pain", exercise=name))
        reprompt = Speech().say(self.phrase("routine.leave_out_after_pain_reprompt", exercise=name))
        return Composed(speech, reprompt, remember=False)

    # ---- reps ----------------------------------------------------------------------------------

    def reps_set(
        self, exercise: Exercise, count: int, place: Place | None, *, spoken: bool
    ) -> Composed:
        values = {
            "count": self.composer.number(count),
            "exercise": exercise.name,
            "body_part": exercise.sides.body_part,
        }
        key = "routine.reps_set_side" if exercise.sides.per_side else "routine.reps_set"
        speech = Speech().say(self.phrase(key, **values))
        if place is not None and place.exercise.id == exercise.id:
            speech.say(self.phrase("routine.reps_from_next_time", exercise=exercise.name))
        return self._closed(speech, place, spoken=spoken)

    def reps_limit(self, exercise: Exercise, place: Place | None, *, spoken: bool) -> Composed:
        """A count outside the source's range: the range, and why, in the source's words."""
        reps = exercise.reps
        if reps.spoken:
            amount = reps.spoken
        elif reps.min is None:
            amount = self.phrase("routine.reps_up_to", high=self.composer.number(reps.max))
        else:
            amount = self.phrase(
                "routine.reps_range",
                low=self.composer.number(reps.min),
                high=self.composer.number(reps.max),
            )
        key = "routine.reps_limit_side" if exercise.sides.per_side else "routine.reps_limit"
        text = self.phrase(
            key,
            exercise=exercise.name,
            amount=amount,
            body_part=exercise.sides.body_part,
            limit=reps.limit or exercise.source.says or "",
        )
        return self._closed(Speech().say(text), place, spoken=spoken)

    def reps_which(self) -> Composed:
        return self._closed(Speech().say(self.phrase("routine.reps_which")), None)

    # ---- ready mode and pace -------------------------------------------------------------------

    def ready_mode(self, *, on: bool, place: Place | None, spoken: bool) -> Composed:
        key = "routine.ready_mode_on" if on else "routine.ready_mode_off"
        return self._closed(Speech().say(self.phrase(key)), place, spoken=spoken)

    def pace_name(self, pace_id: str) -> str:
        return self.phrase(f"routine.pace_{pace_id}")

    def which_pace(self, pace_id: str, place: Place | None, *, spoken: bool) -> Composed:
        if pace_id == "normal":
            speech = Speech().say(self.phrase("routine.pace_is_normal"))
        else:
            speech = Speech().say(self.phrase("routine.pace_is", pace=self.pace_name(pace_id)))
        return self._closed(speech, place, spoken=spoken)

    def normal_pace(self, *, changed: bool, place: Place | None, spoken: bool) -> Composed:
        key = "routine.pace_back_to_normal" if changed else "routine.pace_already_normal"
        return self._closed(Speech().say(self.phrase(key)), place, spoken=spoken)

    # ---- a short session -----------------------------------------------------------------------

    def none_fit(self, routine: Routine, shortest_seconds: float) -> Composed:
        minutes = counted(
            self.phrase,
            ("routine.minutes", "routine.minutes_one"),
            estimated_minutes(shortest_seconds),
        )
        return Composed(
            Speech().say(
                self.phrase("routine.short_none_fit", routine=routine.name, minutes=minutes)
            ),
            Speech().say(self.phrase("common.welcome_reprompt")),
            remember=False,
        )

    # ---- days of exercise ----------------------------------------------------------------------

    def streak(self, days: int) -> Composed:
        if days == 0:
            text = self.phrase("routine.streak_none")
        else:
            text = counted(self.phrase, ("routine.streak", "routine.streak_one"), days)
        return self._closed(Speech().say(text), None)

    def yesterday(self, routines: Sequence[Routine], exercise: bool) -> Composed:
        if routines:
            names = [self.phrase("routine.what_routine", routine=r.name) for r in routines]
            text = self.phrase("routine.yesterday_routines", names=spoken_list(self.phrase, names))
        elif exercise:
            text = self.phrase("routine.yesterday_exercise")
        else:
            text = self.phrase("routine.yesterday_none")
        return self._closed(Speech().say(text), None)

    def last_week(self, days: int) -> Composed:
        if days == 0:
            text = self.phrase("routine.last_week_none")
        else:
            text = counted(self.phrase, ("routine.last_week", "routine.last_week_one"), days)
        return self._closed(Speech().say(text), None)

    # ---- what you've changed -------------------------------------------------------------------

    def settings(
        self,
        left_out: Sequence[Exercise],
        reps: Sequence[tuple[Exercise, int]],
        *,
        ready: bool,
        pace_id: str,
        bedtime: str | None,
        sounds: bool = True,
    ) -> Composed:
        """Every choice kept from now on, or that none is."""
        lines = []
        if left_out:
            lines.append(self.phrase("routine.settings_left_out", names=self.names(left_out)))
        for exercise, count in reps:
            key = (
                "routine.settings_reps_side" if exercise.sides.per_side else "routine.settings_reps"
            )
            lines.append(
                self.phrase(
                    key,
                    count=self.composer.number(count),
                    exercise=exercise.name,
                    body_part=exercise.sides.body_part,
                )
            )
        if ready:
            lines.append(self.phrase("routine.settings_ready"))
        if pace_id != "normal":
            lines.append(self.phrase("routine.settings_pace", pace=self.pace_name(pace_id)))
        if bedtime:
            lines.append(self.phrase("routine.settings_bedtime", bedtime=bedtime))
        if not sounds:
            lines.append(self.phrase("routine.settings_no_sounds"))
        if not lines:
            return self._closed(Speech().say(self.phrase("routine.settings_none")), None)
        speech = Speech().say(self.phrase("routine.settings_intro"), *lines)
        return self._closed(speech.say(self.phrase("routine.settings_close")), None)

    def reset_confirm(self) -> Composed:
        return Composed(
            Speech().say(self.phrase("routine.reset_confirm")),
            Speech().say(self.phrase("routine.reset_confirm_reprompt")),
            remember=False,
        )

    def reset(self, *, done: bool) -> Composed:
        key = "routine.reset_done" if done else "routine.reset_kept"
        return self._closed(Speech().say(self.phrase(key)), None)

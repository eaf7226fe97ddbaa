"""The one place a guided turn is composed: (catalog, progress, pace, choices, moment) → what it
says and shows.

Handlers decide which step it is and save the progress; a :class:`Composer` turns that place
into a :class:`Composed` response (speech, reprompt, card, screen) that ``Turn.send`` builds.
Every sentence here is a key named where it is spoken (or in one of the three tables below): of
``speech/en/routine.yaml`` (``routine.…``), ``screen.yaml`` (``screen.…``), and a few of
``common.yaml`` and ``care.yaml``. What an exercise itself says (setup, cues, counts, holds) is
:class:`~skill.coach.exercise_speech.ExerciseVoice`'s. The moment (near bedtime, a long gap, a
first finish) is judged by the handlers, which pass the composer what it means for the words.

A set must fit one response (a set is never cut). :func:`skill.coach.budget.fit_problems` checks
that by composing, with the longest variant of every sentence, every way each set can actually be
spoken (:meth:`Composer.set_variants`: each opening a turn may say before it, the introductions,
the close or the finish): the budget is what is composed, never a table kept beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from skill.catalog.model import Catalog, Routine
from skill.coach.exercise_speech import (
    COUNT,
    PREPARE,
    WHOLE,
    ExerciseVoice,
    Phrase,
    estimated_minutes,
    locate,
    number_words,
)
from skill.coach.intro import counted, exercise_names, routine_intro
from skill.coach.player import Place, RoutinePlayer
from skill.screens import BUTTON_INTENTS, Screen, answer_screen, step_screen
from skill.speech import Speech, capitalized, spoken_list
from skill.state import Progress

# What a turn did before the set it speaks ("Okay, going back."): handlers name one of these.
OPENINGS: dict[str, tuple[str, ...]] = {
    "resume": ("routine.resume",),
    "skipping": ("routine.skipping",),
    "going_back": ("routine.going_back",),
    "already_first": ("routine.already_first",),
    "start_over": ("routine.start_over",),
    "slower_again": ("routine.slower", "routine.pace_again"),
    "faster_again": ("routine.faster", "routine.pace_again"),
    "new_count": ("routine.reps_again",),
}
# Why there is nothing to navigate: the sentence that says so.
NOTHING = {
    "resume": "routine.nothing_to_resume",
    "running": "routine.nothing_running",
    "repeat": "routine.nothing_to_repeat",
}
# Why "skip" stays where it is.
SKIP_REFUSALS = {
    "later": "routine.skip_later",
    "not_in_routine": "routine.skip_not_in_routine",
    "already_on": "routine.skip_already_on",
    "last": "routine.skip_last",
}


@dataclass(frozen=True, slots=True)
class Composed:
    """Everything one turn says and shows. ``reprompt`` keeps the session open (or
    ``end_session=False``, which reprompts with the speech); ``remember`` keeps it for "repeat";
    ``set_seconds`` is how long the set in it runs (the opening and introductions included, not
    the close), from which the player knows when the set is finished."""

    speech: Speech
    reprompt: Speech | None = None
    card: tuple[str, str] | None = None
    screen: Screen | None = None
    end_session: bool | None = None
    remember: bool = True
    set_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Finish:
    """What the last set of a routine (or single exercise) closes with: the days done this week
    (a routine), the routine set aside for a single exercise (if any), and a question another
    capability asks after it (the one-time reminder offer) with its reprompt."""

    days_this_week: int = 0
    kept_routine: Routine | None = None
    question: Speech | None = None
    question_reprompt: Speech | None = None
    later: tuple[str, ...] = ()  # the exercises a short session kept for later, by name


class Composer:
    """Composes guided turns for one user: the catalog, their pace's player, and the words."""

    def __init__(
        self, catalog: Catalog, player: RoutinePlayer, phrase: Phrase, language: str = "en"
    ) -> None:
        self.catalog = catalog
        self.player = player
        self.phrase = phrase
        self.language = language

    # ---- small words -------------------------------------------------------------------------

    def number(self, count: int) -> str:
        return number_words(count, self.language)

    def counted(self, key: str, count: int) -> str:
        """ "one exercise" from ``key + "_one"``; "seven exercises" from ``key`` with the count."""
        if count == 1:
            return self.phrase(f"{key}_one")
        return self.phrase(key, count=self.number(count))

    def counted_digits(self, key: str, count: int) -> str:
        """ "1 rep" from ``key + "_one"``, "5 reps" from ``key``: a count for the eye."""
        return self.phrase(f"{key}_one") if count == 1 else self.phrase(key, count=count)

    def bedtime(self, *, past: bool) -> str:
        """ "It's close to your bedtime", or after it (the small hours) "It's past your bedtime"."""
        return self.phrase("routine.bedtime_past" if past else "routine.bedtime_close")

    def what(self, progress: Progress | None) -> str:
        """ "your morning stretches" or "the bridge": what ``progress`` is in."""
        routine = self.catalog.routines.get(progress.routine_id or "") if progress else None
        if routine is not None:
            return self.phrase("routine.what_routine", routine=routine.name)
        exercise = self.catalog.exercises.get(progress.exercise_id or "") if progress else None
        return self.phrase("routine.what_exercise", exercise=exercise.name if exercise else "")

    def voice(self, place: Place) -> ExerciseVoice:
        return self.player.voice(place.exercise, place.reps, self.phrase)

    def _side_values(self, place: Place, flat: int) -> dict[str, str | None]:
        """{side} and {body_part} of the set that starts at flat rep ``flat``."""
        sides = place.exercise.sides
        return {
            "side": sides.order[locate(flat, place.reps)[0]] or "",
            "body_part": sides.body_part,
        }

    # ---- a guided set ------------------------------------------------------------------------

    def guided_set(
        self,
        place: Place,
        opening: str | None = None,
        *,
        name_it: bool = False,
        introduce: bool = False,
        finish: Finish | None = None,
        part: str = WHOLE,
    ) -> Composed:
        """The set at ``place``: the ``opening`` (a key of OPENINGS), the routine's introduction
        when it starts (``introduce``), the exercise's name at its first set (or always, with
        ``name_it``), the set itself, then what "next" brings, or, at the last set, ``finish``.
        In ready mode ``part`` is the set's PREPARE (all but the count) or its COUNT."""
        speech = Speech()
        if part != COUNT:
            if opening is not None:
                speech.say(*(self.phrase(key) for key in OPENINGS[opening]))
            if introduce:
                speech.say(*routine_intro(self.phrase, self.player, place))
            if place.segment_index == 0 or name_it:
                speech.say(self._exercise_intro(place))
        voice = self.voice(place)
        speech.extend(voice.body(place.segment, part))
        seconds = speech.seconds
        card = (capitalized(place.exercise.name), voice.card_text(voice.side(place.segment.first)))
        if part == PREPARE:
            return self._prepared(place, speech, card, voice)
        if place.is_last:
            return replace(
                self._finished(place, speech, card, finish or Finish()), set_seconds=seconds
            )
        close, reprompt = self._close(place)
        return Composed(
            speech.say(close),
            Speech().say(reprompt),
            card=card,
            screen=self._step_screen(place, voice),
            set_seconds=seconds,
        )

    def _prepared(
        self, place: Place, speech: Speech, card: tuple[str, str], voice: ExerciseVoice
    ) -> Composed:
        """Ready mode: the set is prepared and waits for "ready" (a short reprompt keeps the
        session open; if no answer comes, the place is kept)."""
        reprompt = Speech().say(self.phrase("routine.ready_reprompt"))
        return Composed(speech, reprompt, card=card, screen=self._step_screen(place, voice))

    def _exercise_intro(self, place: Place) -> str:
        name = place.exercise.name
        if place.segment_index > 0 or place.segment.first > 0:
            return self.phrase("routine.exercise_now", exercise=name)
        if place.routine is None:
            return ""  # the guided intro already named it
        if place.step == 0:
            return self.phrase("routine.exercise_first", exercise=name)
        if place.next_exercise is None:
            return self.phrase("routine.exercise_last", exercise=name)
        return self.phrase(
            "routine.exercise_next",
            exercise=name,
            number=self.number(place.step + 1),
            count=self.number(place.step_count),
        )

    def _close(self, place: Place) -> tuple[str, str]:
        """What a set closes with, and its reprompt: what "next" will bring."""
        following = place.next_segment
        if following is None:
            assert place.next_exercise is not None
            name = place.next_exercise.name
            return (
                self.phrase("routine.close_next_exercise", exercise=name),
                self.phrase("routine.close_next_exercise_reprompt", exercise=name),
            )
        if self._switches_side(place, following.first):
            values = self._side_values(place, following.first)
            return (
                self.phrase("routine.close_other_side", **values),
                self.phrase("routine.close_other_side_reprompt", **values),
            )
        return self.phrase("routine.close_more"), self.phrase("routine.close_more_reprompt")

    @staticmethod
    def _switches_side(place: Place, flat: int) -> bool:
        """The set starting at flat rep ``flat`` begins a side other than the first."""
        side_index, rep = locate(flat, place.reps)
        return rep == 1 and side_index > 0

    def ready(self, place: Place, *, moved_on: bool) -> str:
        """ "Say next for your right leg.": what "next" brings when the set at ``place`` is still
        to do. ``moved_on``: that set begins an exercise other than the one just done."""
        if moved_on:
            return self.phrase("routine.ready_exercise", exercise=place.exercise.name)
        if self._switches_side(place, place.segment.first):
            values = self._side_values(place, place.segment.first)
            return self.phrase("routine.ready_other_side", **values)
        return self.phrase("routine.ready_more")

    def _step_screen(self, place: Place, voice: ExerciseVoice) -> Screen:
        """The set on screen: the exercise, the side, the same movement sentences the coach says
        for this set, which set of how many, and where in the routine."""
        exercise = place.exercise
        side = voice.side(place.segment.first)
        first_side = place.segment.first < place.reps
        position = exercise.setup if first_side or not exercise.switch else exercise.switch
        lines = [voice.fill(sentence, side) for sentence in (*position, *exercise.movement)]
        reps = self.counted_digits("screen.reps", place.segment.count)
        sets = len(place.segments)
        if sets > 1:
            set_text = self.phrase(
                "screen.set_of", number=place.segment_index + 1, count=sets, reps=reps
            )
        else:
            set_text = self.phrase("screen.set_one", reps=reps)
        if place.routine is not None:
            progress = self.phrase(
                "screen.in_routine",
                number=place.step + 1,
                count=place.step_count,
                routine=capitalized(place.routine.name),
            )
        else:
            progress = self.phrase("screen.on_its_own")
        side_text = (
            capitalized(self.phrase("screen.side", side=side, body_part=exercise.sides.body_part))
            if side is not None
            else ""
        )
        return step_screen(
            title=capitalized(exercise.name),
            side=side_text,
            lines=lines,
            set_text=set_text,
            progress=progress,
            buttons=[(self.phrase(f"screen.button_{event}"), event) for event in BUTTON_INTENTS],
        )

    def _finished(
        self, place: Place, speech: Speech, card: tuple[str, str], finish: Finish
    ) -> Composed:
        closing = Speech()  # after the last set: also the screen's words
        if place.routine is None:
            closing.say(self.phrase("routine.exercise_done", exercise=place.exercise.name))
            if finish.kept_routine is not None:
                closing.say(self.phrase("routine.routine_kept", routine=finish.kept_routine.name))
            closing.say(self.phrase("common.anything_else"))
            return Composed(
                speech.extend(closing),
                Speech().say(self.phrase("common.welcome_reprompt")),
                card=card,
                screen=answer_screen(capitalized(place.exercise.name), closing.words()),
            )
        closing.mark("routine_end")  # a moment for a sound cue (skill.coach.cues)
        closing.say(*self._routine_closing(place, finish))
        if finish.question is not None:
            closing.extend(finish.question)
            return Composed(
                speech.extend(closing),
                finish.question_reprompt,
                card=card,
                screen=answer_screen(capitalized(place.routine.name), closing.words()),
            )
        closing.say(self.phrase("routine.finished_goodbye"))
        return Composed(
            speech.extend(closing),
            card=card,
            screen=answer_screen(capitalized(place.routine.name), closing.words()),
            end_session=True,
        )

    def _routine_closing(self, place: Place, finish: Finish) -> list[str]:
        """The routine done (or a short session, with what it kept for later), the days this
        week, and a routine set aside for this one."""
        assert place.routine is not None
        if finish.later:
            later = capitalized(exercise_names(self.phrase, list(finish.later)))
            done = self.phrase("routine.short_done", later=later)
        else:
            done = self.phrase("routine.finished", routine=place.routine.name)
        days = ("routine.days_this_week", "routine.days_this_week_one")
        out = [done, counted(self.phrase, days, finish.days_this_week, self.language)]
        if finish.kept_routine is not None:
            out.append(self.phrase("routine.routine_kept", routine=finish.kept_routine.name))
        return out

    def set_variants(self, place: Place) -> Iterator[Composed]:
        """Every way the set at ``place`` can be spoken: with no opening or each of OPENINGS,
        introduced where a start introduces it, named, and closed or finished each way; a start
        also as a new user's first turn, which the disclaimer opens (the builder's
        FirstTurnInterceptor says it before whatever that turn says, when there is room)."""
        finishes = [Finish(days_this_week=7)]
        if place.is_last:
            question = Speech().say(self.phrase("reminders.offer"))
            reprompt = Speech().say(self.phrase("reminders.offer_reprompt"))
            longest_name = max(self.catalog.routines.values(), key=lambda r: len(r.name))
            finishes += [
                Finish(days_this_week=7, question=question, question_reprompt=reprompt),
                Finish(kept_routine=longest_name),
            ]
        starts = place.step == 0 and place.segment_index == 0 and place.segment.first == 0
        for opening in (None, *OPENINGS):
            for finish in finishes:
                composed = self.guided_set(
                    place, opening, name_it=True, introduce=starts, finish=finish
                )
                yield composed
                if starts and opening is None:
                    disclaimer = Speech().say(self.phrase("common.disclaimer"))
                    yield replace(composed, speech=disclaimer.extend(composed.speech))

    # ---- questions while guiding -------------------------------------------------------------

    def where_am_i(self, current: Place, place: Place, *, finished: bool, spoken: bool) -> Composed:
        """ "Which leg?": the exercise and side of the set at hand (``place``; the next one if
        ``current``'s set is ``finished``). ``spoken``: the set was spoken and not cut off."""
        moved_on = place.step != current.step
        speech = Speech()
        if moved_on:
            speech.say(self.phrase("routine.where_done", exercise=current.exercise.name))
        if place.routine is None:
            speech.say(self.phrase("routine.where_exercise", exercise=place.exercise.name))
        else:
            speech.say(
                self.phrase(
                    "routine.where_routine",
                    exercise=place.exercise.name,
                    number=self.number(place.step + 1),
                    count=self.number(place.step_count),
                    routine=place.routine.name,
                )
            )
        if place.exercise.sides.per_side:
            values = self._side_values(place, place.segment.first)
            key = "routine.where_side_next" if finished else "routine.where_side"
            speech.say(self.phrase(key, **values))
        return self._answer(speech, place, moved_on=moved_on, spoken=spoken)

    def whats_left(self, current: Place, place: Place, *, spoken: bool) -> Composed:
        """ "How many more?": the exercises after this one and about how long the rest takes."""
        speech = Speech()
        later = [exercise for exercise, _ in place.steps[place.step + 1 :]]
        if later:
            names = [self.phrase("routine.what_exercise", exercise=e.name) for e in later]
            speech.say(
                self.phrase(
                    "routine.left_exercises_one" if len(names) == 1 else "routine.left_exercises",
                    exercise=place.exercise.name,
                    count=self.number(len(names)),
                    names=spoken_list(self.phrase, names),
                )
            )
        else:
            speech.say(self.phrase("routine.left_last", exercise=place.exercise.name))
        minutes = estimated_minutes(self.player.remaining_seconds(place))
        speech.say(
            self.phrase("routine.left_time", minutes=self.counted("routine.minutes", minutes))
        )
        return self._answer(speech, place, moved_on=place.step != current.step, spoken=spoken)

    def _answer(self, speech: Speech, place: Place, *, moved_on: bool, spoken: bool) -> Composed:
        """A question answered mid-routine: the session stays open, and "repeat" still repeats
        the set (the answer is not remembered as the last response)."""
        if spoken:
            ready = self.phrase("routine.question_close")
        else:
            ready = self.ready(place, moved_on=moved_on)
        return Composed(
            speech.say(ready), Speech().say(self.phrase("routine.help_reprompt")), remember=False
        )

    def help(self, place: Place) -> Composed:
        if place.routine is None:
            text = self.phrase("routine.help_exercise", exercise=place.exercise.name)
        else:
            text = self.phrase(
                "routine.help_routine",
                exercise=place.exercise.name,
                number=self.number(place.step + 1),
                count=self.number(place.step_count),
                routine=place.routine.name,
            )
        return Composed(
            Speech().say(text), Speech().say(self.phrase("routine.help_reprompt")), remember=False
        )

    def not_understood(self, place: Place, *, heard_no: bool) -> Composed:
        """Not understood while guiding, or a "no" to no question (no "sorry, I missed that",
        but what it can mean from here). Either may have been about pain."""
        key = "routine.no_in_routine" if heard_no else "routine.fallback_routine"
        return self._said(
            self.phrase(key, exercise=place.exercise.name),
            self.phrase("routine.help_reprompt"),
            remember=False,
        )

    # ---- moving around -----------------------------------------------------------------------

    def hold_place(self, place: Place, *, paused: bool) -> Composed:
        """A break ("pause") or a stop: the place is kept, and the session ends."""
        key = "routine.pause" if paused else "routine.stop"
        return Composed(
            Speech().say(self.phrase(key, exercise=place.exercise.name)), end_session=True
        )

    def wait(self) -> Composed:
        return self._said(
            self.phrase("routine.wait"), self.phrase("routine.wait_reprompt"), remember=False
        )

    def skip_refused(self, place: Place, why: str, exercise: str = "") -> Composed:
        """ "Skip" that stays where it is, for a reason in SKIP_REFUSALS."""
        text = self.phrase(SKIP_REFUSALS[why], current=place.exercise.name, exercise=exercise)
        reprompt = Speech().say(self.phrase("routine.help_reprompt"))
        return Composed(Speech().say(text).extend(reprompt), reprompt, remember=False)

    def pace_at_limit(self, *, slowing: bool, guiding: bool) -> Composed:
        said = Speech().say(self.phrase("routine.slowest" if slowing else "routine.fastest"))
        key = "routine.help_reprompt" if guiding else "routine.nothing_reprompt"
        reprompt = Speech().say(self.phrase(key))
        return Composed(said.extend(reprompt), reprompt, remember=False)

    def pace_saved(self, *, slowing: bool) -> Composed:
        """A new pace outside a routine: kept for the next one."""
        return self._said(
            Speech().say(
                self.phrase("routine.slower" if slowing else "routine.faster"),
                self.phrase("routine.pace_saved"),
            ),
            self.phrase("routine.nothing_reprompt"),
        )

    def pace_from_next_set(self, place: Place, *, slowing: bool, moved_on: bool) -> Composed:
        """A new pace between sets: it starts with the next set (``place``)."""
        key = "routine.slower_next_set" if slowing else "routine.faster_next_set"
        ready = self.ready(place, moved_on=moved_on)
        return Composed(Speech().say(self.phrase(key), ready), Speech().say(ready), remember=False)

    # ---- starting and coming back ------------------------------------------------------------

    def bedtime_warning(self, *, past: bool) -> Composed:
        return self._said(
            self.phrase("routine.bedtime_warning", bedtime=self.bedtime(past=past)),
            self.phrase("routine.bedtime_warning_reprompt"),
        )

    def pain_check(self) -> Composed:
        """Before a start on a day something hurt: do they feel fine now?"""
        return self._said(self.phrase("care.pain_check"), self.phrase("care.pain_check_reprompt"))

    def rest_today(self) -> Composed:
        return Composed(Speech().say(self.phrase("care.rest_today")), end_session=True)

    def comeback(
        self, place: Place, progress: Progress, *, bedtime_past: bool | None, stale: bool
    ) -> Composed:
        """Saved progress in a new session: near bedtime (``bedtime_past`` not None) the place
        keeps for tomorrow; after a long gap (``stale``) a fresh start; else an offer to pick up."""
        what = self.what(progress)
        name = place.exercise.name
        if bedtime_past is not None:
            return self._said(
                self.phrase(
                    "routine.comeback_bedtime",
                    exercise=name,
                    what=what,
                    bedtime=self.bedtime(past=bedtime_past),
                ),
                self.phrase("routine.bedtime_warning_reprompt_tips"),
            )
        if stale:
            return self._said(
                self.phrase("routine.fresh_offer", what=what),
                self.phrase("routine.fresh_offer_reprompt", what=what),
            )
        return self._said(
            self.phrase("routine.resume_offer", exercise=name, what=what),
            self.phrase("routine.resume_offer_reprompt"),
        )

    def no_resume(self) -> Composed:
        return self._said(self.phrase("routine.no_resume"), self.phrase("common.welcome_reprompt"))

    def lost_place(self) -> Composed:
        """Saved progress that points at nothing (changed content, a corrupt record)."""
        return self._said(
            self.phrase("routine.lost_place"), self.phrase("routine.nothing_reprompt")
        )

    def nothing(
        self,
        why: str,
        *,
        bedtime_past: bool | None = None,
        routine: Routine | None = None,
        done_today: bool = False,
    ) -> Composed:
        """A navigation word with nothing to navigate (``why``, a key of NOTHING): what would
        work instead. Near bedtime (``bedtime_past`` not None) a bedtime tip, not the routine."""
        speech = Speech().say(self.phrase(NOTHING[why]))
        if bedtime_past is not None:
            bedtime = self.bedtime(past=bedtime_past)
            speech.say(self.phrase("routine.suggest_bedtime_tips", bedtime=bedtime))
        elif routine is not None:
            key = "routine.suggest_again" if done_today else "routine.suggest_start"
            speech.say(self.phrase(key, routine=routine.name))
        return Composed(
            speech, Speech().say(self.phrase("routine.nothing_reprompt")), remember=False
        )

    def not_guiding(self, place: Place) -> Composed:
        """A navigation word in a session that is not guiding, with a place saved."""
        return self._said(
            self.phrase("routine.nothing_running_saved", exercise=place.exercise.name),
            self.phrase("routine.nothing_reprompt"),
            remember=False,
        )

    def unknown_routine(self, words: str, suggestion: Routine) -> Composed:
        names = [r.name for r in self.catalog.routines.values()]
        return self._said(
            self.phrase(
                "routine.unknown_routine", words=words, routines=spoken_list(self.phrase, names)
            ),
            self.phrase("routine.which_routine_reprompt", routine=suggestion.name),
            remember=False,
        )

    def unknown_exercise(self, words: str | None) -> Composed:
        """An exercise the coach does not know (``words``), or none named."""
        exercises = list(self.catalog.exercises.values())
        names = [self.phrase("routine.what_exercise", exercise=e.name) for e in exercises[:3]]
        examples = spoken_list(self.phrase, names)
        if words:
            text = self.phrase("routine.unknown_exercise", words=words, examples=examples)
        else:
            text = self.phrase("routine.which_exercise", examples=examples)
        return self._said(
            text,
            self.phrase("routine.which_exercise_reprompt", exercise=exercises[0].name),
            remember=False,
        )

    @staticmethod
    def _said(
        speech: Speech | str, reprompt: str | None = None, *, remember: bool = True
    ) -> Composed:
        if isinstance(speech, str):
            speech = Speech().say(speech)
        return Composed(
            speech, Speech().say(reprompt) if reprompt is not None else None, remember=remember
        )

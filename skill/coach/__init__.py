"""The coach, pure code over the catalog: the routine player (:mod:`skill.coach.player`), what
each set of an exercise says (:mod:`skill.coach.exercise_speech`), the ONE place a guided turn is
composed (:mod:`skill.coach.compose`), and the check that every set fits one response
(:mod:`skill.coach.budget`)."""

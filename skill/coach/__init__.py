"""The routine player (:mod:`skill.coach.player`) and what each step of an exercise says
(:mod:`skill.coach.exercise_speech`): pure code over the catalog, no ask-sdk types."""

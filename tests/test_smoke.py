"""The skill answers a real launch envelope end to end."""

from __future__ import annotations


def test_first_launch_gives_the_disclaimer_once(talk):
    first = talk.launch()
    assert "not medical advice" in first.text
    assert not first.ends_session and first.reprompt
    talk.end_session()
    second = talk.launch()
    assert "not medical advice" not in second.text


def test_unknown_intent_falls_back_and_keeps_the_session(talk):
    talk.launch()
    reply = talk.intent("AMAZON.FallbackIntent")
    assert "didn't catch that" in reply.text
    assert not reply.ends_session


def test_stop_ends_the_session(talk):
    talk.launch()
    assert talk.intent("AMAZON.StopIntent").ends_session


def test_no_to_the_welcome_question_says_goodbye(talk):
    talk.launch()
    talk.end_session()
    talk.launch()  # a returning user's welcome: a question they may answer "no" to
    reply = talk.intent("AMAZON.NoIntent")
    assert reply.ends_session
    assert "didn't catch that" not in reply.text
    assert "go gently" in reply.text.lower()

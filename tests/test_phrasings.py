"""Sample templates expand predictably, and `rls-coach validate` names every phrasing mistake by
file → intent → sample, before a broken model can be built."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from skill.catalog.loader import collect_errors
from skill.catalog.model import CONTENT_DIR
from skill.catalog.utterances import TemplateError, expand, invocation_name_problems
from skill.cli import main


def test_a_template_expands_every_alternative_in_order():
    assert expand("(how do I|show me how to) do (a|the|) {exercise}") == [
        "how do i do a {exercise}",
        "how do i do the {exercise}",
        "how do i do {exercise}",
        "show me how to do a {exercise}",
        "show me how to do the {exercise}",
        "show me how to do {exercise}",
    ]


def test_expansion_drops_duplicates_and_keeps_slot_names():
    assert expand("(start|start) my {routineName}") == ["start my {routineName}"]


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("(start|begin my stretches", "unbalanced or nested parentheses"),
        ("((start|begin)) my stretches", "unbalanced or nested parentheses"),
        ("start|begin my stretches", "'|' outside parentheses"),
        ("start my {routine", "braces"),
        ("my bedtime is 10 pm", "spell numbers out"),
        ("can I swim?", "only letters"),
        ("(|)", "empty sample"),
        ("(a|b|c|d|e) (a|b|c|d|e) (a|b|c|d|e) (a|b|c|d|e)", "at most 200"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(template, complaint):
    with pytest.raises(TemplateError, match=complaint):
        expand(template)


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("Restless Legs Coach", "lower-case"),
        ("coach", "at least two words"),
        ("the coach", "articles or prepositions"),
        ("ask legs coach", "launch word"),
        ("open legs coach", "launch word"),
        ("alexa legs coach", "wake or generic"),
        ("legs coach skill", "wake or generic"),
        ("legs coach 2", "lower-case letters"),
    ],
)
def test_invocation_names_follow_alexas_rules(name, complaint):
    assert any(complaint in problem for problem in invocation_name_problems(name))


def test_the_shipped_invocation_name_is_fine(catalog):
    assert catalog.phrasings.invocation_name == "restless legs coach"
    assert invocation_name_problems("restless legs coach") == []


# --- the validator, on a copy of the shipped content with one mistake in phrasings.yaml -------


def _edit_phrasings(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    path = content / "phrasings.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return content


def _add_sample(intent: str, sample: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["intents"][intent]["samples"].append(sample)


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _next_sample_number(intent: str) -> int:
    phrasings = yaml.safe_load((CONTENT_DIR / "phrasings.yaml").read_text(encoding="utf-8"))
    return len(phrasings["intents"][intent]["samples"]) + 1


# Where a sample appended to SlowDownIntent is reported.
NEW_SLOWDOWN = _next_sample_number("SlowDownIntent")
INTENTS_SLOWDOWN_LAST = f"phrasings.yaml → intents → SlowDownIntent → samples → {NEW_SLOWDOWN}"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            _add_sample("SlowDownIntent", "count faster"),
            # Reported once, at the first place, naming the second.
            (
                "phrasings.yaml → intents → SpeedUpIntent → samples → ",
                "'count faster' is also a sample of SlowDownIntent (intents → SlowDownIntent → "
                f"samples → {NEW_SLOWDOWN}); a sample may belong to one intent only",
            ),
            id="sample-in-two-intents",
        ),
        pytest.param(
            _add_sample("SlowDownIntent", "(slow|slower"),
            f"{INTENTS_SLOWDOWN_LAST}: unbalanced or nested parentheses",
            id="broken-template",
        ),
        pytest.param(
            _add_sample("SlowDownIntent", "slow down by {amount}"),
            f"{INTENTS_SLOWDOWN_LAST}: slot {{amount}} is not declared on SlowDownIntent",
            id="undeclared-slot",
        ),
        pytest.param(
            _add_sample("SlowDownIntent", "slow down to 2 seconds"),
            f"{INTENTS_SLOWDOWN_LAST}: '2' in 'slow down to 2 seconds': spell numbers out",
            id="digits",
        ),
        pytest.param(
            _set(("intents", "SlowDownIntent", "slots"), {"amount": "AMAZON.NUMBER"}),
            "phrasings.yaml → intents → SlowDownIntent → slots → amount: no sample uses {amount}",
            id="unused-slot",
        ),
        pytest.param(
            _set(("intents", "TipIntent", "slots"), {"topic": "TIP_TOPICS"}),
            "phrasings.yaml → intents → TipIntent → slots → topic: unknown slot type "
            "'TIP_TOPICS'; did you mean 'TIP_TOPIC'?",
            id="unknown-slot-type",
        ),
        pytest.param(
            _set(("builtin_samples", "AMAZON.FallbackIntent"), ["whatever"]),
            "phrasings.yaml → builtin_samples → AMAZON.FallbackIntent: Alexa matches "
            "AMAZON.FallbackIntent with its out-of-domain model",
            id="fallback-samples",
        ),
        pytest.param(
            _set(("builtin_samples", "AMAZON.ShuffleOnIntent"), ["mix it up"]),
            "phrasings.yaml → builtin_samples → AMAZON.ShuffleOnIntent: AMAZON.ShuffleOnIntent "
            "is not in builtin_intents",
            id="undeclared-builtin",
        ),
        pytest.param(
            _set(("builtin_samples", "AMAZON.NextIntent"), ["skip {count}"]),
            "phrasings.yaml → builtin_samples → AMAZON.NextIntent → 1: built-in intents have no "
            "slots",
            id="builtin-slot",
        ),
        pytest.param(
            _set(("builtin_samples", "AMAZON.NoIntent"), ["(yes|yeah) please"]),
            "phrasings.yaml → builtin_samples → AMAZON.NoIntent → 1: 'yes please' is also a "
            "sample of AMAZON.YesIntent",
            id="builtin-collision",
        ),
        pytest.param(
            _set(("invocation_name",), "legs app"),
            "phrasings.yaml → invocation_name: 'legs app': contains the wake or generic word(s) "
            "app",
            id="invocation-name",
        ),
    ],
)
def test_validate_names_file_intent_and_sample(tmp_path, capsys, edit, expected):
    """``expected`` is the start of the reported line, or (its start, a part of the rest)."""
    start, rest = expected if isinstance(expected, tuple) else (expected, "")
    content = _edit_phrasings(tmp_path, edit)
    _, errors = collect_errors(content)
    assert any(str(e).startswith(start) and rest in str(e) for e in errors), errors
    assert main(["validate", str(content)]) == 1
    assert any(
        line.startswith(start) and rest in line for line in capsys.readouterr().err.splitlines()
    )


def test_the_shipped_phrasings_are_clean():
    assert collect_errors(CONTENT_DIR)[1] == []


# --- variety: Alexa learns from different sentence shapes, not permutations of one --------------

# The intents whose samples are written for answers (the routine intents and built-ins are
# short commands, where a few shapes are all people use).
ANSWER_INTENTS = (
    "ExplainExerciseIntent", "ListExercisesIntent", "ListRoutinesIntent", "CanIDoIntent",
    "ActivityLimitIntent", "TipIntent", "MedicationIntent", "SetBedtimeIntent",
    "DisclaimerIntent", "PainIntent", "SymptomsNowIntent", "ProgressIntent",
    "BedtimeQueryIntent", "ThanksIntent",
)  # fmt: skip


def sentence_shape(template: str) -> str:
    """What is left of a template when every slot is "{}" and every group of alternatives (the
    optional words, the interchangeable verbs) is "~": "how (fast|far) can I {activity}" and
    "how (hard|much) can I {activity}" are one shape."""
    shape = re.sub(r"\{[^}]*\}", "{}", template.lower())
    shape = re.sub(r"\([^)]*\)", "~", shape)
    return " ".join(shape.split())


def test_a_shape_ignores_alternatives_and_slot_names():
    assert sentence_shape("how (fast|far) (can|may) I {activity}") == "how ~ ~ i {}"
    assert sentence_shape("How (hard|much) (should|can) I {sport}") == "how ~ ~ i {}"


@pytest.mark.parametrize("intent", ANSWER_INTENTS)
def test_each_answer_intent_has_many_samples_of_many_shapes(catalog, intent):
    templates = catalog.phrasings.intents[intent].samples
    samples = {sample for template in templates for sample in expand(template)}
    shapes = {sentence_shape(template) for template in templates}
    assert len(samples) >= 30, f"{intent}: {len(samples)} samples"
    assert len(shapes) >= 12, f"{intent}: {len(shapes)} shapes: {sorted(shapes)}"

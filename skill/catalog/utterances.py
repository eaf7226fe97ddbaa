"""Sample-utterance templates: ``(a|b|)`` alternatives and ``{slot}`` references.

A template such as ``(how do I|show me how to) do (a|the|) {exercise}`` expands into every
combination of its alternatives, in order (an empty alternative makes the group optional):
``how do i do a {exercise}``, ``how do i do the {exercise}``, ``how do i do {exercise}``, … .
Groups do not nest, and one template may expand into at most :data:`MAX_EXPANSIONS` samples, so
a typo cannot silently produce thousands of utterances. The written sample is lower case with
single spaces; slot names inside braces are kept as written.

The character rules are Alexa's rules for sample utterances, kept strict: letters, spaces,
apostrophes inside words ("let's"), and periods only in spelled-out abbreviations ("p. m.").
Numbers must be spelled out ("ten thirty"); digits belong in slot values, not in samples.

Plain hand-written parsing: the grammar is two kinds of bracket with no nesting, which a
regular expression tokenizer covers in a few lines; a parser library would add more than it saves.
"""

from __future__ import annotations

import itertools
import re

MAX_EXPANSIONS = 200
SLOT_PATTERN = re.compile(r"\{(\w+)\}")
_TOKEN = re.compile(r"\(([^()]*)\)|([^()]+)|([()])")
# One word of a sample: a slot reference, a word (with at most one inner apostrophe, "let's"),
# or a spelled-out abbreviation letter ("p." in "p. m.").
_WORD = re.compile(r"^(\{\w+\}|[a-z]+(?:'[a-z]+)?|[a-z]\.)$")


class TemplateError(ValueError):
    """A template that cannot be expanded, or that expands into an utterance Alexa rejects."""


def normalize(phrase: str) -> str:
    """The form used to compare phrases: lower case, curly apostrophes straightened, hyphens as
    spaces, single spaces. Slot references keep their names."""
    phrase = phrase.replace("\u2019", "'").replace("-", " ")
    # split() alternates text and slot names: lower-case only the text.
    parts = SLOT_PATTERN.split(phrase)
    text = "".join(f"{{{part}}}" if index % 2 else part.lower() for index, part in enumerate(parts))
    return " ".join(text.split())


def slots_in(sample: str) -> list[str]:
    """The slot names a sample refers to, in order."""
    return SLOT_PATTERN.findall(sample)


def expand(template: str) -> list[str]:
    """Every sample a template stands for, in order, without duplicates.

    Raises :class:`TemplateError` with a specific message for unbalanced or nested brackets, a
    template that expands into too many samples, or a sample with characters Alexa rejects.
    """
    if not template.strip():
        raise TemplateError("the template is empty")
    if template.count("{") != template.count("}") or re.search(r"\{[^}]*[{(|)]", template):
        raise TemplateError(f"unbalanced or misplaced braces in '{template}'; write {{slot}}")
    choices: list[list[str]] = []
    for alternatives, text, stray in _TOKEN.findall(template):
        if stray:
            raise TemplateError(
                f"unbalanced or nested parentheses in '{template}'; groups like (a|b|) "
                "cannot contain other groups"
            )
        if text:
            if "|" in text:
                raise TemplateError(
                    f"'|' outside parentheses in '{template}'; wrap alternatives as (a|b)"
                )
            choices.append([text])
        else:
            choices.append(alternatives.split("|"))
    total = 1
    for options in choices:
        total *= len(options)
    if total > MAX_EXPANSIONS:
        raise TemplateError(
            f"'{template}' expands into {total} samples (at most {MAX_EXPANSIONS}); "
            "split it into smaller templates"
        )
    samples: list[str] = []
    seen: set[str] = set()
    for combination in itertools.product(*choices):
        sample = normalize(" ".join(combination))
        if not sample:
            raise TemplateError(f"'{template}' can expand into an empty sample")
        check_sample(sample)
        if sample not in seen:
            seen.add(sample)
            samples.append(sample)
    return samples


def check_sample(sample: str) -> None:
    """Raise :class:`TemplateError` unless ``sample`` follows Alexa's character rules."""
    for word in sample.split():
        if _WORD.match(word):
            continue
        if re.search(r"\d", word):
            raise TemplateError(
                f"'{word}' in '{sample}': spell numbers out in samples (e.g. 'ten thirty')"
            )
        raise TemplateError(
            f"'{word}' in '{sample}': samples may hold only letters, spaces, apostrophes "
            "inside words, and periods in spelled-out abbreviations like 'p. m.'"
        )


# Alexa's invocation-name requirements: the launch phrases people say before a name, and the
# wake words and generic words a name may not contain.
LAUNCH_WORDS = frozenset(
    {"ask", "begin", "enable", "launch", "load", "open", "play", "resume", "run", "start", "tell"}
)
FORBIDDEN_NAME_WORDS = frozenset({"alexa", "amazon", "app", "computer", "echo", "skill"})
_CONNECTING_WORDS = frozenset({"a", "an", "the", "for", "to", "of", "by", "from", "in"})


def invocation_name_problems(name: str) -> list[str]:
    """Every way ``name`` breaks Alexa's invocation-name requirements (empty when it is fine)."""
    problems: list[str] = []
    if not re.fullmatch(r"[a-z][a-z' .]*[a-z.]", name) or "  " in name:
        problems.append(
            f"'{name}': use only lower-case letters, single spaces, possessive apostrophes and "
            "periods in spelled-out abbreviations"
        )
    words = name.split()
    if len(words) < 2:
        problems.append(f"'{name}': use at least two words")
    elif len(words) == 2 and any(word in _CONNECTING_WORDS for word in words):
        problems.append(f"'{name}': a two-word name may not contain articles or prepositions")
    launch = sorted(set(words) & LAUNCH_WORDS)
    if launch:
        problems.append(f"'{name}': contains the launch word(s) {', '.join(launch)}")
    forbidden = sorted(set(words) & FORBIDDEN_NAME_WORDS)
    if forbidden:
        problems.append(f"'{name}': contains the wake or generic word(s) {', '.join(forbidden)}")
    return problems

"""Error wording and addressing: every problem in the content becomes a :class:`ContentError`
addressed by file → entry → field, in words that say the fix.

marshmallow's own messages are bare ("Unknown field."); :class:`Collector` turns them into ones
an author can act on: an unknown key lists the keys allowed there (the likely one first), a
value of the wrong type names the form it takes with an example, a missing field says what to
add, and list positions count from 1 as a reader does ("steps → 2").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from marshmallow import Schema, fields

from skill.catalog.model import ContentError, did_you_mean


class Collector:
    """Every problem found in the content, each addressed by file and path."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def add(self, file: str, path: Iterable[Any], message: str) -> None:
        self.errors.append(ContentError(file, tuple(str(p) for p in path), message))

    def add_marshmallow(
        self, file: str, prefix: tuple[Any, ...], messages: Any, schema: Schema, raw: Any
    ) -> None:
        for path, message in _flatten(messages, ()):
            parts = [p for p in path if p != "_schema"]
            explained = _explained(message, parts, schema, raw)
            self.add(file, (*prefix, *_human_path(parts, raw)), explained)


def _flatten(messages: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, path)
    else:
        yield path, str(messages)


def _human_path(parts: list[Any], raw: Any) -> list[str]:
    """List indices become 1-based positions ("steps → 2"); data keys keep their YAML names."""
    out: list[str] = []
    node = raw
    for part in parts:
        if isinstance(part, int):
            out.append(str(part + 1))
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            name = "from" if part == "from_" else str(part)
            out.append(name)
            node = node.get(name) if isinstance(node, dict) else None
    return out


def _field_at(schema: Schema, parts: list[Any]) -> tuple[Schema | None, fields.Field[Any] | None]:
    """The schema that holds the last key of ``parts``, and that key's field (None if unknown)."""
    target: Schema | None = schema
    field: fields.Field[Any] | None = None
    for index, part in enumerate(parts):
        if isinstance(part, int) or target is None:
            continue
        field = target.fields.get(part)
        if index == len(parts) - 1:
            break
        inner = getattr(field, "inner", field)
        target = getattr(inner, "schema", None)
    return target, field


# What each kind of value looks like, for messages that say how to write it.
_FORMS: list[tuple[type[fields.Field[Any]], str]] = [
    (fields.Boolean, "true or false"),
    (fields.Integer, "a whole number, like 5"),
    (fields.Float, "a number, like 1.5"),
    (fields.List, "a list, like [one, two]"),
    (fields.Dict, "a mapping of names to values, like {name: value}"),
    (fields.Nested, "a mapping of keys"),
    (fields.String, "text (a word or a sentence)"),
]


def _form(field: fields.Field[Any] | None) -> str:
    if field is None:
        return "a value"
    example = field.metadata.get("example")
    if example:
        return f"{field.metadata.get('form', 'a value')}, like {example}"
    if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        keys = ", ".join(f.data_key or name for name, f in field.schema.fields.items())
        return f"a mapping with the keys {keys}"
    return next((text for kind, text in _FORMS if isinstance(field, kind)), "a value")


def _explained(message: str, parts: list[Any], schema: Schema, raw: Any) -> str:
    """Turn marshmallow's bare messages into ones that say the fix: an unknown key lists the valid
    keys (with the likely one first), a wrong type says the accepted form with an example, and a
    missing field says what to add."""
    if not parts:
        return message
    target, field = _field_at(schema, parts)
    name = str(parts[-1])
    if message == "Unknown field.":
        known = [f.data_key or key for key, f in target.fields.items()] if target else []
        hint = did_you_mean(name, known)
        return f"unknown key '{name}'{hint or '.'} The keys here are: {', '.join(known)}"
    if message == "Missing data for required field.":
        return f"missing: add '{name}:' with {_form(field)}"
    if message.startswith(("Not a valid", "Invalid input type", "Invalid type")):
        return f"{message.rstrip('.')}: write {_form(field)}"
    if message.startswith("Must be one of: "):
        choices = message.removeprefix("Must be one of: ").rstrip(".").split(", ")
        hint = did_you_mean(str(_raw_at(raw, parts)), choices)
        return f"{message.rstrip('.')}{hint}" if hint else message
    return message


def _raw_at(raw: Any, parts: list[Any]) -> Any:
    node = raw
    for part in parts:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(node, dict):
            node = node.get("from" if part == "from_" else part)
        else:
            return None
    return node

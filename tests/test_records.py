"""Records behave as the frozen dataclasses they replace: each behaviour is compared with a
``@dataclass(frozen=True)`` twin that declares the same fields, on random values."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill.records import Record, field, replace


class Step(Record, order=True):
    name: str
    count: int | None = None
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, order=True)
class StepTwin:
    name: str
    count: int | None = None
    tags: tuple[str, ...] = ()


class Shelf(Record):
    label: str
    items: dict[str, int] = field(default_factory=dict)
    where: str = field(default="here", compare=False)


@dataclasses.dataclass(frozen=True)
class ShelfTwin:
    label: str
    items: dict[str, int] = dataclasses.field(default_factory=dict)
    where: str = dataclasses.field(default="here", compare=False)


names = st.sampled_from(["a", "b", "stretch"])
counts = st.none() | st.integers(-3, 3)
tag_tuples = st.lists(names, max_size=2).map(tuple)


@st.composite
def step_arguments(draw: st.DrawFn) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Arguments as a caller may give them: the first few by position, then some by keyword,
    the rest left to their defaults."""
    values = {"name": draw(names), "count": draw(counts), "tags": draw(tag_tuples)}
    fields = list(values)
    by_position = draw(st.integers(0, len(fields)))
    args = tuple(values[n] for n in fields[:by_position])
    kwargs = {n: values[n] for n in fields[by_position:] if n == "name" or draw(st.booleans())}
    return args, kwargs


def outcome(make: Any) -> Any:
    try:
        return ("value", make())
    except Exception as error:
        return ("error", type(error), str(error).replace("Twin", ""))


def same(record: Any, twin: Any) -> None:
    assert repr(record) == repr(twin).replace("Twin", "")
    assert outcome(lambda: hash(record)) == outcome(lambda: hash(twin))
    assert vars(record) == vars(twin)
    assert list(vars(record)) == list(vars(twin))


@given(step_arguments(), step_arguments())
def test_construction_equality_hashing_and_order_are_a_frozen_dataclass_s(first, second):
    a, b = Step(*first[0], **first[1]), Step(*second[0], **second[1])
    twin_a, twin_b = StepTwin(*first[0], **first[1]), StepTwin(*second[0], **second[1])
    same(a, twin_a)
    same(b, twin_b)
    assert (a == b) == (twin_a == twin_b)
    assert (a != b) == (twin_a != twin_b)
    assert (hash(a) == hash(b)) == (hash(twin_a) == hash(twin_b))
    for compare in ("__lt__", "__le__", "__gt__", "__ge__"):
        assert outcome(lambda c=compare: getattr(a, c)(b)) == outcome(
            lambda c=compare: getattr(twin_a, c)(twin_b)
        )
    assert a.__match_args__ == twin_a.__match_args__


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        (("a", 1, (), "extra"), {}),
        (("a",), {"name": "b"}),
        (("a",), {"colour": "red"}),
        ((), {"count": 1}),
        ((), {"count": 1, "tags": ()}),
    ],
)
def test_wrong_arguments_fail_as_a_dataclass_s_do(args, kwargs):
    assert outcome(lambda: Step(*args, **kwargs)) == outcome(lambda: StepTwin(*args, **kwargs))


@given(names, st.dictionaries(names, st.integers(0, 3), max_size=2), names, names)
def test_factories_and_uncompared_fields_are_a_dataclass_s(label, items, where, other_where):
    record, twin = Shelf(label), ShelfTwin(label)
    same(record, twin)
    assert record.items == {} and record.items is not Shelf(label).items
    assert Shelf(label, items, where) == Shelf(label, items, other_where)
    assert ShelfTwin(label, items, where) == ShelfTwin(label, items, other_where)
    assert (Shelf(label, items) == Shelf(label)) == (ShelfTwin(label, items) == ShelfTwin(label))
    assert outcome(lambda: hash(Shelf(label, items))) == outcome(
        lambda: hash(ShelfTwin(label, items))
    )
    assert not hasattr(Shelf, "items") and not hasattr(ShelfTwin, "items")
    assert Shelf.where == ShelfTwin.where == "here"


@given(step_arguments(), st.dictionaries(st.sampled_from(["name", "count", "tags"]), counts))
def test_replace_is_dataclasses_replace(arguments, changes):
    record, twin = Step(*arguments[0], **arguments[1]), StepTwin(*arguments[0], **arguments[1])
    replaced = outcome(lambda: replace(record, **changes))
    expected = outcome(lambda: dataclasses.replace(twin, **changes))
    assert replaced[0] == expected[0] == "value"
    same(replaced[1], expected[1])
    assert (
        outcome(lambda: replace(record, colour=1))[:2]
        == (outcome(lambda: dataclasses.replace(twin, colour=1))[:2])
    )


def test_records_are_immutable_as_frozen_dataclasses_are():
    record, twin = Step("a"), StepTwin("a")
    for name in ("name", "other"):
        assert outcome(lambda n=name: setattr(record, n, 1)) == outcome(
            lambda n=name: setattr(twin, n, 1)
        )
        assert outcome(lambda n=name: delattr(record, n)) == outcome(
            lambda n=name: delattr(twin, n)
        )
    assert isinstance(outcome(lambda: setattr(record, "name", 1))[1](), AttributeError)
    assert record == Step("a")


@given(step_arguments())
def test_records_survive_pickling_and_copying(arguments):
    record = Step(*arguments[0], **arguments[1])
    for again in (copy.copy(record), copy.deepcopy(record)):
        assert again == record and vars(again) == vars(record) and type(again) is Step
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(record, protocol=protocol))
        assert again == record and vars(again) == vars(record) and type(again) is Step


def test_a_field_without_a_default_after_one_with_is_refused_as_by_a_dataclass():
    with pytest.raises(TypeError, match="non-default argument 'late' follows default argument"):

        class Bad(Record):
            early: int = 0
            late: int

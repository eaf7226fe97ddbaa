"""Frozen records: what ``@dataclass(frozen=True)`` gives the catalog, without its class-time cost.

A frozen dataclass writes the source of five or six methods per class and compiles each with
``exec`` when the class is made: on CPython 3.11 that is ~0.5 ms a class, ~8 ms for the catalog's
classes on every cold start (measured with ``-X importtime`` after byte-compiling), where the
whole Lambda start of a hello-world skill is ~65 ms. A :class:`Record` subclass declares its
fields exactly as a dataclass does (annotations, defaults, :func:`field` for factories and
``compare=False``) and shares one set of methods written once here:

- construction by position or keyword, defaults and default factories, the same ``TypeError``
  for a missing, unknown or repeated argument;
- equality and hashing by the compared fields, only between instances of the same class;
- a dataclass-style ``repr``; ``FrozenInstanceError`` on assignment or deletion;
- ordering when the class is declared with ``order=True``;
- :func:`replace`, and pickling (state is the instance ``__dict__``, as with a dataclass).

``tests/test_records.py`` checks every one of these against a frozen dataclass with the same
fields. Attribute reads are plain instance-dict reads, as with a dataclass.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from dataclasses import FrozenInstanceError  # dataclasses and inspect: loaded by ask_sdk_model
from typing import Any, ClassVar, TypeVar

_MISSING: Any = object()

R = TypeVar("R", bound="Record")


class _Field:
    __slots__ = ("compare", "default", "default_factory")

    def __init__(self, default: Any, default_factory: Any, compare: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.compare = compare


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    compare: bool = True,
) -> Any:
    """A field's default or default factory, and whether it takes part in ``==``, hashing and
    ordering (as ``dataclasses.field``)."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, compare)


class Record:
    """Base class of frozen value records; see the module's documentation."""

    _fields: ClassVar[tuple[str, ...]] = ()
    # name → default value, or → the default factory for the names in _factories
    _defaults: ClassVar[dict[str, Any]] = {}
    _factories: ClassVar[frozenset[str]] = frozenset()
    _uncompared: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, *, order: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _declare_fields(cls)
        key = _key([name for name in cls._fields if name not in cls._uncompared])
        cls.__eq__ = _equality(key)  # type: ignore[method-assign]
        cls.__hash__ = _hashing(key)  # type: ignore[method-assign]
        cls.__match_args__ = cls._fields
        if order:
            cls.__lt__ = _ordering(key, operator.lt)  # type: ignore[method-assign]
            cls.__le__ = _ordering(key, operator.le)  # type: ignore[method-assign]
            cls.__gt__ = _ordering(key, operator.gt)  # type: ignore[method-assign]
            cls.__ge__ = _ordering(key, operator.ge)  # type: ignore[method-assign]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        fields = cls._fields
        if len(args) > len(fields):
            required = sum(1 for name in fields if name not in cls._defaults) + 1
            most = len(fields) + 1
            takes = f"from {required} to {most}" if required < most else f"{most}"
            raise TypeError(
                f"{cls.__qualname__}.__init__() takes {takes} positional argument"
                f"{'s' if most > 1 else ''} but {len(args) + 1} were given"
            )
        values = dict(zip(fields, args, strict=False))
        for name, value in kwargs.items():
            if name in values:
                raise TypeError(
                    f"{cls.__qualname__}.__init__() got multiple values for argument {name!r}"
                )
            values[name] = value
        if len(values) != len(fields) or kwargs:
            values = self._complete(values)
        self.__dict__.update(values)

    def _complete(self, given: dict[str, Any]) -> dict[str, Any]:
        """All fields in declaration order: ``given``, then defaults; TypeError for anything
        missing or unknown, worded as a dataclass's ``__init__`` words it."""
        cls = type(self)
        unknown = [name for name in given if name not in cls._fields]
        if unknown:
            raise TypeError(
                f"{cls.__qualname__}.__init__() got an unexpected keyword argument {unknown[0]!r}"
            )
        values: dict[str, Any] = {}
        missing: list[str] = []
        for name in cls._fields:
            if name in given:
                values[name] = given[name]
            elif name in cls._factories:
                values[name] = cls._defaults[name]()
            elif name in cls._defaults:
                values[name] = cls._defaults[name]
            else:
                missing.append(name)
        if missing:
            names = " and ".join(
                [", ".join(repr(n) for n in missing[:-1]), repr(missing[-1])]
                if len(missing) > 1
                else [repr(missing[0])]
            )
            count = len(missing)
            raise TypeError(
                f"{cls.__qualname__}.__init__() missing {count} required positional "
                f"argument{'s' if count > 1 else ''}: {names}"
            )
        return values

    def __repr__(self) -> str:
        cls = type(self)
        inner = ", ".join(f"{name}={self.__dict__[name]!r}" for name in cls._fields)
        return f"{cls.__qualname__}({inner})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __replace__(self: R, **changes: Any) -> R:
        values = self.__dict__
        return type(self)(**{**{name: values[name] for name in self._fields}, **changes})


def field_names(record: Record | type[Record]) -> tuple[str, ...]:
    """A record's (or record class's) field names in declaration order."""
    return record._fields


def replace(record: R, /, **changes: Any) -> R:
    """A copy of ``record`` with some fields changed (as ``dataclasses.replace``)."""
    if not isinstance(record, Record):
        raise TypeError("replace() should be called on Record instances")
    return record.__replace__(**changes)


Key = Callable[[Any], tuple[Any, ...]]


def _declare_fields(cls: type[Record]) -> None:
    """Read a subclass's fields from its annotations and defaults (after its bases' fields),
    as ``@dataclass`` reads them."""
    fields = list(cls._fields)
    defaults = dict(cls._defaults)
    factories = set(cls._factories)
    uncompared = set(cls._uncompared)
    for name, annotation in inspect.get_annotations(cls).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        if name not in fields:
            fields.append(name)
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Field):
            if not value.compare:
                uncompared.add(name)
            if value.default_factory is not None:
                defaults[name] = value.default_factory
                factories.add(name)
                delattr(cls, name)  # as a dataclass does: no class attribute for a factory
                continue
            value = value.default
            if value is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value)
        if value is not _MISSING:
            defaults[name] = value
    seen_default = False
    for name in fields:
        if name in defaults:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    cls._fields = tuple(fields)
    cls._defaults = defaults
    cls._factories = frozenset(factories)
    cls._uncompared = frozenset(uncompared)


def _key(compared: list[str]) -> Key:
    """The tuple of compared fields, built in C by attrgetter: ==, hash() and ordering then cost
    what a dataclass's generated methods cost on the same instances."""
    if len(compared) == 1:
        single = operator.attrgetter(compared[0])
        return lambda record: (single(record),)
    if compared:
        return operator.attrgetter(*compared)
    return lambda record: ()


def _equality(key: Key) -> Callable[[Any, Any], bool]:
    def __eq__(self: Any, other: Any) -> bool:  # noqa: N807
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hashing(key: Key) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:  # noqa: N807
        return hash(key(self))

    return __hash__


def _ordering(key: Key, compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def method(self: Any, other: Any) -> bool:
        if other.__class__ is self.__class__:
            return compare(key(self), key(other))
        return NotImplemented

    return method

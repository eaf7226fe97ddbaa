"""Every speech string is reachable from code, and every key the code can ask for exists.

Like `rasa data validate` for responses: a sentence no code speaks is dead content an author
keeps polishing, and a key the code asks for that the YAML lacks is an apology on a device.
The code is read with :mod:`ast`, not run, and not through a list of call sites, so the check
follows the handlers wherever they move. A key is found as:

- a string constant shaped like a key (``"routine.release"``): it must exist;
- a key built from parts (``f"answers.kind_{kind}"``, ``f"{key}_one"``, ``"x." + y``): each part
  is followed to where its values come from: a loop over a constant collection or an enum,
  the arguments every caller passes for a parameter, a local assignment, the return values of a
  function, or a field of the content (``activity.best_times`` → every ``best_times`` in the
  YAML). Every key so built must exist. A part that cannot be followed leaves a pattern
  (``answers.reason_*``), which must match at least one key.

A key is reachable if it is named, built, or matched by such a pattern.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CODE = [ROOT / "skill", ROOT / "webhook", ROOT / "coach_dev"]
CONTENT = ROOT / "skill" / "content"
DEPTH = 8  # how many steps a part is followed back (caller of a caller of …)
Values = frozenset[str] | None  # None: cannot tell


@dataclass
class Found:
    """What the code asks for: exact keys, and patterns of keys with an unknown part."""

    keys: dict[str, str] = field(default_factory=dict)  # key → where (file:line)
    patterns: dict[str, str] = field(default_factory=dict)  # regex → where


@dataclass(frozen=True)
class Report:
    missing: list[str]  # asked for, not in the YAML
    unmatched: list[str]  # patterns no key matches
    unreachable: list[str]  # in the YAML, asked for nowhere

    def __bool__(self) -> bool:
        return bool(self.missing or self.unmatched or self.unreachable)


def check(sources: Mapping[str, str], keys: Iterable[str], content: Iterable[Any] = ()) -> Report:
    """Compare what the code in ``sources`` (name → Python text) asks for with ``keys``
    ("file.key"); ``content`` is the parsed content YAML that keys may be chosen from."""
    keys = set(keys)
    found = Scanner(sources, {key.split(".")[0] for key in keys}, content).scan()
    patterns = {re.compile(p): where for p, where in found.patterns.items()}
    return Report(
        missing=sorted(f"{key} ({where})" for key, where in found.keys.items() if key not in keys),
        unmatched=sorted(
            f"{p.pattern} ({where})"
            for p, where in patterns.items()
            if not any(p.fullmatch(key) for key in keys)
        ),
        unreachable=sorted(
            key
            for key in keys
            if key not in found.keys and not any(p.fullmatch(key) for p in patterns)
        ),
    )


class Scanner:
    def __init__(self, sources: Mapping[str, str], files: set[str], content: Iterable[Any]):
        self.trees = {name: ast.parse(text, name) for name, text in sources.items()}
        self.key_shape = re.compile(rf"({'|'.join(map(re.escape, files))})\.[A-Za-z0-9_-]+")
        self.parent: dict[ast.AST, ast.AST] = {}
        self.constants: dict[tuple[str, str], ast.expr] = {}  # (module, NAME) → its value
        self.imports: dict[tuple[str, str], tuple[str, str]] = {}  # from X import NAME
        self.module: dict[ast.AST, str] = {}
        self.enums: dict[str, dict[str, str]] = {}  # class → member → value
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        self.fields: dict[str, set[str]] = {}  # content field → every string it holds
        self.from_content = False
        for name, tree in self.trees.items():
            self.module[tree] = name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            self._index(tree)
        for document in content:
            self._index_content(document)

    # ---- indexing --------------------------------------------------------------------------

    def _index(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, []).append(node)  # type: ignore[arg-type]
            elif isinstance(node, ast.Call) and (name := _called(node.func)):
                self.calls.setdefault(name, []).append(node)
            elif isinstance(node, ast.ClassDef) and any(
                "Enum" in ast.unparse(b) for b in node.bases
            ):
                self.enums[node.name] = {
                    target.id: statement.value.value
                    for statement in node.body
                    if isinstance(statement, ast.Assign)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                    for target in statement.targets
                    if isinstance(target, ast.Name)
                }
        module = self.module[tree]
        for statement in tree.body:
            for target, value in _assigned(statement):
                for element, part in _pairs(target, value):
                    self.constants[module, element] = part
            if isinstance(statement, ast.ImportFrom) and statement.module:
                for alias in statement.names:
                    source = (statement.module, alias.name)
                    self.imports[module, alias.asname or alias.name] = source

    def constant(self, node: ast.AST, name: str) -> ast.expr | None:
        """The module-level value ``name`` has in the module of ``node``, imports followed."""
        while node in self.parent:
            node = self.parent[node]
        key = (self.module.get(node, ""), name)
        for _ in range(DEPTH):
            if key in self.constants:
                return self.constants[key]
            if key not in self.imports:
                return None
            key = self.imports[key]
        return None

    def _index_content(self, document: Any) -> None:
        if isinstance(document, Mapping):
            for name, value in document.items():
                strings = value if isinstance(value, list) else [value]
                self.fields.setdefault(str(name), set()).update(
                    s for s in strings if isinstance(s, str)
                )
                self._index_content(value)
        elif isinstance(document, list):
            for item in document:
                self._index_content(item)

    # ---- scanning --------------------------------------------------------------------------

    def scan(self) -> Found:
        found = Found()
        for name, tree in self.trees.items():
            for node in ast.walk(tree):
                where = f"{name}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if self.key_shape.fullmatch(node.value) and not self._in_built(node):
                        found.keys.setdefault(node.value, where)
                elif isinstance(node, ast.JoinedStr | ast.BinOp) and not self._in_built(node):
                    self._built(node, where, found)
        return found

    def _built(self, node: ast.expr, where: str, found: Found) -> None:
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Add):
            return
        self.from_content = False
        values = self.values(node, DEPTH)
        if values is not None:
            for value in values:
                if self.key_shape.fullmatch(value):
                    found.keys.setdefault(value, where)
            if not self.from_content:
                return
        # A part the content chooses may take any value an author writes: the keys for it are
        # reachable, and those the content chooses today must exist (checked above).
        pattern = self._pattern(node)
        if pattern is not None and self.key_shape.match(pattern.replace("\\", "")):
            found.patterns.setdefault(pattern, where)

    def _pattern(self, node: ast.expr) -> str | None:
        """A regex for a built key whose literal head names a speech file (``answers.x_*``)."""
        parts = node.values if isinstance(node, ast.JoinedStr) else [node.left, node.right]  # type: ignore[attr-defined]
        pieces = []
        for part in parts:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                pieces.append(re.escape(part.value))
            else:
                pieces.append("[A-Za-z0-9_-]+")
        pattern = "".join(pieces)
        return pattern if pieces and not pattern.startswith("[") else None

    def _in_built(self, node: ast.AST) -> bool:
        """Part of a larger f-string or sum, which is checked as a whole."""
        parent = self.parent.get(node)
        if isinstance(parent, ast.FormattedValue):
            parent = self.parent.get(parent)
        return isinstance(parent, ast.JoinedStr) or (
            isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add)
        )

    # ---- following values ------------------------------------------------------------------

    def values(self, node: ast.AST, depth: int) -> Values:
        """Every string ``node`` can be, or None if that cannot be told."""
        if depth <= 0:
            return None
        match node:
            case ast.Constant(value=str() as value):
                return frozenset({value})
            case ast.JoinedStr(values=parts):
                return self._joined([self._part(p, depth) for p in parts])
            case ast.BinOp(left=left, op=ast.Add(), right=right):
                return self._joined([self.values(left, depth - 1), self.values(right, depth - 1)])
            case ast.IfExp(body=body, orelse=orelse):
                return _union([self.values(body, depth - 1), self.values(orelse, depth - 1)])
            case ast.Attribute(
                value=ast.Attribute(value=ast.Name(id=enum), attr=member), attr="value"
            ) if enum in self.enums:
                return _known(self.enums[enum].get(member))
            case ast.Attribute(value=ast.Name(id=enum), attr=member) if enum in self.enums:
                return _known(self.enums[enum].get(member))
            case ast.Subscript(value=ast.Call(func=func), slice=ast.Constant(value=int() as i)):
                return _union(
                    [
                        self.values(r.elts[i], depth - 1)
                        if isinstance(r, ast.Tuple) and i < len(r.elts)
                        else None
                        for r in self._returns(_called(func))
                    ]
                    or [None]
                )
            case ast.Subscript(value=collection):
                return self.items(collection, depth - 1)
            case ast.Name(id=name):
                return self._name(node, name, depth - 1)
            case ast.Call(func=func) if returns := self._returns(_called(func)):
                return _union([self.values(r, depth - 1) for r in returns])
        return None

    def _returns(self, function: str | None) -> list[ast.expr]:
        return [
            r.value
            for definition in self.functions.get(function or "", [])
            for r in ast.walk(definition)
            if isinstance(r, ast.Return) and r.value is not None
        ]

    def items(self, node: ast.AST, depth: int) -> Values:
        """Every string an iteration over ``node`` can give, or None."""
        if depth <= 0:
            return None
        match node:
            case ast.Tuple(elts=elements) | ast.List(elts=elements) | ast.Set(elts=elements):
                return _union(
                    [
                        self.items(e.value, depth - 1)
                        if isinstance(e, ast.Starred)
                        else self.values(e, depth - 1)
                        for e in elements
                    ]
                )
            case ast.Dict(keys=keys):
                return _union([self.values(k, depth - 1) if k else None for k in keys])
            case ast.Name(id=name) if name in self.enums:
                return frozenset(self.enums[name].values())
            case ast.Name(id=name):
                return self._name(node, name, depth - 1, iterated=True)
            case ast.Attribute(value=ast.Name(id=module), attr=name) if (
                any(key[1] == name for key in self.constants) and module not in self.enums
            ):
                values = [v for (_, n), v in self.constants.items() if n == name]
                return _union([self.items(v, depth - 1) for v in values])
            case ast.Attribute(attr=name) if name in self.fields:
                self.from_content = True  # what the content holds today, not all it may hold
                return frozenset(self.fields[name])
            case ast.Call(func=ast.Name(id="sorted" | "list" | "tuple" | "set"), args=[inner]):
                return self.items(inner, depth - 1)
        return None

    def _part(self, part: ast.AST, depth: int) -> Values:
        if isinstance(part, ast.FormattedValue):
            return None if part.format_spec else self.values(part.value, depth - 1)
        return self.values(part, depth - 1)

    def _joined(self, parts: list[Values]) -> Values:
        if any(p is None for p in parts):
            return None
        return frozenset("".join(combination) for combination in itertools.product(*parts))  # type: ignore[arg-type]

    def _name(self, node: ast.AST, name: str, depth: int, iterated: bool = False) -> Values:
        """What a name can hold where ``node`` uses it: bound by a loop, assigned in the
        function, a parameter (what its callers pass), or a module constant."""
        function = self._enclosing(node)
        pick = self.items if iterated else self.values
        if function is not None:
            for loop in ast.walk(function):
                iterable = _loop_over(loop, name)
                if iterable is not None:
                    # the items of a loop variable's items: not followed
                    return None if iterated else self.items(iterable, depth)
            assigned = [
                _unpacked(target, value, name)
                for statement in ast.walk(function)
                for target, value in _assigned(statement)
            ]
            sources = [a for a in assigned if a is not None]
            if sources:
                return _union([pick(v, depth) if v is not None else None for v in sources])
            if name in _parameters(function):
                return self._passed(function, name, depth, iterated)
        constant = self.constant(node, name)
        return pick(constant, depth) if constant is not None else None

    def _passed(self, function: ast.FunctionDef, name: str, depth: int, iterated: bool) -> Values:
        """What the callers of ``function`` pass for its parameter ``name`` (or its default)."""
        names = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
        method = bool(names) and names[0] in {"self", "cls"}
        index = names.index(name) - method if name in names else None
        pick = self.items if iterated else self.values
        passed: list[Values] = []
        for call in self.calls.get(function.name, []):
            given = next((k.value for k in call.keywords if k.arg == name), None)
            if given is None and index is not None and 0 <= index < len(call.args):
                given = call.args[index]
            if given is not None:
                passed.append(pick(given, depth))
        default = _default(function, name)
        if default is not None:
            passed.append(pick(default, depth))
        return _union(passed) if passed else None

    def _enclosing(self, node: ast.AST) -> ast.FunctionDef | None:
        while (node := self.parent.get(node)) is not None:  # type: ignore[assignment]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node  # type: ignore[return-value]
        return None


def _union(values: Iterable[Values]) -> Values:
    values = list(values)
    if not values or any(v is None for v in values):
        return None
    return frozenset().union(*values)  # type: ignore[arg-type]


def _known(value: str | None) -> Values:
    return frozenset({value}) if value is not None else None


def _called(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _parameters(function: ast.FunctionDef) -> set[str]:
    arguments = function.args
    return {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}


def _assigned(statement: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            yield target, statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        yield statement.target, statement.value


def _pairs(target: ast.expr, value: ast.expr) -> Iterator[tuple[str, ast.expr]]:
    """(name, value) of each name an assignment binds, where the value can be told apart."""
    if isinstance(target, ast.Name):
        yield target.id, value
    elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        for element, part in zip(target.elts, value.elts, strict=False):
            yield from _pairs(element, part)


def _unpacked(target: ast.expr, value: ast.expr, name: str) -> ast.expr | None:
    """The value that lands in ``name`` (``a, b = x, y`` gives ``y`` for ``b``), or None."""
    if isinstance(target, ast.Name):
        return value if target.id == name else None
    if isinstance(target, ast.Tuple):
        for index, element in enumerate(target.elts):
            if isinstance(element, ast.Name) and element.id == name:
                if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
                    return value.elts[index]
                return ast.Subscript(value=value, slice=ast.Constant(index))  # unknown → None
    return None


def _loop_over(node: ast.AST, name: str) -> ast.expr | None:
    if isinstance(node, ast.For | ast.comprehension) and isinstance(node.target, ast.Name):
        return node.iter if node.target.id == name else None
    return None


def _default(function: ast.FunctionDef, name: str) -> ast.expr | None:
    positional = [*function.args.posonlyargs, *function.args.args]
    defaults = dict(
        zip([a.arg for a in positional[::-1]], function.args.defaults[::-1], strict=False)
    )
    defaults |= {
        a.arg: d
        for a, d in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True)
        if d
    }
    return defaults.get(name)


# ---- the real tree ---------------------------------------------------------------------------


def code_sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for directory in CODE
        for path in sorted(directory.rglob("*.py"))
    }


def content_documents() -> list[Any]:
    speech = CONTENT / "speech"
    return [
        yaml.safe_load(path.read_text())
        for path in sorted(CONTENT.rglob("*.yaml"))
        if not path.is_relative_to(speech)
    ]


def test_every_speech_string_is_spoken_and_every_key_asked_for_exists(catalog):
    sources, content = code_sources(), content_documents()
    for language, strings in catalog.speech.items():
        report = check(sources, strings, content)
        assert not report, (
            f"speech/{language}: keys the code asks for that it lacks: {report.missing}; "
            f"built keys that match none of its keys: {report.unmatched}; "
            f"strings no code speaks: {report.unreachable}"
        )


# ---- the check itself, on small code ---------------------------------------------------------

KEYS = {"common.welcome", "common.goodbye", "answers.kind_stretch", "answers.kind_strength"}
CODE_USING_ALL = """
KINDS = ("stretch", "strength")

def speak(turn):
    turn.phrase("common.welcome")
    farewell = "common.goodbye"
    return [turn.phrase(f"answers.kind_{kind}") for kind in KINDS], turn.phrase(farewell)
"""


def test_code_that_speaks_every_key_that_exists_passes():
    assert not check({"a.py": CODE_USING_ALL}, KEYS)


def test_a_string_no_code_speaks_is_unreachable():
    report = check({"a.py": CODE_USING_ALL}, {*KEYS, "common.unused"})
    assert report.unreachable == ["common.unused"]
    assert report.missing == [] and report.unmatched == []


def test_a_key_the_code_names_that_the_yaml_lacks_is_missing():
    code = CODE_USING_ALL + "\ndef oops(turn):\n    return turn.phrase('common.welcom')\n"
    assert check({"a.py": code}, KEYS).missing == ["common.welcom (a.py:10)"]


@pytest.mark.parametrize(
    ("code", "missing"),
    [
        # a parameter: followed to what every caller passes
        (
            "def counted(turn, key, n):\n"
            "    return turn.phrase(f'{key}_one') if n == 1 else turn.phrase(key)\n"
            "def a(turn):\n"
            "    one = counted(turn, 'common.goodbye', 1)\n"
            "    return one, counted(turn, key='common.welcome', n=2)\n",
            ["common.goodbye_one", "common.welcome_one"],
        ),
        # a loop over a module constant's keys
        (
            "BUTTONS = {'next': 1, 'pause': 2}\n"
            "def b(turn):\n"
            "    return [turn.phrase(f'common.button_{e}') for e in BUTTONS]\n",
            ["common.button_next", "common.button_pause"],
        ),
        # an enum member's value
        (
            "class Reason(StrEnum):\n    NIGHT = 'night'\n"
            "def c(turn):\n    return turn.phrase(f'answers.reason_{Reason.NIGHT.value}')\n",
            ["answers.reason_night"],
        ),
        # a field of the content
        (
            "def d(turn, activity):\n"
            "    return [turn.phrase(f'answers.kind_{k}') for k in activity.kinds]\n",
            ["answers.kind_aerobic"],
        ),
        # what a helper returns
        (
            "def pick(x):\n    return 'common.hello' if x else 'common.goodbye'\n"
            "def e(turn, x):\n    key = pick(x)\n    return turn.phrase(key + '_reprompt')\n",
            ["common.goodbye_reprompt", "common.hello", "common.hello_reprompt"],
        ),
    ],
)
def test_a_key_built_from_parts_that_the_yaml_lacks_is_missing(code, missing):
    content = [{"activities": [{"kinds": ["stretch", "aerobic"]}]}]
    report = check({"a.py": code}, KEYS, content)
    assert [m.split(" (")[0] for m in report.missing] == missing


def test_a_built_key_whose_part_cannot_be_followed_must_match_some_key():
    code = "def f(turn, advice):\n    return turn.phrase(f'answers.kind_{advice.kind.value}')\n"
    report = check({"a.py": code}, KEYS)
    assert report.unmatched == [] and "answers.kind_stretch" not in report.unreachable
    code = code.replace("kind_", "reason_")
    assert check({"a.py": code}, KEYS).unmatched == [r"answers\.reason_[A-Za-z0-9_-]+ (a.py:2)"]
